"""The claim page: one verdict form with a preview of what reporters receive,
server-side drafts, internal notes, re-reports and reopening, history in plain
Chinese for every role, and a claim's reports as CSV."""

from __future__ import annotations

import csv
import io
import re

import markupsafe
from sqlalchemy import select

from bot.rumors.delivery import take_due
from bot.rumors.reports import ReportQueue
from bot.storage.models import AuditEntry, ClaimDraft, ClaimNote, RumorClaim
from tests.bot.web.console_support import database, login, post_form, submit

VINEGAR = "群里说喝醋能软化血管，大家每天喝一碗"
EXPLANATION = (
    "醋进入胃里就被消化了，不会进入血管，更不能把血管里的斑块溶掉。\n血管硬化要遵医嘱治疗。"
)
FORM = {
    "title": "喝醋能软化血管吗",
    "explanation": EXPLANATION,
    "source_organisation_1": "国家卫生健康委员会",
    "source_title_1": "健康科普：醋不能软化血管",
}


async def verifying_claim(client, staff) -> tuple[int, str]:
    """A claim under verification, and an expert signed in (their CSRF token)."""
    claim_id = await submit(client, VINEGAR, "wx-user-1")
    csrf = await login(client, staff["moderator"])
    await post_form(client, f"/console/claims/{claim_id}/status", csrf, status="verifying")
    await client.post("/console/logout", data={"csrf": csrf})
    return claim_id, await login(client, staff["expert"])


async def publish(client, claim_id: int, csrf: str) -> None:
    status, _, body = await post_form(
        client, f"/console/claims/{claim_id}/conclude", csrf, do="publish", verdict="rumor", **FORM
    )
    assert status == 303, body


async def claim_row(client, claim_id: int) -> RumorClaim:
    async with database(client).session() as session:
        return await session.get(RumorClaim, claim_id)


async def test_no_verdict_is_chosen_until_the_expert_picks_one(console_client, staff) -> None:
    claim_id, csrf = await verifying_claim(console_client, staff)
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    select_html = re.search(r'<select id="verdict"[^>]*>.*?</select>', page, re.S).group()
    assert "required" in select_html.split(">")[0]
    assert re.search(r'<option value="" selected>请选择结论</option>', select_html)
    assert 'value="rumor" selected' not in select_html
    assert "保存草稿" in page and 'value="publish"' in page and "formnovalidate" in page
    # 发布 without a verdict: refused, and everything typed is still on the page and saved.
    status, _, body = await post_form(
        console_client,
        f"/console/claims/{claim_id}/conclude",
        csrf,
        do="publish",
        verdict="",
        **FORM,
    )
    assert status == 400 and "请先选择结论" in body
    assert str(markupsafe.escape(EXPLANATION)) in body and "健康科普：醋不能软化血管" in body
    claim = await claim_row(console_client, claim_id)
    assert claim.status == "verifying" and claim.verdict is None and claim.explanation is None
    again = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert str(markupsafe.escape(EXPLANATION)) in again and "草稿保存于" in again


async def test_draft_and_publish_from_the_one_form(console_client, staff) -> None:
    claim_id, csrf = await verifying_claim(console_client, staff)
    await submit(console_client, "听说喝醋可以软化血管，是真的吗", "web-user-2", "webchat")
    path = f"/console/claims/{claim_id}/conclude"
    status, location, _ = await post_form(
        console_client, path, csrf, do="draft", verdict="rumor", **FORM
    )
    assert status == 303 and location == f"/console/claims/{claim_id}?done=draft"
    page = await (await console_client.get(location)).text()
    assert "草稿已保存" in page and 'value="rumor" selected' in page
    assert (await claim_row(console_client, claim_id)).status == "verifying"  # nothing published

    status, location, body = await post_form(
        console_client, path, csrf, do="publish", verdict="rumor", **FORM
    )
    assert status == 303 and location.endswith("done=publish"), body
    claim = await claim_row(console_client, claim_id)
    assert claim.status == "concluded" and claim.verdict == "rumor"
    assert claim.explanation == EXPLANATION and claim.entry_id == f"rumor-claim-{claim_id}"
    async with database(console_client).session() as session:
        assert (await session.execute(select(ClaimDraft))).scalars().all() == []
        actions = (
            (
                await session.execute(
                    select(AuditEntry.action).where(AuditEntry.target == f"claim:{claim_id}")
                )
            )
            .scalars()
            .all()
        )
    assert actions[-3:] == ["debunk", "verdict", "publish"]


async def test_the_preview_is_what_the_reporter_then_receives(console_client, staff) -> None:
    claim_id, csrf = await verifying_claim(console_client, staff)
    form = {"csrf": csrf, "verdict": "rumor", **FORM}
    resp = await console_client.post(f"/console/claims/{claim_id}/preview", data=form)
    assert resp.status == 200
    preview = await resp.json()
    [wechat] = preview["wechat"]
    text = wechat["text"]
    assert preview["verdict_chosen"] is True and preview["receipt"].startswith("R-")
    assert text.startswith(f"您之前问的说法有结论了（编号 {preview['receipt']}）：")
    assert "结论：【谣言】醋进入胃里" in text
    assert text.endswith("来源：国家卫生健康委员会《健康科普：醋不能软化血管》")
    assert preview["lines"] == 5 and preview["chars"] == len(
        text
    )  # the explanation's line break kept
    assert wechat["bytes"] == len(text.encode("utf-8")) and preview["wechat_limit"] == 2048
    assert preview["webchat"]["text"] == text
    unchosen = await console_client.post(
        f"/console/claims/{claim_id}/preview", data={**form, "verdict": ""}
    )
    assert (await unchosen.json())["verdict_chosen"] is False
    # Published as previewed: the reporter's next message brings exactly that text.
    await publish(console_client, claim_id, csrf)
    assert await take_due(database(console_client), "wx-user-1") == [text]


