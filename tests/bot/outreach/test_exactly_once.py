"""Exactly once per person per alert, on both databases: two workers (each with its
own connection pool, as two processes have) share one broadcast, and a worker that
dies mid-broadcast is replaced: nobody gets two copies and nobody is skipped."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from datetime import timedelta

from sqlalchemy import select

from bot.outreach import alerts
from bot.outreach.engine import Broadcaster, Policy, WeChatRoute
from bot.storage.db import Database
from bot.storage.models import OutreachDelivery
from bot.wechat.api import RetryPolicy, WeChatApi
from tests.bot.outreach.support import Clock, scheduled_alert, subscribers

FAST = RetryPolicy(attempts=2, first_delay=0.01, timeout=5.0)
USERS = [f"o-{i:03d}" for i in range(120)]


class Crash(BaseException):
    """The process dies: nothing after it runs. Python would still run ``finally``
    blocks, so the tests also replace the clean-up a dead process never does
    (``_release``, ``_finish_group``) with ``_never``."""


def copies(sim) -> collections.Counter:
    return collections.Counter(call["json"]["touser"] for call in sim.sent)


async def broadcast_to_all(db: Database, users: list[str] = USERS) -> tuple[Clock, int]:
    """Every one of ``users`` subscribed and within WeChat's window; one alert due now."""
    clock = Clock()
    await subscribers(db, "wechat", users, last_inbound_at=clock.now - timedelta(hours=1))
    return clock, await scheduled_alert(db, clock.now)


async def drain(worker: Broadcaster) -> None:
    for _ in range(100):
        outcome = await worker.run_once()
        if not (outcome.sent or outcome.held or outcome.retried or outcome.planned):
            return
        await asyncio.sleep(0)


async def test_two_workers_share_a_broadcast(migrated_db, simulator) -> None:
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db)
    policy = Policy(batch=7)
    dbs = [Database(migrated_db.url), Database(migrated_db.url)]
    apis = [WeChatApi(base, "wx1", "s", FAST) for _ in dbs]
    workers = [
        Broadcaster(db, {"wechat": WeChatRoute(api)}, policy=policy, clock=clock, name=f"w{i}")
        for i, (db, api) in enumerate(zip(dbs, apis, strict=True))
    ]
    try:
        await asyncio.gather(*(drain(w) for w in workers))
    finally:
        for db, api in zip(dbs, apis, strict=True):
            await api.close()
            await db.close()
    assert copies(sim) == collections.Counter({user: 1 for user in USERS})
    figures = await alerts.figures(migrated_db, alert_id)
    assert figures.by_status == {"sent": len(USERS)}
    async with migrated_db.session() as session:
        by = collections.Counter(
            token.split(":")[0]
            for token in (await session.execute(select(OutreachDelivery.worker))).scalars()
        )
    assert set(by) == {"w0", "w1"}  # both took part


async def test_a_worker_that_dies_mid_broadcast_is_replaced(migrated_db, simulator) -> None:
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db)
    policy = Policy(batch=50, group=10)

    first_db = Database(migrated_db.url)
    first_api = WeChatApi(base, "wx1", "s", FAST)
    first = Broadcaster(first_db, {"wechat": WeChatRoute(first_api)}, policy=policy, clock=clock)
    real_group = first._send_group
    delivered = 0

    async def send_group_then_die(token, group, *args):
        nonlocal delivered
        if delivered == 20:  # killed between two groups, a batch half done
            raise Crash()
        await real_group(token, group, *args)
        delivered += len(group)

    first._send_group = send_group_then_die  # type: ignore[method-assign]
    first._release = _never  # type: ignore[method-assign]  (a dead process cleans nothing)
    with contextlib.suppress(Crash):
        await first.run_once()
    await first_api.close()
    await first_db.close()
    assert len(sim.sent) == 20

    # The restarted process: the dead one's rows are leased a while longer.
    second_api = WeChatApi(base, "wx1", "s", FAST)
    second = Broadcaster(
        migrated_db, {"wechat": WeChatRoute(second_api)}, policy=policy, clock=clock
    )
    try:
        await drain(second)
        assert len(sim.sent) == len(USERS) - 30  # 30 claimed by the dead worker wait
        clock.advance(minutes=6)  # its lease runs out
        await drain(second)
    finally:
        await second_api.close()
    assert copies(sim) == collections.Counter({user: 1 for user in USERS})
    figures = await alerts.figures(migrated_db, alert_id)
    assert figures.by_status == {"sent": len(USERS)}


