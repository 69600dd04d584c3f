"""Service orders in the database: placing, dispatching, serving, rating.

Every change goes through ``bot.orders.states.apply`` and is written together
with its ``OrderEvent`` in one transaction, on a row locked for the change, so
the audit trail has exactly one record per transition.

The resident's phone number is kept in ``service_orders.phone`` only: it is
shown unredacted to the volunteer who accepted the order while it is being
served, and erased when the order ends. Everything else stored here (village,
convenient time, notes, reasons) goes through ``bot.text.redact`` first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from bot.accounts.access import Actor
from bot.accounts.audit import record
from bot.accounts.errors import Forbidden, InvalidInput, NotFound, clip
from bot.orders import catalogue
from bot.orders.access import DISPATCH_ACTIONS, can, require_order
from bot.orders.states import (
    ACTIONS,
    HELD_STATES,
    STATES,
    TERMINAL,
    Event,
    Snapshot,
    Step,
    apply,
    created,
)
from bot.storage.db import Database, sender_hash
from bot.storage.models import (
    OrderEvent,
    OrderRating,
    ServiceHours,
    ServiceOrder,
    Volunteer,
    aware,
    utcnow,
)
from bot.text.redact import redact

MAX_PAGE = 500
RESIDENT = "居民"
SYSTEM = "系统"
PUBLIC_ID = re.compile(r"D-[A-Z2-7]{8}")
ID_DOCUMENTS: tuple[str, ...] = ("身份证", "户口簿", "护照", "居住证", "港澳台居民来往内地通行证")
_VOLUNTEER_CODE = re.compile(r"^[A-Za-z0-9-]{2,32}$")
# A WeCom member account (userid): letters, digits and _ - . @, up to 64.
_WECOM_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_PHONE_CHARS = re.compile(r"[\s\-()（）]")
# Numbers said rather than typed (a voice transcript): 幺三八…
_SPOKEN_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:0\d{2,3})?\d{7,8}$")
ACCEPT_TIMEOUT_HOURS = 24
REMIND_EVERY_HOURS = 24
LOW_RATING = 3  # ratings below this go to the admin's attention


# ---------------------------------------------------------------------------
# Views


@dataclass(frozen=True)
class VolunteerView:
    id: int
    code: str
    name: str
    skills: tuple[str, ...]
    towns: tuple[str, ...]
    availability: str
    available: bool
    active: bool
    console_user: str | None
    id_checked_by: str | None
    id_document: str | None
    id_checked_at: datetime | None
    minutes_served: int
    wecom_user: str | None = None

    @property
    def verified(self) -> bool:
        return self.id_checked_at is not None

    @property
    def skill_labels(self) -> list[str]:
        return [catalogue.service_label(s) for s in self.skills]

    @property
    def hours_served(self) -> float:
        return round(self.minutes_served / 60, 1)

    @classmethod
    def of(cls, v: Volunteer) -> VolunteerView:
        return cls(
            v.id,
            v.code,
            v.name,
            tuple(v.skills or ()),
            tuple(v.towns or ()),
            v.availability or "",
            bool(v.available),
            bool(v.active),
            v.console_user,
            v.id_checked_by,
            v.id_document,
            aware(v.id_checked_at) if v.id_checked_at else None,
            v.minutes_served or 0,
            v.wecom_user,
        )


@dataclass(frozen=True)
class OrderView:
    id: str  # D-XXXXXXXX
    state: str
    service: str
    town: str
    village: str
    convenient_time: str
    note: str
    urgent: bool
    flagged: bool
    reason: str | None
    phone: str  # redacted unless the viewer is the volunteer serving it
    phone_visible: bool
    volunteer: VolunteerView | None
    declined_by: tuple[int, ...]
    entered: dict[str, str]
    created_at: datetime
    state_at: datetime
    verify_code_set: bool

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def service_label(self) -> str:
        return catalogue.service_label(self.service)

    @property
    def open(self) -> bool:
        return self.state not in TERMINAL

    def age_hours(self, now: datetime | None = None) -> float:
        """Hours since the order was placed, to one decimal."""
        return round(((now or utcnow()) - self.created_at).total_seconds() / 3600, 1)


@dataclass(frozen=True)
class EventView:
    action: str
    actor: str
    from_state: str | None
    to_state: str
    volunteer_id: int | None
    reason: str | None
    at: datetime

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def to_label(self) -> str:
        return STATES.get(self.to_state, self.to_state)


@dataclass(frozen=True)
class RatingView:
    score: int
    comment: str
    created_at: datetime


@dataclass(frozen=True)
class OrderDetail:
    order: OrderView
    events: list[EventView]
    rating: RatingView | None


@dataclass(frozen=True)
class OrderPage:
    items: list[OrderView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Receipt:
    public_id: str
    contact_hours: int
    duplicate: bool


@dataclass(frozen=True)
class Suggestion:
    volunteer: VolunteerView
    load: int  # orders they hold now
    skill: bool
    town: bool

    @property
    def reasons(self) -> list[str]:
        """Why the volunteer is suggested, in the dispatcher's words."""
        out = []
        if self.skill:
            out.append("会这项服务")
        if self.town:
            out.append("服务这个镇街")
        out.append(f"手上 {self.load} 单")
        return out


