"""Delivery of alerts against the simulated platforms, on both databases: the 48-hour
window, templates, rate errors with backoff, quiet hours, the weekly cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.outreach import alerts
from bot.outreach.chat import answer
from bot.outreach.commands import DIGEST, FARM, FRAUD, Command
from bot.outreach.engine import AppRoute, Broadcaster, Policy, Template, WeChatRoute, aware
from bot.outreach.owed import take_held
from bot.outreach.subscriptions import subscribe, subscriptions
from bot.storage.models import OutreachDelivery, OutreachRecipient
from bot.wechat.api import ApiError, RetryPolicy, WeChatApi, WeComApi
from tests.bot.outreach.support import (
    CHINA,
    MORNING,
    Clock,
    Writes,
    scheduled_alert,
    subscribers,
)

FAST = RetryPolicy(attempts=2, first_delay=0.01, timeout=2.0)


def wechat(base: str) -> WeChatApi:
    return WeChatApi(base, "wx0000000000000001", "secret", FAST)


def wecom(base: str) -> WeComApi:
    return WeComApi(base, "ww0000000000000001", "secret", 1000002, FAST)


async def statuses(db) -> dict[str, tuple[str, str | None]]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(
                    OutreachRecipient.recipient, OutreachDelivery.status, OutreachDelivery.route
                ).join(OutreachRecipient, OutreachRecipient.id == OutreachDelivery.recipient_id)
            )
        ).all()
    return {user: (status, route) for user, status, route in rows}


async def test_each_channel_within_its_rules(migrated_db, simulator) -> None:
    sim, base = simulator
    db, clock = migrated_db, Clock()
    await subscribers(
        db, "wechat", ["o-in", "o-closed"], last_inbound_at=clock.now - timedelta(hours=1)
    )
    await subscribers(db, "wechat", ["o-out"], last_inbound_at=clock.now - timedelta(hours=49))
    await subscribers(db, "wecom", ["member-1"])
    await subscribers(db, "webchat", ["w-1"])
    await subscribers(db, "wechat", ["o-farmer"], kind=FARM, crop="水稻")  # another kind
    sim.closed.add("o-closed")  # WeChat knows better than our last-message time
    alert_id = await scheduled_alert(db, clock.now)
    api, app_api = wechat(base), wecom(base)
    worker = Broadcaster(db, {"wechat": WeChatRoute(api), "wecom": AppRoute(app_api)}, clock=clock)
    try:
        outcome = await worker.run_once()
    finally:
        await api.close()
        await app_api.close()
    assert outcome.planned == 5 and outcome.sent == 2 and outcome.held == 3
    [text] = sim.texts_to("o-in")
    assert text.startswith("【防骗提醒】最近有人冒充快递客服") and "回复“退订”" in text
    assert sim.texts_to("member-1") == [text]
    assert [c["path"] for c in sim.sent] == [
        "/cgi-bin/message/custom/send",
        "/cgi-bin/message/send",
    ]
    assert sim.texts_to("o-out") == [] and sim.texts_to("o-farmer") == []
    assert await statuses(db) == {
        "o-in": ("sent", "custom"),
        "o-closed": ("held", "next_message"),
        "o-out": ("held", "next_message"),
        "member-1": ("sent", "app"),
        "w-1": ("held", "next_message"),
    }
    # Held alerts go out with the reply to the next message, once.
    assert await take_held(db, ("wechat",), "o-out") == [text]
    assert await take_held(db, ("wechat",), "o-out") == []
    assert await take_held(db, ("rest", "webchat"), "w-1") == [text]
    # o-in writes again: the alert it got counts as read.
    assert await take_held(db, ("wechat",), "o-in") == []
    figures = await alerts.figures(db, alert_id)
    assert figures.planned == 5 and figures.reached == 4 and figures.read == 3
    assert figures.by_route == {"custom": 1, "app": 1, "next_message": 2}
    assert figures.by_status["held"] == 1  # o-closed has not written yet
    again = await Broadcaster(db, {}, clock=clock).run_once()
    assert again.planned == again.sent == 0


async def test_outside_the_window_a_configured_template_goes_out(migrated_db, simulator) -> None:
    sim, base = simulator
    db, clock = migrated_db, Clock()
    await subscribers(db, "wechat", ["o-out"], last_inbound_at=clock.now - timedelta(days=3))
    await scheduled_alert(db, clock.now, urgent=True)
    template = Template.parse(
        "TPL-1", "thing1=title;thing2=text;time3=date;thing4='回公众号看全文'", "https://kp.cn"
    )
    api = wechat(base)
    try:
        outcome = await Broadcaster(
            db, {"wechat": WeChatRoute(api, template)}, clock=clock
        ).run_once()
    finally:
        await api.close()
    assert outcome.routes == {"template": 1}
    [call] = sim.sent
    assert call["path"] == "/cgi-bin/message/template/send"
    payload = call["json"]
    assert payload["touser"] == "o-out" and payload["template_id"] == "TPL-1"
    data = payload["data"]
    assert data["thing1"]["value"] == "【紧急】【防骗提醒】"
    assert len(data["thing2"]["value"]) == 20 and data["thing2"]["value"].endswith("…")
    assert data["time3"]["value"] == MORNING.astimezone(CHINA).strftime("%Y年%m月%d日")
    assert data["thing4"]["value"] == "回公众号看全文"


async def test_rate_errors_back_off_and_nobody_gets_two(migrated_db, simulator) -> None:
    sim, base = simulator
    db, clock = migrated_db, Clock()
    users = [f"o-{i}" for i in range(4)]
    await subscribers(db, "wechat", users, last_inbound_at=clock.now - timedelta(hours=1))
    await scheduled_alert(db, clock.now)
    sim.scripted = [45009]  # the account's daily API quota
    api = wechat(base)
    worker = Broadcaster(db, {"wechat": WeChatRoute(api)}, clock=clock)
    try:
        first = await worker.run_once()
        assert first.retried == 1 and first.sent == 0  # the channel pauses for the batch
        second = await worker.run_once()
        assert second.sent == 3  # the others; the refused one waits for its backoff
        clock.advance(seconds=10)
        assert (await worker.run_once()).sent == 0
        clock.advance(seconds=25)  # 30 s after the refusal
        sim.scripted = [45011]  # too frequent: backs off again, twice as long
        assert (await worker.run_once()).retried == 1
        clock.advance(seconds=45)
        assert (await worker.run_once()).sent == 0
        clock.advance(seconds=20)
        assert (await worker.run_once()).sent == 1
    finally:
        await api.close()
    assert all(len(sim.texts_to(u)) == 1 for u in users)
    async with db.session() as session:
        row = (
            await session.execute(select(OutreachDelivery).where(OutreachDelivery.attempts == 2))
        ).scalar_one()
    assert row.status == "sent" and row.last_error.startswith("45011")


async def test_45047_holds_the_alert_for_the_next_message(migrated_db, simulator) -> None:
    sim, base = simulator
    db, clock = migrated_db, Clock()
    await subscribers(db, "wechat", ["o-chatty"], last_inbound_at=clock.now - timedelta(hours=1))
    await scheduled_alert(db, clock.now)
    sim.scripted = [45047]  # 20 messages since the user's last one
    api = wechat(base)
    try:
        assert (
            await Broadcaster(db, {"wechat": WeChatRoute(api)}, clock=clock).run_once()
        ).held == 1
    finally:
        await api.close()
    assert len(await take_held(db, ("wechat",), "o-chatty")) == 1


async def test_no_pushes_in_quiet_hours(migrated_db, simulator) -> None:
    sim, base = simulator
    clock = Clock(MORNING.replace(hour=13, minute=30) + timedelta(hours=0))  # 21:30 China
    assert clock.now.astimezone(CHINA).hour == 21
    db = migrated_db
    await subscribers(db, "wechat", ["o-1"], last_inbound_at=clock.now - timedelta(hours=1))
    await subscribers(db, "webchat", ["w-1"])
    await scheduled_alert(db, clock.now)
    api = wechat(base)
    worker = Broadcaster(db, {"wechat": WeChatRoute(api)}, clock=clock)
    try:
        night = await worker.run_once()
        assert night.sent == 0 and night.held == 1 and sim.sent == []  # the web chat's waits
        clock.advance(hours=10)  # 07:30
        assert (await worker.run_once()).sent == 0
        clock.advance(minutes=30)  # 08:00
        assert (await worker.run_once()).sent == 1
    finally:
        await api.close()
    assert len(sim.texts_to("o-1")) == 1
    assert Policy().quiet_ends(MORNING.replace(hour=13, minute=30)).astimezone(CHINA).hour == 8


async def test_one_alert_a_week_and_urgent_ones_besides(migrated_db, simulator) -> None:
    sim, base = simulator
    db, clock = migrated_db, Clock()
    await subscribers(db, "wecom", ["member-1"])
    await scheduled_alert(db, clock.now, text="第一条：冒充客服的骗局。")
    await scheduled_alert(db, clock.now, text="第二条：保健品会销的骗局。")
    api = wecom(base)
    worker = Broadcaster(db, {"wecom": AppRoute(api)}, clock=clock)
    try:
        first = await worker.run_once()
        assert first.sent == 1 and first.capped == 1
        await scheduled_alert(db, clock.now, text="有人冒充派出所打电话。", urgent=True)
        clock.advance(hours=1)
        assert (await worker.run_once()).sent == 1  # urgent: not capped
        clock.advance(days=3)
        assert (await worker.run_once()).sent == 0
        clock.advance(days=4)
        assert (await worker.run_once()).sent == 1  # a week after the first
    finally:
        await api.close()
    texts = sim.texts_to("member-1")
    assert [t.split("】", 1)[0] for t in texts] == ["【防骗提醒", "【紧急", "【防骗提醒"]
    assert texts[1].startswith("【紧急】【防骗提醒】有人冒充派出所")
    assert "第一条" in texts[0] and "第二条" in texts[2]


async def test_one_message_ends_everything_planned_included(migrated_db) -> None:
    db = migrated_db
    await subscribe(db, "wechat", "o-1", FRAUD)
    await subscribe(db, "wechat", "o-1", DIGEST)
    await subscribe(db, "wechat", "o-2", FRAUD)
    alert_id = await alerts.draft(
        db, author="expert", kind=FRAUD, text="冒充客服退款的骗局又来了。"
    )
    await alerts.approve(db, alert_id, "admin")
    await alerts.schedule(db, alert_id)
    assert await Broadcaster(db, {}).plan_due() == 2
    reply = await answer(db, "wechat", "o-1", Command("unsubscribe"))
    assert "已为您退订" in reply.text and "防骗提醒" in reply.text and "每月流言榜" in reply.text
    assert await subscriptions(db, "wechat", "o-1") == []
    async with db.session() as session:
        statuses = dict(
            (
                await session.execute(
                    select(OutreachRecipient.recipient, OutreachDelivery.status).join(
                        OutreachRecipient, OutreachRecipient.id == OutreachDelivery.recipient_id
                    )
                )
            ).all()
        )
        left = (
            await session.execute(select(func.count()).where(OutreachRecipient.recipient == "o-1"))
        ).scalar_one()
    assert left == 0  # the user id is forgotten
    assert sorted(statuses.values()) == ["cancelled", "pending"]
    assert statuses["o-2"] == "pending"
    again = await answer(db, "wechat", "o-1", Command("unsubscribe"))
    assert "没有订阅任何提醒" in again.text


def test_quiet_hours_over_midnight_and_within_a_day() -> None:
    from datetime import datetime

    from bot.storage.models import CHINA_TIME

    def at(hour: int) -> datetime:
        return datetime(2026, 12, 7, hour, 30, tzinfo=CHINA_TIME)

    night = Policy()  # 21-8
    assert [h for h in range(24) if night.quiet(at(h))] == [0, 1, 2, 3, 4, 5, 6, 7, 21, 22, 23]
    early = Policy(quiet_from=1, quiet_until=6)
    assert [h for h in range(24) if early.quiet(at(h))] == [1, 2, 3, 4, 5]
    assert not any(Policy(quiet_from=8, quiet_until=8).quiet(at(h)) for h in range(24))


def test_the_rest_after_a_send_keeps_the_broadcasters_share_of_the_cpu() -> None:
    assert Policy().rest_after(0.01) == 0.0  # flat out
    share = Policy(cpu_share=0.25)
    assert abs(share.rest_after(0.01) - 0.03) < 1e-9  # 10 ms of work, 30 ms of rest
    assert share.rest_after(0.0) == 0.0


async def test_the_broadcaster_rests_between_groups_for_its_share(migrated_db, simulator) -> None:
    sim, base = simulator
    db, clock = migrated_db, Clock()
    await subscribers(db, "wechat", ["o-1", "o-2", "o-3"], last_inbound_at=clock.now)
    await scheduled_alert(db, clock.now)
    cpu = iter(range(100))  # each reading one CPU second later: every group costs 1 s
    rests: list[float] = []

    async def rest(seconds: float) -> None:
        rests.append(seconds)

    api = wechat(base)
    worker = Broadcaster(
        db,
        {"wechat": WeChatRoute(api)},
        policy=Policy(quiet_from=0, quiet_until=0, cpu_share=0.2, group=2),
        clock=clock,
        cpu_clock=lambda: float(next(cpu)),
        sleep=rest,
    )
    try:
        outcome = await worker.run_once()
    finally:
        await api.close()
    assert outcome.sent == 3 and len(sim.sent) == 3
    assert rests == [4.0, 4.0]  # two groups (2 + 1): 1 s of work, 4 s of rest each


class Scripted:
    """A route that answers its ``fail_at``-th call (1-based) with ``code`` and sends
    every other, recording who was called; ``during`` runs in every call."""

    def __init__(self, fail_at: int = 0, code: int = 45009, during=lambda: None) -> None:
        self.fail_at, self.code, self.during = fail_at, code, during
        self.called: list[str] = []

    async def send(self, target, text: str, now) -> str:
        self.during()
        self.called.append(target.recipient)
        if len(self.called) == self.fail_at:
            raise ApiError(self.code, "scripted")
        return "custom"


@pytest.mark.parametrize("journal", [False, True])
async def test_a_group_costs_two_write_transactions(migrated_db, tmp_path, journal) -> None:
    db, clock = migrated_db, Clock()
    users = [f"o-{i:02d}" for i in range(25)]
    await subscribers(db, "wechat", users, last_inbound_at=clock.now - timedelta(hours=1))
    await scheduled_alert(db, clock.now)
    route = Scripted(fail_at=4, code=43004)  # one refused for good: its cap is given back
    worker = Broadcaster(
        db,
        {"wechat": route},
        policy=Policy(group=10),
        clock=clock,
        journal=tmp_path / "outreach-journal" if journal else None,
    )
    writes = Writes(db)
    try:
        outcome = await worker.run_once()
    finally:
        writes.close()
        worker.close()
    assert outcome.sent == 24 and outcome.failed == 1 and len(route.called) == 25
    # Per batch: plan, recover, claim, give back the unclaimed, close the alert (5);
    # per group (10, 10, 5): all to "sending", all outcomes (2). One row at a time
    # this was 5 + 2 per row (and 3 for a failure): 56. The journal adds none.
    assert writes.count == 5 + 2 * 3
    async with db.session() as session:
        caps = (await session.execute(select(OutreachRecipient.cap_until))).scalars().all()
    assert sorted(cap is None for cap in caps) == [False] * 24 + [True]


async def test_two_alerts_to_one_person_in_a_group_take_the_cap_once(migrated_db) -> None:
    db, clock = migrated_db, Clock()
    await subscribers(db, "wecom", ["member-1", "member-2"])
    for text in ("第一条：冒充客服的骗局。", "第二条：保健品会销的骗局。"):
        await scheduled_alert(db, clock.now, text=text)
    route = Scripted(fail_at=1, code=43004)  # member-1's first is refused for good
    worker = Broadcaster(db, {"wecom": route}, policy=Policy(group=10), clock=clock)
    first = await worker.run_once()
    # Four rows in one group: each person's first takes the cap, their second waits.
    assert first.sent == 1 and first.failed == 1 and first.capped == 2
    assert len(route.called) == 2 and set(route.called) == {"member-1", "member-2"}
    async with db.session() as session:
        rows = dict(
            (
                await session.execute(
                    select(OutreachRecipient.recipient, OutreachRecipient.cap_until)
                )
            ).all()
        )
        waiting = (
            await session.execute(
                select(OutreachRecipient.recipient, OutreachDelivery.next_attempt_at)
                .join(OutreachRecipient, OutreachRecipient.id == OutreachDelivery.recipient_id)
                .where(OutreachDelivery.status == "pending")
            )
        ).all()
    week = clock.now + timedelta(days=7)
    assert rows["member-1"] is None  # nothing went out to member-1: the cap is free again
    assert aware(rows["member-2"]) == week
    # member-1's second is due again at once; member-2's waits for the week.
    assert sorted((who, aware(at)) for who, at in waiting) == [
        ("member-1", clock.now),
        ("member-2", week),
    ]
    again = await worker.run_once()
    assert again.sent == 1 and route.called[-1] == "member-1"


async def test_a_rate_error_mid_group_pauses_the_rest_of_its_channel(migrated_db) -> None:
    db, clock = migrated_db, Clock()
    await subscribers(db, "wechat", [f"o-{i}" for i in range(4)], last_inbound_at=clock.now)
    await subscribers(db, "wecom", ["member-1", "member-2"])
    await scheduled_alert(db, clock.now)
    wechat_route, wecom_route = Scripted(fail_at=2, code=45011), Scripted()
    worker = Broadcaster(
        db, {"wechat": wechat_route, "wecom": wecom_route}, policy=Policy(group=10), clock=clock
    )
    first = await worker.run_once()
    # WeChat's second call was refused: its last two were never tried; WeCom went on.
    assert len(wechat_route.called) == 2 and len(wecom_route.called) == 2
    assert first.sent == 3 and first.retried == 1 and first.failed == 0
    async with db.session() as session:
        rows = (
            await session.execute(
                select(OutreachRecipient, OutreachDelivery).join(
                    OutreachDelivery, OutreachDelivery.recipient_id == OutreachRecipient.id
                )
            )
        ).all()
    untried = [
        (r, d) for r, d in rows if r.recipient not in wechat_route.called + ["member-1", "member-2"]
    ]
    assert len(untried) == 2
    for recipient, delivery in untried:  # back as they were: due now, no attempt counted
        assert (delivery.status, delivery.attempts, delivery.worker) == ("pending", 0, None)
        assert aware(delivery.next_attempt_at) == clock.now and recipient.cap_until is None
    [(_, refused)] = [(r, d) for r, d in rows if r.recipient == wechat_route.called[1]]
    assert refused.status == "pending" and refused.attempts == 1
    assert aware(refused.next_attempt_at) == clock.now + timedelta(seconds=30)
    second = await worker.run_once()  # a new batch: the untried two, not the refused one
    assert second.sent == 2 and len(wechat_route.called) == 4


async def test_a_group_starts_no_call_after_half_its_lease(migrated_db) -> None:
    db, clock = migrated_db, Clock()
    await subscribers(db, "wecom", ["member-1", "member-2", "member-3"])
    await scheduled_alert(db, clock.now)
    route = Scripted(during=lambda: clock.advance(minutes=3))  # 3 minutes to answer
    worker = Broadcaster(db, {"wecom": route}, policy=Policy(group=10), clock=clock)
    first = await worker.run_once()
    assert first.sent == 1 and len(route.called) == 1  # 3 min > 2.5 min: the rest go back
    assert await not_sent(db) == [("pending", 0, None)] * 2  # as before: no attempt counted
    assert (await worker.run_once()).sent == 1  # and the next batch goes on


async def test_stop_during_a_group_ends_its_call_and_gives_back_the_rest(migrated_db) -> None:
    db, clock = migrated_db, Clock()
    await subscribers(db, "wecom", ["member-1", "member-2", "member-3"])
    await scheduled_alert(db, clock.now)
    route = Scripted()
    worker = Broadcaster(db, {"wecom": route}, policy=Policy(group=10), clock=clock)
    route.during = worker.stop  # the service stops while the first call is under way
    outcome = await worker.run_once()
    assert outcome.sent == 1 and len(route.called) == 1
    assert await not_sent(db) == [("pending", 0, None)] * 2  # as before: no attempt counted


async def not_sent(db) -> list[tuple[str, int, str | None]]:
    """(status, attempts, worker) of every delivery not sent, sorted."""
    async with db.session() as session:
        rows = (await session.execute(select(OutreachDelivery))).scalars().all()
    return sorted((d.status, d.attempts, d.worker) for d in rows if d.status != "sent")
