"""A forwarded message is a message to check, whatever DIET makes of its words.

Seniors paste an SMS or chat message without a word of their own. Its text
says nothing about our intents ("免费领鸡蛋！明早8点到村委会…" once came out
as a menu choice), but its shape does: an SMS signature in 【】, or a link.
Such a message becomes ``check_message`` with full confidence. A long text
that DIET took for a one-word reply (a menu number, yes, no, hello) becomes
``nlu_fallback``, which the knowledge search answers. Runs after the
classifiers and before ``EmergencyOverride``, which has the last word.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.fraud.links import find_links

CHECK_INTENT = "check_message"
FALLBACK_INTENT = "nlu_fallback"
SHORT_REPLY_INTENTS = frozenset({"choose_option", "affirm", "deny", "greet", "goodbye", "thanks"})
SHORT_REPLY_MAX_CHARS = 30
_SIGNATURE = re.compile(r"^\s*【[^】]{1,20}】|【[^】]{1,20}】\s*$")


def looks_forwarded(text: str) -> bool:
    """An SMS signature (【某某银行】) at either end, or a link anywhere."""
    return bool(_SIGNATURE.search(text)) or bool(find_links(text))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ForwardedMessageOverride(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ForwardedMessageOverride:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if looks_forwarded(text):
                new = CHECK_INTENT
            elif intent in SHORT_REPLY_INTENTS and len(text.strip()) > SHORT_REPLY_MAX_CHARS:
                new = FALLBACK_INTENT
            else:
                continue
            message.set(
                INTENT, {INTENT_NAME_KEY: new, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
            )
        return messages
