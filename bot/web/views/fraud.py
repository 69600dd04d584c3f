"""``POST /api/v1/fraud/check``: the forwarded-message check (DESIGN.md contract).

Limited per client (``KEPU_API_RATE_PER_MINUTE``) and by size like chat
messages. Only the count by risk and type is kept, never the text.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.fraud.stats import count_check
from bot.web import keys
from bot.web.views.common import rate_limited, read_text

log = logging.getLogger(__name__)


async def check(request: web.Request) -> web.Response:
    """Anyone, limited per client: the risk, the signals found and advice; the text not kept."""
    if (refused := rate_limited(request)) is not None:
        return refused
    text = await read_text(request)
    if isinstance(text, web.Response):
        return text
    verdict = request.app[keys.FRAUD].check(text)
    try:
        await count_check(request.app[keys.DATABASE], verdict)
    except SQLAlchemyError:  # the verdict matters more than the statistics
        log.exception("could not count a fraud check")
    return web.json_response(
        {
            "risk": verdict.risk,
            "risk_label": verdict.risk_label,
            "fraud_types": verdict.fraud_types,
            "signals": [
                {
                    "id": f.signal.id,
                    "reason": f.signal.reason,
                    "quote": f.quote,
                    "weight": f.signal.weight,
                }
                for f in verdict.findings
            ],
            "reasons": verdict.reasons,
            "advice": verdict.advice,
        }
    )
