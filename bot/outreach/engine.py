"""Sending alerts to their subscribers: each person gets each alert exactly once, within
each platform's rules, whatever the number of processes and however often they restart.

**Planning.** When a scheduled alert's time comes, one statement writes a delivery
row for every subscriber of its kind (and crop), in the same transaction as the
conditional UPDATE that marks the alert planned: two workers never both plan it,
and the unique (alert, person) key would refuse a second row anyway.

**Claiming.** A worker takes a batch of due rows (``pending`` → ``claimed``, with its
own batch token and a lease); on PostgreSQL the SELECT skips rows another worker
has locked, on SQLite one UPDATE with the SELECT inside takes the single writer's
lock. A row is sent only by the worker whose UPDATE moved it ``claimed`` →
``sending``, before its API call.

**Groups.** The batch goes out a group at a time (``Policy.group``, 10), in two write
transactions per group rather than two or three per row, because on SQLite every
one of them waits its turn with the chat's writes for the single writer: the first
moves the whole group to ``sending`` and reserves the caps (``_start_group``), then
the group's API calls are made one after another, then one transaction writes all
their outcomes (``_finish_group``). Rows the group did not try (the channel paused,
the worker stopping, half the lease gone) go back to ``pending`` in that last one.

**Dead workers.** A worker that dies leaves rows behind: ``claimed`` ones were
never tried and go back to ``pending`` when their lease runs out (nobody skipped);
``sending`` ones belong to the group it was sending. With a journal
(``bot/outreach/journal.py``: each delivery's id on local disk just before its call,
and again once the platform took it), the ones it names as taken are ``sent``, the
other ones it names may have arrived and become ``unknown``, never sent again (nobody
gets two copies), and the others were never tried and go back to ``pending`` with
their weekly cap (nobody skipped). Without one (the worker ran on another host, or
without a journal directory, or its journal cannot be read whole) all of them
become ``unknown``: at most one group per dead worker, up to ``group - 1`` of it
never tried. Rows whose journal is on another host (their batch token ends with
that journal directory's place, ``@<place>``) are left to that host for
``Policy.foreign_grace`` more, so that its service, coming back, can settle them
from its journal; only then does a worker elsewhere call them ``unknown``.

**Rules.** No pushes 21:00-08:00 China time (alerts for the web chat, which waits
for the person's next message anyway, are still readied). One non-urgent alert a
week per person (``cap``; the reservation is a conditional UPDATE of the person's
``cap_until``, of the rows read locked in the same transaction, so two workers
sending two alerts cannot both pass it, and of two rows of one person in one group
only the first takes it); urgent alerts are marked and exempt. A row over the cap
waits until the cap frees it, or until its alert expires.

**Routes.** WeChat: a customer-service message within 48 hours of the person's last
message; outside it (or when WeChat answers 45015/45047, the window closed or 20
messages sent since the person's last) a template message when the account has
one configured, else the alert is held and goes out with the reply to the
person's next message. WeCom: an app message. Web chat: held for the next
message. Rate errors (45009 daily quota, 45011 frequency, 45033 WeCom's per-member
limits, busy, no answer) put the row back with exponential backoff and pause
that channel for the rest of the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, insert, literal, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outreach import journal as journals
from bot.outreach.alerts import alert_message, heading
from bot.storage.db import Database, rowcount
from bot.storage.models import (
    CHINA_TIME,
    OutreachAlert,
    OutreachDelivery,
    OutreachRecipient,
    OutreachSubscription,
    utcnow,
)
from bot.wechat.api import NETWORK_FAILURE, SYSTEM_BUSY, ApiError, OutsideWindow

log = logging.getLogger(__name__)

WECHAT_WINDOW = timedelta(hours=48)
# Platform answers that mean "slow down", not "never": 45009 API daily quota,
# 45011 API frequency, 45033 WeCom per-member limits, -1 busy, -2 no answer.
RATE_LIMITED = frozenset({45009, 45011, 45033, SYSTEM_BUSY, NETWORK_FAILURE})
# Answers that will not change by trying again: not following the account, invalid
# openid or member, blocked, WeCom's "not in the app's visible range" (0).
PERMANENT = frozenset({0, 40003, 43004, 43019, 60111, 81013})
TEMPLATE_PATH = "/cgi-bin/message/template/send"
# WeChat template fields by type prefix: their length limits.
TEMPLATE_FIELD_LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "keyword": 200}
WAITING = "next_message"
MID_SEND = "worker stopped mid-send"


class Hold(Exception):
    """The platform cannot take it now: keep it for the person's next message."""


