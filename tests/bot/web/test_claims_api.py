"""The console's JSON API: bearer tokens, roles, filters, errors in Chinese."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from bot.storage.models import ApiToken
from tests.bot.web.console_support import (
    database,
    submit,
)

VINEGAR = "群里说喝醋能软化血管，大家每天喝一碗 电话13812345678"
WATER = "重庆市梁平区明天停水三天，大家赶快储水"
DEBUNK = {
    "title": "喝醋能软化血管吗",
    "explanation": "醋进入胃里就被消化了，不会进入血管，也溶不掉斑块。血管硬化请遵医嘱治疗。",
    "sources": [{"organisation": "国家卫生健康委员会", "title": "健康科普：醋不能软化血管"}],
}


def bearer(who) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.token}"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer kepu_not-a-token"}, {"Authorization": "Basic bW9kOnB3"}],
)
async def test_no_or_a_wrong_token_is_401_in_chinese(console_client, staff, headers) -> None:
    for method, path in (
        ("GET", "/api/v1/claims"),
        ("GET", "/api/v1/claims/1"),
        ("GET", "/api/v1/reports"),
        ("POST", "/api/v1/claims/1/status"),
        ("POST", "/api/v1/claims/1/publish"),
    ):
        resp = await console_client.request(method, path, headers=headers)
        assert resp.status == 401, path
        assert "令牌" in (await resp.json())["error"]
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_only_the_hash_of_a_token_is_stored(console_client, staff) -> None:
    async with database(console_client).session() as session:
        hashes = set((await session.execute(select(ApiToken.token_hash))).scalars())
    for who in staff.values():
        assert who.token.startswith("kepu_")
        assert hashlib.sha256(who.token.encode()).hexdigest() in hashes and who.token not in hashes


async def test_claims_are_listed_by_priority_with_filters(console_client, staff) -> None:
    water = await submit(console_client, WATER, "u1")
    await submit(console_client, "万州区后天停水三天！大家赶快储水", "u2", "web")
    vinegar = await submit(console_client, VINEGAR, "u3")
    resp = await console_client.get("/api/v1/claims", headers=bearer(staff["moderator"]))
    body = await resp.json()
    assert resp.status == 200 and body["total"] == 2
    assert [c["id"] for c in body["claims"]] == [water, vinegar]
    first = body["claims"][0]
    assert first["status"] == "pending" and first["status_label"] == "待处理"
    assert first["reports"] == 2 and first["channels"] == ["wechat", "web"]
    resp = await console_client.get(
        "/api/v1/claims?harm=health&limit=1", headers=bearer(staff["expert"])
    )
    assert [c["id"] for c in (await resp.json())["claims"]] == [vinegar]
    resp = await console_client.get("/api/v1/claims?status=done", headers=bearer(staff["expert"]))
    assert resp.status == 400 and "状态" in (await resp.json())["error"]


async def test_a_claim_comes_with_its_redacted_reports(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    resp = await console_client.get(
        f"/api/v1/claims/{claim_id}", headers=bearer(staff["moderator"])
    )
    body = await resp.json()
    assert body["claim"]["id"] == claim_id and len(body["reports"]) == 1
    report = body["reports"][0]
    assert "13812345678" not in report["text"] and "[手机号]" in report["text"]
    assert set(report) == {
        "id",
        "public_id",
        "claim_id",
        "channel",
        "seen_where",
        "text",
        "created_at",
        "delivery_status",
    }
    resp = await console_client.get("/api/v1/claims/999", headers=bearer(staff["moderator"]))
    assert resp.status == 404 and (await resp.json())["error"] == "没有编号为 999 的线索"


async def test_reports_filter_by_claim_status_and_time(console_client, staff) -> None:
    vinegar = await submit(console_client, VINEGAR, "u1")
    water = await submit(console_client, WATER, "u2")
    headers = bearer(staff["moderator"])

    async def claim_ids(query: str) -> list[int]:
        resp = await console_client.get(f"/api/v1/reports{query}", headers=headers)
        assert resp.status == 200, await resp.text()
        return [r["claim_id"] for r in (await resp.json())["reports"]]

    assert await claim_ids("") == [vinegar, water]
    assert await claim_ids(f"?claim_id={water}") == [water]
    assert await claim_ids("?status=due") == []
    assert await claim_ids("?since=2000-01-01T00:00:00Z&limit=1") == [vinegar]
    assert await claim_ids("?since=2999-01-01T08:00:00%2B08:00") == []
    for query, word in (
        ("?limit=501", "500"),
        ("?limit=0", "limit"),
        ("?since=yesterday", "since"),
    ):
        resp = await console_client.get(f"/api/v1/reports{query}", headers=headers)
        assert resp.status == 400 and word in (await resp.json())["error"]


async def test_roles_decide_who_changes_status_verdict_and_publishes(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    base = f"/api/v1/claims/{claim_id}"
    mod, expert = bearer(staff["moderator"]), bearer(staff["expert"])

    resp = await console_client.post(f"{base}/status", json={"status": "verifying"}, headers=expert)
    assert resp.status == 403 and (await resp.json())["error"] == "专家没有这项权限"
    resp = await console_client.post(f"{base}/verdict", json={"verdict": "rumor"}, headers=mod)
    assert resp.status == 403
    resp = await console_client.post(f"{base}/publish", json=DEBUNK, headers=mod)
    assert resp.status == 403

    resp = await console_client.post(f"{base}/status", json={"status": "verifying"}, headers=mod)
    assert resp.status == 200 and (await resp.json())["claim"]["status"] == "verifying"
    resp = await console_client.post(f"{base}/verdict", json={"verdict": "rumor"}, headers=expert)
    assert resp.status == 200 and (await resp.json())["claim"]["verdict_label"] == "谣言"
    resp = await console_client.post(f"{base}/publish", json=DEBUNK, headers=expert)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["entry_id"] == f"rumor-claim-{claim_id}" and body["deliveries_due"] == 1
    assert body["claim"]["status"] == "concluded"
    assert body["claim"]["debunk"]["title"] == DEBUNK["title"]
    resp = await console_client.get("/api/v1/reports?status=due", headers=mod)
    assert [r["claim_id"] for r in (await resp.json())["reports"]] == [claim_id]


async def test_refusals_are_json_with_fitting_statuses(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    base = f"/api/v1/claims/{claim_id}"
    admin = bearer(staff["admin"])
    cases = [
        ("status", {"status": "concluded"}, 409, "发布"),
        ("status", {"status": "archived"}, 400, "状态"),
        ("status", {}, 400, "status"),
        ("verdict", {"verdict": "fake"}, 400, "结论"),
        ("publish", {}, 409, "不能从"),
        ("publish", {"title": "x", "explanation": "y", "sources": "z"}, 400, "sources"),
    ]
    for action, payload, status, word in cases:
        resp = await console_client.post(f"{base}/{action}", json=payload, headers=admin)
        assert resp.status == status, (action, payload)
        assert word in (await resp.json())["error"]
    resp = await console_client.post(
        f"{base}/status", data="{oops", headers={**admin, "Content-Type": "application/json"}
    )
    assert resp.status == 400 and "JSON" in (await resp.json())["error"]
    resp = await console_client.post(
        "/api/v1/claims/999/status", json={"status": "verifying"}, headers=admin
    )
    assert resp.status == 404
