"""科普助手 (Kepu Assistant): the service package.

Rasa is imported only in ``bot.channels`` and ``bot.nlu``; everything else is
plain Python that tests without Rasa.
"""
