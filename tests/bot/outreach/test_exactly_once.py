"""Exactly once per person per alert, on both databases: two workers (each with its
own connection pool, as two processes have) share one broadcast, and a worker that
dies mid-broadcast is replaced: nobody gets two copies and nobody is skipped."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from bench.wechat_platform import Simulator
from bot.outreach import alerts
from bot.outreach import journal as journals
from bot.outreach.engine import Broadcaster, Policy, WeChatRoute, aware
from bot.settings import PROJECT_ROOT
from bot.storage.db import Database
from bot.storage.models import OutreachDelivery, OutreachRecipient
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


@pytest.mark.parametrize("calls", [1, 2, 3])
async def test_one_that_dies_during_a_send_leaves_only_that_call_unknown(
    migrated_db, simulator, tmp_path, calls
) -> None:
    """The whole group went to ``sending`` in one transaction, and the worker died
    during the group's ``calls``-th call (its message went out). Its journal names
    the calls it started and the ones the platform answered: those are ``sent``, the
    one in doubt ``unknown``, and none is sent again; the rest of the group was never
    tried and goes back, with the weekly cap it took, and the replacement sends it.
    Nobody gets two copies, nobody is skipped; the dead worker's journal is removed
    once its rows are recovered."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:5])
    journal = tmp_path / "outreach-journal"
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    dies(await dying_in_a_call(migrated_db, route, clock, 3, journal, calls))
    assert await by_status(migrated_db) == {"sending": 3, "claimed": 2}
    (left,) = journal.glob("*.journal")
    replacement = Broadcaster(migrated_db, {"wechat": route}, clock=clock, journal=journal)
    try:
        assert await replacement.recover() == (0, 0)  # leased: not yet given up
        assert left.exists()
        clock.advance(minutes=6)
        await drain(replacement)
        assert not left.exists()  # recovered: the dead worker's journal goes
    finally:
        replacement.close()
        await api.close()
    assert copies(sim) == collections.Counter({user: 1 for user in USERS[:5]})
    figures = await alerts.figures(migrated_db, alert_id)
    assert figures.by_status == {"sent": 4, "unknown": 1}
    assert list(journal.glob("*.journal")) == []


@dataclass
class Hanging(Simulator):
    """The stand-in, but the send after the first ``answered`` reaches it (it is
    recorded) and is never answered: the sender is killed while it waits."""

    answered: int = 3
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, request: web.Request) -> web.Response:
        if len(self.sent) == self.answered and not self.hung.is_set():
            self.sent.append({"path": request.path, "raw": b"", "json": await request.json()})
            self.hung.set()
            await self.released.wait()
            return web.json_response({"errcode": -1, "errmsg": "system busy"})
        return await super().send(request)


async def test_a_process_killed_in_a_group_is_replaced_with_its_journal(
    migrated_db, aiohttp_server, tmp_path
) -> None:
    """A real process (tests/bot/outreach/dying_worker.py) claims a batch of 15, moves
    a group of 10 to ``sending``, makes three calls and is killed (SIGKILL) during
    the fourth. Nothing in its journal was synced, but the kernel keeps what a killed
    process wrote: the three calls answered are ``sent``, the fourth ``unknown``; the
    six it never tried and the five only claimed are sent by the replacement.
    Everyone has the alert exactly once."""
    sim = Hanging(answered=3)
    server = await aiohttp_server(sim.app())
    base = str(server.make_url("")).rstrip("/")
    people = USERS[:15]
    clock, alert_id = await broadcast_to_all(migrated_db, people)
    journal = tmp_path / "outreach-journal"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.outreach.dying_worker",
        migrated_db.url,
        base,
        str(journal),
        clock.now.isoformat(),
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    hung = asyncio.create_task(sim.hung.wait())
    ended = asyncio.create_task(child.wait())
    try:
        await asyncio.wait({hung, ended}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    finally:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGKILL)
        _, errors = await child.communicate()
        hung.cancel()
        sim.released.set()
    assert sim.hung.is_set(), errors.decode(errors="replace")[-2000:]
    assert child.returncode == -signal.SIGKILL
    assert await by_status(migrated_db) == {"sending": 10, "claimed": 5}
    (left,) = journal.glob("*.journal")
    clock.advance(minutes=6)
    api = WeChatApi(base, "wx1", "s", FAST)
    try:
        await replacement_drains(migrated_db, WeChatRoute(api), clock, journal)
    finally:
        await api.close()
    assert not left.exists()
    assert copies(sim) == collections.Counter({user: 1 for user in people})
    figures = await alerts.figures(migrated_db, alert_id)
    assert figures.by_status == {"sent": 14, "unknown": 1}


