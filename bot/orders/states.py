"""The life of a service order (点单 → 审单 → 派单 → 接单 → 服务 → 评单), as one table.

Pure: no database, no clock. ``apply`` takes an order's ``Snapshot`` and one
``Step`` (who does what, when) and returns the new snapshot together with the
audit ``Event`` that records it, or raises ``IllegalTransition`` and changes
nothing. The storage layer (``bot.orders.service``) writes the snapshot and its
event in one transaction, so no change is ever made without its record.

States::

    待审核 ─审核通过→ 待派单 ─派单→ 已派单 ─接单→ 已接单 ─开始服务→ 服务中 ─完成(核验码)→ 已完成
                       ↑  拒单/超时/收回 ┘         │ 退单 ┘           │
                       └───────────────────────────┘                 └─ 无法完成(原因)
                    待派单 ─抢单(志愿者自己接，管理员开放时)→ 已接单
    任何未结束的状态 ─取消(原因)→ 已取消

A volunteer who declined an order is never dispatched it again (re-dispatch
goes to someone else); an order that went back for a timeout is flagged for the
dispatcher until it is dispatched again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.accounts.errors import InvalidInput, InvalidTransition

STATES: dict[str, str] = {
    "review": "待审核",
    "open": "待派单",
    "assigned": "已派单",
    "accepted": "已接单",
    "in_service": "服务中",
    "done": "已完成",
    "cancelled": "已取消",
    "failed": "无法完成",
}
TERMINAL: frozenset[str] = frozenset({"done", "cancelled", "failed"})
OPEN_STATES: tuple[str, ...] = tuple(s for s in STATES if s not in TERMINAL)
# A volunteer holds the order in these states (counted as their current load).
HELD_STATES: frozenset[str] = frozenset({"assigned", "accepted", "in_service"})

ACTIONS: dict[str, str] = {
    "create": "点单",
    "approve": "审核通过",
    "assign": "派单",
    "accept": "接单",
    "take": "抢单",
    "decline": "拒单",
    "expire": "超时退回",
    "recall": "收回重派",
    "start": "开始服务",
    "complete": "完成服务",
    "fail": "无法完成",
    "cancel": "取消",
}

# action -> (states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"review"}), "open"),
    "assign": (frozenset({"open"}), "assigned"),
    "accept": (frozenset({"assigned"}), "accepted"),
    "take": (frozenset({"open"}), "accepted"),
    "decline": (frozenset({"assigned", "accepted"}), "open"),
    "expire": (frozenset({"assigned"}), "open"),
    "recall": (frozenset({"assigned"}), "open"),
    "start": (frozenset({"accepted"}), "in_service"),
    "complete": (frozenset({"in_service"}), "done"),
    "fail": (frozenset({"accepted", "in_service"}), "failed"),
    "cancel": (frozenset(OPEN_STATES), "cancelled"),
}
# Actions that must say why (the reason is kept in the audit trail, redacted).
NEEDS_REASON: frozenset[str] = frozenset({"decline", "fail", "cancel"})
# Actions only the volunteer the order is with may take.
VOLUNTEER_ACTIONS: frozenset[str] = frozenset({"accept", "decline", "start", "complete", "fail"})
MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class Snapshot:
    """What the state machine needs to know about an order."""

    state: str
    volunteer_id: int | None = None
    declined_by: frozenset[int] = frozenset()
    reason: str | None = None  # why it was cancelled, could not be done, or last declined
    flagged: bool = False  # went back to the dispatcher for a timeout
    # When the order first entered each state (the order's timestamps).
    entered: dict[str, datetime] = field(default_factory=dict)
    state_at: datetime | None = None  # when it entered the state it is in

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class Step:
    """One request to change an order: who asks, what, when."""

    action: str
    actor: str
    at: datetime
    volunteer_id: int | None = None  # assign: whom to; volunteer actions: who asks
    reason: str | None = None


@dataclass(frozen=True)
class Event:
    """The audit record of one transition."""

    action: str
    actor: str
    from_state: str | None
    to_state: str
    at: datetime
    volunteer_id: int | None = None
    reason: str | None = None


class IllegalTransition(InvalidTransition):
    """The order's state (or who asks) does not allow this step."""


def created(actor: str, at: datetime, *, reviewed: bool = False) -> tuple[Snapshot, Event]:
    """A new order: 待审核, or 待派单 when it needs no review (``reviewed``)."""
    state = "open" if reviewed else "review"
    snap = Snapshot(state=state, entered={state: at}, state_at=at)
    return snap, Event("create", actor, None, state, at)


def allowed(snap: Snapshot) -> list[str]:
    """The actions the order's state allows, in table order."""
    return [a for a, (sources, _) in TRANSITIONS.items() if snap.state in sources]


def apply(snap: Snapshot, step: Step) -> tuple[Snapshot, Event]:
    """The order after ``step``, and the event recording it; ``IllegalTransition``
    (or ``InvalidInput`` for a missing reason or volunteer) and no change otherwise."""
    if step.action not in TRANSITIONS:
        raise InvalidInput(f"没有这个操作：{step.action[:20]}")
    sources, target = TRANSITIONS[step.action]
    label = ACTIONS[step.action]
    if snap.state not in sources:
        raise IllegalTransition(f"订单{STATES[snap.state]}，不能{label}")
    reason = (step.reason or "").strip()[:MAX_REASON_CHARS] or None
    if step.action in NEEDS_REASON and reason is None:
        raise InvalidInput(f"{label}要写明原因")
    if step.action in VOLUNTEER_ACTIONS and (
        step.volunteer_id is None or step.volunteer_id != snap.volunteer_id
    ):
        raise IllegalTransition(f"只有接这单的志愿者才能{label}")
    if step.action == "take" and (
        step.volunteer_id is None or step.volunteer_id in snap.declined_by
    ):
        raise IllegalTransition("拒过这一单的志愿者不能再抢")

    volunteer_id = snap.volunteer_id
    declined_by = snap.declined_by
    flagged = snap.flagged
    kept_reason = snap.reason
    if step.action == "take":
        volunteer_id, flagged = step.volunteer_id, False
    elif step.action == "assign":
        if step.volunteer_id is None:
            raise InvalidInput("派单要选一位志愿者")
        if step.volunteer_id in snap.declined_by:
            raise IllegalTransition("这位志愿者已经拒过这一单，请派给别人")
        volunteer_id, flagged = step.volunteer_id, False
    elif step.action == "decline":
        assert snap.volunteer_id is not None  # a volunteer's action: checked above
        declined_by = snap.declined_by | {snap.volunteer_id}
        volunteer_id, kept_reason = None, reason
    elif step.action in ("expire", "recall"):
        volunteer_id, flagged = None, step.action == "expire"
    elif step.action in ("cancel", "fail"):
        kept_reason = reason

    entered = dict(snap.entered)
    entered.setdefault(target, step.at)
    after = replace(
        snap,
        state=target,
        volunteer_id=volunteer_id,
        declined_by=declined_by,
        reason=kept_reason,
        flagged=flagged,
        entered=entered,
        state_at=step.at,
    )
    event = Event(
        step.action,
        step.actor,
        snap.state,
        target,
        step.at,
        volunteer_id=step.volunteer_id if step.action in ("assign", "take") else snap.volunteer_id,
        reason=reason,
    )
    return after, event
