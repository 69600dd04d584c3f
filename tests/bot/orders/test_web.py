"""Orders and help queues over the web: the JSON API (bearer tokens, roles) and the
console pages (sessions, CSRF, escaping), from the app factory."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.accounts.access import Actor
from bot.accounts.users import create_token
from bot.handoff.hotlines import handoff_reply, record_request
from bot.orders.service import act, place_order, rate
from bot.storage.models import ServiceOrder
from tests.bot.orders.support import register_wang
from tests.bot.web.console_support import Staff, database, login, post_form

PHONE = "13812345678"
XSS = "<script>alert(1)</script>川西村"


async def volunteer_staff(client: TestClient) -> Staff:
    db = database(client)
    password = await register_wang(db)
    return Staff("wang", "volunteer", password, await create_token(db, "wang"))


async def new_order(client: TestClient, key: str = "m1", **kw) -> str:
    fields = dict(
        service="phone_help", town="礼让镇", village=XSS, convenient_time="明天下午", phone=PHONE
    )
    fields.update(kw)
    receipt = await place_order(
        database(client), sender_id="resident", channel="rest", key=key, **fields
    )
    return receipt.public_id


def bearer(who: Staff) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.token}"}


async def test_the_api_runs_an_order_from_review_to_done(console_client, staff) -> None:
    client = console_client
    wang = await volunteer_staff(client)
    pid = await new_order(client)
    mod = bearer(staff["moderator"])
    resp = await client.get("/api/v1/orders?state=review&limit=5", headers=mod)
    body = await resp.json()
    assert resp.status == 200 and [o["id"] for o in body["orders"]] == [pid]
    first = body["orders"][0]
    assert first["state"] == "review" and first["service"] == "phone_help"
    assert first["town"] == "礼让镇" and first["volunteer"] is None and first["phone"] == "[手机号]"
    assert "created_at" in first

    async def post(who: dict[str, str], action: str, **body: str):
        resp = await client.post(f"/api/v1/orders/{pid}/{action}", json=body, headers=who)
        return resp.status, await resp.json()

    assert (await post(mod, "approve"))[0] == 200
    assert (await post(bearer(wang), "approve"))[0] == 404  # not theirs yet: not there
    assert (await post(mod, "assign", volunteer="LP-001"))[1]["order"]["volunteer"] == {
        "code": "LP-001",
        "name": "王小红",
    }
    assert (await post(mod, "accept"))[0] == 403  # a dispatcher is no volunteer
    status, body = await post(bearer(wang), "accept")
    assert status == 200 and body["order"]["phone"] == PHONE  # shown to who accepted
    assert (await post(mod, "approve"))[0] == 409  # not in review any more
    got = await (await client.get(f"/api/v1/orders/{pid}", headers=mod)).json()
    assert got["order"]["phone"] == "[手机号]"
    assert [e["action"] for e in got["events"]] == ["create", "approve", "assign", "accept"]
    assert (await post(bearer(wang), "start"))[0] == 200
    assert (await post(bearer(wang), "complete", verify_code="abcd"))[0] == 400
    async with database(client).session() as session:
        code = (
            await session.execute(
                select(ServiceOrder.verify_code).where(ServiceOrder.public_id == pid)
            )
        ).scalar_one()
    status, body = await post(bearer(wang), "complete", verify_code=code)
    assert status == 200 and body["order"]["state"] == "done"


async def test_low_ratings_reach_the_dispatchers(console_client, staff) -> None:
    client = console_client
    db = database(client)
    await volunteer_staff(client)
    pid = await new_order(client)
    admin, wang = Actor(1, "admin", "admin"), Actor(2, "wang", "volunteer")
    await act(db, admin, pid, "approve")
    await act(db, admin, pid, "assign", volunteer_code="LP-001")
    await act(db, wang, pid, "accept")
    await act(db, wang, pid, "start")
    async with db.session() as session:
        code = (
            await session.execute(
                select(ServiceOrder.verify_code).where(ServiceOrder.public_id == pid)
            )
        ).scalar_one()
    await act(db, wang, pid, "complete", verify_code=code)
    await rate(db, "resident", pid, 2, "<b>没来</b>打了13812345678也不接")
    await login(client, staff["moderator"])
    html = await (await client.get("/console/orders")).text()
    panel = html[html.index("低分评价") :]
    assert pid in panel and "2 分" in panel
    assert "&lt;b&gt;没来&lt;/b&gt;" in panel and "13812345678" not in panel  # escaped, redacted


async def test_the_api_refuses_without_a_token_or_the_right_role(console_client, staff) -> None:
    client = console_client
    pid = await new_order(client)
    assert (await client.get("/api/v1/orders")).status == 401
    assert (await client.get("/api/v1/orders", headers=bearer(staff["expert"]))).status == 403
    bad = await client.get("/api/v1/orders?state=flying", headers=bearer(staff["admin"]))
    assert bad.status == 400
    assert (
        await client.get("/api/v1/orders/D-AAAAAAAA", headers=bearer(staff["admin"]))
    ).status == 404
    resp = await client.post(
        f"/api/v1/orders/{pid}/cancel", json={}, headers=bearer(staff["admin"])
    )
    assert resp.status == 400 and "原因" in (await resp.json())["error"]
    resp = await client.post(f"/api/v1/orders/{pid}/explode", headers=bearer(staff["admin"]))
    assert resp.status == 404


async def test_help_requests_api_lists_unhandled_with_emergencies_first(
    console_client, staff
) -> None:
    client = console_client
    db = database(client)
    for text in ("我想找村干部", "我爸晕倒了"):
        await record_request(db, "u", "rest", text, handoff_reply(text)[1])
    resp = await client.get("/api/v1/help-requests", headers=bearer(staff["moderator"]))
    body = await resp.json()
    assert resp.status == 200 and body["unhandled"] == 2
    assert body["help_requests"][0]["urgent"] and body["help_requests"][0]["hotlines"][0] == "120"
    bad = await client.get("/api/v1/help-requests?handled=maybe", headers=bearer(staff["admin"]))
    assert bad.status == 400


async def test_the_console_dispatches_and_the_volunteer_accepts(console_client, staff) -> None:
    client = console_client
    wang = await volunteer_staff(client)
    pid = await new_order(client, urgent=True)
    csrf = await login(client, staff["moderator"])
    # An emergency order alerts dispatchers on every console page until someone has it.
    alert = "紧急服务单 1 个还没有志愿者"
    assert alert in await (await client.get("/console/")).text()
    page = await client.get("/console/orders")
    html = await page.text()
    assert page.status == 200 and pid in html and "紧急" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script" not in html
    status, _, _ = await post_form(client, f"/console/orders/{pid}/approve", None)
    assert status == 403  # no CSRF token
    status, location, _ = await post_form(client, f"/console/orders/{pid}/approve", csrf)
    assert status == 303 and location.endswith("done=approve")
    detail = await (await client.get(f"/console/orders/{pid}")).text()
    assert "推荐的志愿者" in detail and "派给 王小红" in detail and PHONE not in detail
    status, _, _ = await post_form(
        client, f"/console/orders/{pid}/assign", csrf, volunteer="LP-001"
    )
    assert status == 303
    assert alert not in await (await client.get("/console/")).text()
    status, _, body = await post_form(client, f"/console/orders/{pid}/cancel", csrf, reason="")
    assert status == 400 and "原因" in body

    await client.post("/console/logout", data={"csrf": csrf})
    csrf = await login(client, wang)
    mine = await (await client.get("/console/orders")).text()
    assert "我的服务单" in mine and pid in mine
    status, _, _ = await post_form(client, f"/console/orders/{pid}/accept", csrf)
    assert status == 303
    detail = await (await client.get(f"/console/orders/{pid}")).text()
    assert f'href="tel:{PHONE}"' in detail and "开始服务" in detail
    status, _, body = await post_form(
        client, f"/console/orders/{pid}/decline", csrf, reason="家里有事"
    )
    assert status == 303
    # A volunteer's account opens orders only: no help queue, no rumour reports.
    for page in ("/console/help", "/console/", "/console/claims/1", "/console/audit"):
        resp = await client.get(page, allow_redirects=False)
        assert (resp.status, resp.headers.get("Location")) == (303, "/console/orders"), page
    status, _, body = await post_form(client, "/console/claims/1/status", csrf, status="rejected")
    assert status == 403 and "志愿者账号只能处理自己的服务单" in body
    resp = await client.get("/api/v1/claims", headers={"Authorization": f"Bearer {wang.token}"})
    assert resp.status == 403


async def test_the_help_page_marks_requests_handled(console_client, staff) -> None:
    client = console_client
    db = database(client)
    await record_request(db, "u", "rest", "我爸晕倒了 13812345678", handoff_reply("我爸晕倒了")[1])
    csrf = await login(client, staff["moderator"])
    html = await (await client.get("/console/help")).text()
    assert "晕倒" in html and "紧急" in html and PHONE not in html
    status, location, _ = await post_form(
        client, "/console/help/help/1/handled", csrf, note="已回电"
    )
    assert status == 303
    html = await (await client.get("/console/help?kind=help&handled=1")).text()
    assert "已回电" in html and "mod" in html
    assert "没有未处理的求助" in await (await client.get("/console/help")).text()


async def test_admins_register_volunteers_in_the_console(console_client, staff) -> None:
    client = console_client
    csrf = await login(client, staff["admin"])
    status, _, _ = await post_form(
        client,
        "/console/volunteers",
        csrf,
        name="赵大姐",
        skills=["phone_help", "health"],
        towns=["屏锦镇"],
        document="身份证",
    )
    assert status == 303
    html = await (await client.get("/console/volunteers")).text()
    assert "赵大姐" in html and "LP00001" in html and "身份证，admin" in html
    status, _, body = await post_form(
        client, "/console/volunteers/verify", csrf, code="LP00001", document="500228199001011234"
    )
    assert status == 400 and "证件类型" in body


async def test_orders_cannot_be_taken_unless_the_admin_opens_them(console_client, staff) -> None:
    wang = await volunteer_staff(console_client)
    pid = await new_order(console_client)
    await act(database(console_client), Actor(1, "admin", "admin"), pid, "approve")
    resp = await console_client.post(f"/api/v1/orders/{pid}/take", json={}, headers=bearer(wang))
    assert resp.status == 403 and "不开放抢单" in (await resp.json())["error"]
    await login(console_client, wang)
    assert "可以抢的单" not in await (await console_client.get("/console/orders")).text()


@pytest.mark.parametrize("console_client", [{"orders_take_open": True}], indirect=True)
async def test_volunteers_take_open_orders_they_qualify_for(console_client, staff) -> None:
    client, db = console_client, database(console_client)
    wang = await volunteer_staff(client)
    admin = Actor(1, "admin", "admin")
    mine, far, unchecked = (
        await new_order(client, "t1"),
        await new_order(client, "t2", town="云龙镇"),  # a town wang does not serve
        await new_order(client, "t3", service="anti_fraud"),  # a skill wang lacks
    )
    for pid in (mine, far, unchecked):
        await act(db, admin, pid, "approve")
    csrf = await login(client, wang)
    html = await (await client.get("/console/orders")).text()
    offered = html[html.index("可以抢的单") :]
    assert mine in offered and far not in offered and unchecked not in offered
    status, location, _ = await post_form(client, f"/console/orders/{mine}/take", csrf)
    assert status == 303 and location.endswith("done=take")
    got = await (await client.get(f"/api/v1/orders/{mine}", headers=bearer(wang))).json()
    assert got["order"]["state"] == "accepted" and got["order"]["volunteer"]["code"] == "LP-001"
    assert got["order"]["phone"] == PHONE  # shown to who took it
    assert [e["action"] for e in got["events"]][-1] == "take"
    # Taken once: nobody takes it again, and orders wang may not take are not there.
    for pid, status in ((mine, 409), (far, 404), (unchecked, 404)):
        resp = await client.post(f"/api/v1/orders/{pid}/take", json={}, headers=bearer(wang))
        assert resp.status == status, (pid, await resp.text())
