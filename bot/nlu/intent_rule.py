"""Deterministic last words on the intent, after the classifiers.

A rule sees each message's (canonical) text and predicted intent and may
replace the intent, with full confidence. Rules are not trained: they act at
run time only, so editing one needs no retraining (``bot/run/training.py``).
"""

from __future__ import annotations

import abc
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class IntentRule(GraphComponent, abc.ABC):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentRule:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    @abc.abstractmethod
    def intent_for(self, text: str, intent: str | None) -> str | None:
        """The intent the message should have instead, or None to keep it."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            new = self.intent_for(message.get(TEXT) or "", intent)
            if new is not None:
                message.set(
                    INTENT,
                    {INTENT_NAME_KEY: new, PREDICTED_CONFIDENCE_KEY: 1.0},
                    add_to_output=True,
                )
        return messages
