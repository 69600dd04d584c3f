"""The claim page's verdict form, live: what each reporter will receive, and drafts saved as typed.

The preview is made by the code that sends it: ``bot.rumors.delivery.verdict_message``
builds the message, WeChat and WeCom pack it with ``pack_texts`` (2048 bytes a
message, cut at line ends), and the web chat shapes it with ``text_reply``. So
the preview cannot drift from what is sent. Both endpoints take the form as it
is posted (with its CSRF token) and answer JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.accounts.access import require
from bot.accounts.errors import ConsoleError
from bot.rumors import console
from bot.rumors.console import ClaimView
from bot.rumors.delivery import verdict_message
from bot.rumors.verdict_drafts import Draft, draft_from, save_draft
from bot.storage.models import RumorClaim
from bot.web import keys
from bot.web.middlewares import status_of
from bot.web.views.chat_replies import text_reply
from bot.web.views.console_common import actor_of, local_time, to_int
from bot.wechat.messages import MAX_TEXT_BYTES, pack_texts

EXAMPLE_RECEIPT = "R-ABCD2345"  # a claim without reports has no receipt to show
SOURCE_ROWS = 3  # source rows the form offers


def form_draft(form: Mapping[str, Any], rows: int) -> Draft:
    """The verdict form's fields as a draft (``rows`` source rows)."""
    sources = [
        {k: str(form.get(f"source_{k}_{i}", "")) for k in ("organisation", "title", "url")}
        for i in range(1, rows + 1)
    ]
    return draft_from(
        str(form.get("verdict", "")),
        str(form.get("title", "")),
        str(form.get("explanation", "")),
        sources,
    )


def previews(claim: ClaimView, draft: Draft, receipt: str) -> dict[str, Any]:
    """What a reporter of ``claim`` receives if ``draft`` is published, per channel."""
    sent = RumorClaim(
        title=claim.title,
        verdict=draft.verdict,
        explanation=draft.explanation.strip(),
        sources=[
            {k: str(v).strip() for k, v in s.items()}
            for s in draft.sources
            if str(s.get("organisation") or "").strip()
        ],
    )
    message = verdict_message(receipt, sent)
    web_reply = text_reply({"text": message}) or {"text": message, "options": [], "after": ""}
    return {
        "receipt": receipt,
        "verdict_chosen": bool(draft.verdict),
        "chars": len(message),
        "lines": message.count("\n") + 1,
        "wechat": [
            {"text": chunk, "bytes": len(chunk.encode("utf-8"))} for chunk in pack_texts([message])
        ],
        "wechat_limit": MAX_TEXT_BYTES,
        "webchat": {
            "text": web_reply["text"],
            "options": [o["label"] for o in web_reply["options"]],
            "after": web_reply["after"],
        },
    }


async def preview(request: web.Request) -> web.Response:
    """``POST /console/claims/{id}/preview``: the form → each channel's message."""
    claim_id = to_int(request.match_info["id"], "线索编号", minimum=1)
    require(actor_of(request), "conclude")
    detail = await console.claim_detail(request.app[keys.DATABASE], claim_id, limit=1)
    draft = form_draft(await request.post(), SOURCE_ROWS)
    receipt = detail.reports[0].public_id if detail.reports else EXAMPLE_RECEIPT
    return web.json_response(previews(detail.claim, draft, receipt))


async def autosave(request: web.Request) -> web.Response:
    """``POST /console/claims/{id}/draft``: keep the form as the signed-in user's draft."""
    claim_id = to_int(request.match_info["id"], "线索编号", minimum=1)
    draft = form_draft(await request.post(), SOURCE_ROWS)
    try:
        saved = await save_draft(request.app[keys.DATABASE], actor_of(request), claim_id, draft)
    except ConsoleError as exc:
        return web.json_response({"error": exc.message}, status=status_of(exc))
    return web.json_response({"saved_at": local_time(saved.updated_at)})
