"""The order state machine: only the transitions of issue 20, each one audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.accounts.errors import InvalidInput
from bot.orders.states import (
    ACTIONS,
    STATES,
    TERMINAL,
    IllegalTransition,
    Snapshot,
    Step,
    allowed,
    apply,
    created,
)

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc)

# Written out from the issue, independently of the module's table.
LEGAL = {
    ("review", "approve"): "open",
    ("open", "assign"): "assigned",
    ("open", "take"): "accepted",  # 抢单, when the admin opens orders to volunteers
    ("assigned", "accept"): "accepted",
    ("assigned", "decline"): "open",
    ("accepted", "decline"): "open",
    ("assigned", "expire"): "open",
    ("assigned", "recall"): "open",
    ("accepted", "start"): "in_service",
    ("in_service", "complete"): "done",
    ("accepted", "fail"): "failed",
    ("in_service", "fail"): "failed",
    **{(s, "cancel"): "cancelled" for s in STATES if s not in TERMINAL},
}

steps = st.builds(
    lambda action, volunteer, reason, minutes: (action, volunteer, reason, minutes),
    st.sampled_from([a for a in ACTIONS if a != "create"] + ["fly"]),
    st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
    st.one_of(st.none(), st.just(""), st.just("  "), st.text(min_size=1, max_size=30)),
    st.integers(min_value=0, max_value=600),
)


@settings(max_examples=400, deadline=None)
@given(reviewed=st.booleans(), script=st.lists(steps, max_size=40))
def test_only_legal_transitions_happen_and_each_is_audited(reviewed, script) -> None:
    snap, first = created("居民", T0, reviewed=reviewed)
    trail = [first]
    now = T0
    for action, volunteer, reason, minutes in script:
        now += timedelta(minutes=minutes)
        before = snap
        try:
            snap, event = apply(snap, Step(action, "someone", now, volunteer, reason))
        except (IllegalTransition, InvalidInput):
            assert snap is before  # a refusal changes nothing
            legal_edge = (before.state, action) in LEGAL
            needs_reason = action in ("decline", "fail", "cancel") and not (reason or "").strip()
            wrong_volunteer = action in ("accept", "decline", "start", "complete", "fail") and (
                volunteer is None or volunteer != before.volunteer_id
            )
            redispatch = action in ("assign", "take") and (
                volunteer is None or volunteer in before.declined_by
            )
            assert not legal_edge or needs_reason or wrong_volunteer or redispatch
            continue
        assert LEGAL[(before.state, action)] == snap.state
        assert (event.from_state, event.to_state, event.action) == (
            before.state,
            snap.state,
            action,
        )
        assert event.at == now == snap.state_at
        assert snap.state in snap.entered and snap.entered[snap.state] <= now
        if action in ("assign", "take"):
            assert snap.volunteer_id == volunteer and volunteer not in before.declined_by
        if action == "decline":
            assert before.volunteer_id in snap.declined_by and snap.volunteer_id is None
        if snap.state in ("assigned", "accepted", "in_service"):
            assert snap.volunteer_id is not None
        trail.append(event)
    # The trail replays to the final state, link by link: nothing happened unrecorded.
    assert trail[0].from_state is None
    for earlier, later in zip(trail, trail[1:], strict=False):
        assert later.from_state == earlier.to_state
    assert trail[-1].to_state == snap.state


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_terminal_states_allow_nothing(state: str) -> None:
    snap = Snapshot(state=state, volunteer_id=1)
    assert allowed(snap) == []
    for action in ACTIONS:
        if action == "create":
            continue
        with pytest.raises((IllegalTransition, InvalidInput)):
            apply(snap, Step(action, "admin", T0, volunteer_id=1, reason="原因"))


def test_the_happy_path_and_a_redispatch() -> None:
    snap, _ = created("居民", T0)
    seq = [
        Step("approve", "mod", T0),
        Step("assign", "mod", T0, volunteer_id=7),
        Step("decline", "v7", T0, volunteer_id=7, reason="那天不在家"),
        Step("assign", "mod", T0, volunteer_id=8),
        Step("accept", "v8", T0, volunteer_id=8),
        Step("start", "v8", T0, volunteer_id=8),
        Step("complete", "v8", T0, volunteer_id=8),
    ]
    states = []
    for step in seq:
        snap, event = apply(snap, step)
        states.append(event.to_state)
    assert states == ["open", "assigned", "open", "assigned", "accepted", "in_service", "done"]
    assert snap.declined_by == frozenset({7}) and snap.volunteer_id == 8
    with pytest.raises(IllegalTransition, match="拒过"):
        apply(
            Snapshot(state="open", declined_by=frozenset({7})),
            Step("assign", "mod", T0, volunteer_id=7),
        )


def test_a_timeout_flags_the_order_until_it_is_dispatched_again() -> None:
    snap = Snapshot(state="assigned", volunteer_id=3)
    snap, event = apply(snap, Step("expire", "系统", T0))
    assert (snap.state, snap.flagged, snap.volunteer_id) == ("open", True, None)
    snap, _ = apply(snap, Step("assign", "mod", T0, volunteer_id=4))
    assert not snap.flagged


def test_another_volunteer_cannot_act_on_the_order() -> None:
    snap = Snapshot(state="assigned", volunteer_id=3)
    with pytest.raises(IllegalTransition, match="只有接这单的志愿者"):
        apply(snap, Step("accept", "v4", T0, volunteer_id=4))


def test_cancelling_needs_a_reason() -> None:
    with pytest.raises(InvalidInput, match="原因"):
        apply(Snapshot(state="open"), Step("cancel", "mod", T0, reason="  "))
