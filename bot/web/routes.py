"""URL map of the web service."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web.views import ask, chat, fraud, health


def setup_routes(app: web.Application, static_dir: Path) -> None:
    app.router.add_get("/", chat.page, name="chat")
    app.router.add_post("/api/v1/chat", chat.send, name="chat_send")
    app.router.add_post("/api/v1/ask", ask.ask, name="ask")
    app.router.add_post("/api/v1/fraud/check", fraud.check, name="fraud_check")
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/readyz", health.readyz, name="readyz")
    app.router.add_static("/static/", static_dir, name="static")
