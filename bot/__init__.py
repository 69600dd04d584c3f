"""科普助手 (Kepu Assistant): the service package.

Rasa is imported only in ``bot.channels``, ``bot.nlu`` and ``bot.run``;
everything else is plain Python that tests without Rasa. The layers and their
rules: docs/architecture.md (checked by tests/test_layers.py).
"""
