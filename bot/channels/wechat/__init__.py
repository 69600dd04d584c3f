"""WeChat Official Account and WeCom input channels for Rasa.

Named in a credentials file as ``bot.channels.wechat.channel.WeChatInput`` and
``bot.channels.wechat.channel.WeComInput`` (see ``channel.py``). This package
file imports nothing, so ``kepu run`` can read ``config`` without loading Rasa.
"""
