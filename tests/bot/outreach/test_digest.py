"""The monthly 流言榜 (SQLite and PostgreSQL): drafted once from the month's published
debunks, most people first, short and numbered, fitting one screen."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select, update

from bot.accounts.access import Actor
from bot.accounts.users import add_user
from bot.outreach import alerts, digest
from bot.outreach.commands import DIGEST
from bot.outreach.digest import Item, compose, one_line, short_claim
from bot.rumors import debunk, triage
from bot.rumors.reports import ReportQueue
from bot.storage.models import CHINA_TIME, AuditEntry, OutreachAlert
from tests.bot.outreach.support import Clock, subscribers

SOURCE = {"organisation": "国家卫生健康委员会", "title": "健康科普（2025）"}
CLAIMS = (
    # (reports by distinct people, debunk title, verdict, explanation)
    (
        [
            "群里说喝醋能软化血管，大家每天喝一碗",
            "听说喝醋可以软化血管，是真的吗",
            "喝醋软化血管是真的吗",
        ],
        "喝醋能软化血管吗",
        "rumor",
        "醋进入胃里就被消化了，不会进入血管，更不能把血管里的斑块溶掉。血管硬化要遵医嘱治疗。",
    ),
    (
        ["都说5G基站辐射大，住在附近会得癌症"],
        "5G基站辐射会致癌吗",
        "rumor",
        "5G基站的电磁辐射属于非电离辐射，强度远低于国家限值，不会致癌。",
    ),
    (
        ["村里说隔夜的开水不能喝，喝了会中毒", "听说隔夜开水有毒不能喝"],
        "隔夜开水能喝吗",
        "partly_true",
        "盖好的隔夜开水亚硝酸盐很少，可以喝；敞开放久了落灰的就别喝了。",
    ),
)


async def publish_claims(db, people: dict[str, Actor] | None = None) -> list[int]:
    """CLAIMS reported, grouped and published through the rumour console's service."""
    if people is None:
        people = {}
        for name, role in (("mod", "moderator"), ("expert", "expert")):
            await add_user(db, name, role)
            people[role] = Actor(len(people) + 1, name, role)
    queue, ids, n = ReportQueue(db), [], 0
    for texts, title, verdict, explanation in CLAIMS:
        claim_id = None
        for text in texts:
            n += 1
            receipt = await queue.submit(text, sender_id=f"u{n}", channel="wechat")
            claim_id = claim_id or receipt.claim_id
            if receipt.claim_id != claim_id:  # grouped apart: merge, as a moderator would
                await triage.merge(db, people["moderator"], receipt.claim_id, claim_id)
        await triage.set_status(db, people["moderator"], claim_id, "verifying")
        await debunk.set_verdict(db, people["expert"], claim_id, verdict)
        await debunk.save_debunk(
            db,
            people["expert"],
            claim_id,
            title=title,
            explanation=explanation,
            sources=[SOURCE],
        )
        await debunk.publish(db, people["expert"], claim_id)
        ids.append(claim_id)
    return ids


def this_month() -> date:
    return datetime.now(CHINA_TIME).date().replace(day=1)