@dataclass(frozen=True)
class Policy:
    """When and how often alerts go out: quiet hours, the weekly cap, leases, batches, retries."""

    quiet_from: int = 21  # China time, hours: no pushes from 21:00 ...
    quiet_until: int = 8  # ... to 08:00 (the same hour twice: none)
    cap: timedelta = timedelta(days=7)  # one non-urgent alert per person per cap
    lease: timedelta = timedelta(minutes=5)
    # A dead worker's ``sending`` rows whose journal is on another host wait this much
    # longer than their lease before a worker here calls them ``unknown``: time for
    # that host's service to come back and recover them exactly from its journal
    # (rows of a worker that kept no journal are ``unknown`` at once).
    foreign_grace: timedelta = timedelta(minutes=30)
    batch: int = 200
    # Rows sent per group: two write transactions per group (all to "sending", then
    # all their outcomes) instead of two or three per row, so 0.2 per row at 10 (20
    # would save only 0.1 more). A worker without a journal that dies mid-group
    # leaves the whole group unknown, up to group - 1 rows of it never tried; and the
    # CPU spent between two rests grows with the group. A group starts no call after
    # half its lease.
    group: int = 10
    first_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=6)
    max_attempts: int = 8
    # The share of one core's time the broadcaster may use while it sends: after each
    # group it rests for what the group cost times (1 / cpu_share - 1), so that chat
    # turns on the same machine keep their speed (1.0: no rest).
    cpu_share: float = 1.0

    def __post_init__(self) -> None:
        if self.group < 1:
            raise ValueError("Policy.group: at least one row per group")

    def rest_after(self, spent: float) -> float:
        """Seconds to rest after a group that took ``spent`` seconds of CPU."""
        if self.cpu_share >= 1.0 or spent <= 0:
            return 0.0
        return spent * (1.0 / self.cpu_share - 1.0)

    def quiet(self, now: datetime) -> bool:
        """Whether ``now`` falls in the quiet hours, China time."""
        if self.quiet_from == self.quiet_until:  # no quiet hours
            return False
        hour = now.astimezone(CHINA_TIME).hour
        if self.quiet_from < self.quiet_until:  # within one day, e.g. 1-6
            return self.quiet_from <= hour < self.quiet_until
        return hour >= self.quiet_from or hour < self.quiet_until  # over midnight, e.g. 21-8

    def quiet_ends(self, now: datetime) -> datetime:
        """The next ``quiet_until`` o'clock, China time, after ``now``; in UTC."""
        local = now.astimezone(CHINA_TIME)
        end = local.replace(hour=self.quiet_until, minute=0, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(timezone.utc)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` tries: ``first_backoff`` doubled, up to ``max_backoff``."""
        doubling: int = 2 ** max(attempts - 1, 0)
        return min(self.first_backoff * doubling, self.max_backoff)


@dataclass(frozen=True)
class Target:
    """One claimed delivery, as a route needs it."""

    delivery_id: int
    recipient_id: int
    channel: str
    recipient: str
    last_inbound_at: datetime | None
    alert: OutreachAlert
    attempts: int


class Route(Protocol):
    """How alerts reach the people of one channel."""

    async def send(self, target: Target, text: str, now: datetime) -> str:
        """Send ``text``; returns how (custom | template | app). Raises ``Hold`` or
        ``ApiError``."""


@dataclass(frozen=True)
class Template:
    """A WeChat template message for alerts outside the 48-hour window.

    ``fields`` maps each template field to what fills it: ``title`` (e.g.
    "【防骗提醒】"), ``text`` (the alert), ``date`` (today, China time) or fixed text
    in quotes ("'请回复公众号查看'"). Values are cut to the field type's limit.
    """

    template_id: str
    fields: Mapping[str, str]
    public_url: str = ""

    @staticmethod
    def parse(template_id: str, spec: str, public_url: str = "") -> Template | None:
        """``thing1=title;thing2=text;time3=date`` (KEPU_WECHAT_ALERT_TEMPLATE_FIELDS)."""
        if not template_id:
            return None
        fields: dict[str, str] = {}
        for part in spec.split(";"):
            name, sep, value = part.partition("=")
            if not part.strip():
                continue
            if not sep or not name.strip() or not value.strip():
                raise ValueError(f"template field {part!r} is not name=value")
            fields[name.strip()] = value.strip()
        if not fields:
            raise ValueError("a template needs at least one field")
        return Template(template_id, fields, public_url)

    def payload(self, touser: str, alert: OutreachAlert, now: datetime) -> dict[str, Any]:
        """The template send API's JSON body for one alert to ``touser``, values cut to fit."""
        parts = {
            "title": ("【紧急】" if alert.urgent else "") + heading(alert.kind, alert.crop),
            "text": alert.text,
            "date": now.astimezone(CHINA_TIME).strftime("%Y年%m月%d日"),
        }
        data = {}
        for name, source in self.fields.items():
            value = source[1:-1] if source[:1] == source[-1:] == "'" else parts.get(source, "")
            limit = next(
                (n for prefix, n in TEMPLATE_FIELD_LIMITS.items() if name.startswith(prefix)), 200
            )
            if len(value) > limit:
                value = value[: limit - 1] + "…"
            data[name] = {"value": value}
        payload: dict[str, Any] = {"touser": touser, "template_id": self.template_id, "data": data}
        url = (
            f"{self.public_url.rstrip('/')}/k/{alert.entry_id}"
            if alert.entry_id and self.public_url
            else ""
        )
        if url:
            payload["url"] = url
        return payload


class WeChatRoute:
    """WeChat: a custom message within 48 hours of the person's last, else the template."""

    def __init__(self, api: Any, template: Template | None = None) -> None:
        self.api = api
        self.template = template

    async def send(self, target: Target, text: str, now: datetime) -> str:
        """Returns "custom" or "template"; raises ``Hold`` outside the window with no template."""
        last = target.last_inbound_at
        if last is not None and now - last < WECHAT_WINDOW:
            try:
                await self.api.send_text(target.recipient, text)
                return "custom"
            except OutsideWindow:
                pass  # closed after all, or 20 messages since theirs: the template, or wait
        if self.template is None:
            raise Hold()
        await self.api.call(
            TEMPLATE_PATH, self.template.payload(target.recipient, target.alert, now)
        )
        return "template"


class AppRoute:
    """WeCom app messages: no window."""

    def __init__(self, api: Any) -> None:
        self.api = api

    async def send(self, target: Target, text: str, now: datetime) -> str:
        """Send as a WeCom app message; returns "app"."""
        await self.api.send_text(target.recipient, text)
        return "app"


class WaitRoute:
    """Channels that cannot write first (the web chat)."""

    async def send(self, target: Target, text: str, now: datetime) -> str:
        """Always raises ``Hold``: the alert waits for the person's next message."""
        raise Hold()


def _expired(alert: OutreachAlert, now: datetime) -> bool:
    """Cancelled, or past its expiry (as the batch read it)."""
    expires = aware(alert.expires_at)
    return alert.status == "cancelled" or (expires is not None and expires <= now)


def _free(cap_until: datetime | None, now: datetime) -> bool:
    """Whether a person's weekly cap lets a non-urgent alert go out at ``now``."""
    return cap_until is None or cap_until <= now


def _free_clause(now: datetime) -> Any:
    """``_free`` as SQL, on the recipients' table."""
    return or_(OutreachRecipient.cap_until.is_(None), OutreachRecipient.cap_until <= now)


async def _give_back_cap(
    session: AsyncSession,
    people: list[int],
    reserved_until: datetime,
    behind: Any,
    now: datetime,
) -> None:
    """The weekly cap a group reserved until ``reserved_until`` given back to
    ``people`` (a cap reserved again since, another value, is left alone), and the
    rows of theirs that waited for it (``behind``, a clause on the deliveries; None:
    none) due again at ``now``."""
    await session.execute(
        update(OutreachRecipient)
        .where(OutreachRecipient.id.in_(people), OutreachRecipient.cap_until == reserved_until)
        .values(cap_until=None)
        .execution_options(synchronize_session=False)
    )
    if behind is not None:
        await session.execute(
            update(OutreachDelivery)
            .where(
                behind,
                OutreachDelivery.status == "pending",
                OutreachDelivery.next_attempt_at == reserved_until,
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Started:
    """A group after its first transaction: the rows now ``sending`` (in the batch's
    order), how many waited for the cap, and for each person whose cap the group took,
    their other rows that wait behind it (due again at once if nothing goes out)."""

    ready: list[Target]
    capped: int
    behind: dict[int, list[int]]


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC datetimes."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


@dataclass
class Outcome:
    """What one ``run_once`` did, counted in deliveries; ``routes``: how many went each way."""

    planned: int = 0
    sent: int = 0
    held: int = 0
    retried: int = 0
    failed: int = 0
    capped: int = 0
    released: int = 0
    lost: int = 0  # died mid-send: unknown (with a journal: only the calls it names)
    routes: dict[str, int] = field(default_factory=dict)


class Broadcaster:
    """Plans due alerts and sends their deliveries. Any number may run at once.

    Args:
        routes: channel name -> route; a channel without one waits for the
            person's next message.
        clock: the current time (tests move it).
        cpu_clock: the process's CPU seconds, for pacing (``Policy.cpu_share``).
        sleep: how to rest between sends (tests record it).
        journal: a directory on this host's disk for the workers' journals
            (``bot.outreach.journal``); None: no journal, a worker that dies
            mid-group leaves all of the group ``unknown``. Workers sharing a
            database on one host should share it.
    """

    def __init__(
        self,
        db: Database,
        routes: Mapping[str, Route],
        *,
        policy: Policy | None = None,
        public_url: str = "",
        clock: Callable[[], datetime] = utcnow,
        name: str = "",
        cpu_clock: Callable[[], float] = time.process_time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        journal: Path | None = None,
    ) -> None:
        self.db = db
        self.routes = dict(routes)
        self.policy = policy or Policy()
        self.public_url = public_url
        self.clock = clock
        self.cpu_clock = cpu_clock
        self.sleep = sleep
        self.journal_dir = journal
        # Batch tokens end with "@<place>" when the worker keeps a journal (the
        # worker column holds 64 characters).
        self.place = journals.place_of(journal) if journal is not None else None
        self.name = (name or uuid.uuid4().hex[:12])[: 40 if self.place is None else 38]
        self._journal: journals.Journal | None = None  # made before the first batch
        self._wait = WaitRoute()
        self.stopping = False
        self.wake = asyncio.Event()  # set: look for work now (an alert scheduled)

    def stop(self) -> None:
        """Finish the current API call, give back the rest of its group and of the
        batch, and end ``run``."""
        self.stopping = True
        self.wake.set()

    def close(self) -> None:
        """Remove this worker's journal (a clean stop; ``run`` does it as it ends). A
        later batch makes a new one."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    # --- planning ---------------------------------------------------------------------

    async def plan_due(self) -> int:
        """Write the deliveries of every scheduled alert whose time has come."""
        now = self.clock()
        async with self.db.session() as session:
            due = (
                await session.execute(
                    select(OutreachAlert.id).where(
                        OutreachAlert.status == "scheduled", OutreachAlert.send_at <= now
                    )
                )
            ).scalars()
            ids = list(due)
        planned = 0
        for alert_id in ids:
            planned += await self._plan(alert_id, now)
        return planned

    async def _plan(self, alert_id: int, now: datetime) -> int:
        async with self.db.session() as session:
            moved = await session.execute(
                update(OutreachAlert)
                .where(OutreachAlert.id == alert_id, OutreachAlert.status == "scheduled")
                .values(status="sending", planned_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if rowcount(moved) != 1:
                return 0  # another worker planned it
            alert = await session.get(OutreachAlert, alert_id)
            assert alert is not None  # the row just moved to "sending"
            subscribers = (
                select(
                    literal(alert_id),
                    OutreachSubscription.recipient_id,
                    literal("pending"),
                    literal(0),
                    literal(now),
                )
                .where(
                    OutreachSubscription.kind == alert.kind,
                    OutreachSubscription.crop == alert.crop,
                )
                .distinct()
            )
            written = await session.execute(
                insert(OutreachDelivery).from_select(
                    ["alert_id", "recipient_id", "status", "attempts", "next_attempt_at"],
                    subscribers,
                )
            )
            count = max(rowcount(written) or 0, 0)
        log.info("alert %s planned for %d subscribers", alert_id, count)
        return count

    # --- leases -----------------------------------------------------------------------

    async def recover(self) -> tuple[int, int]:
        """Rows of workers that died, once their lease has run out: claimed ones back
        to pending; of the ones they were sending, those a dead worker's journal
        here leaves out back to pending too (never tried), those it names as taken
        sent, the others unknown (rows of a journal on another host only after
        ``Policy.foreign_grace``). Dead workers' journals are removed once none of
        their rows is left ``sending``. Returns (released, lost)."""
        now = self.clock()
        remains: list[journals.Remains] = []
        if self.journal_dir is not None:
            remains = await asyncio.to_thread(journals.left_behind, self.journal_dir)
        async with self.db.session() as session:
            released = await session.execute(
                update(OutreachDelivery)
                .where(OutreachDelivery.status == "claimed", OutreachDelivery.lease_until < now)
                .values(status="pending", worker=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            untried, named, done = await self._recover_journalled(session, remains, now)
            lost = await session.execute(
                update(OutreachDelivery)
                .where(
                    OutreachDelivery.status == "sending",
                    OutreachDelivery.lease_until < now,
                    self._no_journal_elsewhere(now),
                )
                .values(status="unknown", lease_until=None, last_error=MID_SEND)
                .execution_options(synchronize_session=False)
            )
        for dead in done:
            await asyncio.to_thread(journals.remove, dead)
        if untried:
            log.warning(
                "%d alert deliveries of a stopped worker were never tried (its journal): "
                "due again",
                untried,
            )
        if named + rowcount(lost):
            log.warning(
                "%d alert deliveries were mid-send when a worker stopped", named + rowcount(lost)
            )
        return rowcount(released) + untried, named + rowcount(lost)

    def _no_journal_elsewhere(self, now: datetime) -> Any:
        """Rows no other host's journal can still settle: of workers that kept no
        journal, of workers with a journal here (read above, or unreadable), or whose
        lease ran out ``Policy.foreign_grace`` ago."""
        worker = OutreachDelivery.worker
        settled = [
            ~worker.contains("@", autoescape=True),
            OutreachDelivery.lease_until < now - self.policy.foreign_grace,
        ]
        if self.place is not None:
            settled.append(worker.endswith(f"@{self.place}", autoescape=True))
        return or_(*settled)

    async def _recover_journalled(
        self, session: AsyncSession, remains: list[journals.Remains], now: datetime
    ) -> tuple[int, int, list[journals.Remains]]:
        """The ``sending`` rows whose lease ran out, of dead workers whose journals
        can be read whole: the deliveries it names as taken by the platform →
        ``sent``, the other calls it names → ``unknown``, the rest →
        ``pending`` (no attempt counted), their weekly cap given back and any row
        of the person that waited behind it due again, as ``_finish_group`` does.
        Returns (back to pending, unknown, the journals now done with).

        A group reserved its non-urgent rows' caps until its start + ``Policy.cap``
        and leased them until its start + ``Policy.lease``; the journal gives the
        dead worker's two (its ``hold``), so the cap a row took is its
        ``lease_until`` + ``hold``, matched exactly as ``_finish_group`` matches it:
        a cap reserved again since (another value) is left alone."""
        if not remains:
            return 0, 0, []
        whole = {token: dead for dead in remains if dead.whole for token in dead.calls}
        untried: list[int] = []
        named: list[int] = []
        delivered: dict[int, tuple[str, datetime]] = {}  # the platform took them (route, when)
        caps: dict[datetime, set[int]] = {}  # reserved until -> people whose cap goes back
        if whole:
            rows = (
                await session.execute(
                    select(
                        OutreachDelivery.id,
                        OutreachDelivery.worker,
                        OutreachDelivery.recipient_id,
                        OutreachDelivery.lease_until,
                        OutreachAlert.urgent,
                    )
                    .join(OutreachAlert, OutreachAlert.id == OutreachDelivery.alert_id)
                    .where(
                        OutreachDelivery.status == "sending",
                        OutreachDelivery.lease_until < now,
                        OutreachDelivery.worker.in_(sorted(whole)),
                    )
                    .order_by(OutreachDelivery.id)
                    .with_for_update(of=OutreachDelivery)
                )
            ).all()
            for delivery_id, token, recipient_id, lease_until, urgent in rows:
                dead = whole[token]
                if delivery_id in dead.sent.get(token, {}):
                    delivered[delivery_id] = dead.sent[token][delivery_id]
                    continue
                if delivery_id in dead.calls[token]:
                    named.append(delivery_id)
                    continue
                untried.append(delivery_id)
                leased = aware(lease_until)
                if not urgent and leased is not None:
                    caps.setdefault(leased + dead.hold, set()).add(recipient_id)
        gone = (OutreachDelivery.status == "sending", OutreachDelivery.lease_until < now)
        unknown = back = 0
        if named:
            unknown = rowcount(
                await session.execute(
                    update(OutreachDelivery)
                    .where(OutreachDelivery.id.in_(named), *gone)
                    .values(status="unknown", lease_until=None, last_error=MID_SEND)
                    .execution_options(synchronize_session=False)
                )
            )
        for delivery_id, (route, at) in delivered.items():
            # Its cap stays taken: the alert went out.
            await session.execute(
                update(OutreachDelivery)
                .where(OutreachDelivery.id == delivery_id, *gone)
                .values(status="sent", route=route, sent_at=at, lease_until=None)
                .execution_options(synchronize_session=False)
            )
        if delivered:
            log.info(
                "%d alert deliveries of a stopped worker were delivered (its journal)",
                len(delivered),
            )
        if untried:
            back = rowcount(
                await session.execute(
                    update(OutreachDelivery)
                    .where(OutreachDelivery.id.in_(untried), *gone)
                    .values(status="pending", worker=None, lease_until=None)
                    .execution_options(synchronize_session=False)
                )
            )
        for reserved_until, people in caps.items():
            theirs = OutreachDelivery.recipient_id.in_(sorted(people))
            await _give_back_cap(session, sorted(people), reserved_until, theirs, now)
        # A journal is done with once none of its batches' rows is left sending (a
        # dead worker's rows still leased are recovered by a later call); one that
        # cannot be read whole is not relied on, so it may go at once.
        sending: set[str] = set()
        if whole:
            sending = set(
                (
                    await session.execute(
                        select(OutreachDelivery.worker)
                        .where(
                            OutreachDelivery.status == "sending",
                            OutreachDelivery.worker.in_(sorted(whole)),
                        )
                        .distinct()
                    )
                ).scalars()
            )
        done = [dead for dead in remains if not dead.whole or not sending & set(dead.calls)]
        return back, unknown, done

    async def _claim(self, now: datetime) -> tuple[str, list[Target]]:
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        if self.place is not None:
            token += f"@{self.place}"
        push_quiet = self.policy.quiet(now)
        async with self.db.session() as session:
            due = (
                select(OutreachDelivery.id)
                .join(OutreachRecipient, OutreachRecipient.id == OutreachDelivery.recipient_id)
                .where(
                    OutreachDelivery.status == "pending",
                    OutreachDelivery.next_attempt_at <= now,
                )
                .order_by(OutreachDelivery.next_attempt_at, OutreachDelivery.id)
                .limit(self.policy.batch)
            )
            if push_quiet:  # only what waits for a next message anyway
                due = due.where(OutreachRecipient.channel.notin_(list(self.routes)))
            if self.db.is_sqlite:
                # One statement: it takes the single writer's lock at once (a read
                # followed by a write could find another process wrote in between).
                ids: Any = due.correlate(None).scalar_subquery()
            else:
                # Rows another worker is claiming are skipped, not waited for.
                locked = due.with_for_update(skip_locked=True, of=OutreachDelivery)
                ids = list((await session.execute(locked)).scalars())
                if not ids:
                    return token, []
            await session.execute(
                update(OutreachDelivery)
                .where(OutreachDelivery.id.in_(ids), OutreachDelivery.status == "pending")
                .values(status="claimed", worker=token, lease_until=now + self.policy.lease)
                .execution_options(synchronize_session=False)
            )
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(OutreachDelivery, OutreachRecipient, OutreachAlert)
                    .join(OutreachRecipient, OutreachRecipient.id == OutreachDelivery.recipient_id)
                    .join(OutreachAlert, OutreachAlert.id == OutreachDelivery.alert_id)
                    .where(OutreachDelivery.worker == token, OutreachDelivery.status == "claimed")
                    .order_by(OutreachDelivery.id)
                )
            ).all()
        targets = [
            Target(
                d.id,
                r.id,
                r.channel,
                r.recipient,
                aware(r.last_inbound_at),
                a,
                d.attempts,
            )
            for d, r, a in rows
        ]
        return token, targets

    async def _release(self, token: str) -> None:
        """Give back what this worker claimed and did not try (stopping, or paused)."""
        async with self.db.session() as session:
            await session.execute(
                update(OutreachDelivery)
                .where(OutreachDelivery.worker == token, OutreachDelivery.status == "claimed")
                .values(status="pending", worker=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    # --- sending ----------------------------------------------------------------------

    async def run_once(self) -> Outcome:
        """Plan what is due, recover dead workers' rows, and send one batch, a group
        (``Policy.group``) at a time, resting after each for the CPU it cost."""
        outcome = Outcome()
        outcome.planned = await self.plan_due()
        outcome.released, outcome.lost = await self.recover()
        token, targets = await self._claim(self.clock())
        paused: set[str] = set()
        queue = iter(targets)
        try:
            if targets and self.journal_dir is not None:  # before any of them is sending
                await asyncio.to_thread(self._begin_journal, token)
            while not self.stopping:
                # The next group: the batch's rows in order, less those of paused channels.
                group = list(
                    islice((t for t in queue if t.channel not in paused), self.policy.group)
                )
                if not group:
                    break
                # The process's CPU, not only this task's: what the database thread
                # and the web pages served meanwhile cost counts too (a conservative rest).
                spent = self.cpu_clock()
                await self._send_group(token, group, outcome, paused)
                rest = self.policy.rest_after(self.cpu_clock() - spent)
                if rest and not self.stopping:
                    await self.sleep(rest)
        finally:
            await self._release(token)
            await self._finish_alerts()
        return outcome

    def _begin_journal(self, token: str) -> None:
        """The batch ``token`` in this worker's journal, made at its first batch (in a
        thread: both wait for the disk)."""
        if self._journal is None:
            assert self.journal_dir is not None
            self._journal = journals.Journal.create(
                self.journal_dir, self.policy.lease, self.policy.cap
            )
        self._journal.begin(token)

    async def _send_group(
        self, token: str, group: list[Target], outcome: Outcome, paused: set[str]
    ) -> None:
        """Send a group of claimed deliveries in two write transactions: all of them
        to ``sending`` (with their caps), the API calls one after another, then all
        their outcomes. A row stays ``sending`` from before its call until its outcome
        is written, so a worker that dies in between leaves the group's rows to
        ``recover``: with a journal, each call's delivery is noted on disk before the
        call starts, and only the noted ones become ``unknown`` (never sent again);
        without, all of them do. Rows not tried because the channel paused, the
        worker is stopping or half the lease has gone go back to ``pending``, as does
        the rest of the group when something other than the platform's answer ends a
        call (a cancelled task); the row of that call stays ``sending``."""
        now = self.clock()
        started = await self._start_group(token, group, now)
        outcome.capped += started.capped
        done: dict[int, dict[str, Any]] = {}  # delivery id -> its row's new values
        calling: int | None = None  # the delivery whose API call is under way
        journal = self._journal
        # No call starts after half the lease: it ends before another worker could
        # take the group's rows for dead.
        last_start = now + self.policy.lease / 2
        try:
            for target in started.ready:
                if self.stopping or target.channel in paused or self.clock() >= last_start:
                    continue  # not tried: back to pending with the others
                if journal is not None:  # written before the call, or no call
                    if journal.waits:
                        await asyncio.to_thread(journal.note, token, target.delivery_id)
                    else:
                        journal.note(token, target.delivery_id)
                calling = target.delivery_id
                done[calling] = values = await self._call(target, now, paused)
                calling = None
                if journal is not None and values["status"] == "sent":
                    self._delivered(journal, token, target.delivery_id, values["route"])
        finally:
            written = False
            try:
                await self._finish_group(token, started, done, calling, now, outcome)
                written = calling is None
            finally:
                if journal is not None:  # the group's lines go once nothing is in doubt
                    journal.settle(written)

    def _delivered(
        self, journal: journals.Journal, token: str, delivery_id: int, route: str
    ) -> None:
        """The platform took a delivery: said in the journal, so that if this worker
        dies before the group's outcomes are written the row is ``sent``, not in
        doubt. A line that cannot be written costs only that."""
        try:
            journal.delivered(token, delivery_id, route, self.clock())
        except journals.JournalError:
            log.warning("outreach: a delivery could not be noted in the journal", exc_info=True)

    async def _start_group(self, token: str, group: list[Target], now: datetime) -> Started:
        """One transaction: the group's claimed rows → ``sending`` (cancelled or past
        alerts → ``expired``), the weekly cap reserved for the non-urgent ones, and
        rows over the cap back to ``pending`` until it frees them."""
        expired = [t.delivery_id for t in group if _expired(t.alert, now)]
        rest = [t for t in group if t.delivery_id not in expired]
        mine = (OutreachDelivery.worker == token, OutreachDelivery.status == "claimed")
        async with self.db.session() as session:
            if expired:
                await session.execute(
                    update(OutreachDelivery)
                    .where(OutreachDelivery.id.in_(expired), *mine)
                    .values(status="expired", lease_until=None)
                    .execution_options(synchronize_session=False)
                )
            if not rest:
                return Started([], 0, {})
            moved = await session.execute(
                update(OutreachDelivery)
                .where(OutreachDelivery.id.in_([t.delivery_id for t in rest]), *mine)
                .values(status="sending", lease_until=now + self.policy.lease)
                .execution_options(synchronize_session=False)
            )
            if rowcount(moved) != len(rest):  # some cancelled by "退订", or our lease ran out
                sending = set(
                    (
                        await session.execute(
                            select(OutreachDelivery.id).where(
                                OutreachDelivery.id.in_([t.delivery_id for t in rest]),
                                OutreachDelivery.worker == token,
                                OutreachDelivery.status == "sending",
                            )
                        )
                    ).scalars()
                )
                rest = [t for t in rest if t.delivery_id in sending]
            return await self._reserve_caps(session, rest, now)

    async def _reserve_caps(
        self, session: AsyncSession, moved: list[Target], now: datetime
    ) -> Started:
        """Reserve the weekly cap of the non-urgent rows' recipients, in the group's
        transaction: the first row of a person takes it, any other of theirs waits.

        The caps are read locked (PostgreSQL: ``FOR UPDATE``, in the order of the ids
        so two workers cannot deadlock; SQLite: this transaction already holds the
        single writer's lock), so the free ones read are the ones the UPDATE takes."""
        wanting = sorted({t.recipient_id for t in moved if not t.alert.urgent})
        if not wanting:
            return Started(moved, 0, {})
        caps: dict[int, datetime | None] = {
            rid: aware(until)
            for rid, until in (
                await session.execute(
                    select(OutreachRecipient.id, OutreachRecipient.cap_until)
                    .where(OutreachRecipient.id.in_(wanting))
                    .order_by(OutreachRecipient.id)
                    .with_for_update()
                )
            ).all()
        }
        until = now + self.policy.cap
        free = {rid for rid in wanting if rid in caps and _free(caps[rid], now)}
        if free:
            reserved = await session.execute(
                update(OutreachRecipient)
                .where(OutreachRecipient.id.in_(sorted(free)), _free_clause(now))
                .values(cap_until=until)
                .execution_options(synchronize_session=False)
            )
            if rowcount(reserved) != len(free):  # cannot be, under the lock: send nothing
                raise RuntimeError("outreach: a weekly cap changed under the group's lock")
        ready: list[Target] = []
        taken: set[int] = set()
        waits: dict[datetime, list[int]] = {}  # when the cap frees them -> delivery ids
        behind: dict[int, list[int]] = {}
        for target in moved:
            rid = target.recipient_id
            if target.alert.urgent:
                ready.append(target)
                continue
            if rid in free and rid not in taken:
                ready.append(target)
                taken.add(rid)
                continue
            if rid in taken:  # a second of theirs in this group: after the first
                behind.setdefault(rid, []).append(target.delivery_id)
            waits.setdefault(until if rid in taken else caps.get(rid) or until, []).append(
                target.delivery_id
            )
        for wait, ids in waits.items():
            await session.execute(
                update(OutreachDelivery)
                .where(OutreachDelivery.id.in_(ids))
                .values(status="pending", worker=None, lease_until=None, next_attempt_at=wait)
                .execution_options(synchronize_session=False)
            )
        return Started(ready, sum(len(ids) for ids in waits.values()), behind)

    async def _call(self, target: Target, now: datetime, paused: set[str]) -> dict[str, Any]:
        """One delivery's API call; returns its row's new values (a rate error pauses
        the channel for the rest of the batch)."""
        route = self.routes.get(target.channel, self._wait)
        text = alert_message(target.alert, self.public_url)
        try:
            how = await route.send(target, text, now)
        except Hold:
            return {"status": "held", "route": WAITING}
        except ApiError as exc:
            attempts = target.attempts + 1
            error = f"{exc.code}: {exc.message}"[:200]
            if exc.code in PERMANENT or attempts >= self.policy.max_attempts:
                log.warning("alert %s not delivered (%s)", target.alert.id, error)
                return {"status": "failed", "attempts": attempts, "last_error": error}
            if exc.code in RATE_LIMITED:
                paused.add(target.channel)  # the platform said slow down: not this batch
            return {
                "status": "pending",
                "attempts": attempts,
                "last_error": error,
                "next_attempt_at": now + self.policy.backoff(attempts),
                "worker": None,
            }
        return {"status": "sent", "route": how}

    async def _finish_group(
        self,
        token: str,
        started: Started,
        done: Mapping[int, Mapping[str, Any]],
        calling: int | None,
        now: datetime,
        outcome: Outcome,
    ) -> None:
        """One transaction: the outcomes of the group's calls (an UPDATE per distinct
        set of values: the sent by route, the held, each failure), the untried rows
        back to ``pending``, and the cap given back for every non-urgent row that did
        not go out (with any row of the same person that waited behind it). The sent
        rows' ``sent_at`` is the time of writing, just after the group's last call."""
        sent_at = self.clock()
        changes: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        undo: set[int] = set()
        for target in started.ready:
            values = done.get(target.delivery_id)
            if values is None:
                if target.delivery_id == calling:
                    continue  # in doubt: stays sending, for recover() to count
                values = {"status": "pending", "worker": None}  # never tried: due again
            elif values["status"] == "sent":
                values = {**values, "sent_at": sent_at}
            if not target.alert.urgent and values["status"] in ("pending", "failed"):
                undo.add(target.recipient_id)  # nothing went out: the week's alert is to come
            changes.setdefault(tuple(sorted(values.items())), []).append(target.delivery_id)
        if not changes:
            return
        reopened = [i for rid in sorted(undo) for i in started.behind.get(rid, [])]
        reserved_until = now + self.policy.cap  # what _reserve_caps wrote for this group
        async with self.db.session() as session:
            for change, ids in changes.items():
                await session.execute(
                    update(OutreachDelivery)
                    .where(
                        OutreachDelivery.id.in_(ids),
                        OutreachDelivery.worker == token,
                        OutreachDelivery.status == "sending",
                    )
                    .values(lease_until=None, **dict(change))
                    .execution_options(synchronize_session=False)
                )
            if undo:
                behind = OutreachDelivery.id.in_(reopened) if reopened else None
                await _give_back_cap(session, sorted(undo), reserved_until, behind, now)
        for values in done.values():
            status = values["status"]
            if status == "sent":
                outcome.sent += 1
                outcome.routes[values["route"]] = outcome.routes.get(values["route"], 0) + 1
            elif status == "held":
                outcome.held += 1
            elif status == "failed":
                outcome.failed += 1
            else:
                outcome.retried += 1

    async def _finish_alerts(self) -> None:
        """Alerts with nothing left to send are sent."""
        open_rows = select(OutreachDelivery.id).where(
            OutreachDelivery.alert_id == OutreachAlert.id,
            OutreachDelivery.status.in_(("pending", "claimed", "sending")),
        )
        async with self.db.session() as session:
            await session.execute(
                update(OutreachAlert)
                .where(OutreachAlert.status == "sending", ~open_rows.exists())
                .values(status="sent", updated_at=self.clock())
                .execution_options(synchronize_session=False)
            )

    async def run(self, every: float = 30.0) -> None:
        """Send until stopped: a batch at a time, then wait ``every`` seconds (or for
        ``wake``) when there was nothing to do. The journal is removed at the end."""
        wake = self.wake
        try:
            while not self.stopping:
                try:
                    outcome = await self.run_once()
                except SQLAlchemyError:
                    log.exception("outreach: database error; trying again shortly")
                    outcome = Outcome()
                except journals.JournalError:
                    # Nothing is sent that the journal could not note first.
                    log.exception("outreach: the journal cannot be written; trying again shortly")
                    outcome = Outcome()
                busy = outcome.sent + outcome.held + outcome.failed + outcome.planned
                if busy:
                    continue
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), every)
                wake.clear()
        finally:
            self.close()


async def pending_count(db: Database) -> int:
    """Deliveries not yet sent or held (pending, claimed or sending), of every alert."""
    async with db.session() as session:
        count: int = (
            await session.execute(
                select(func.count())
                .select_from(OutreachDelivery)
                .where(OutreachDelivery.status.in_(("pending", "claimed", "sending")))
            )
        ).scalar_one()
        return count