def _phone_shown(order: ServiceOrder, viewer: Volunteer | None) -> bool:
    return (
        viewer is not None
        and order.volunteer_id == viewer.id
        and order.state in ("accepted", "in_service")
        and bool(order.phone)
    )


def order_view(
    order: ServiceOrder, volunteer: Volunteer | None, viewer: Volunteer | None = None
) -> OrderView:
    """The order as the console shows it to ``viewer`` (the phone masked unless shown)."""
    shown = _phone_shown(order, viewer)
    phone = order.phone or ""
    return OrderView(
        id=order.public_id,
        state=order.state,
        service=order.service,
        town=order.town,
        village=order.village or "",
        convenient_time=order.convenient_time or "",
        note=order.note or "",
        urgent=bool(order.urgent),
        flagged=bool(order.flagged),
        reason=order.reason,
        phone=phone if shown else (redact(phone) if phone else ""),
        phone_visible=shown,
        volunteer=VolunteerView.of(volunteer) if volunteer is not None else None,
        declined_by=tuple(order.declined_by or ()),
        entered=dict(order.entered or {}),
        created_at=aware(order.created_at),
        state_at=aware(order.state_at),
        verify_code_set=bool(order.verify_code),
    )


def snapshot_of(order: ServiceOrder) -> Snapshot:
    """What the state machine needs of ``order``."""
    return Snapshot(
        state=order.state,
        volunteer_id=order.volunteer_id,
        declined_by=frozenset(order.declined_by or ()),
        reason=order.reason,
        flagged=bool(order.flagged),
        entered={k: datetime.fromisoformat(v) for k, v in (order.entered or {}).items()},
        state_at=aware(order.state_at),
    )


def _store(session: AsyncSession, order: ServiceOrder, snap: Snapshot, event: Event) -> None:
    """Write ``snap`` onto ``order`` and its event into the trail, in the caller's transaction."""
    order.state = snap.state
    order.volunteer_id = snap.volunteer_id
    order.declined_by = sorted(snap.declined_by)
    order.reason = redact(snap.reason)[:200] if snap.reason else None
    order.flagged = snap.flagged
    order.entered = {k: v.isoformat() for k, v in snap.entered.items()}
    order.state_at = snap.state_at or event.at
    order.updated_at = event.at
    session.add(
        OrderEvent(
            order_id=order.id,
            action=event.action,
            actor=event.actor[:64],
            from_state=event.from_state,
            to_state=event.to_state,
            volunteer_id=event.volunteer_id,
            reason=redact(event.reason)[:200] if event.reason else None,
            at=event.at,
        )
    )


# ---------------------------------------------------------------------------
# Placing an order (the resident, through the chat)


def normalize_phone(raw: str) -> str:
    """A mobile or landline number as digits, else ``InvalidInput``."""
    spoken = unicodedata.normalize("NFKC", raw or "").translate(_SPOKEN_DIGITS)
    digits = _PHONE_CHARS.sub("", spoken)
    if digits.startswith("+86"):
        digits = digits[3:]
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    raise InvalidInput("电话号码不对：请留 11 位手机号或座机号")


def public_id(key: str) -> str:
    """The order number for an idempotency ``key``: ``D-`` and 8 base32 characters."""
    digest = hashlib.sha256(f"order\0{key}".encode()).digest()
    return "D-" + base64.b32encode(digest).decode("ascii")[:8]


