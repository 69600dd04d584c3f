"""The web service sends order alerts through WeCom: a dispatcher assigns an order in
the console and the volunteer's WeCom account gets it; an urgent order from the
chat reaches the admins' accounts. Against the simulated WeCom API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.ports import free_port
from bot.accounts.users import add_user, create_token
from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.settings import Settings
from bot.web import keys
from bot.web.app import create_app
from tests.bot.channels.conftest import WECOM, WECOM_AGENT_ID, simulator  # noqa: F401
from tests.bot.orders.test_web import PHONE, new_order
from tests.bot.web.console_support import Staff, database, login, post_form


async def wait_for(predicate, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not sent in time")


async def test_an_assignment_and_an_urgent_order_reach_wecom(
    aiohttp_client,
    simulator,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    sim, base = simulator
    (tmp_path / "empty-kb").mkdir()
    settings = Settings(
        var_dir=tmp_path,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        public_url="http://kepu.example.cn",  # (https would make the test's cookies Secure)
        wecom_token=WECOM.token,
        wecom_aes_key=WECOM.aes_key,
        wecom_corp_id=WECOM.receive_id,
        wecom_secret="secret",
        wecom_agent_id=str(WECOM_AGENT_ID),
        wecom_api_base=base,
        wecom_alert_users="zhuren",
    )
    app = create_app(
        settings, knowledge=KnowledgeService(tmp_path / "empty-kb"), fraud=default_checker()
    )
    client = await aiohttp_client(app)
    db = database(client)
    password = await add_user(db, "admin", "admin")
    admin = Staff("admin", "admin", password, await create_token(db, "admin"))
    csrf = await login(client, admin)
    await add_user(db, "wang", "volunteer")
    status, _, body = await post_form(
        client,
        "/console/volunteers",
        csrf,
        name="王小红",
        code="LP-001",
        skills=["phone_help"],
        towns=["礼让镇"],
        console_user="wang",
        wecom_user="WangXiaoHong",
        document="身份证",
    )
    assert status == 303, body
    assert "已绑定" in await (await client.get("/console/volunteers")).text()

    pid = await new_order(client, village="川西村")
    await post_form(client, f"/console/orders/{pid}/approve", csrf)
    await post_form(client, f"/console/orders/{pid}/assign", csrf, volunteer="LP-001")
    await wait_for(lambda: sim.texts_to("WangXiaoHong"))
    (told,) = sim.texts_to("WangXiaoHong")
    assert pid in told and f"http://kepu.example.cn/console/orders/{pid}" in told
    assert PHONE not in told

    urgent = await new_order(client, key="m2", village="川西村", urgent=True)
    app[keys.ORDER_ALERTS].kick()  # the sweep would find it within ORDER_SWEEP_SECONDS
    await wait_for(lambda: sim.texts_to("zhuren"))
    (alert,) = sim.texts_to("zhuren")
    assert urgent in alert and "紧急" in alert
    assert all(c["json"]["agentid"] == WECOM_AGENT_ID for c in sim.sent)
    await asyncio.sleep(0.3)
    assert len(sim.texts_to("WangXiaoHong")) == 1 and len(sim.texts_to("zhuren")) == 1
