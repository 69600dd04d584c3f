"""Work the web service does in the background while it runs (sweeps, sums)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def background(work: Callable[[web.Application], Coroutine[Any, Any, None]]) -> CleanupContext:
    """A cleanup context (``app.cleanup_ctx``) that runs ``work(app)`` as a task
    from start-up until the app stops, then cancels it."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(work(app))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context
