"""Rasa input channels (the only place besides ``bot.nlu`` that imports Rasa)."""
