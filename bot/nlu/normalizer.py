"""First in the pipeline: NLU reads canonical Mandarin, the record keeps the original.

Voice transcripts and Chongqing/Sichuan speech ("包谷遭虫咬了咋个整") are
rewritten by ``bot.text.normalize.canonical`` before tokenisation, in training
and at run time alike, so the classifier learns and predicts on the same
form. The user's own words stay in the tracker's user event; the rewritten
text is added to the parse result as ``text_canonical``.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text.normalize import canonical

CANONICAL_KEY = "text_canonical"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class KepuNormalizer(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KepuNormalizer:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if text:
                example.set(TEXT, canonical(text))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            original = message.get(TEXT) or ""
            rewritten = canonical(original)
            message.set(TEXT, rewritten or original)
            message.set(CANONICAL_KEY, rewritten, add_to_output=True)
        return messages
