"""A broadcaster in a process of its own, for test_exactly_once.py to kill (SIGKILL)
in the middle of a group:

    python -m tests.bot.outreach.dying_worker DATABASE_URL API_BASE JOURNAL_DIR NOW

It sends one batch, in groups of 10, to the WeChat stand-in at API_BASE, with its
journal in JOURNAL_DIR; its clock stands at NOW (ISO 8601) so that the test knows
its leases and caps.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from bot.outreach.engine import Broadcaster, Policy, WeChatRoute
from bot.storage.db import Database
from bot.wechat.api import RetryPolicy, WeChatApi


async def main(url: str, base: str, journal: str, now: str) -> None:
    at = datetime.fromisoformat(now)
    db = Database(url)
    api = WeChatApi(base, "wx1", "s", RetryPolicy(attempts=1, first_delay=0.01, timeout=60.0))
    worker = Broadcaster(
        db,
        {"wechat": WeChatRoute(api)},
        policy=Policy(group=10),
        clock=lambda: at,
        journal=Path(journal),
    )
    print("sending", flush=True)
    await worker.run_once()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
