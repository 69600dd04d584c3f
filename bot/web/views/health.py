"""``/healthz``: the process is alive. ``/readyz``: it can serve (database + Rasa)."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.web import keys


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """200 when the database and Rasa each answer within 2 s, else 503 saying which did not."""
    app = request.app
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(app[keys.DATABASE].ping(), timeout=2)
        checks["database"] = "ok"
    except (SQLAlchemyError, OSError, asyncio.TimeoutError) as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        url = app[keys.SETTINGS].rasa_url.rstrip("/") + "/"
        async with app[keys.RASA_HTTP].get(url, timeout=aiohttp.ClientTimeout(total=2)) as r:
            checks["rasa"] = "ok" if r.status == 200 else f"unavailable: HTTP {r.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        checks["rasa"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response({"ready": ready, **checks}, status=200 if ready else 503)
