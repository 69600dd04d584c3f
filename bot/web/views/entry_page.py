"""``GET /k/{id}``: one knowledge entry in full, for the link in a chat answer.

A WeChat or WeCom answer is short (a lead sentence, the steps, a one-line
source); when the service has a public address (``KEPU_PUBLIC_URL``) it ends
with this page's link: the whole answer, the steps, and where it comes from.
Large print, no script, nothing about the reader stored.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.web import keys
from bot.web.views.assets import ASSETS

ENTRY_ID = r"{id:[a-z0-9][a-z0-9-]{0,79}}"


async def entry_page(request: web.Request) -> web.StreamResponse:
    """Public, cached for an hour; an unknown id gets the page's 404 version."""
    entry = await request.app[keys.KNOWLEDGE].get(request.match_info["id"])
    context = {"entry": entry, "asset": request.app[ASSETS].url}
    response = aiohttp_jinja2.render_template("entry.html", request, context)
    if entry is None:
        response.set_status(404)
    else:  # curators may publish a change: an hour is fresh enough
        response.headers["Cache-Control"] = "public, max-age=3600"
    return response
