"""The console service: queue order and filters, triage, verdicts and publishing
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.accounts.access import Actor
from bot.accounts.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bot.accounts.users import add_user
from bot.knowledge.reply import answer_messages
from bot.knowledge.schema import Entry
from bot.knowledge.service import KnowledgeService
from bot.rumors import console, debunk, triage
from bot.rumors.console import ClaimFilter
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from bot.storage.models import (
    AuditEntry,
    KnowledgeRecord,
    ReportDelivery,
    RumorClaim,
    RumorReport,
    utcnow,
)
from bot.text.matching import AUTO_MATCH
from tests.bot.storage_backends import database_url  # noqa: F401  (fixture)

VINEGAR = "群里说喝醋能软化血管，大家每天喝一碗"
WATER = "重庆市梁平区明天停水三天，大家赶快储水"
SOURCE = {"organisation": "国家卫生健康委员会", "title": "健康科普：醋不能软化血管"}
EXPLANATION = "醋进入胃里就被消化了，不会进入血管，更不能把血管里的斑块溶掉。血管硬化要遵医嘱治疗。"


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
        [("mod", "moderator"), ("expert", "expert"), ("admin", "admin")], start=1
    ):
        await add_user(db, name, role)
        actors[role] = Actor(i, name, role)
    return actors


async def report(db: Database, text: str, sender: str, channel: str = "wechat") -> int:
    return (await ReportQueue(db).submit(text, sender_id=sender, channel=channel)).claim_id


async def audit_actions(db: Database, claim_id: int) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.target == f"claim:{claim_id}")
            .order_by(AuditEntry.id)
        )
        return list(rows.scalars())


async def delivery_statuses(db: Database) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(select(ReportDelivery.status).order_by(ReportDelivery.id))
        return list(rows.scalars())


async def ready_to_publish(db: Database, people: dict[str, Actor], claim_id: int) -> None:
    await triage.set_status(db, people["moderator"], claim_id, "verifying")
    await debunk.set_verdict(db, people["expert"], claim_id, "rumor")
    await debunk.save_debunk(
        db,
        people["expert"],
        claim_id,
        title="喝醋能软化血管吗",
        explanation=EXPLANATION,
        sources=[SOURCE],
    )


async def test_queue_ranks_by_reach_harm_and_recency_at_read_time(db, people) -> None:
    popular = await report(db, WATER, "u1")
    for sender in ("u2", "u3", "u4"):
        await report(db, "万州区后天停水三天！大家赶快储水", sender, "web")
    fresh = await report(db, VINEGAR, "u5")
    # Three days later the widely reported claim still leads; after twenty it has faded.
    later = utcnow() + dt.timedelta(days=3)
    page = await console.list_claims(db, now=later)
    assert [c.id for c in page.items] == [popular, fresh] and page.total == 2
    async with db.session() as session:
        await session.execute(
            update(RumorClaim)
            .where(RumorClaim.id == popular)
            .values(last_seen=utcnow() - dt.timedelta(days=20))
        )
    page = await console.list_claims(db)
    assert [c.id for c in page.items] == [fresh, popular]
    assert page.items[0].priority > page.items[1].priority > 0


async def test_queue_filters_and_pages(db, people) -> None:
    water = await report(db, WATER, "u1")
    vinegar = await report(db, VINEGAR, "u2")
    fraud = await report(db, "养老金要停发了，赶紧去领补贴", "u3")
    await triage.assign(db, people["moderator"], vinegar, "expert")
    await triage.set_status(db, people["moderator"], fraud, "rejected")

    async def ids(**kwargs) -> set[int]:
        return {c.id for c in (await console.list_claims(db, ClaimFilter(**kwargs))).items}

    assert await ids() == {water, vinegar}  # open claims by default
    assert await ids(statuses=()) == {water, vinegar, fraud}
    assert await ids(statuses=("rejected",)) == {fraud}
    assert await ids(harm="health") == {vinegar}
    assert await ids(assignee="expert") == {vinegar}
    assert await ids(text="储水") == {water}
    assert await ids(text="100%") == set()  # LIKE wildcards are taken literally
    page = await console.list_claims(db, ClaimFilter(statuses=()), limit=2, offset=2)
    assert page.total == 3 and len(page.items) == 1
    with pytest.raises(InvalidInput):
        await console.list_claims(db, ClaimFilter(statuses=("done",)))


async def test_detail_lists_redacted_reports_of_the_claim(db, people) -> None:
    claim_id = await report(db, "群里说喝醋能软化血管 有事打我电话13812345678", "u1")
    await report(db, "听说喝醋可以软化血管，是真的吗", "u2", "web")
    detail = await console.claim_detail(db, claim_id)
    assert detail.claim.reports == 2 and len(detail.reports) == 2
    assert "13812345678" not in detail.reports[0].text and "[手机号]" in detail.reports[0].text
    assert all(r.delivery_status == "waiting" for r in detail.reports)
    with pytest.raises(NotFound):
        await console.claim_detail(db, 999)


async def test_status_moves_only_along_the_allowed_transitions(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    mod = people["moderator"]
    with pytest.raises(InvalidTransition, match="发布"):
        await triage.set_status(db, mod, claim_id, "concluded")
    assert (await triage.set_status(db, mod, claim_id, "verifying")).status == "verifying"
    assert (await triage.set_status(db, mod, claim_id, "rejected")).status == "rejected"
    with pytest.raises(InvalidTransition, match="不予处理"):
        await triage.set_status(db, mod, claim_id, "verifying")
    await triage.set_status(db, mod, claim_id, "pending")
    await triage.set_status(db, mod, claim_id, "pending")  # no change, no audit entry
    assert await audit_actions(db, claim_id) == ["status"] * 3
    with pytest.raises(InvalidInput):
        await triage.set_status(db, mod, claim_id, "closed")


async def test_roles_limit_what_each_user_may_do(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    mod, expert, admin = people["moderator"], people["expert"], people["admin"]
    with pytest.raises(Forbidden):
        await debunk.set_verdict(db, mod, claim_id, "rumor")
    with pytest.raises(Forbidden):
        await debunk.publish(db, mod, claim_id)
    with pytest.raises(Forbidden):
        await triage.set_status(db, expert, claim_id, "verifying")
    with pytest.raises(Forbidden):
        await triage.assign(db, expert, claim_id, "expert")
    await triage.set_status(db, admin, claim_id, "verifying")
    await debunk.set_verdict(db, admin, claim_id, "unproven")
    assert await audit_actions(db, claim_id) == ["status", "verdict"]


async def test_assigning_needs_an_active_user(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    with pytest.raises(NotFound):
        await triage.assign(db, people["moderator"], claim_id, "nobody")
    claim = await triage.assign(db, people["moderator"], claim_id, "expert")
    assert claim.assignee == "expert"
    assert (await triage.assign(db, people["moderator"], claim_id, "")).assignee is None


async def test_merge_moves_reports_and_recounts(db, people) -> None:
    target = await report(db, VINEGAR, "u1")
    await report(db, "听说喝醋可以软化血管", "u2")
    source = await report(db, WATER, "u3", "web")
    merged = await triage.merge(db, people["moderator"], source, target)
    assert merged.reports == 3 and merged.reporters == 3 and merged.channels == ["wechat", "web"]
    src = (await console.claim_detail(db, source)).claim
    assert src.merged_into == target and src.reports == 0 and src.priority == 0
    assert {c.id for c in (await console.list_claims(db)).items} == {target}
    detail = await console.claim_detail(db, target)
    assert len(detail.reports) == 3 and detail.merged_ids == [source]
    with pytest.raises(InvalidTransition, match="已并入"):
        await triage.merge(db, people["moderator"], source, target)
    with pytest.raises(InvalidInput):
        await triage.merge(db, people["moderator"], target, target)
    assert await audit_actions(db, target) == ["merge"]
    assert await audit_actions(db, source) == ["merged_into"]


async def test_merges_stay_one_level_deep(db, people) -> None:
    a = await report(db, VINEGAR, "u1")
    b = await report(db, WATER, "u2")
    c = await report(db, "养老金要停发了，赶紧去领补贴", "u3")
    await triage.merge(db, people["moderator"], c, b)
    await triage.merge(db, people["moderator"], b, a)
    detail = await console.claim_detail(db, a)
    assert detail.merged_ids == [b, c] and detail.claim.reports == 3


async def test_split_moves_chosen_reports_into_a_new_claim(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    await report(db, "听说喝醋可以软化血管", "u2")
    reports = (await console.claim_detail(db, claim_id)).reports
    new = await triage.split(db, people["moderator"], claim_id, [reports[1].id])
    assert new.id != claim_id and new.status == "pending" and new.reports == 1
    assert new.title == reports[1].text and new.harm == "health"
    assert (await console.claim_detail(db, claim_id)).claim.reports == 1
    with pytest.raises(InvalidInput, match="至少留下"):
        await triage.split(db, people["moderator"], new.id, [reports[1].id])
    with pytest.raises(NotFound):
        await triage.split(db, people["moderator"], claim_id, [reports[1].id])
    assert await audit_actions(db, new.id) == ["split_from"]


async def test_debunk_text_and_sources_are_checked(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    expert = people["expert"]

    async def save(**changes) -> None:
        values = {"title": "喝醋能软化血管吗", "explanation": EXPLANATION, "sources": [SOURCE]}
        await debunk.save_debunk(db, expert, claim_id, **{**values, **changes})

    with pytest.raises(InvalidInput, match="300"):
        await save(explanation="字" * 301)
    with pytest.raises(InvalidInput, match="来源"):
        await save(sources=[{"organisation": "", "title": "", "url": ""}])
    with pytest.raises(InvalidInput, match="网址"):
        await save(sources=[{**SOURCE, "url": "javascript:alert(1)"}])
    with pytest.raises(InvalidInput, match="标题"):
        await save(title="x" * 61)
    await save(sources=[{**SOURCE, "url": "https://www.nhc.gov.cn/"}, {"organisation": ""}])
    saved = (await console.claim_detail(db, claim_id)).claim
    assert saved.debunk_title == "喝醋能软化血管吗" and saved.explanation == EXPLANATION
    assert saved.sources == [{**SOURCE, "url": "https://www.nhc.gov.cn/"}]


async def test_publish_needs_verification_a_verdict_and_a_debunk(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    expert = people["expert"]
    with pytest.raises(InvalidTransition):
        await debunk.publish(db, expert, claim_id)  # still pending
    await triage.set_status(db, people["moderator"], claim_id, "verifying")
    with pytest.raises(InvalidInput, match="结论"):
        await debunk.publish(db, expert, claim_id)
    await debunk.set_verdict(db, expert, claim_id, "rumor")
    with pytest.raises(InvalidInput, match="辟谣"):
        await debunk.publish(db, expert, claim_id)


async def test_publishing_serves_the_debunk_and_owes_every_reporter_the_verdict(
    db, people, tmp_path: Path
) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    await report(db, "听说喝醋可以软化血管，是真的吗", "u2", "web")
    other = await report(db, "村里都在传醋泡黑豆能治高血压", "u3")
    await triage.merge(db, people["moderator"], other, claim_id)
    async with db.session() as session:  # one reporter was already told by hand
        await session.execute(
            update(ReportDelivery).where(ReportDelivery.id == 1).values(status="sent")
        )
    await ready_to_publish(db, people, claim_id)

    result = await debunk.publish(db, people["expert"], claim_id, today=dt.date(2025, 3, 1))

    assert result.entry_id == f"rumor-claim-{claim_id}" and result.deliveries_due == 2
    assert result.claim.status == "concluded" and result.claim.entry_id == result.entry_id
    assert await delivery_statuses(db) == ["sent", "due", "due"]
    async with db.session() as session:
        record = await session.get(KnowledgeRecord, result.entry_id)
    assert record.origin == "console" and record.topic == "rumor" and not record.retired
    entry = Entry.parse_obj(record.data)
    assert entry.verdict == "谣言" and entry.answer == EXPLANATION == entry.explanation
    assert entry.source.organisation == SOURCE["organisation"]
    assert entry.reviewed_on == dt.date(2025, 3, 1) and len(entry.questions) >= 3
    said = answer_messages(entry)
    assert said[0] == f"【谣言】{EXPLANATION}" and "\n".join(said).count(EXPLANATION) == 1
    (tmp_path / "kb").mkdir()
    knowledge = KnowledgeService(tmp_path / "kb", None, db)
    await knowledge.refresh(force=True)
    found = await knowledge.match_debunk("朋友圈都在转，说每天喝醋能软化血管")
    assert found is not None and found[0].id == result.entry_id and found[1] >= AUTO_MATCH
    with pytest.raises(InvalidTransition, match="已经发布"):
        await debunk.publish(db, people["expert"], claim_id)
    assert (await audit_actions(db, claim_id))[-1] == "publish"


async def test_a_corrected_verdict_outside_the_knowledge_base_retires_the_entry(
    db, people, tmp_path: Path
) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    await ready_to_publish(db, people, claim_id)
    first = await debunk.publish(db, people["expert"], claim_id)
    await triage.set_status(db, people["moderator"], claim_id, "verifying")
    await debunk.set_verdict(db, people["expert"], claim_id, "not_science")
    again = await debunk.publish(db, people["expert"], claim_id)
    assert again.entry_id is None and again.claim.status == "concluded"
    async with db.session() as session:
        assert (await session.get(KnowledgeRecord, first.entry_id)).retired
    (tmp_path / "kb").mkdir()
    knowledge = KnowledgeService(tmp_path / "kb", None, db)
    await knowledge.refresh(force=True)
    assert await knowledge.match_debunk(VINEGAR) is None


async def test_every_verdict_is_owed_even_without_a_knowledge_entry(db, people) -> None:
    claim_id = await report(db, "加微信领取国家补贴三千元", "u1")
    await triage.set_status(db, people["moderator"], claim_id, "verifying")
    await debunk.set_verdict(db, people["expert"], claim_id, "suspected_fraud")
    await debunk.save_debunk(
        db,
        people["expert"],
        claim_id,
        title="国家补贴不用加微信领",
        explanation="这很可能是诈骗。国家补贴不会让您加微信、转账或提供验证码，请拨打96110咨询。",
        sources=[{"organisation": "国家反诈中心", "title": "防范冒充补贴诈骗"}],
    )
    result = await debunk.publish(db, people["expert"], claim_id)
    assert result.entry_id is None and result.deliveries_due == 1
    async with db.session() as session:
        assert (await session.execute(select(KnowledgeRecord))).first() is None


async def test_reports_merged_into_a_concluded_claim_are_owed_its_verdict(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    await ready_to_publish(db, people, claim_id)
    await debunk.publish(db, people["expert"], claim_id)
    late = await report(db, "听说喝醋能软化血管", "u9")  # concluded claims take no new reports
    assert late != claim_id
    await triage.merge(db, people["moderator"], late, claim_id)
    assert await delivery_statuses(db) == ["due", "due"]


async def test_reports_listing_filters_by_claim_delivery_and_time(db, people) -> None:
    claim_id = await report(db, VINEGAR, "u1")
    other = await report(db, WATER, "u2")
    await ready_to_publish(db, people, claim_id)
    await debunk.publish(db, people["expert"], claim_id)
    due = await console.list_reports(db, delivery_status="due")
    assert [r.claim_id for r in due] == [claim_id]
    assert [r.claim_id for r in await console.list_reports(db, claim_id=other)] == [other]
    future = utcnow() + dt.timedelta(minutes=1)
    assert await console.list_reports(db, since=future) == []
    assert len(await console.list_reports(db, limit=1)) == 1
    with pytest.raises(InvalidInput):
        await console.list_reports(db, limit=501)
    async with db.session() as session:
        texts = (await session.execute(select(RumorReport.text))).scalars().all()
    assert {r.text for r in await console.list_reports(db)} == set(texts)


def test_questions_come_from_the_claim_and_the_reports() -> None:
    questions = debunk.debunk_questions(
        "群里说喝醋能软化血管。", ["听说喝醋能软化血管是真的吗", "喝醋  软化血管？"]
    )
    assert questions[:3] == [
        "喝醋能软化血管是真的吗",
        "听说喝醋能软化血管，是不是真的哦",
        "喝醋能软化血管",
    ]
    assert "喝醋 软化血管" in questions and len(questions) == len(set(questions))
