"""HTTP helpers shared by the chat channels and the web service: the client
behind trusted proxies, rate limits."""