async def test_the_digest_lists_the_months_debunks_most_people_first(migrated_db) -> None:
    db = migrated_db
    vinegar, fiveg, water = await publish_claims(db)
    # The 5G verdict was published last month: not this month's digest.
    async with db.session() as session:
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.target == f"claim:{fiveg}", AuditEntry.action == "publish")
            .values(
                at=datetime.combine(this_month(), datetime.min.time(), CHINA_TIME)
                - timedelta(days=3)
            )
        )
    items = await digest.month_items(db, this_month())
    assert [(i.claim_id, i.people, i.verdict) for i in items] == [
        (vinegar, 3, "谣言"),
        (water, 2, "部分属实"),
    ]
    assert items[0].claim == "喝醋能软化血管" and items[0].why.startswith("醋进入胃里就被消化了")
    assert [
        i.claim_id for i in await digest.month_items(db, digest.previous_month(this_month()))
    ] == [fiveg]

    alert_id = await digest.draft_digest(db, this_month(), by="expert")
    assert alert_id is not None
    assert await digest.draft_digest(db, this_month()) is None  # once a month
    assert await digest.drafted_for(db, this_month()) == alert_id
    async with db.session() as session:
        alert = await session.get(OutreachAlert, alert_id)
        audited = await session.scalar(
            select(AuditEntry.action).where(AuditEntry.target == f"alert:{alert_id}")
        )
    assert alert.kind == DIGEST and alert.status == "draft" and alert.author == "digest"
    assert audited == "alert_draft"
    lines = alert.text.split("\n")
    assert lines[0] == f"{this_month().month}月大家问得多的说法，核实结果是："
    assert lines[1].startswith("1. 喝醋能软化血管：谣言。醋进入胃里就被消化了")
    assert lines[2].startswith("2. 隔夜开水能喝：部分属实。")
    sent = alerts.alert_message(alert)
    assert sent.startswith("【每月流言榜】") and sent.endswith("不想收了，回复“退订”。")
    assert len(alert.text) <= alerts.MAX_ALERT_CHARS


async def test_drafted_early_in_the_month_for_the_month_before(migrated_db) -> None:
    db = migrated_db
    await publish_claims(db)
    now = datetime.now(timezone.utc)
    first_of_next = digest.next_month(this_month())
    early = datetime.combine(first_of_next + timedelta(days=2), datetime.min.time(), CHINA_TIME)
    late = early + timedelta(days=digest.DRAFT_DAYS)
    assert await digest.draft_due(db, late) is None  # too late in the month to start
    alert_id = await digest.draft_due(db, early)
    assert alert_id is not None and await digest.draft_due(db, early) is None
    async with db.session() as session:
        alert = await session.get(OutreachAlert, alert_id)
    assert alert.calendar_key == f"digest:{this_month():%Y-%m}"
    assert alerts._aware(alert.expires_at) > now
    # Nothing published in a month: no digest.
    assert await digest.draft_digest(db, date(2020, 1, 1)) is None


async def test_it_goes_to_digest_subscribers_only(migrated_db) -> None:
    from bot.outreach.engine import Broadcaster

    db, clock = migrated_db, Clock()
    await subscribers(db, "webchat", ["w-digest"], kind=DIGEST)
    await subscribers(db, "webchat", ["w-fraud"])
    await publish_claims(db)
    alert_id = await digest.draft_digest(db, this_month())
    await alerts.approve(db, alert_id, "admin")
    await alerts.schedule(db, alert_id, send_at=clock.now)
    outcome = await Broadcaster(db, {}, clock=clock).run_once()
    assert outcome.planned == 1 and outcome.held == 1


def test_items_are_a_few_words_and_one_line() -> None:
    assert short_claim("5G基站辐射会致癌吗？") == "5G基站辐射会致癌"
    assert short_claim("听说喝醋能软化血管是真的吗") == "听说喝醋能软化血管"
    assert len(short_claim("村里都在传说每天早上空腹喝一大碗淡盐水能够排毒养颜")) == 16
    assert one_line("醋进入胃里就被消化了。血管硬化要遵医嘱治疗。") == "醋进入胃里就被消化了。"
    long = "5G基站的电磁辐射属于非电离辐射，强度远低于国家限值，也远低于手机贴着耳朵时，不会致癌。"
    assert one_line(long) == "5G基站的电磁辐射属于非电离辐射，强度远低于国家限值。"
    many = [Item(i, f"说法{i}说法说法说法", "谣言", "因为" * 14 + "。", 10 - i) for i in range(9)]
    text = compose(date(2026, 11, 1), many)
    assert len(text) <= alerts.MAX_ALERT_CHARS and text.startswith("11月")
    assert text.split("\n")[1].startswith("1. ") and "\n9. " not in text
    assert compose(date(2026, 11, 1), []) == ""