async def place_order(
    db: Database,
    *,
    sender_id: str,
    channel: str,
    service: str,
    town: str,
    village: str,
    convenient_time: str,
    phone: str,
    note: str = "",
    urgent: bool = False,
    key: str | None = None,
    now: datetime | None = None,
) -> Receipt:
    """Store a resident's order (待审核) once per ``key`` (the message that finished
    the form); returns its number and how soon the centre promises to call."""
    found = catalogue.service(service)
    if found is None:
        raise InvalidInput(f"没有这项服务：{clip(service)}")
    if catalogue.place(town) is None:
        raise InvalidInput(f"{catalogue.district()}没有这个镇街：{clip(town)}")
    number = normalize_phone(phone)
    now = now or utcnow()
    pid = public_id(key or f"{sender_id}\0{secrets.token_hex(8)}")
    async with db.session() as session:
        existing = (
            await session.execute(select(ServiceOrder.id).where(ServiceOrder.public_id == pid))
        ).first()
        if existing is not None:
            return Receipt(pid, found.contact_hours, duplicate=True)
        snap, event = created(RESIDENT, now)
        order = ServiceOrder(
            public_id=pid,
            sender_hash=sender_hash(sender_id),
            channel=channel[:32],
            recipient=sender_id[:128],
            service=found.key,
            town=town,
            village=redact(village.strip())[:64],
            convenient_time=redact(convenient_time.strip())[:100],
            note=redact(note.strip())[:2000],
            phone=number,
            urgent=urgent,
            flagged=False,
            declined_by=[],
            created_at=now,
        )
        session.add(order)
        await session.flush()
        _store(session, order, snap, event)
    return Receipt(pid, found.contact_hours, duplicate=False)


# ---------------------------------------------------------------------------
# Reading orders (dispatchers: all; volunteers: their own)


async def _viewer(session: AsyncSession, actor: Actor) -> Volunteer | None:
    return (
        await session.execute(select(Volunteer).where(Volunteer.console_user == actor.name))
    ).scalar_one_or_none()


def queue_order() -> list[Any]:
    """Urgent first, then orders back from a timeout, then the oldest."""
    return [
        ServiceOrder.urgent.desc(),
        ServiceOrder.flagged.desc(),
        ServiceOrder.created_at,
        ServiceOrder.id,
    ]


