"""The console's JSON API (``Authorization: Bearer <token>``, tokens from ``kepu tokens``).

Roles are those of the console: reading needs any token; status changes need
a moderator's, verdicts and publishing an expert's (admins may do both).
Report texts are redacted; reporters' ids never leave the database.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from bot.accounts.errors import InvalidInput
from bot.rumors import console, debunk, triage
from bot.rumors.console import ClaimFilter, ClaimView, ReportView
from bot.web import keys
from bot.web.auth import api_actor, bearer_required
from bot.web.views.common import BadJson, json_body
from bot.web.views.console_common import page_limit, to_int

DEFAULT_LIMIT = 100


def claim_json(claim: ClaimView) -> dict[str, Any]:
    """A claim as the API gives it: labels beside codes, times in ISO 8601, the debunk nested."""
    return {
        "id": claim.id,
        "title": claim.title,
        "harm": claim.harm,
        "harm_label": claim.harm_label,
        "status": claim.status,
        "status_label": claim.status_label,
        "verdict": claim.verdict,
        "verdict_label": claim.verdict_label or None,
        "assignee": claim.assignee,
        "reports": claim.reports,
        "reporters": claim.reporters,
        "channels": claim.channels,
        "priority": claim.priority,
        "first_seen": claim.first_seen.isoformat(),
        "last_seen": claim.last_seen.isoformat(),
        "merged_into": claim.merged_into,
        "entry_id": claim.entry_id,
        "debunk": {
            "title": claim.debunk_title,
            "explanation": claim.explanation,
            "sources": claim.sources,
        },
    }


def report_json(report: ReportView) -> dict[str, Any]:
    """A report as the API gives it: its text as redacted on arrival, no reporter id."""
    return {
        "id": report.id,
        "public_id": report.public_id,
        "claim_id": report.claim_id,
        "channel": report.channel,
        "seen_where": report.seen_where,
        "text": report.text,
        "created_at": report.created_at.isoformat(),
        "delivery_status": report.delivery_status,
    }


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        return when.astimezone(timezone.utc)  # year 1 at +14:00 falls off the calendar here
    except (ValueError, OverflowError):
        raise InvalidInput("since 要用 ISO 8601 时间，例如 2025-01-31T08:00:00+08:00") from None


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await json_body(request)
    except BadJson:
        raise InvalidInput("请求格式不对：需要 JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("请求格式不对：需要 JSON 对象")
    return body


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"需要 {name} 字段（字符串）")
    return value


@bearer_required
async def list_claims(request: web.Request) -> web.Response:
    """Filters: ``status`` (comma-separated; default every status), ``harm``, ``verdict``,
    ``assignee``, ``q`` (text); ``limit`` (at most 500) and ``offset``. Highest priority first."""
    query = request.query
    status = query.get("status", "")
    filters = ClaimFilter(
        statuses=tuple(s for s in status.split(",") if s) if status else (),
        harm=query.get("harm") or None,
        verdict=query.get("verdict") or None,
        assignee=query.get("assignee") or None,
        text=query.get("q") or None,
    )
    page = await console.list_claims(
        request.app[keys.DATABASE],
        filters,
        limit=page_limit(request, console.MAX_PAGE, DEFAULT_LIMIT),
        offset=to_int(query.get("offset", "0"), "offset"),
    )
    return web.json_response(
        {
            "claims": [claim_json(c) for c in page.items],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }
    )


@bearer_required
async def get_claim(request: web.Request) -> web.Response:
    """Any token: the claim, its first page of reports, and the claims merged into it."""
    claim_id = to_int(request.match_info["id"], "id", minimum=1)
    detail = await console.claim_detail(request.app[keys.DATABASE], claim_id)
    return web.json_response(
        {
            "claim": claim_json(detail.claim),
            "reports": [report_json(r) for r in detail.reports],
            "merged_ids": detail.merged_ids,
        }
    )


@bearer_required
async def list_reports(request: web.Request) -> web.Response:
    """Filters: ``claim_id``, ``status`` (of the verdict's delivery), ``since``, ``limit``."""
    query = request.query
    claim_id = query.get("claim_id")
    reports = await console.list_reports(
        request.app[keys.DATABASE],
        claim_id=to_int(claim_id, "claim_id", minimum=1) if claim_id else None,
        delivery_status=query.get("status") or None,
        since=_since(query.get("since")),
        limit=page_limit(request, console.MAX_PAGE, DEFAULT_LIMIT),
    )
    return web.json_response({"reports": [report_json(r) for r in reports]})


@bearer_required
async def set_status(request: web.Request) -> web.Response:
    """A moderator's or admin's token: set ``{"status"}``; returns the claim."""
    body = await _body(request)
    claim = await triage.set_status(
        request.app[keys.DATABASE],
        api_actor(request),
        to_int(request.match_info["id"], "id", minimum=1),
        _field(body, "status"),
    )
    return web.json_response({"claim": claim_json(claim)})


@bearer_required
async def set_verdict(request: web.Request) -> web.Response:
    """An expert's or admin's token: record ``{"verdict"}`` (unpublished); returns the claim."""
    body = await _body(request)
    claim = await debunk.set_verdict(
        request.app[keys.DATABASE],
        api_actor(request),
        to_int(request.match_info["id"], "id", minimum=1),
        _field(body, "verdict"),
    )
    return web.json_response({"claim": claim_json(claim)})


@bearer_required
async def publish(request: web.Request) -> web.Response:
    """Publish; a body with ``title``, ``explanation`` and ``sources`` saves the debunk first."""
    body = await _body(request)
    db, actor = request.app[keys.DATABASE], api_actor(request)
    claim_id = to_int(request.match_info["id"], "id", minimum=1)
    if any(k in body for k in ("title", "explanation", "sources")):
        sources = body.get("sources")
        if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
            raise InvalidInput("sources 要是列表，每项含 organisation、title，可选 url")
        await debunk.save_debunk(
            db,
            actor,
            claim_id,
            title=_field(body, "title"),
            explanation=_field(body, "explanation"),
            sources=sources,
        )
    result = await debunk.publish(db, actor, claim_id)
    request.app[keys.VERDICT_PUSHES].kick()  # reporters on WeChat hear back now
    return web.json_response(
        {
            "claim": claim_json(result.claim),
            "entry_id": result.entry_id,
            "deliveries_due": result.deliveries_due,
        }
    )
