"""The claim page's service side: internal notes, verdict drafts, re-reports of a
published claim and its "又有人问" trend, reopening, and history in plain Chinese
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

import actions.services
from actions.report_rumor import ActionReportRumor
from actions.services import Services
from bot.accounts.access import Actor
from bot.accounts.audit import claim_history, describe
from bot.accounts.errors import Forbidden, InvalidInput, InvalidTransition
from bot.accounts.users import add_user
from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.rumors import again, debunk, triage
from bot.rumors.claim_notes import add_note, notes_of
from bot.rumors.reports import ReportQueue, purge_expired
from bot.rumors.verdict_drafts import draft_from, draft_of, drop_draft, save_draft
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import (
    AuditEntry,
    ClaimDraft,
    ClaimNote,
    ReportDelivery,
    RumorClaim,
    RumorReport,
    RumorReReport,
)
from bot.understanding.decide import Understanding
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)

VINEGAR = "群里说喝醋能软化血管，大家每天喝一碗"
AGAIN = "听说喝醋能软化血管，是真的吗"
WATER = "重庆市梁平区明天停水三天，大家赶快储水"
EXPLANATION = "醋进入胃里就被消化了，不会进入血管，更不能把血管里的斑块溶掉。"
SOURCE = {"organisation": "国家卫生健康委员会", "title": "健康科普：醋不能软化血管"}
CHINA = timezone(timedelta(hours=8))


@pytest.fixture
async def db(database_url: str):  # noqa: F811
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
async def people(db: Database) -> dict[str, Actor]:
    actors = {}
    for i, (name, role) in enumerate(
        [("mod", "moderator"), ("expert", "expert"), ("admin", "admin"), ("vol", "volunteer")],
        start=1,
    ):
        await add_user(db, name, role)
        actors[role] = Actor(i, name, role)
    return actors


async def delivery_status(db: Database, receipt: str) -> str:
    async with db.session() as session:
        return (
            await session.execute(
                select(ReportDelivery.status)
                .join(RumorReport, RumorReport.id == ReportDelivery.report_id)
                .where(RumorReport.public_id == receipt)
            )
        ).scalar_one()


async def published_claim(db: Database, people: dict[str, Actor]) -> int:
    claim_id = (await ReportQueue(db).submit(VINEGAR, sender_id="u1", channel="wechat")).claim_id
    await triage.set_status(db, people["moderator"], claim_id, "verifying")
    expert = people["expert"]
    await debunk.set_verdict(db, expert, claim_id, "rumor")
    await debunk.save_debunk(
        db, expert, claim_id, title="喝醋能软化血管吗", explanation=EXPLANATION, sources=[SOURCE]
    )
    await debunk.publish(db, expert, claim_id)
    return claim_id


async def test_notes_are_redacted_audited_and_shared_by_every_staff_role(db, people) -> None:
    claim_id = (await ReportQueue(db).submit(VINEGAR, sender_id="u1", channel="wechat")).claim_id
    note = await add_note(
        db, people["moderator"], claim_id, "举报人留了电话 13812345678，请专家看看"
    )
    await add_note(db, people["expert"], claim_id, "我来核实，明天给结论")
    with pytest.raises(Forbidden):
        await add_note(db, people["volunteer"], claim_id, "志愿者不能写备注")
    with pytest.raises(InvalidInput):
        await add_note(db, people["moderator"], claim_id, "   ")
    with pytest.raises(InvalidInput):
        await add_note(db, people["moderator"], claim_id, "长" * 501)
    notes = await notes_of(db, claim_id)
    assert [(n.author, n.role_label) for n in notes] == [("mod", "审核员"), ("expert", "专家")]
    assert "13812345678" not in notes[0].text and "请专家看看" in notes[0].text
    async with db.session() as session:
        stored = (await session.execute(select(ClaimNote.text))).scalars().all()
        audited = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "note")))
            .scalars()
            .all()
        )
    assert all("13812345678" not in t for t in stored)
    assert [a.actor for a in audited] == ["mod", "expert"]
    assert audited[0].target == f"claim:{claim_id}" and audited[0].details["note"] == note.id
    # A claim merged into another brings its notes along.
    other = (await ReportQueue(db).submit(WATER, sender_id="u2", channel="wechat")).claim_id
    await add_note(db, people["moderator"], other, "停水的说法先并过去")
    await triage.merge(db, people["moderator"], other, claim_id)
    assert len(await notes_of(db, claim_id)) == 3


async def test_drafts_are_per_user_redacted_and_dropped(db, people) -> None:
    claim_id = (await ReportQueue(db).submit(VINEGAR, sender_id="u1", channel="wechat")).claim_id
    typed = draft_from("", "喝醋能软化", "还没写完，问了 13812345678 的医生", [SOURCE])
    saved = await save_draft(db, people["expert"], claim_id, typed)
    assert saved.verdict is None and saved.updated_at is not None
    again_typed = draft_from("rumor", "喝醋能软化血管吗", "还没写完，问了 13812345678 的医生", [])
    await save_draft(db, people["expert"], claim_id, again_typed)  # one draft, replaced
    mine = await draft_of(db, people["expert"], claim_id)
    assert mine is not None and mine.verdict == "rumor" and mine.title == "喝醋能软化血管吗"
    assert "13812345678" not in mine.explanation and mine.explanation.startswith("还没写完")
    assert await draft_of(db, people["admin"], claim_id) is None  # drafts are one's own
    with pytest.raises(Forbidden):
        await save_draft(db, people["moderator"], claim_id, typed)
    with pytest.raises(InvalidInput):
        await save_draft(db, people["expert"], claim_id, draft_from("maybe", "", "", []))
    async with db.session() as session:
        assert len((await session.execute(select(ClaimDraft))).scalars().all()) == 1
    await drop_draft(db, people["expert"], claim_id)
    assert await draft_of(db, people["expert"], claim_id) is None


async def test_a_re_report_counts_on_the_published_claim_once(db, people) -> None:
    claim_id = await published_claim(db, people)
    queue = ReportQueue(db)
    first = await queue.submit_again(
        claim_id, AGAIN, sender_id="u9", channel="webchat", message_id="m1"
    )
    retry = await queue.submit_again(
        claim_id, AGAIN, sender_id="u9", channel="webchat", message_id="m1"
    )
    assert first is not None and retry is not None
    assert retry.public_id == first.public_id and retry.duplicate and first.claim_id == claim_id
    async with db.session() as session:
        claim = await session.get(RumorClaim, claim_id)
        delivery = (
            await session.execute(
                select(ReportDelivery)
                .join(RumorReport, RumorReport.id == ReportDelivery.report_id)
                .where(RumorReport.public_id == first.public_id)
            )
        ).scalar_one()
        marked = (await session.execute(select(RumorReReport))).scalars().all()
    assert claim.status == "concluded" and claim.reports == 2
    assert claim.channels == ["wechat", "webchat"]
    # The reporter was told the verdict in the same turn: nothing is owed, no id kept.
    assert delivery.status == "sent" and delivery.recipient is None
    assert len(marked) == 1
    trend = await again.asked_again(db, claim_id, CHINA)
    assert trend.total == 1 and [w.count for w in trend.weeks][-1] == 1
    assert sum(w.count for w in trend.weeks) == 1 and len(trend.weeks) == 8
    assert await queue.submit_again(99999, AGAIN, sender_id="u9", channel="webchat") is None


async def test_the_trend_counts_re_reports_by_local_week(db, people) -> None:
    claim_id = await published_claim(db, people)
    queue = ReportQueue(db)
    for i in range(4):
        await queue.submit_again(claim_id, f"{AGAIN}{i}", sender_id=f"s{i}", channel="wechat")
    # Wednesday 2026-12-09 12:00 in China; re-reports then, on Monday at 02:00 China
    # time (still Sunday in UTC), 8 days before and 60 days before.
    now = datetime(2026, 12, 9, 12, 0, tzinfo=CHINA)
    monday_early = datetime(2026, 12, 7, 2, 0, tzinfo=CHINA)
    times = (now, monday_early, now - timedelta(days=8), now - timedelta(days=60))
    async with db.session() as session:
        rows = (await session.execute(select(RumorReReport).order_by("report_id"))).scalars()
        for row, at in zip(rows.all(), times, strict=True):
            row.created_at = at.astimezone(timezone.utc)
    trend = await again.asked_again(db, claim_id, CHINA, now=now)
    assert trend.total == 4  # the one 60 days ago is older than the 8 weeks shown
    assert trend.weeks[-1].start.isoformat() == "2026-12-07"  # this week's Monday
    assert trend.weeks[0].start.isoformat() == "2026-10-19"
    assert [w.count for w in trend.weeks] == [0, 0, 0, 0, 0, 0, 1, 2]
    assert trend.busiest == 2


async def test_reopening_a_published_claim_for_review(db, people) -> None:
    claim_id = await published_claim(db, people)
    await ReportQueue(db).submit_again(claim_id, AGAIN, sender_id="u9", channel="wechat")
    with pytest.raises(Forbidden):
        await again.reopen(db, people["volunteer"], claim_id, "")
    view = await again.reopen(db, people["expert"], claim_id, "又有人问，电话 13812345678 反映")
    assert view.status == "verifying"
    with pytest.raises(InvalidTransition):
        await again.reopen(db, people["moderator"], claim_id, "")
    async with db.session() as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "reopen"))
        ).scalar_one()
    assert entry.actor == "expert" and entry.details["again"] == 1
    assert "13812345678" not in entry.details["reason"]
    # Reported while under review again: an ordinary report, owed the corrected verdict.
    later = await ReportQueue(db).submit_again(
        claim_id, "喝醋软化血管到底真的假的", sender_id="u10", channel="wechat"
    )
    assert await delivery_status(db, later.public_id) == "waiting"
    assert (await again.asked_again(db, claim_id, CHINA)).total == 1
    await debunk.publish(db, people["expert"], claim_id)
    assert await delivery_status(db, later.public_id) == "due"


async def test_history_reads_as_plain_chinese_for_every_role(db, people) -> None:
    claim_id = (await ReportQueue(db).submit(VINEGAR, sender_id="u1", channel="wechat")).claim_id
    await triage.assign(db, people["moderator"], claim_id, "expert")
    await triage.set_status(db, people["moderator"], claim_id, "rejected")
    await triage.set_status(db, people["moderator"], claim_id, "pending")
    history = await claim_history(db, [claim_id])
    assert [e.summary for e in history] == [
        "把状态从“不予处理”改为“待处理”",
        "把状态从“待处理”改为“不予处理”",
        "把负责人从“未指定”改为“expert”",
    ]
    assert all("=" not in e.summary and "pending" not in e.summary for e in history)
    assert describe("verdict", {"before": None, "after": "rumor"}) == "把结论从“未定”改为“谣言”"
    assert describe("merged_into", {"into": 7}) == "并入线索 #7"
    assert describe("user_active", {"active": False}) == "停用账号"


async def test_retention_deletes_re_reports_and_claims_with_notes(db, people) -> None:
    claim_id = await published_claim(db, people)
    await ReportQueue(db).submit_again(claim_id, AGAIN, sender_id="u9", channel="wechat")
    gone = (await ReportQueue(db).submit(WATER, sender_id="u2", channel="wechat")).claim_id
    await add_note(db, people["moderator"], gone, "停水的事问过水厂")
    await save_draft(db, people["expert"], gone, draft_from("", "停水", "", []))
    async with db.session() as session:
        await session.execute(
            update(RumorReport).values(created_at=datetime.now(timezone.utc) - timedelta(days=400))
        )
    assert await purge_expired(db, days=180) == 3
    async with db.session() as session:
        assert (await session.execute(select(RumorReReport))).scalars().all() == []
        assert (await session.execute(select(ClaimNote))).scalars().all() == []
        assert (await session.execute(select(ClaimDraft))).scalars().all() == []
        assert await session.get(RumorClaim, gone) is None
        assert await session.get(RumorClaim, claim_id) is not None  # published: kept


def matched_report(claim_id: int, message_id: str) -> Tracker:
    """The report form, finished: the claim matched the debunk published from ``claim_id``."""
    latest = {"text": AGAIN, "message_id": message_id, "intent": {"name": "free_text"}}
    return Tracker(
        sender_id="senior-9",
        slots={"rumor_claim": AGAIN, "rumor_where": None, "rumor_match": f"rumor-claim-{claim_id}"},
        latest_message=latest,
        events=[
            {"event": "user", "text": "举报谣言", "message_id": "wx-start"},
            {"event": "user", "input_channel": "wechat", **latest},
            {"event": "slot", "name": "rumor_claim", "value": AGAIN},
        ],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="report_rumor_form",
    )


async def test_the_reporter_still_gets_the_verdict_and_the_claim_counts_it(
    db, people, tmp_path, monkeypatch
) -> None:
    claim_id = await published_claim(db, people)
    (tmp_path / "empty-kb").mkdir()
    knowledge = KnowledgeService(tmp_path / "empty-kb", None, db)
    await knowledge.refresh(force=True)
    checker = default_checker()
    services = Services(
        Settings(), db, knowledge, checker, ReportQueue(db), Understanding(knowledge, checker)
    )
    monkeypatch.setattr(actions.services, "_services", services)
    for _ in range(2):  # WeChat sends the same message again: counted once
        dispatcher = CollectingDispatcher()
        await ActionReportRumor().run(dispatcher, matched_report(claim_id, "wx-77"), {})
        said = "\n".join(m.get("text") or "" for m in dispatcher.messages)
        assert said.startswith("这个说法我们核实过：") and EXPLANATION in said
    trend = await again.asked_again(db, claim_id, CHINA)
    assert trend.total == 1
    async with db.session() as session:
        claim = await session.get(RumorClaim, claim_id)
        texts = (await session.execute(select(RumorReport.text))).scalars().all()
    assert claim.reports == 2 and AGAIN in texts
