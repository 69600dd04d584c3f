"""提醒 in the console: an expert composes and previews an alert, another admin approves
and schedules it, the figures page counts it; the month's 流言榜; roles and CSRF."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.accounts.access import Actor
from bot.outreach import alerts
from bot.outreach.commands import DIGEST
from bot.outreach.owed import take_held
from tests.bot.outreach.support import subscribers
from tests.bot.outreach.test_digest import publish_claims, this_month
from tests.bot.web.console_support import database, login, post_form

TEXT = "最近有人冒充快递客服说要理赔，叫您开屏幕共享，千万别开。"
TEMPLATE = {
    "wechat_alert_template_id": "tpl-0001",
    "wechat_alert_template_fields": "thing1=title;thing2=text;time3=date;thing4='回复公众号查看'",
    "public_url": "http://kepu.example.cn",  # https would make the cookies Secure
}


def fields(**extra: str) -> dict[str, str]:
    return {"kind": "fraud", "crop": "", "text": TEXT, "entry_id": "", **extra}


async def test_compose_preview_approve_schedule_and_count(console_client, staff) -> None:
    db = database(console_client)
    await subscribers(db, "webchat", ["w-1", "w-2"])
    csrf = await login(console_client, staff["expert"])
    page = await (await console_client.get("/console/alerts")).text()
    assert "起草提醒" in page and 'href="/console/alerts"' in page  # in the menu
    # The preview of what was typed, nothing saved; markup stays text.
    typed = TEXT + "<script>alert(1)</script>"
    status, _, body = await post_form(
        console_client, "/console/alerts/preview", csrf, **fields(text=typed)
    )
    assert status == 200 and "订阅的人会收到" in body and "还没保存" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body
    for heading in ("微信客服消息", "微信模板消息", "企业微信应用消息", "网页聊天"):
        assert heading in body
    assert "没有配置模板消息" in body and "【防骗提醒】最近有人冒充快递客服" in body
    # A refusal keeps what was typed.
    status, _, body = await post_form(
        console_client, "/console/alerts", csrf, **fields(text=TEXT * 8)
    )
    assert status == 400 and "一屏" in body and TEXT * 2 in body
    status, location, _ = await post_form(
        console_client, "/console/alerts", csrf, **fields(text=TEXT + "问 13812345678")
    )
    assert status == 303 and re.fullmatch(r"/console/alerts/\d+", location)
    page = await (await console_client.get(location)).text()
    assert "13812345678" not in page and "[手机号]" in page  # never stored unredacted
    assert "草稿" in page and "审核通过" not in page  # an expert does not approve
    status, _, _ = await post_form(console_client, f"{location}/approve", csrf)
    assert status == 403
    status, _, _ = await post_form(console_client, f"{location}/save", csrf, **fields())
    assert status == 303
    await console_client.post("/console/logout", data={"csrf": csrf})

    csrf = await login(console_client, staff["admin"])
    page = await (await console_client.get(location)).text()
    assert "审核通过" in page and "【防骗提醒】" + TEXT in page
    status, _, _ = await post_form(console_client, f"{location}/approve", None)
    assert status == 403  # no CSRF token
    assert (await post_form(console_client, f"{location}/approve", csrf))[0] == 303
    page = await (await console_client.get(location)).text()
    assert "已审核" in page and "排期发送" in page
    status, _, body = await post_form(
        console_client, f"{location}/schedule", csrf, send_at="2020-01-01T08:00"
    )
    assert status == 400 and "已经过了" in body
    assert (await post_form(console_client, f"{location}/schedule", csrf, send_at=""))[0] == 303
    assert "已排期" in await (await console_client.get(location)).text()

    # The web service's broadcaster, woken by the schedule, readies it at once (the web
    # chat waits for the person's next message).
    alert_id = int(location.rsplit("/", 1)[1])
    for _ in range(100):
        if (await alerts.figures(db, alert_id)).by_status.get("held") == 2:
            break
        await asyncio.sleep(0.1)
    assert (await alerts.figures(db, alert_id)).by_status == {"held": 2}
    [said] = await take_held(db, ("webchat",), "w-1")
    assert said.startswith("【防骗提醒】最近有人冒充") and "退订" in said
    page = await (await console_client.get(location)).text()
    assert "送达情况" in page and "计划发给" in page
    assert re.search(r'id="fig-reached">1 人', page) and "等他下次发消息" in page
    figures = await (await console_client.get("/console/alerts/figures")).text()
    assert f'href="{location}"' in figures and "随下次回复 1" in figures
    listing = await (await console_client.get("/console/alerts")).text()
    assert "送达 1 / 2 人" in listing
    audit = await (await console_client.get("/console/audit")).text()
    for said in ("起草防骗提醒", "修改提醒草稿", "审核通过这条提醒", "排期：北京时间"):
        assert said in audit


async def test_an_admin_does_not_approve_their_own_draft(console_client, staff) -> None:
    csrf = await login(console_client, staff["admin"])
    _, location, _ = await post_form(console_client, "/console/alerts", csrf, **fields())
    page = await (await console_client.get(location)).text()
    assert "要由另一位管理员审核" in page and ">审核通过<" not in page
    status, _, body = await post_form(console_client, f"{location}/approve", csrf)
    assert status == 403 and "另一位管理员" in body
    assert (await post_form(console_client, f"{location}/cancel", csrf))[0] == 303
    assert "已取消" in await (await console_client.get(location)).text()


async def test_moderators_and_volunteers_do_not_see_alerts(console_client, staff) -> None:
    csrf = await login(console_client, staff["moderator"])
    queue = await (await console_client.get("/console/")).text()
    assert 'href="/console/alerts"' not in queue
    for path in ("/console/alerts", "/console/alerts/new", "/console/alerts/figures"):
        assert (await console_client.get(path)).status == 403
    status, _, _ = await post_form(console_client, "/console/alerts", csrf, **fields())
    assert status == 403


@pytest.mark.parametrize("console_client", [TEMPLATE], indirect=True)
async def test_the_template_message_is_previewed_as_configured(console_client, staff) -> None:
    csrf = await login(console_client, staff["expert"])
    status, _, body = await post_form(
        console_client,
        "/console/alerts/preview",
        csrf,
        **fields(kind="farm", crop="水稻", text="稻瘟病要在破口前打药。"),
    )
    assert status == 200
    template = body[body.index('id="preview-template"') :]
    template = template[: template.index("</dl>")]
    assert "thing1" in template and "【农事提醒·水稻】" in template
    assert "稻瘟病要在破口前打药。" in template and "回复公众号查看" in template


async def test_the_months_digest_from_published_debunks(console_client, staff) -> None:
    db = database(console_client)
    people = {r: Actor(i, s.name, r) for i, (r, s) in enumerate(staff.items(), start=1)}
    await publish_claims(db, people)
    await subscribers(db, "webchat", ["w-digest"], kind=DIGEST)
    csrf = await login(console_client, staff["expert"])
    month = f"{this_month():%Y-%m}"
    page = await (await console_client.get(f"/console/alerts/digest?month={month}")).text()
    assert "喝醋能软化血管" in page and "谣言" in page and "部分属实" in page
    rows = re.findall(r"<td>(\d+)</td></tr>", page)
    assert rows == sorted(rows, key=int, reverse=True) and rows[0] == "3"
    assert "1. 喝醋能软化血管：谣言。" in page and "起草这个月的流言榜" in page
    status, location, _ = await post_form(
        console_client, "/console/alerts/digest", csrf, month=month
    )
    assert status == 303
    alert = await (await console_client.get(location)).text()
    assert "每月流言榜" in alert and "草稿" in alert and "不想收了，回复“退订”。" in alert
    again = await (await console_client.get(f"/console/alerts/digest?month={month}")).text()
    assert "已经起草" in again and f'href="{location}"' in again
    assert (await console_client.get("/console/alerts/digest?month=2026-13")).status == 400
