"""Helpers shared by the console pages: rendering with the signed-in user, times, numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from bot.accounts.access import ROLES, Actor
from bot.accounts.errors import InvalidInput
from bot.rumors.console import HARMS, STATUSES, VERDICTS
from bot.storage.models import CHINA_TIME, aware
from bot.web.auth import SESSION, URGENT_WAITING, session_of

MAX_NUMBER = 2**31 - 1  # PostgreSQL's integer: ids, pages and offsets all stay below it
_WHOLE = re.compile(r"[+-]?[0-9]+")


def local_time(value: datetime | None) -> str:
    """Beijing time, to the minute, as moderators read it."""
    if value is None:
        return ""
    return aware(value).astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def actor_of(request: web.Request) -> Actor:
    """The signed-in user of a console request (its session set by ``console_auth``)."""
    return session_of(request).actor


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A console page with the signed-in user, their CSRF token and the label tables."""
    info = request.get(SESSION)
    base = {
        "user": info.actor if info else None,
        "csrf": info.csrf_token if info else "",
        "STATUSES": STATUSES,
        "VERDICTS": VERDICTS,
        "HARMS": HARMS,
        "ROLES": ROLES,
        "urgent_waiting": request.get(URGENT_WAITING, 0),
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def page_limit(request: web.Request, maximum: int, default: int = 100) -> int:
    """The ``limit`` of a listing API call: 1 to ``maximum`` items, else 400."""
    limit = to_int(request.query.get("limit", str(default)), "limit", minimum=1)
    if limit > maximum:
        raise InvalidInput(f"limit 最大为 {maximum}")
    return limit


def to_int(value: object, what: str, minimum: int = 0, maximum: int = MAX_NUMBER) -> int:
    """A whole number from a form or query field, else ``InvalidInput`` naming the field.

    Plain ASCII digits only (no "1e20", "1_000" or other scripts' digits), and no
    more than the database's integers hold: a larger one would fail in the driver.
    """
    text = str(value).strip()
    if not _WHOLE.fullmatch(text):
        raise InvalidInput(f"{what}要填整数")
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > len(str(maximum)):  # before int(): it refuses 4,300 digits and more
        raise InvalidInput(f"{what}不能大于 {maximum}")
    number = -int(digits) if text.startswith("-") else int(digits)
    if number < minimum:
        raise InvalidInput(f"{what}不能小于 {minimum}")
    if number > maximum:
        raise InvalidInput(f"{what}不能大于 {maximum}")
    return number


def see_other(location: str) -> web.Response:
    """Post/redirect/get: a reload never submits a form twice."""
    return web.Response(status=303, headers={"Location": location})


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Rows are sent in pieces of about this many bytes: a long export never sits in memory.
_CSV_CHUNK = 64 * 1024


def csv_cell(value: object) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def stream_csv(
    request: web.Request,
    rows: AsyncIterable[Iterable[object]],
    filename: str,
    display_name: str | None = None,
) -> web.StreamResponse:
    """``rows`` as a CSV download: UTF-8 with a byte-order mark (so that Excel on a
    Chinese Windows reads the characters), every cell guarded by ``csv_cell``, not
    cached (moderation data). ``display_name`` is the name in Chinese, if any."""
    disposition = f'attachment; filename="{filename}"'
    if display_name:
        disposition += f"; filename*=UTF-8''{quote(display_name)}"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": disposition,
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    await response.write("\ufeff".encode())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    async for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buffer.tell() > _CSV_CHUNK:
            await response.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode("utf-8"))
    await response.write_eof()
    return response
