"""The queue page's actions and CSV through the web service: roles, CSRF, audit, redaction."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot.storage.models import AuditEntry, RumorClaim
from tests.bot.web.console_support import database, login, post_form, submit

WELL = "老井的水不能喝了，喝了会得癌症"
FORMULA = '=HYPERLINK("http://evil")听说转账能领养老金补贴'
PHONE_NUMBER = "13812345678"


async def _claims(client) -> dict[int, RumorClaim]:
    async with database(client).session() as session:
        return {c.id: c for c in (await session.execute(select(RumorClaim))).scalars()}


async def _audit(client) -> list[tuple[str, str, str]]:
    async with database(client).session() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(a.actor, a.action, a.target) for a in rows]


async def test_an_expert_cannot_triage_from_the_queue(console_client, staff) -> None:
    first = await submit(console_client, WELL, "u1")
    csrf = await login(console_client, staff["expert"])
    for fields in (
        {"do": "assign", "assignee": "expert", "claim": [str(first)]},
        {"mine": str(first)},
    ):
        status, _, body = await post_form(console_client, "/console/queue", csrf, **fields)
        assert status == 403 and "专家没有这项权限" in body
    assert (await _claims(console_client))[first].assignee is None
    assert [a for a in await _audit(console_client) if a[2].startswith("claim:")] == []


async def test_bulk_assign_needs_its_token_and_goes_back_to_the_queue(
    console_client, staff
) -> None:
    first = await submit(console_client, WELL, "u1")
    second = await submit(console_client, FORMULA, "u2")
    csrf = await login(console_client, staff["moderator"])
    status, _, _ = await post_form(
        console_client, "/console/queue", None, do="assign", assignee="mod", claim=[str(first)]
    )
    assert status == 403
    assert {c.assignee for c in (await _claims(console_client)).values()} == {None}
    status, location, _ = await post_form(
        console_client,
        "/console/queue",
        csrf,
        do="assign",
        assignee="expert",
        claim=[str(first), str(second)],
        back="harm=health&page=1&next=//evil.example&q=井水",
    )
    assert status == 303
    assert location.startswith("/console/?") and "evil" not in location
    assert "harm=health" in location and "done=assign" in location
    claims = await _claims(console_client)
    assert claims[first].assignee == claims[second].assignee == "expert"
    audit = await _audit(console_client)
    assert ("mod", "assign", f"claim:{first}") in audit
    assert ("mod", "assign", f"claim:{second}") in audit


async def test_assign_to_me_and_refusals_show_on_the_queue(console_client, staff) -> None:
    first = await submit(console_client, WELL, "u1")
    second = await submit(console_client, FORMULA, "u2")
    csrf = await login(console_client, staff["moderator"])
    status, location, _ = await post_form(console_client, "/console/queue", csrf, mine=str(first))
    assert status == 303 and "done=mine" in location
    page = await (await console_client.get(location)).text()
    assert f"#{first} 已分给你" in page
    assert (await _claims(console_client))[first].assignee == "mod"
    status, _, _ = await post_form(
        console_client, "/console/queue", csrf, do="merge", claim=[str(first), str(second)]
    )
    assert status == 303
    assert (await _claims(console_client))[second].merged_into == first
    status, _, body = await post_form(console_client, "/console/queue", csrf, mine=str(second))
    assert status == 409 and f"#{second}：这条线索已并入 #{first}" in body
    status, _, body = await post_form(console_client, "/console/queue", csrf, do="status")
    assert status == 400 and "请先勾选线索" in body


async def test_csv_is_the_filtered_queue_redacted_and_safe_in_excel(console_client, staff) -> None:
    well = await submit(console_client, WELL + f"，有事打 {PHONE_NUMBER}", "u1")
    fraud = await submit(console_client, FORMULA, "u2", channel="wecom")
    await login(console_client, staff["expert"])
    resp = await console_client.get("/console/queue.csv?harm=fraud&sort=newest")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    body = await resp.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "说法", "优先级"]
    assert [r[0] for r in rows[1:]] == [str(fraud)]
    title, channels = rows[1][1], rows[1][9]
    assert title.startswith("'=HYPERLINK")  # shown as text, never run as a formula
    assert channels == "企业微信"
    everything = await (await console_client.get("/console/queue.csv?status=all")).read()
    assert str(well) in everything.decode("utf-8-sig") and PHONE_NUMBER not in everything.decode()
    audit = await _audit(console_client)
    assert audit.count(("expert", "queue_export", "queue")) == 2
    resp = await console_client.get("/console/queue.csv?harm=nothing")
    assert resp.status == 400


async def test_the_page_keeps_filters_and_refuses_bad_ones(console_client, staff) -> None:
    await submit(console_client, WELL, "u1")
    await login(console_client, staff["moderator"])
    page = await console_client.get(
        "/console/?q=井水&channel=wechat&from=2020-01-01&sort=reporters"
    )
    body = await page.text()
    assert page.status == 200 and "共 1 条" in body and "按举报人数排列" in body
    assert (
        'href="/console/queue.csv?channel=wechat&amp;from=2020-01-01&amp;sort=reporters&amp;q='
        in body
    )
    for bad in ("from=2020-13-01", "sort=random", "channel=fax", "from=2021-01-02&to=2021-01-01"):
        assert (await console_client.get(f"/console/?{bad}")).status == 400, bad


async def test_over_the_count_cap_the_page_says_more_and_pages_on(
    console_client, staff, monkeypatch
) -> None:
    from bot.web.views import console_queue

    for i, text in enumerate((WELL, FORMULA, "手机充电的时候打电话会爆炸")):
        await submit(console_client, text, f"u{i}")
    monkeypatch.setattr(console_queue, "PER_PAGE", 1)
    monkeypatch.setattr(console_queue, "COUNT_CAP", 2)
    await login(console_client, staff["moderator"])
    body = await (await console_client.get("/console/?status=all")).text()
    assert "共 2 多条" in body and "第 1 / 2 多 页" in body
    assert 'href="?status=all&amp;page=2" rel="next"' in body
    body = await (await console_client.get("/console/?status=all&page=3")).text()
    assert "共 3 条" in body and "第 3 / 3 页" in body and 'rel="next"' not in body
    assert 'href="?status=all&amp;page=2" rel="prev"' in body
