"""提醒 in the console (issue 22): experts draft alerts to subscribers, an admin approves
and schedules them, the preview shows what each channel delivers, and the figures
page how each alert went (``bot.outreach``).

The preview is made by the code that sends: ``alerts.message`` is the text of the
WeChat customer-service message, the WeCom app message and the web chat's (shaped
as the page shows it by ``text_reply``); the template message is the engine's own
``Template.payload`` from the configured template. Every page works without script.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from bot.accounts.access import require
from bot.accounts.errors import ConsoleError, InvalidInput
from bot.outreach import alerts, digest
from bot.outreach import console as desk
from bot.outreach.alerts import MAX_ALERT_CHARS, Figures
from bot.outreach.commands import CROPS, DIGEST, FRAUD, KIND_NAMES
from bot.outreach.console import AlertForm, AlertView
from bot.outreach.engine import WECHAT_WINDOW
from bot.outreach.service import template_for
from bot.storage.models import CHINA_TIME, OutreachAlert, utcnow
from bot.web import keys
from bot.web.auth import read_form
from bot.web.middlewares import status_of
from bot.web.views.chat_replies import text_reply
from bot.web.views.console_common import actor_of, render, see_other, to_int
from bot.wechat.messages import MAX_TEXT_BYTES

# How the figures name a delivery's route and outcome.
ROUTES = {
    "custom": "微信客服消息",
    "template": "微信模板消息",
    "app": "企业微信应用消息",
    "next_message": "随下次回复",
    "": "其他",
}
OUTCOMES = {
    "pending": "等待发送",
    "claimed": "等待发送",
    "sending": "正在发送",
    "held": "等他下次发消息",
    "sent": "已送达",
    "delivered": "已送达",
    "cancelled": "退订或取消",
    "expired": "过期未发",
    "failed": "没送到",
    "unknown": "不确定（发送中断）",
}
WINDOW_HOURS = int(WECHAT_WINDOW.total_seconds() // 3600)


def _alert_id(request: web.Request) -> int:
    return to_int(request.match_info["id"], "提醒编号", minimum=1)


def previews(request: web.Request, form: AlertForm) -> dict[str, Any]:
    """What a subscriber receives in each channel if ``form`` is sent now."""
    settings = request.app[keys.SETTINGS]
    text = alerts.message(
        form.kind, form.crop, form.text, form.entry_id, form.urgent, settings.public_url
    )
    size = len(text.encode("utf-8"))
    web_reply = text_reply({"text": text}) or {"text": text, "options": [], "after": ""}
    template: dict[str, Any] | None = None
    template_error = ""
    try:
        configured = template_for(settings)
    except ValueError as exc:
        configured, template_error = None, f"模板设置有误：{exc}"
    if configured is not None:
        sent = OutreachAlert(
            kind=form.kind,
            crop=form.crop,
            text=form.text,
            entry_id=form.entry_id,
            urgent=form.urgent,
        )
        payload = configured.payload("（每人的 openid）", sent, utcnow())
        template = {
            "fields": [(name, value["value"]) for name, value in payload["data"].items()],
            "url": payload.get("url", ""),
            "template_id": configured.template_id,
        }
    return {
        "text": text,
        "chars": len(form.text),
        "max_chars": MAX_ALERT_CHARS,
        "bytes": size,
        "max_bytes": MAX_TEXT_BYTES,
        "over": len(form.text) > MAX_ALERT_CHARS or size > MAX_TEXT_BYTES,
        "template": template,
        "template_error": template_error,
        "window_hours": WINDOW_HOURS,
        "webchat": {
            "text": web_reply["text"],
            "options": [o["label"] for o in web_reply["options"]],
            "after": web_reply["after"],
        },
    }


def _context(request: web.Request, **extra: Any) -> dict[str, Any]:
    return {"kinds": KIND_NAMES, "crops": CROPS, "max_chars": MAX_ALERT_CHARS, **extra}


def _form_of(alert: AlertView) -> AlertForm:
    return AlertForm(alert.kind, alert.crop, alert.text, alert.entry_id, alert.urgent)


def _typed(form: Any) -> AlertForm:
    """What was typed, unchecked, to show again after a refusal."""
    kind = str(form.get("kind", ""))
    return AlertForm(
        kind,
        str(form.get("crop", "")),
        str(form.get("text", "")).strip(),
        str(form.get("entry_id", "")).strip() or None,
        str(form.get("urgent", "")) == "1",
    )


async def alerts_page(request: web.Request) -> web.Response:
    """Every alert, newest first: drafts to approve, scheduled, sent with their figures."""
    require(actor_of(request), "draft_alert")
    db = request.app[keys.DATABASE]
    found = await desk.listing(db)
    figures = await alerts.figures_of(db, [a.id for a in found if a.status in ("sending", "sent")])
    return render(
        request,
        "console/alerts.html",
        _context(request, alerts=found, figures=figures, last_month=_last_month()),
    )


def _last_month() -> str:
    return f"{digest.previous_month(utcnow().astimezone(CHINA_TIME).date()):%Y-%m}"


async def new_alert(request: web.Request) -> web.Response:
    """``GET /console/alerts/new`` (experts, admins): an empty composer, 防骗 selected."""
    require(actor_of(request), "draft_alert")
    blank = AlertForm(FRAUD, "", "", None, False)
    return render(request, "console/alert.html", _context(request, alert=None, form=blank))


def _refusal(
    request: web.Request, alert: AlertView | None, form: AlertForm, exc: ConsoleError
) -> web.Response:
    """The form again, as typed, with why it was refused (nothing typed is lost)."""
    context = _context(request, alert=alert, form=form, error=exc.message)
    if alert is not None:
        context["preview"] = previews(request, _form_of(alert))
    return render(request, "console/alert.html", context, status=status_of(exc))


async def create_alert(request: web.Request) -> web.Response:
    """``POST /console/alerts`` (experts, admins): save a draft, then show it."""
    db, actor = request.app[keys.DATABASE], actor_of(request)
    form = await read_form(request)
    try:
        alert_id = await desk.compose(db, actor, AlertForm.parse(form))
    except ConsoleError as exc:
        return _refusal(request, None, _typed(form), exc)
    return see_other(f"/console/alerts/{alert_id}")


async def preview_new(request: web.Request) -> web.Response:
    """The composer with the preview of what was typed (nothing saved)."""
    require(actor_of(request), "draft_alert")
    return await _preview(request, None)


async def _preview(request: web.Request, alert: AlertView | None) -> web.Response:
    form = await read_form(request)
    try:
        typed = AlertForm.parse(form)
    except ConsoleError as exc:
        return _refusal(request, alert, _typed(form), exc)
    context = _context(request, alert=alert, form=typed, preview=previews(request, typed))
    context["previewing"] = True
    return render(request, "console/alert.html", context)


async def alert_page(request: web.Request) -> web.Response:
    """``GET /console/alerts/{id}`` (experts, admins): an alert, its previews and figures."""
    require(actor_of(request), "draft_alert")
    db = request.app[keys.DATABASE]
    alert = await desk.get(db, _alert_id(request))
    figures = await alerts.figures(db, alert.id)
    return render(
        request,
        "console/alert.html",
        _context(
            request,
            alert=alert,
            form=_form_of(alert),
            preview=previews(request, _form_of(alert)),
            figures=figures if figures.planned else None,
            outcomes=_outcomes(figures),
            routes=ROUTES,
        ),
    )


def _outcomes(figures: Figures) -> list[tuple[str, int]]:
    """Deliveries by outcome as the page names them (two statuses may share a name)."""
    out: dict[str, int] = {}
    for status, count in figures.by_status.items():
        label = OUTCOMES.get(status, status)
        out[label] = out.get(label, 0) + count
    return sorted(out.items(), key=lambda item: -item[1])


async def alert_act(request: web.Request) -> web.Response:
    """save | preview | approve | schedule | cancel one alert."""
    db, actor = request.app[keys.DATABASE], actor_of(request)
    alert_id, action = _alert_id(request), request.match_info["action"]
    require(actor, "draft_alert")
    alert = await desk.get(db, alert_id)
    form = await read_form(request)
    try:
        if action == "preview":
            return await _preview(request, alert)
        if action == "save":
            await desk.revise(db, actor, alert_id, AlertForm.parse(form))
        elif action == "approve":
            await desk.approve(db, actor, alert_id)
        elif action == "schedule":
            send_at = await desk.schedule(db, actor, alert_id, str(form.get("send_at", "")))
            outreach = request.app.get(keys.OUTREACH)
            if outreach is not None and send_at <= utcnow():
                outreach.wake.set()  # due now: plan and send without waiting
        elif action == "cancel":
            await desk.cancel(db, actor, alert_id)
        else:
            raise web.HTTPNotFound()
    except ConsoleError as exc:
        typed = _typed(form) if action == "save" else _form_of(alert)
        return _refusal(request, await desk.get(db, alert_id), typed, exc)
    return see_other(f"/console/alerts/{alert_id}")


async def figures_page(request: web.Request) -> web.Response:
    """送达情况: every alert that went out, people planned, reached, read, by route."""
    require(actor_of(request), "draft_alert")
    db = request.app[keys.DATABASE]
    sent = await desk.listing(db, ("sending", "sent", "cancelled"))
    figures = await alerts.figures_of(db, [a.id for a in sent])
    rows = [(a, figures[a.id], _outcomes(figures[a.id])) for a in sent if a.id in figures]
    return render(request, "console/alert_figures.html", {"rows": rows, "routes": ROUTES})


def _month(request: web.Request, value: str) -> date:
    try:
        return digest.month_of(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


async def digest_page(request: web.Request) -> web.Response:
    """The month's published debunks, how many people reported each, and the digest
    they make (drafted once a month by the service, or here)."""
    require(actor_of(request), "draft_alert")
    db = request.app[keys.DATABASE]
    first = _month(request, request.query.get("month", _last_month()))
    items = await digest.month_items(db, first)
    text = digest.compose(first, items)
    shown = AlertForm(DIGEST, "", text, None, False)
    return render(
        request,
        "console/digest.html",
        {
            "month": f"{first:%Y-%m}",
            "items": items,
            "text": text,
            "preview": previews(request, shown) if text else None,
            "drafted": await digest.drafted_for(db, first),
        },
    )


async def digest_draft(request: web.Request) -> web.Response:
    """``POST /console/alerts/digest`` (experts, admins): draft a month's 流言榜, or open it."""
    actor = actor_of(request)
    require(actor, "draft_alert")
    db = request.app[keys.DATABASE]
    form = await read_form(request)
    first = _month(request, str(form.get("month", "")))
    alert_id = await digest.draft_digest(db, first, by=actor.name)
    if alert_id is None:
        alert_id = await digest.drafted_for(db, first)
    if alert_id is None:
        raise InvalidInput("这个月没有发布过辟谣，没有可以起草的流言榜")
    return see_other(f"/console/alerts/{alert_id}")
