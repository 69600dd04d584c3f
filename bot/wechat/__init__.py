"""WeChat and WeCom as a library: signatures and AES, the platform APIs,
messages, receipts, the outbox and pushes. It imports no Rasa."""