async def test_autosave_keeps_each_users_draft(console_client, staff) -> None:
    claim_id, csrf = await verifying_claim(console_client, staff)
    half = {
        "csrf": csrf,
        "verdict": "",
        "title": "喝醋",
        "explanation": "写到一半，电话 13812345678",
    }
    resp = await console_client.post(f"/console/claims/{claim_id}/draft", data=half)
    assert resp.status == 200 and re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d", (await resp.json())["saved_at"]
    )
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert "写到一半" in page and "13812345678" not in page
    async with database(console_client).session() as session:
        [draft] = (await session.execute(select(ClaimDraft))).scalars().all()
    assert "13812345678" not in draft.explanation
    await console_client.post("/console/logout", data={"csrf": csrf})
    csrf = await login(console_client, staff["admin"])
    assert "写到一半" not in await (await console_client.get(f"/console/claims/{claim_id}")).text()
    await console_client.post("/console/logout", data={"csrf": csrf})
    csrf = await login(console_client, staff["moderator"])  # no verdict form: no drafts
    resp = await console_client.post(
        f"/console/claims/{claim_id}/draft", data={**half, "csrf": csrf}
    )
    assert resp.status == 403 and "审核员没有这项权限" in (await resp.json())["error"]
    resp = await console_client.post(
        f"/console/claims/{claim_id}/preview", data={**half, "csrf": csrf}
    )
    assert resp.status == 403


async def test_notes_are_shared_between_moderator_and_expert(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "wx-user-1")
    csrf = await login(console_client, staff["moderator"])
    status, location, _ = await post_form(
        console_client,
        f"/console/claims/{claim_id}/note",
        csrf,
        text="请专家看看，举报人电话 13812345678",
    )
    assert status == 303 and "done=note" in location
    await console_client.post("/console/logout", data={"csrf": csrf})
    await login(console_client, staff["expert"])
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert "内部备注（1 条）" in page and "请专家看看" in page and "13812345678" not in page
    assert "mod（审核员）" in page and "写了一条内部备注" in page  # in the history too
    async with database(console_client).session() as session:
        assert len((await session.execute(select(ClaimNote))).scalars().all()) == 1


async def test_history_and_labels_in_plain_chinese_for_a_moderator(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "wx-user-1")
    queue = ReportQueue(database(console_client))
    await queue.submit(
        "听说喝醋可以软化血管", sender_id="w2", channel="webchat", seen_where="village"
    )
    csrf = await login(console_client, staff["moderator"])
    await post_form(console_client, f"/console/claims/{claim_id}/status", csrf, status="rejected")
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert "把状态从“待处理”改为“不予处理”" in page
    assert "before=" not in page and "after=" not in page
    assert "微信公众号、网页" in page and "· 网页 · 在村里听说 ·" in page
    assert "在村里听说看到" not in page and "webchat" not in page
    await console_client.post("/console/logout", data={"csrf": csrf})
    await login(console_client, staff["admin"])  # the whole log reads the same way
    audit = await (await console_client.get("/console/audit")).text()
    assert "把状态从“待处理”改为“不予处理”" in audit and f"线索 #{claim_id}" in audit
    assert "before=" not in audit and "登录审核台" in audit


async def test_a_re_report_shows_and_the_claim_can_be_reopened(console_client, staff) -> None:
    claim_id, csrf = await verifying_claim(console_client, staff)
    await publish(console_client, claim_id, csrf)
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert "结论发布后还没有人再举报这个说法" in page
    db = database(console_client)
    for i in range(3):
        await ReportQueue(db).submit_again(
            claim_id, f"喝醋软化血管是真的吗{i}", sender_id=f"w{i}", channel="wechat"
        )
    await console_client.post("/console/logout", data={"csrf": csrf})
    csrf = await login(console_client, staff["moderator"])
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert re.search(r'又有 <strong id="again-total">3</strong> 次举报', page)
    assert page.count("<meter") == 8 and "（本周）" in page
    status, location, _ = await post_form(
        console_client, f"/console/claims/{claim_id}/reopen", csrf, reason="又传开了"
    )
    assert status == 303 and location.endswith("done=reopen")
    assert (await claim_row(console_client, claim_id)).status == "verifying"
    page = await (await console_client.get(location)).text()
    assert "把已发布的线索重新打开复核（发布后又有 3 次举报），理由：又传开了" in page


async def test_a_claims_reports_as_csv(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    queue = ReportQueue(database(console_client))
    joined = await queue.submit(
        "=群里说喝醋能软化血管，大家每天喝一碗，打 13812345678 问",
        sender_id="w1",
        channel="webchat",
        seen_where="moments",
    )
    assert joined.claim_id == claim_id
    await login(console_client, staff["expert"])
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert f'href="/console/claims/{claim_id}/reports.csv"' in page
    resp = await console_client.get(f"/console/claims/{claim_id}/reports.csv")
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    body = await resp.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    assert rows[0][:3] == ["举报编号", "时间（北京时间）", "渠道"] and len(rows) == 3
    first, second = rows[1], rows[2]
    assert first[2] == "微信公众号" and first[4] == VINEGAR and first[5] == "等结论"
    assert second[2] == "网页" and second[3] == "朋友圈" and second[0] == joined.public_id
    assert second[4].startswith("'=群里说") and "13812345678" not in body.decode("utf-8")
    assert (await console_client.get("/console/claims/999/reports.csv")).status == 404