async def list_orders(
    db: Database,
    actor: Actor,
    *,
    states: tuple[str, ...] = (),
    limit: int = 100,
    offset: int = 0,
) -> OrderPage:
    """A page of orders in queue order; volunteers see only those dispatched to them."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"每页 1 到 {MAX_PAGE} 条")
    for state in states:
        if state not in STATES:
            raise InvalidInput(f"没有这个状态：{clip(state)}（可选 {', '.join(STATES)}）")
    async with db.session() as session:
        where: list[Any] = []
        viewer = await _viewer(session, actor)
        if not can(actor, "dispatch"):
            require_order(actor, "serve")
            if viewer is None:
                raise Forbidden("这个账号还没有登记为志愿者")
            where.append(ServiceOrder.volunteer_id == viewer.id)
        if states:
            where.append(ServiceOrder.state.in_(states))
        total = (
            await session.execute(select(func.count(ServiceOrder.id)).where(*where))
        ).scalar_one()
        rows = (
            await session.execute(
                select(ServiceOrder, Volunteer)
                .outerjoin(Volunteer, Volunteer.id == ServiceOrder.volunteer_id)
                .where(*where)
                .order_by(*queue_order())
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return OrderPage([order_view(o, v, viewer) for o, v in rows], total, limit, offset)


async def order_detail(db: Database, actor: Actor, public: str) -> OrderDetail:
    """The order with its volunteer and events, if ``actor`` may see it."""
    async with db.session() as session:
        order = await _order(session, public)
        viewer = await _viewer(session, actor)
        _may_see(actor, order, viewer)
        volunteer = await session.get(Volunteer, order.volunteer_id) if order.volunteer_id else None
        events = (
            (
                await session.execute(
                    select(OrderEvent)
                    .where(OrderEvent.order_id == order.id)
                    .order_by(OrderEvent.at, OrderEvent.id)
                )
            )
            .scalars()
            .all()
        )
        rating = (
            await session.execute(select(OrderRating).where(OrderRating.order_id == order.id))
        ).scalar_one_or_none()
        return OrderDetail(
            order_view(order, volunteer, viewer),
            [
                EventView(
                    e.action,
                    e.actor,
                    e.from_state,
                    e.to_state,
                    e.volunteer_id,
                    e.reason,
                    aware(e.at),
                )
                for e in events
            ],
            RatingView(rating.score, rating.comment, aware(rating.created_at)) if rating else None,
        )


def _may_see(actor: Actor, order: ServiceOrder, viewer: Volunteer | None) -> None:
    if can(actor, "dispatch"):
        return
    require_order(actor, "serve")
    held = viewer is not None and (
        order.volunteer_id == viewer.id or viewer.id in (order.declined_by or ())
    )
    if not held:
        raise NotFound(f"没有这个订单：{clip(order.public_id)}")


async def _order(session: AsyncSession, public: str, *, lock: bool = False) -> ServiceOrder:
    public = (public or "").strip().upper()
    if not PUBLIC_ID.fullmatch(public):
        raise NotFound(f"没有这个订单：{clip(public)}")
    query = select(ServiceOrder).where(ServiceOrder.public_id == public)
    order: ServiceOrder | None = (
        await session.execute(query.with_for_update() if lock else query)
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(f"没有这个订单：{clip(public)}")
    return order


# ---------------------------------------------------------------------------
# Changing orders


async def act(
    db: Database,
    actor: Actor,
    public: str,
    action: str,
    *,
    volunteer_code: str | None = None,
    reason: str | None = None,
    verify_code: str | None = None,
    take_open: bool = False,
    now: datetime | None = None,
) -> OrderView:
    """Take one action of the state machine on an order, as ``actor``.

    Dispatchers review, assign (``volunteer_code``), recall and cancel; the
    volunteer the order is with accepts, declines (``reason``), starts,
    completes (with the resident's ``verify_code``) or reports it cannot be done.
    When the admin opens orders to volunteers (``take_open``, KEPU_ORDERS_TAKE_OPEN),
    a volunteer may also take (抢单) an open order they qualify for.
    """
    if action not in ACTIONS or action in ("create", "expire"):
        raise InvalidInput(f"没有这个操作：{clip(action)}")
    now = now or utcnow()
    async with db.session() as session:
        order = await _order(session, public, lock=True)
        viewer = await _viewer(session, actor)
        step_volunteer: int | None = None
        if action == "take":
            if not take_open:
                raise Forbidden("现在不开放抢单，请等调度员派单")
            taker = _serving(actor, viewer)
            if not _may_take(order, taker):  # as if it were not there
                raise NotFound(f"没有这个订单：{clip(order.public_id)}")
            # one they may take but someone has: the state machine says it is taken
            step_volunteer = taker.id
        elif action in DISPATCH_ACTIONS:
            _may_see(actor, order, viewer)
            require_order(actor, "dispatch")
            if action == "assign":
                step_volunteer = (await _assignable(session, order, volunteer_code)).id
        else:
            _may_see(actor, order, viewer)
            step_volunteer = _serving(actor, viewer).id
            if action == "complete" and not _code_matches(order.verify_code, verify_code):
                raise InvalidInput("上门核验码不对：请向居民核对 4 位核验码")
        snap, event = apply(
            snapshot_of(order),
            Step(action, actor.name, now, volunteer_id=step_volunteer, reason=reason),
        )
        _store(session, order, snap, event)
        await _after(session, order, action, now)
        volunteer = await session.get(Volunteer, order.volunteer_id) if order.volunteer_id else None
        return order_view(order, volunteer, viewer)


def _serving(actor: Actor, viewer: Volunteer | None) -> Volunteer:
    """The volunteer record behind a console account that serves orders."""
    require_order(actor, "serve")
    if viewer is None:
        raise Forbidden("这个账号还没有登记为志愿者")
    return viewer


def _may_take(order: ServiceOrder, volunteer: Volunteer) -> bool:
    """抢单 (the order's state aside): the volunteer's skill, a town they serve, not
    one they declined; identity checked for home visits; active and available now."""
    found = catalogue.service(order.service)
    return (
        volunteer.active
        and volunteer.available
        and order.service in (volunteer.skills or ())
        and order.town in (volunteer.towns or ())
        and volunteer.id not in (order.declined_by or ())
        and not (found is not None and found.home_visit and volunteer.id_checked_at is None)
    )


async def takeable(db: Database, actor: Actor, *, limit: int = 20) -> list[OrderView]:
    """Open orders this volunteer may take (抢单), in queue order."""
    require_order(actor, "serve")
    async with db.session() as session:
        viewer = await _viewer(session, actor)
        if viewer is None or not viewer.skills or not viewer.towns:
            return []
        rows = (
            await session.execute(
                select(ServiceOrder)
                .where(
                    ServiceOrder.state == "open",
                    ServiceOrder.service.in_(list(viewer.skills)),
                    ServiceOrder.town.in_(list(viewer.towns)),
                )
                .order_by(*queue_order())
                .limit(limit * 2)  # a few may be ones they declined
            )
        ).scalars()
        return [order_view(o, None, viewer) for o in rows if _may_take(o, viewer)][:limit]


def _code_matches(expected: str | None, given: str | None) -> bool:
    import hmac

    given = (given or "").strip()
    return bool(expected) and hmac.compare_digest(given.encode(), (expected or "").encode())


async def _assignable(session: AsyncSession, order: ServiceOrder, code: str | None) -> Volunteer:
    code = (code or "").strip()
    if not code:
        raise InvalidInput("派单要选一位志愿者（志愿者编号）")
    volunteer: Volunteer | None = (
        await session.execute(select(Volunteer).where(Volunteer.code == code))
    ).scalar_one_or_none()
    if volunteer is None or not volunteer.active:
        raise NotFound(f"没有这位志愿者：{clip(code)}")
    found = catalogue.service(order.service)
    if found is not None and found.home_visit and volunteer.id_checked_at is None:
        raise Forbidden("这位志愿者还没有核验身份，不能派上门服务")
    return volunteer


async def _after(session: AsyncSession, order: ServiceOrder, action: str, now: datetime) -> None:
    """What follows a transition: the 核验码, what the resident is owed, hours, erasures."""
    if action in ("accept", "take"):
        order.verify_code = f"{secrets.randbelow(10000):04d}"
        order.resident_notice = "accepted"
    elif action == "decline":
        order.verify_code = None
        if order.resident_notice == "accepted":  # not yet told: nothing to tell
            order.resident_notice = None
    elif action == "complete":
        found = catalogue.service(order.service)
        minutes = found.minutes if found else 60
        assert order.volunteer_id is not None  # completed by its volunteer
        session.add(
            ServiceHours(
                volunteer_id=order.volunteer_id, order_id=order.id, minutes=minutes, at=now
            )
        )
        await session.execute(
            update(Volunteer)
            .where(Volunteer.id == order.volunteer_id)
            .values(minutes_served=Volunteer.minutes_served + minutes)
        )
        order.resident_notice = "rate"
    elif action in ("cancel", "fail"):
        order.resident_notice = "cancelled" if order.recipient else None
    if order.state in TERMINAL:
        order.phone = None  # no longer needed by anyone
        order.verify_code = None if order.state != "done" else order.verify_code


async def expire_overdue(
    db: Database, *, hours: float = ACCEPT_TIMEOUT_HOURS, now: datetime | None = None
) -> list[str]:
    """Orders dispatched ``hours`` ago and still not accepted go back to the
    dispatcher, flagged. Returns their numbers."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=hours)
    async with db.session() as session:
        ids = (
            (
                await session.execute(
                    select(ServiceOrder.public_id).where(
                        ServiceOrder.state == "assigned", ServiceOrder.state_at <= cutoff
                    )
                )
            )
            .scalars()
            .all()
        )
    expired = []
    for pid in ids:
        async with db.session() as session:
            order = await _order(session, pid, lock=True)
            if order.state != "assigned" or aware(order.state_at) > cutoff:
                continue  # accepted or recalled meanwhile
            snap, event = apply(snapshot_of(order), Step("expire", SYSTEM, now))
            _store(session, order, snap, event)
            expired.append(pid)
    return expired


# ---------------------------------------------------------------------------
# Dispatch suggestions


def serves_town(town: str) -> Any:
    """SQL: the volunteer's towns include ``town`` (a JSON list; its text holds the
    name JSON-encoded, e.g. "\\u793c\\u8ba9\\u9547", on SQLite and PostgreSQL alike)."""
    return cast(Volunteer.towns, String).contains(json.dumps(town), autoescape=True)


async def suggest(db: Database, actor: Actor, public: str, limit: int = 5) -> list[Suggestion]:
    """Volunteers to dispatch an order to: active and available, not among those who
    declined it, identity-checked for home visits; those with the skill and serving
    the town first, then the least loaded."""
    require_order(actor, "dispatch")
    async with db.session() as session:
        order = await _order(session, public)
        found = catalogue.service(order.service)
        where = [Volunteer.active.is_(True), Volunteer.available.is_(True)]
        if found is not None and found.home_visit:
            where.append(Volunteer.id_checked_at.is_not(None))
        # Ranked on three columns; whole records only for the few shown (5k volunteers
        # as ORM objects cost ~200 ms). Those with the skill rank first: when there
        # are enough of them, the others need not be read (skills are ASCII keys,
        # stored as a JSON list, so the text holds '"phone_help"').
        # Those who also serve the town rank above all others: when there are enough
        # of them, nobody else is read (towns are stored JSON-encoded, "\\u793c…").
        columns = select(Volunteer.id, Volunteer.code, Volunteer.skills, Volunteer.towns)
        skilled = cast(Volunteer.skills, String).like(f'%"{order.service}"%')
        local = serves_town(order.town)
        enough = limit + len(order.declined_by or ())
        held = (
            select(ServiceOrder.volunteer_id, func.count(ServiceOrder.id).label("held"))
            .where(ServiceOrder.volunteer_id.is_not(None), ServiceOrder.state.in_(HELD_STATES))
            .group_by(ServiceOrder.volunteer_id)
            .subquery()
        )
        candidates = (await session.execute(columns.where(*where, skilled, local))).all()
        if len(candidates) < enough:
            candidates = (await session.execute(columns.where(*where, skilled))).all()
        if len(candidates) < enough:
            # Too few with the skill: the rest are the others, those serving the
            # town first, then the least loaded; the database ranks them and only
            # the few needed are read.
            others = (
                await session.execute(
                    columns.outerjoin(held, held.c.volunteer_id == Volunteer.id)
                    .where(*where, ~skilled)
                    .order_by(
                        case((local, 0), else_=1),
                        func.coalesce(held.c.held, 0),
                        Volunteer.code,
                    )
                    .limit(enough)
                )
            ).all()
            candidates = [*candidates, *others]
        rows = (await session.execute(select(held.c.volunteer_id, held.c.held))).all()
        loads: dict[int, int] = {volunteer: count for volunteer, count in rows}
        declined = set(order.declined_by or ())
        ranked = sorted(
            (
                (order.service in (skills or ()), order.town in (towns or ()), id_, code)
                for id_, code, skills, towns in candidates
                if id_ not in declined
            ),
            key=lambda c: (-(c[0] + c[1]), -c[0], loads.get(c[2], 0), c[3]),
        )[:limit]
        chosen = {
            v.id: v
            for v in (
                await session.execute(
                    select(Volunteer).where(Volunteer.id.in_([c[2] for c in ranked]))
                )
            ).scalars()
        }
    return [
        Suggestion(VolunteerView.of(chosen[id_]), int(loads.get(id_, 0)), skill, town)
        for skill, town, id_, _code in ranked
    ]


# ---------------------------------------------------------------------------
# Volunteers


def _skills(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        value = value.strip()
        match = catalogue.service(value) or next(
            (s for s in catalogue.services() if s.label == value), None
        )
        if match is None:
            keys = "、".join(f"{s.key}（{s.label}）" for s in catalogue.services())
            raise InvalidInput(f"没有这项服务：{clip(value)}（可选 {keys}）")
        if match.key not in out:
            out.append(match.key)
    return out


def _towns(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        found = catalogue.place(value.strip()) or next(
            (p for p in catalogue.places() if p.short == value.strip()), None
        )
        if found is None:
            raise InvalidInput(f"{catalogue.district()}没有这个镇街：{clip(value)}")
        if found.name not in out:
            out.append(found.name)
    return out


def _document(kind: str) -> str:
    kind = kind.strip()
    if kind not in ID_DOCUMENTS:
        # Never the number: only which kind of document was seen.
        raise InvalidInput(f"证件类型只能是：{'、'.join(ID_DOCUMENTS)}（不要填证件号码）")
    return kind


async def add_volunteer(
    db: Database,
    name: str,
    *,
    skills: list[str],
    towns: list[str],
    availability: str = "",
    code: str | None = None,
    console_user: str | None = None,
    wecom_user: str | None = None,
    checked_document: str | None = None,
    checked_by: str | None = None,
    by: str = "cli",
    now: datetime | None = None,
) -> VolunteerView:
    """Register a volunteer; ``checked_document``/``checked_by`` record an identity check;
    ``wecom_user`` is their WeCom account, where new orders and reminders reach them."""
    name = name.strip()
    if not 1 <= len(name) <= 64 or any(ch.isdigit() for ch in name):
        raise InvalidInput("姓名要 1 到 64 个字，不能含号码")
    if code is not None and not _VOLUNTEER_CODE.fullmatch(code.strip()):
        raise InvalidInput("志愿者编号只能用字母、数字和横线（2 到 32 位）")
    wecom_user = (wecom_user or "").strip() or None
    if wecom_user is not None and not _WECOM_USER.fullmatch(wecom_user):
        raise InvalidInput("企业微信账号只能用字母、数字和 _ - . @（最多 64 位）")
    skill_keys, town_names = _skills(skills), _towns(towns)
    if not skill_keys or not town_names:
        raise InvalidInput("至少要有一项服务和一个镇街")
    now = now or utcnow()
    async with db.session() as session:
        if (
            code
            and (
                await session.execute(select(Volunteer.id).where(Volunteer.code == code.strip()))
            ).first()
        ):
            raise InvalidInput(f"志愿者编号已被使用：{clip(code)}")
        volunteer = Volunteer(
            code=(code or f"tmp-{secrets.token_hex(8)}").strip(),
            name=name,
            skills=skill_keys,
            towns=town_names,
            availability=redact(availability.strip())[:200],
            available=True,
            active=True,
            console_user=(console_user or "").strip() or None,
            wecom_user=wecom_user,
            minutes_served=0,
            created_at=now,
        )
        if checked_document:
            if not (checked_by or "").strip():
                raise InvalidInput("核验身份要写明是谁核验的")
            volunteer.id_document = _document(checked_document)
            volunteer.id_checked_by = (checked_by or "").strip()[:64]
            volunteer.id_checked_at = now
        session.add(volunteer)
        await session.flush()
        if code is None:
            volunteer.code = f"LP{volunteer.id:05d}"
        record(
            session,
            by,
            "volunteer_add",
            f"volunteer:{volunteer.code}",
            skills=skill_keys,
            towns=town_names,
            id_document=volunteer.id_document,
        )
        return VolunteerView.of(volunteer)


async def verify_volunteer(
    db: Database, code: str, *, document: str, checked_by: str, now: datetime | None = None
) -> VolunteerView:
    """Record that ``checked_by`` saw the volunteer's ``document`` (its kind, never its number)."""
    document = _document(document)
    checked_by = checked_by.strip()
    if not checked_by:
        raise InvalidInput("核验身份要写明是谁核验的")
    async with db.session() as session:
        volunteer = (
            await session.execute(
                select(Volunteer).where(Volunteer.code == code.strip()).with_for_update()
            )
        ).scalar_one_or_none()
        if volunteer is None:
            raise NotFound(f"没有这位志愿者：{clip(code)}")
        volunteer.id_document = document
        volunteer.id_checked_by = checked_by[:64]
        volunteer.id_checked_at = now or utcnow()
        record(
            session,
            checked_by,
            "volunteer_verify",
            f"volunteer:{volunteer.code}",
            document=document,
        )
        return VolunteerView.of(volunteer)


async def list_volunteers(db: Database, *, active_only: bool = False) -> list[VolunteerView]:
    async with db.session() as session:
        query = select(Volunteer).order_by(Volunteer.code)
        if active_only:
            query = query.where(Volunteer.active.is_(True))
        return [VolunteerView.of(v) for v in (await session.execute(query)).scalars().all()]


async def volunteer_loads(db: Database) -> dict[int, int]:
    """Orders each volunteer holds now, by volunteer id."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ServiceOrder.volunteer_id, func.count(ServiceOrder.id))
                .where(ServiceOrder.state.in_(HELD_STATES))
                .group_by(ServiceOrder.volunteer_id)
            )
        ).all()
        return {volunteer: count for volunteer, count in rows}


# ---------------------------------------------------------------------------
# The resident's side (chat): my orders, cancelling, rating


async def latest_orders(
    db: Database, sender_id: str, limit: int = 5
) -> list[tuple[ServiceOrder, Volunteer | None]]:
    """The resident's latest orders with their volunteers, newest first."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ServiceOrder, Volunteer)
                .outerjoin(Volunteer, Volunteer.id == ServiceOrder.volunteer_id)
                .where(ServiceOrder.sender_hash == sender_hash(sender_id))
                .order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc())
                .limit(limit)
            )
        ).all()
    return [(o, v) for o, v in rows]


async def orders_of(db: Database, sender_id: str, *, limit: int = 5) -> list[OrderView]:
    """The resident's latest orders, newest first (phone numbers redacted)."""
    return [order_view(o, v) for o, v in await latest_orders(db, sender_id, limit)]


async def cancel_by_resident(
    db: Database, sender_id: str, public: str, reason: str = "居民自己取消"
) -> OrderView:
    """The resident cancels their own order (``NotFound`` if it is not theirs)."""
    now = utcnow()
    async with db.session() as session:
        order = await _order(session, public, lock=True)
        if order.sender_hash != sender_hash(sender_id):
            raise NotFound(f"没有这个订单：{clip(public)}")
        snap, event = apply(snapshot_of(order), Step("cancel", RESIDENT, now, reason=reason))
        _store(session, order, snap, event)
        order.resident_notice = None  # they know: they did it
        order.phone = None
        order.recipient = None
        volunteer = await session.get(Volunteer, order.volunteer_id) if order.volunteer_id else None
        return order_view(order, volunteer)


async def rate(
    db: Database, sender_id: str, public: str, score: int, comment: str = ""
) -> RatingView:
    """评单: one rating (1-5) of a completed order by the resident who placed it."""
    if not 1 <= score <= 5:
        raise InvalidInput("评分要在 1 到 5 之间")
    now = utcnow()
    async with db.session() as session:
        order = await _order(session, public, lock=True)
        if order.sender_hash != sender_hash(sender_id):
            raise NotFound(f"没有这个订单：{clip(public)}")
        if order.state != "done":
            raise InvalidInput("服务完成后才能评价")
        if (
            await session.execute(select(OrderRating.id).where(OrderRating.order_id == order.id))
        ).first():
            raise InvalidInput("这一单已经评价过了")
        rating = OrderRating(
            order_id=order.id,
            volunteer_id=order.volunteer_id,
            score=score,
            comment=redact(comment.strip())[:1000],
            created_at=now,
        )
        session.add(rating)
        order.recipient = None
        if order.resident_notice == "rate":
            order.resident_notice = None
        return RatingView(score, rating.comment, now)


async def awaiting_rating(db: Database, sender_id: str) -> str | None:
    """The resident's latest completed, unrated order that was asked to be rated."""
    async with db.session() as session:
        return (
            await session.execute(
                select(ServiceOrder.public_id)
                .outerjoin(OrderRating, OrderRating.order_id == ServiceOrder.id)
                .where(
                    ServiceOrder.sender_hash == sender_hash(sender_id),
                    ServiceOrder.state == "done",
                    OrderRating.id.is_(None),
                    ServiceOrder.resident_notice == "asked",
                )
                .order_by(ServiceOrder.updated_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()


async def low_ratings(db: Database, actor: Actor, *, limit: int = 50) -> list[tuple[str, int, str]]:
    """Ratings below ``LOW_RATING``, newest first: (order number, score, comment)."""
    require_order(actor, "dispatch")
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ServiceOrder.public_id, OrderRating.score, OrderRating.comment)
                .join(ServiceOrder, ServiceOrder.id == OrderRating.order_id)
                .where(OrderRating.score < LOW_RATING)
                .order_by(OrderRating.created_at.desc())
                .limit(limit)
            )
        ).all()
    return [(p, s, c) for p, s, c in rows]


def urgent_waiting_count() -> ScalarSelect:
    """``urgent_waiting``'s count as a subquery, to be read with other values."""
    return (
        select(func.count(ServiceOrder.id))
        .where(ServiceOrder.state.in_(("review", "open")), ServiceOrder.urgent.is_(True))
        .scalar_subquery()
    )


async def urgent_waiting(db: Database) -> int:
    """Urgent orders no volunteer has yet (待审核 or 待派单): the console's alert."""
    async with db.session() as session:
        count: int = (await session.execute(select(urgent_waiting_count()))).scalar_one()
    return count


async def counts_by_state(db: Database) -> dict[str, int]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ServiceOrder.state, func.count(ServiceOrder.id)).group_by(ServiceOrder.state)
            )
        ).all()
    return {state: int(n) for state, n in rows}
