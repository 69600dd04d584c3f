"""Emergencies are never left to a statistical guess.

DIET can misread "我爸晕倒了" (it once said goodbye). This component runs
after the classifiers and, when the text describes an emergency happening
now, makes the intent ``handoff`` with full confidence, so the reply starts
with 120. The phrases live in ``bot.handoff.hotlines.EMERGENCY_PHRASES``; what makes
one happening now rather than a question about it, in ``bot.understanding.cues``.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.nlu.intent_rule import IntentRule
from bot.understanding.cues import is_emergency_now

EMERGENCY_INTENT = "handoff"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyOverride(IntentRule):
    def intent_for(self, text: str, intent: str | None) -> str | None:
        return EMERGENCY_INTENT if is_emergency_now(text) else None