async def test_one_without_a_journal_that_dies_during_a_send_leaves_its_group_unknown(
    migrated_db, simulator, tmp_path
) -> None:
    """A worker with no journal in the replacement's directory (it ran on another host,
    or without one): a worker that dies during its first call leaves all of its group
    in doubt, sent or not, and nobody in it is sent the alert again. The batch's next
    group was only claimed: it goes out."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:5])
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    await dying_in_a_call(migrated_db, route, clock, 3)
    assert await by_status(migrated_db) == {"sending": 3, "claimed": 2}
    clock.advance(minutes=6)
    journal = tmp_path / "outreach-journal"
    try:
        await replacement_drains(migrated_db, route, clock, journal)
    finally:
        await api.close()
    assert sum(copies(sim).values()) == 3 and max(copies(sim).values()) == 1
    figures = await alerts.figures(migrated_db, alert_id)
    # Those in doubt are counted, not guessed at: one did arrive here, two were never
    # tried, but a dead worker cannot say which, so the console shows all three unknown.
    assert figures.by_status == {"sent": 2, "unknown": 3}


@pytest.mark.parametrize("fault", ["torn", "rebooted"])
async def test_a_journal_not_read_whole_or_of_an_earlier_boot_is_not_relied_on(
    migrated_db, simulator, tmp_path, monkeypatch, fault
) -> None:
    """The journal's last line was cut short (the write of a note was not finished),
    or the machine itself has restarted since it was written (its lines were not
    synced, so some may be missing): it is not relied on, so the dead worker's group
    is all ``unknown``, as without a journal (a call the platform answered included),
    and the file goes. Nobody gets two copies."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:5])
    journal = tmp_path / "outreach-journal"
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    calls = 1 if fault == "torn" else 2
    dying = await dying_in_a_call(migrated_db, route, clock, 3, journal, calls)
    (left,) = journal.glob("*.journal")
    if fault == "torn":
        with left.open("a") as file:
            file.write("call 1")
    else:
        assert "\nsent " in left.read_text()  # the first call's answer
        rebooted = tmp_path / "boot_id"
        rebooted.write_text("00000000-0000-4000-8000-000000000000\n")
        monkeypatch.setattr(journals, "BOOT_ID", rebooted)
    dies(dying)
    clock.advance(minutes=6)
    try:
        await replacement_drains(migrated_db, route, clock, journal)
    finally:
        await api.close()
    assert not left.exists()
    # The dying worker's calls, and the two rows it had only claimed.
    assert sum(copies(sim).values()) == calls + 2 and max(copies(sim).values()) == 1
    figures = await alerts.figures(migrated_db, alert_id)
    assert figures.by_status == {"sent": 2, "unknown": 3}


