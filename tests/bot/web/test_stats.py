"""The 统计 page, its CSV and /api/v1/stats/summary: who sees what, hidden cells."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from bot.accounts.users import add_user
from bot.insights import rollup
from bot.insights.events import Turn
from bot.insights.writer import write_turns
from bot.web.views import console_stats
from tests.bot.web.console_support import database, login, submit


async def seed(db) -> None:
    """Yesterday: 7 people asked about health, 2 about farming (hidden); 6 checked
    a message (high risk). Today: 5 people asked about fraud."""
    now = rollup.local_now()
    turns = [
        Turn(
            at=now - timedelta(days=1),
            channel="wechat",
            user_hash=f"h{i}",
            move="free_text",
            decision="answer",
            topic="health",
            entry_id="health-a",
            score_band="high",
        )
        for i in range(7)
    ]
    turns += [
        Turn(
            at=now - timedelta(days=1),
            channel="webchat",
            user_hash=f"f{i}",
            move="free_text",
            decision="none",
            topic="farming",
        )
        for i in range(2)
    ]
    turns += [
        Turn(
            at=now - timedelta(days=1),
            channel="wechat",
            user_hash=f"c{i}",
            move="check_message",
            decision="fraud_verdict",
            fraud_risk="high",
            fraud_type="冒充客服退款",
        )
        for i in range(6)
    ]
    turns += [
        Turn(
            at=now,
            channel="wechat",
            user_hash=f"t{i}",
            move="free_text",
            decision="answer",
            topic="fraud",
        )
        for i in range(5)
    ]
    await write_turns(db, turns)
    console_stats.forget()  # the app summed today at its start, before these turns


async def test_experts_see_every_table_with_charts_and_hidden_cells(console_client, staff):
    await seed(database(console_client))
    await login(console_client, staff["expert"])
    page = await console_client.get("/console/stats")
    assert page.status == 200
    html = await page.text()
    for title in (
        "每天的使用情况",
        "按话题的问题",
        "最常用的回答",
        "查诈骗：风险和类型",
        "谣言线索：危害和结论",
        "一天里各时段的消息",
    ):
        assert title in html
    # Charts are SVG images drawn on the server (none for empty tables).
    charts = re.findall(r'<img src="(/console/stats/chart\.svg\?[^"]+)"', html)
    assert len(charts) >= 6
    assert "<script" not in html.split("</header>", 1)[1]
    # 2 farmers are fewer than 5 people: "<5", in the table, never their count.
    assert "&lt;5" in html and "健康" in html
    csv_resp = await console_client.get("/console/stats.csv?table=topic")
    assert csv_resp.status == 200 and "attachment" in csv_resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await csv_resp.read()).decode("utf-8-sig"))))
    assert rows[0] == ["话题", "次数"]
    # 农业 alone hidden would be given away by the total: the next smallest goes too.
    assert rows[1:] == [["健康", "7"], ["防诈骗", "<5"], ["农业", "<5"]]
    chart = await console_client.get(charts[0].replace("&amp;", "&"))
    assert chart.status == 200 and chart.content_type == "image/svg+xml"
    root = ET.fromstring(await chart.text())  # well-formed SVG
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    missing = await console_client.get("/console/stats/chart.svg?table=feedback&n=0")
    assert missing.status == 404  # a table without a chart


async def test_the_channel_and_period_filter(console_client, staff):
    await seed(database(console_client))
    await login(console_client, staff["admin"])
    today = rollup.local_now().date()
    resp = await console_client.get(
        f"/console/stats.csv?table=topic&channel=webchat&from={today}&to={today}"
    )
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows == [["话题", "次数"]]  # the farmers wrote yesterday, on the web
    for bad in (
        "from=2026-13-01",
        "channel=sms",
        f"from={today}&to={today - timedelta(days=1)}",
        "from=2020-01-01&to=2026-12-01",
    ):
        assert (await console_client.get(f"/console/stats?{bad}")).status == 400
    assert (await console_client.get("/console/stats.csv?table=nope")).status == 404


async def test_a_moderator_sees_the_figures_of_their_own_claims(console_client, staff):
    db = database(console_client)
    await seed(db)
    await submit(console_client, "听说喝醋能软化血管", "r1")
    await login(console_client, staff["moderator"])
    html = await (await console_client.get("/console/stats")).text()
    assert "我负责的线索" in html and "谣言线索" in html
    assert "按话题的问题" not in html and "最常用的回答" not in html
    resp = await console_client.get("/console/stats.csv?table=topic")
    assert resp.status == 404  # not among the tables a moderator has


async def test_volunteers_never_reach_the_statistics(console_client):
    db = database(console_client)
    password = await add_user(db, "vol", "volunteer")
    from tests.bot.web.console_support import Staff

    page = await console_client.get("/console/login")
    assert page.status == 200
    await login_volunteer(console_client, Staff("vol", "volunteer", password, ""))
    resp = await console_client.get("/console/stats", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/orders"


async def login_volunteer(client, who) -> None:
    import re

    page = await client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
    resp = await client.post(
        "/console/login",
        data={"csrf": token, "name": who.name, "password": who.password},
        allow_redirects=False,
    )
    assert resp.status == 303


@pytest.mark.parametrize("role, status", [("expert", 200), ("admin", 200), ("moderator", 403)])
async def test_the_summary_api(console_client, staff, role, status):
    await seed(database(console_client))
    headers = {"Authorization": f"Bearer {staff[role].token}"}
    resp = await console_client.get("/api/v1/stats/summary?days=7", headers=headers)
    assert resp.status == status
    if status != 200:
        return
    body = await resp.json()
    assert body["users"] == 20 and body["questions"]["total"] == 14 + 6
    assert body["questions"]["not_answered"] is None  # 2 people: hidden, not 2
    assert {"topic": "农业", "count": None} in body["questions_by_topic"]
    assert body["fraud_checks"] == [{"risk": "高风险", "type": "冒充客服退款", "count": 6}]
    assert body["suppressed_below"] == 5
    for bad in ("days=0", "days=999", "days=x", "channel=sms"):
        resp = await console_client.get(f"/api/v1/stats/summary?{bad}", headers=headers)
        assert resp.status == 400
    assert (await console_client.get("/api/v1/stats/summary")).status == 401


async def test_the_monthly_report_downloads_for_experts_only(console_client, staff):
    await seed(database(console_client))
    await login(console_client, staff["expert"])
    page = await (await console_client.get("/console/stats")).text()
    assert 'action="/console/stats/monthly"' in page
    month = rollup.local_now().strftime("%Y-%m")
    resp = await console_client.get(f"/console/stats/monthly?month={month}")
    assert resp.status == 200
    assert f'filename="kepu-report-{month}.html"' in resp.headers["Content-Disposition"]
    assert "科普助手月度报告" in await resp.text()
    assert (await console_client.get("/console/stats/monthly?month=2026-13")).status == 400


async def test_a_moderator_gets_no_monthly_report(console_client, staff):
    await login(console_client, staff["moderator"])
    resp = await console_client.get("/console/stats/monthly?month=2026-11")
    assert resp.status == 403


async def test_the_gaps_api_groups_unanswered_questions(console_client, staff):
    from bot.knowledge.service import record_unanswered

    db = database(console_client)
    for i in range(6):
        text = "梁平高龄津贴一个月好多钱" if i % 2 else "梁平的高龄津贴每个月有好多钱"
        await record_unanswered(db, f"old-{i}", "wechat", text, None)
    await record_unanswered(db, "one", "webchat", "我的手机号13812345678欠费了咋办", None)
    headers = {"Authorization": f"Bearer {staff['expert'].token}"}
    resp = await console_client.get("/api/v1/gaps?limit=5", headers=headers)
    assert resp.status == 200
    body = await resp.json()
    assert body["groups"] == 2 and body["suppressed_below"] == 5
    first, second = body["gaps"]
    assert (first["asked"], first["people"]) == (6, 6) and "高龄津贴" in first["example"]
    assert second["people"] is None  # one person
    assert "13812345678" not in json.dumps(body, ensure_ascii=False)  # stored redacted
    headers = {"Authorization": f"Bearer {staff['moderator'].token}"}
    assert (await console_client.get("/api/v1/gaps", headers=headers)).status == 403
    for bad in ("limit=0", "limit=999", "days=0"):
        resp = await console_client.get(
            f"/api/v1/gaps?{bad}", headers={"Authorization": f"Bearer {staff['admin'].token}"}
        )
        assert resp.status == 400, bad


async def test_the_segments_page(console_client, staff):
    await seed(database(console_client))
    await login(console_client, staff["expert"])
    resp = await console_client.get("/console/stats/segments?months=3")
    assert resp.status == 200
    html = await resp.text()
    for label in ("手机学习者", "健康关注者", "农户", "防骗重点", "辟谣关注者"):
        assert label in html
    assert "不问本人" in html and "<svg" in html
    # 6 people checked a high-risk message this month or last: one segment shown.
    assert "防骗重点</td><td>6" in html or "防骗重点</td><td>&lt;5" in html
    assert (await console_client.get("/console/stats/segments?months=99")).status == 400


async def test_a_moderator_gets_no_segments(console_client, staff):
    await login(console_client, staff["moderator"])
    assert (await console_client.get("/console/stats/segments")).status == 403
