"""``POST /api/v1/ask``: knowledge search without the dialogue (DESIGN.md contract)."""

from __future__ import annotations

import json

from aiohttp import web

from bot.knowledge.reply import answer_messages, source_line
from bot.text.inbound import clean_inbound
from bot.web import keys


async def ask(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "请求格式不对：需要 JSON"}, status=400)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return web.json_response({"error": "需要 text 字段（字符串）"}, status=400)
    inbound = clean_inbound(body["text"], settings.max_message_chars)
    if inbound.empty:
        return web.json_response({"error": "text 不能为空"}, status=400)
    if inbound.too_long:
        return web.json_response(
            {"error": f"text 太长（最多 {settings.max_message_chars} 个字）"}, status=413
        )
    result = await request.app[keys.KNOWLEDGE].ask(inbound.text)
    best = result.best
    answered = result.kind == "answer" and best is not None
    return web.json_response(
        {
            "answer": "\n".join(answer_messages(best.entry)[:-1] + [source_line(best.entry)])
            if answered
            else None,
            "entry_id": best.entry.id if answered else None,
            "score": round(best.score, 4) if best else 0.0,
            "decision": result.kind,
            "alternatives": [
                {"entry_id": h.entry.id, "title": h.entry.title, "score": round(h.score, 4)}
                for h in result.hits[(1 if answered else 0) :]
            ],
        }
    )