@pytest.mark.parametrize("comes_back", [True, False])
async def test_another_hosts_worker_leaves_a_dead_workers_group_to_its_own_host(
    migrated_db, simulator, tmp_path, comes_back
) -> None:
    """Two hosts share the database, each with its journals in its own ``var/``. A
    worker on host A dies during its group's second call (the first answered). Host
    B's worker, once the lease is over, sends the rows A had only claimed but leaves
    A's group ``sending``: A's journal may yet settle it. A's service comes back and
    does (one ``sent`` from the journal, the call in doubt ``unknown``, the untried
    row sent): nobody gets two copies, nobody is skipped. If host A never comes
    back, B calls the group ``unknown`` once ``Policy.foreign_grace`` has passed too."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:5])
    host_a, host_b = tmp_path / "a" / "outreach-journal", tmp_path / "b" / "outreach-journal"
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    try:
        dies(await dying_in_a_call(migrated_db, route, clock, 3, host_a, calls=2))
        clock.advance(minutes=6)
        await replacement_drains(migrated_db, route, clock, host_b)
        assert await by_status(migrated_db) == {"sending": 3, "sent": 2}
        # A's two calls, B's two sends; the third of A's group is left to A.
        assert copies(sim) == collections.Counter({u: 1 for u in USERS[:5] if u != USERS[2]})
        if comes_back:
            await replacement_drains(migrated_db, route, clock, host_a)
            expected = {"sent": 4, "unknown": 1}
            assert copies(sim) == collections.Counter({user: 1 for user in USERS[:5]})
        else:
            clock.advance(minutes=31)
            await replacement_drains(migrated_db, route, clock, host_b)
            expected = {"sent": 2, "unknown": 3}  # as if A had kept no journal
            assert sum(copies(sim).values()) == 4 and max(copies(sim).values()) == 1
    finally:
        await api.close()
    assert (await alerts.figures(migrated_db, alert_id)).by_status == expected


async def test_untried_rows_give_back_the_cap_they_took(migrated_db, simulator, tmp_path) -> None:
    """Two alerts to two people, in one group of four: each person's first row took
    their weekly cap, the second waits behind it. The worker dies during the first
    call. That person's cap stays taken (the alert may have reached them); the
    other's row was never tried: its cap is given back and the row waiting behind
    it is due again at once, as when a group's outcomes are written."""
    sim, base = simulator
    clock = Clock()
    people = USERS[:2]
    await subscribers(migrated_db, "wechat", people, last_inbound_at=clock.now - timedelta(hours=1))
    first = await scheduled_alert(migrated_db, clock.now)
    second = await scheduled_alert(migrated_db, clock.now, text="第二条提醒：不要点陌生链接。")
    journal = tmp_path / "outreach-journal"
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    dies(await dying_in_a_call(migrated_db, route, clock, 4, journal))
    (reached,) = copies(sim)
    (untried,) = set(people) - {reached}
    taken = clock.now + Policy().cap
    assert await caps(migrated_db) == {reached: taken, untried: taken}
    clock.advance(minutes=6)
    replacement = Broadcaster(migrated_db, {"wechat": route}, clock=clock, journal=journal)
    try:
        assert await replacement.recover() == (1, 1)
        assert await caps(migrated_db) == {reached: taken, untried: None}
        assert await rows(migrated_db) == {
            (first, reached): ("unknown", taken - Policy().cap),
            (first, untried): ("pending", taken - Policy().cap),
            (second, reached): ("pending", taken),  # behind a cap still taken
            (second, untried): ("pending", clock.now),  # due again at once
        }
        await drain(replacement)
    finally:
        replacement.close()
        await api.close()
    assert copies(sim) == collections.Counter({reached: 1, untried: 1})  # one a week


