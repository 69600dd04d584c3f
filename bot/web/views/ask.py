"""``POST /api/v1/ask``: knowledge search without the dialogue (DESIGN.md contract)."""

from __future__ import annotations

from aiohttp import web

from bot.knowledge.reply import full_text
from bot.web import keys
from bot.web.views.common import rate_limited, read_text


async def ask(request: web.Request) -> web.Response:
    """Anyone, limited per client: the best entry (if it answers), its score, the alternatives."""
    if (refused := rate_limited(request)) is not None:
        return refused
    text = await read_text(request)
    if isinstance(text, web.Response):
        return text
    result = await request.app[keys.KNOWLEDGE].ask(text)
    best = result.best
    answered = best if result.kind == "answer" else None
    return web.json_response(
        {
            "answer": full_text(answered.entry) if answered is not None else None,
            "entry_id": answered.entry.id if answered is not None else None,
            "score": round(best.score, 4) if best else 0.0,
            "decision": result.kind,
            "alternatives": [
                {"entry_id": h.entry.id, "title": h.entry.title, "score": round(h.score, 4)}
                for h in result.hits[(1 if answered is not None else 0) :]
            ],
        }
    )
