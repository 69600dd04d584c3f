"""Routes of 提醒 in the console: alerts to subscribers and the monthly digest (issue 22)."""

from __future__ import annotations

from aiohttp import web

from bot.web.views import console_alerts


def setup_outreach_routes(app: web.Application) -> None:
    """/console/alerts: compose, preview, approve and schedule alerts; figures; the digest."""
    add_get, add_post = app.router.add_get, app.router.add_post
    add_get("/console/alerts", console_alerts.alerts_page, name="console_alerts")
    add_get("/console/alerts/new", console_alerts.new_alert, name="console_alert_new")
    add_post("/console/alerts", console_alerts.create_alert)
    add_post("/console/alerts/preview", console_alerts.preview_new)
    add_get("/console/alerts/figures", console_alerts.figures_page, name="console_alert_figures")
    add_get("/console/alerts/digest", console_alerts.digest_page, name="console_alert_digest")
    add_post("/console/alerts/digest", console_alerts.digest_draft)
    add_get(r"/console/alerts/{id:\d+}", console_alerts.alert_page, name="console_alert")
    add_post(r"/console/alerts/{id:\d+}/{action:[a-z]+}", console_alerts.alert_act)