async def test_a_live_workers_journal_and_rows_are_left_alone(
    migrated_db, simulator, tmp_path
) -> None:
    """A worker whose call hangs is alive: it holds its journal's lock. Another
    worker's ``recover`` neither reads nor removes the journal; once the group's
    lease has run out its rows become ``unknown`` as without a journal (the live
    worker may yet make the call it noted), and when it wakes it starts no other."""
    sim, base = simulator
    clock, alert_id = await broadcast_to_all(migrated_db, USERS[:3])
    journal = tmp_path / "outreach-journal"
    api = WeChatApi(base, "wx1", "s", FAST)
    route = WeChatRoute(api)
    real_send = route.send
    calling, go_on = asyncio.Event(), asyncio.Event()

    async def hang(*args):
        calling.set()
        await go_on.wait()
        return await real_send(*args)

    route.send = hang  # type: ignore[method-assign]
    slow = Broadcaster(
        migrated_db, {"wechat": route}, policy=Policy(group=3), clock=clock, journal=journal
    )
    sending = asyncio.create_task(slow.run_once())
    other = Broadcaster(migrated_db, {"wechat": WeChatRoute(api)}, clock=clock, journal=journal)
    try:
        await asyncio.wait_for(calling.wait(), 10)
        (held,) = journal.glob("*.journal")
        assert await other.recover() == (0, 0)
        clock.advance(minutes=6)
        assert await other.recover() == (0, 3)
        assert held.exists()
        go_on.set()
        await sending
        assert held.exists()  # until the worker stops
        slow.close()
        assert list(journal.glob("*.journal")) == []
    finally:
        go_on.set()
        await api.close()
    assert copies(sim) == collections.Counter({USERS[0]: 1})
    assert (await alerts.figures(migrated_db, alert_id)).by_status == {"unknown": 3}


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


async def dying_in_a_call(
    db: Database,
    route: WeChatRoute,
    clock: Clock,
    group: int,
    journal: Path | None = None,
    calls: int = 1,
) -> Broadcaster:
    """A worker that dies during its first group's ``calls``-th call, once the
    message has gone out: nothing it would do after runs (``Crash``). Its journal,
    if it has one, is still held: ``dies`` lets it go."""
    real_send = route.send
    made = 0

    async def send_then_die(*args):
        nonlocal made
        how = await real_send(*args)
        made += 1
        if made == calls:
            raise Crash()  # the message went out; the process died before noting it
        return how

    route.send = send_then_die  # type: ignore[method-assign]
    dying = Broadcaster(
        db, {"wechat": route}, policy=Policy(group=group), clock=clock, journal=journal
    )
    dying._release = _never  # type: ignore[method-assign]
    dying._finish_group = _never  # type: ignore[method-assign]
    try:
        with contextlib.suppress(Crash):
            await dying.run_once()
    finally:
        route.send = real_send  # type: ignore[method-assign]
    return dying


async def replacement_drains(db: Database, route: WeChatRoute, clock: Clock, journal: Path) -> None:
    """A replacement worker with the journal directory ``journal`` sends all there is,
    then stops cleanly."""
    replacement = Broadcaster(db, {"wechat": route}, clock=clock, journal=journal)
    try:
        await drain(replacement)
    finally:
        replacement.close()


def dies(worker: Broadcaster) -> None:
    """What the kernel does for a process that dies: its files are closed (the
    journal's lock with them); nothing is removed."""
    assert worker._journal is not None
    os.close(worker._journal._fd)


async def caps(db: Database) -> dict[str, datetime | None]:
    async with db.session() as session:
        found = await session.execute(
            select(OutreachRecipient.recipient, OutreachRecipient.cap_until)
        )
        return {recipient: aware(until) for recipient, until in found.all()}


async def rows(db: Database) -> dict[tuple[int, str], tuple[str, datetime | None]]:
    """(alert, person) -> (status, next attempt)."""
    async with db.session() as session:
        found = await session.execute(
            select(
                OutreachDelivery.alert_id,
                OutreachRecipient.recipient,
                OutreachDelivery.status,
                OutreachDelivery.next_attempt_at,
            ).join(OutreachRecipient, OutreachRecipient.id == OutreachDelivery.recipient_id)
        )
        return {(a, r): (status, aware(due)) for a, r, status, due in found.all()}


async def by_status(db: Database) -> dict[str, int]:
    async with db.session() as session:
        statuses = (await session.execute(select(OutreachDelivery.status))).scalars()
        return dict(collections.Counter(statuses))


async def _never(*_args) -> None:
    return None
