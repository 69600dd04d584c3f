"""URL map of the web service."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web import keys
from bot.web.views import (
    ask,
    chat,
    claims_api,
    console_admin,
    console_claim_csv,
    console_claims,
    console_login,
    console_queue,
    console_verdict,
    entry_page,
    fraud,
    health,
)
from bot.web.views.assets import setup_assets
from bot.web.views.speech import setup_speech
from bot.web.views.voice import setup_voice


def setup_routes(app: web.Application, static_dir: Path) -> None:
    """The chat page and its APIs, the public API, entry pages, health, assets, the console."""
    app.router.add_get("/", chat.page, name="chat")
    app.router.add_post("/api/v1/chat", chat.send, name="chat_send")
    app[chat.RECENT_TURNS] = chat.RecentTurns()
    app[chat.RELAY] = chat.Relay(app[keys.SETTINGS])
    setup_voice(app)  # /api/v1/chat/voice: the page's hold-to-talk button (issue 23)
    setup_speech(app)  # /api/v1/chat/speech/<id>: 🔊 读给我听 under answers (KEPU_TTS)
    app.router.add_post("/api/v1/ask", ask.ask, name="ask")
    app.router.add_post("/api/v1/fraud/check", fraud.check, name="fraud_check")
    app.router.add_get(f"/k/{entry_page.ENTRY_ID}", entry_page.entry_page, name="entry_page")
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/readyz", health.readyz, name="readyz")
    setup_assets(app, static_dir)  # /static/ (hashed names, gzip, ETag) and /favicon.ico
    setup_console_routes(app)
    setup_claims_api_routes(app)


def setup_console_routes(app: web.Application) -> None:
    """``/console/``: pages need a session, forms its CSRF token (``bot.web.auth``)."""
    add_get, add_post = app.router.add_get, app.router.add_post
    add_get("/console", console_claims.to_queue)
    add_get("/console/login", console_login.login_page, name="console_login")
    add_post("/console/login", console_login.login)
    add_post("/console/logout", console_login.logout, name="console_logout")
    add_get("/console/password", console_login.password_page, name="console_password")
    add_post("/console/password", console_login.password_change)
    add_get("/console/", console_queue.queue, name="console_queue")
    add_post("/console/queue", console_queue.queue_act)
    add_get("/console/queue.csv", console_queue.queue_csv, name="console_queue_csv")
    add_get(r"/console/claims/{id:\d+}", console_claims.claim_page, name="console_claim")
    # The verdict form's live preview and autosave (JSON), before the forms' catch-all.
    add_post(r"/console/claims/{id:\d+}/preview", console_verdict.preview)
    add_post(r"/console/claims/{id:\d+}/draft", console_verdict.autosave)
    add_get(r"/console/claims/{id:\d+}/reports.csv", console_claim_csv.claim_reports_csv)
    add_post(r"/console/claims/{id:\d+}/{action:[a-z]+}", console_claims.act)
    add_get(r"/console/evidence/{id:\d+}", console_claims.evidence_image, name="console_evidence")
    add_get("/console/audit", console_admin.audit_page, name="console_audit")
    add_get("/console/users", console_admin.users_page, name="console_users")
    add_post("/console/users", console_admin.user_add)
    add_post("/console/users/{change:[a-z]+}", console_admin.user_change)
    add_get("/console/tokens", console_admin.tokens_page, name="console_tokens")
    add_post("/console/tokens/revoke", console_admin.token_revoke)


def setup_claims_api_routes(app: web.Application) -> None:
    """The console's JSON API: bearer tokens made with ``kepu tokens create``
    (listed and revoked with ``kepu tokens`` or on ``/console/tokens``)."""
    app.router.add_get("/api/v1/claims", claims_api.list_claims, name="api_claims")
    app.router.add_get(r"/api/v1/claims/{id:\d+}", claims_api.get_claim, name="api_claim")
    app.router.add_get("/api/v1/reports", claims_api.list_reports, name="api_reports")
    app.router.add_post(r"/api/v1/claims/{id:\d+}/status", claims_api.set_status)
    app.router.add_post(r"/api/v1/claims/{id:\d+}/verdict", claims_api.set_verdict)
    app.router.add_post(r"/api/v1/claims/{id:\d+}/publish", claims_api.publish)
