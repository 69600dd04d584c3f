"""First in the pipeline: NLU reads canonical Mandarin, the record keeps the original.

Voice transcripts and Chongqing/Sichuan speech ("包谷遭虫咬了咋个整") are
rewritten by ``bot.text.normalize.canonical`` before tokenisation, in training
and at run time alike, so the classifier learns and predicts on the same
form. Sound-alike misspellings of the assistant's own terms (挂好 for 挂号,
养老金认正 for 养老金认证) are then put right by a ``HomophoneCorrector`` that
learns its terms, at training time, from the training examples and the jieba
user dictionary; they are stored with the model. The user's own words stay in
the tracker's user event. The canonical form (before the corrector, whose
terms are the classifier's own) is added to the parse result as
``text_canonical``: the action server reads it instead of working it out again,
and search puts right misheard terms against the knowledge base's terms.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text.homophone import HomophoneCorrector
from bot.text.normalize import CANONICAL_KEY, canonical, drop_leading_slashes
from bot.text.segment import user_dictionary_words

TERMS_FILE = "homophone_terms.json"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class KepuNormalizer(GraphComponent):
    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        corrector: HomophoneCorrector | None = None,
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._corrector = corrector

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KepuNormalizer:
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KepuNormalizer:
        try:
            with model_storage.read_from(resource) as directory:
                counts = json.loads((directory / TERMS_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):  # a model trained before the corrector existed
            counts = {}
        return cls(model_storage, resource, HomophoneCorrector(counts))

    def train(self, training_data: TrainingData) -> Resource:
        texts = [canonical(m.get(TEXT)) for m in training_data.training_examples if m.get(TEXT)]
        self._corrector = HomophoneCorrector.learn(texts, user_dictionary_words())
        with self._model_storage.write_to(self._resource) as directory:
            (directory / TERMS_FILE).write_text(
                json.dumps(self._corrector.counts, ensure_ascii=False, sort_keys=True),
                encoding="utf-8",
            )
        return self._resource

    def _rewrite(self, form: str) -> str:
        """What the classifier reads: the canonical form with our terms put right."""
        return drop_leading_slashes(self._corrector(form)) if self._corrector is not None else form

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if text:
                example.set(TEXT, self._rewrite(canonical(text)))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            original = message.get(TEXT) or ""
            form = canonical(original)
            rewritten = self._rewrite(form)
            message.set(TEXT, rewritten or original)
            message.set(CANONICAL_KEY, str(form), add_to_output=True)
        return messages