async def test_one_that_dies_during_a_send_leaves_its_group_unknown(migrated_db, simulator) -> None:
    """The whole group went to ``sending`` in one transaction: a worker that dies
    during its first call leaves all of it in doubt, sent or not, and nobody in it
    is sent the alert again. The batch's next group was only claimed: it goes out."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:5])
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    real_send = route.send

    async def send_then_die(*args):
        await real_send(*args)
        raise Crash()  # the message went out; the process died before noting it

    route.send = send_then_die  # type: ignore[method-assign]
    dying = Broadcaster(migrated_db, {"wechat": route}, policy=Policy(group=3), clock=clock)
    dying._release = _never  # type: ignore[method-assign]
    dying._finish_group = _never  # type: ignore[method-assign]
    with contextlib.suppress(Crash):
        await dying.run_once()
    route.send = real_send  # type: ignore[method-assign]
    assert await by_status(migrated_db) == {"sending": 3, "claimed": 2}
    clock.advance(minutes=6)
    try:
        await drain(Broadcaster(migrated_db, {"wechat": route}, clock=clock))
    finally:
        await api.close()
    assert sum(copies(sim).values()) == 3 and max(copies(sim).values()) == 1
    figures = await alerts.figures(migrated_db, alert_id)
    # Those in doubt are counted, not guessed at: one did arrive here, two were never
    # tried, but a dead worker cannot say which, so the console shows all three unknown.
    assert figures.by_status == {"sent": 2, "unknown": 3}


async def test_one_that_dies_before_noting_its_group_sends_none_again(
    migrated_db, simulator
) -> None:
    """Every call of the group answered, then the worker died before the group's
    outcomes were written: the rows are ``sending`` until the lease runs out, then
    ``unknown``; each person had exactly one copy and gets no other."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:4])
    api = WeChatApi(base, "wx1", "s", FAST)
    dying = Broadcaster(migrated_db, {"wechat": WeChatRoute(api)}, clock=clock)
    dying._release = _never  # type: ignore[method-assign]

    async def die(*_args) -> None:
        raise Crash()

    dying._finish_group = die  # type: ignore[method-assign]
    try:
        with contextlib.suppress(Crash):
            await dying.run_once()
        assert await by_status(migrated_db) == {"sending": 4}
        again = Broadcaster(migrated_db, {"wechat": WeChatRoute(api)}, clock=clock)
        assert (await again.run_once()).lost == 0  # leased: not yet given up
        clock.advance(minutes=6)
        assert (await again.run_once()).lost == 4
        await drain(again)
    finally:
        await api.close()
    assert copies(sim) == collections.Counter({user: 1 for user in USERS[:4]})
    assert (await alerts.figures(migrated_db, alert_id)).by_status == {"unknown": 4}


async def test_an_error_during_a_send_gives_back_the_rest_of_the_group(
    migrated_db, simulator
) -> None:
    """The task is cancelled (``stop`` gave up waiting) during a call: the process
    lives on, so the group's outcomes are written: the call in doubt stays
    ``sending`` (then ``unknown``), the rows not yet tried go back and go out."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:5])
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    real_send = route.send
    calls = 0

    async def cancelled_at_the_second(*args):
        nonlocal calls
        calls += 1
        await real_send(*args)
        if calls == 2:
            raise asyncio.CancelledError()

    route.send = cancelled_at_the_second  # type: ignore[method-assign]
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await Broadcaster(migrated_db, {"wechat": route}, clock=clock).run_once()
        assert await by_status(migrated_db) == {"sent": 1, "sending": 1, "pending": 3}
        route.send = real_send  # type: ignore[method-assign]
        clock.advance(minutes=6)
        await drain(Broadcaster(migrated_db, {"wechat": route}, clock=clock))
    finally:
        await api.close()
    assert copies(sim) == collections.Counter({user: 1 for user in USERS[:5]})
    figures = await alerts.figures(migrated_db, alert_id)
    assert figures.by_status == {"sent": 4, "unknown": 1}


async def by_status(db: Database) -> dict[str, int]:
    async with db.session() as session:
        statuses = (await session.execute(select(OutreachDelivery.status))).scalars()
        return dict(collections.Counter(statuses))


async def _never(*_args) -> None:
    return None
