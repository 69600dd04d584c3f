"""The aiohttp web service: large-print web chat, health checks, JSON API."""
