"""知识缺口 in the console: a gap drafted into an entry, published by an expert,
answering the gap's questions at once."""

from __future__ import annotations

import re

from bot.knowledge.service import record_unanswered
from bot.web import keys
from tests.bot.web.console_support import Staff, database, login, post_form

QUESTIONS = ("梁平高龄津贴一个月好多钱", "梁平的高龄津贴每个月有好多钱", "高龄津贴一个月好多钱")


async def test_a_gap_becomes_an_entry_that_answers_it(console_client, staff: dict[str, Staff]):
    db = database(console_client)
    for i in range(6):
        await record_unanswered(db, f"old-{i}", "wechat", QUESTIONS[i % 3], None)
    csrf = await login(console_client, staff["moderator"])
    page = await (await console_client.get("/console/gaps")).text()
    assert "高龄津贴" in page and "待补充" in page and "起草条目" in page
    link = re.search(r'href="(/console/drafts/new\?[^"]+)"', page).group(1).replace("&amp;", "&")
    form_page = await (await console_client.get(link)).text()
    assert "梁平高龄津贴一个月好多钱" in form_page  # phrasings filled from the gap
    fields = {
        "topic": "smartphone",
        "title": "高龄津贴怎么领",
        "questions": "\n".join([*QUESTIONS, "高龄津贴咋个领"]),
        "answer": "金额和领取办法以当地最新通知为准，可以打 12345 问。",
        "steps": "",
        "organisation": "测试机构",
        "source_title": "测试文件（2026）",
        "url": "",
        "reviewed_on": "2026-12-01",
    }
    # A refusal keeps what was typed.
    status, _, body = await post_form(
        console_client, "/console/drafts", csrf, **{**fields, "title": "高"}
    )
    assert status == 400 and "高龄津贴咋个领" in body and "标题" in body
    status, location, _ = await post_form(console_client, "/console/drafts", csrf, **fields)
    assert status == 303 and location.startswith("/console/drafts/")
    draft = await (await console_client.get(location)).text()
    assert "草稿" in draft and "审核通过并发布" not in draft  # a moderator cannot publish
    await console_client.post("/console/logout", data={"csrf": csrf})

    csrf = await login(console_client, staff["expert"])
    status, _, _ = await post_form(console_client, f"{location}/publish", csrf, **fields)
    assert status == 303
    done = await (await console_client.get(location)).text()
    assert "已由 expert 发布为条目" in done
    # The app's own knowledge service reads our database (this fixture's reads an
    # empty folder only): the published entry is served at once.
    knowledge = console_client.app[keys.KNOWLEDGE]
    knowledge.db = db
    await knowledge.refresh(force=True)
    page = await (await console_client.get("/console/gaps")).text()
    assert "已补上：高龄津贴怎么领" in page  # the entry answers the gap's question now


async def test_volunteers_and_bad_numbers(console_client, staff: dict[str, Staff]):
    await login(console_client, staff["moderator"])
    assert (await console_client.get("/console/drafts/new?gap=0")).status == 404  # no gaps
    assert (await console_client.get("/console/gaps?days=0")).status == 400
    assert (await console_client.get("/console/drafts/999")).status == 404
