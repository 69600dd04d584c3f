"""The moderator console in the web service: sign-in, sessions, CSRF, roles, forms, escaping."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import markupsafe
from sqlalchemy import select, update

from bot.knowledge.service import KnowledgeService
from bot.storage.models import AuditEntry, ConsoleSession, ReportDelivery, RumorClaim, utcnow
from bot.web.app import HERE
from tests.bot.web.console_support import (
    CSRF_FIELD,
    XSS_IMG,
    XSS_SCRIPT,
    Staff,
    database,
    login,
    post_form,
    submit,
)

VINEGAR = "群里说喝醋能软化血管，大家每天喝一碗"
OUR_SCRIPT = '<script src="/static/console-queue.js" defer>'
CLAIM_SCRIPT = '<script src="/static/claim.js" defer>'
EXPLANATION = "醋进入胃里就被消化了，不会进入血管，更不能把血管里的斑块溶掉。血管硬化要遵医嘱治疗。"


async def claim_status(client, claim_id: int) -> str:
    async with database(client).session() as session:
        return (await session.get(RumorClaim, claim_id)).status


async def test_pages_need_a_session(console_client) -> None:
    resp = await console_client.get("/console/claims/1?x=1", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/console/login?next=%2Fconsole%2Fclaims%2F1%3Fx%3D1"
    resp = await console_client.post("/console/claims/1/status", data={"status": "verifying"})
    assert resp.status == 403 and "登录" in await resp.text()


async def test_sign_in_sets_a_strict_cookie_and_stores_only_its_hash(console_client, staff) -> None:
    page = await console_client.get("/console/login")
    assert page.headers["Cache-Control"] == "no-store"
    token = CSRF_FIELD.search(await page.text()).group(1)
    resp = await console_client.post(
        "/console/login",
        data={"csrf": token, "name": "mod", "password": staff["moderator"].password},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/console/"
    cookie = resp.cookies["kepu_console"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console"
    assert not cookie["secure"]  # plain http in the test; Secure when served over https
    assert int(cookie["max-age"]) == 12 * 3600
    async with database(console_client).session() as session:
        stored = (await session.execute(select(ConsoleSession))).scalar_one()
    assert stored.id_hash == hashlib.sha256(cookie.value.encode()).hexdigest()
    assert cookie.value not in (stored.id_hash, stored.csrf_token)
    assert (await console_client.get("/console/")).status == 200


async def test_sign_in_refuses_bad_passwords_and_forms_without_their_token(
    console_client, staff
) -> None:
    page = await console_client.get("/console/login")
    token = CSRF_FIELD.search(await page.text()).group(1)
    resp = await console_client.post(
        "/console/login", data={"csrf": token, "name": "mod", "password": "wrong-password"}
    )
    assert resp.status == 401 and "用户名或密码不对" in await resp.text()
    resp = await console_client.post(
        "/console/login",
        data={"csrf": "forged", "name": "mod", "password": staff["moderator"].password},
    )
    assert resp.status == 403 and "kepu_console" not in resp.cookies


async def test_sign_in_goes_back_only_into_the_console(console_client, staff) -> None:
    for target, expected in (
        ("/console/claims/1", "/console/claims/1"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/console/", "/console/"),
    ):
        console_client.session.cookie_jar.clear()
        page = await console_client.get("/console/login")
        token = CSRF_FIELD.search(await page.text()).group(1)
        resp = await console_client.post(
            "/console/login",
            data={
                "csrf": token,
                "name": "mod",
                "password": staff["moderator"].password,
                "next": target,
            },
            allow_redirects=False,
        )
        assert resp.headers["Location"] == expected


async def test_password_guessing_is_slowed_down(console_client, staff) -> None:
    statuses = []
    for _ in range(6):
        page = await console_client.get("/console/login")
        token = CSRF_FIELD.search(await page.text()).group(1)
        resp = await console_client.post(
            "/console/login", data={"csrf": token, "name": "mod", "password": "guess"}
        )
        statuses.append(resp.status)
    assert statuses == [401] * 5 + [429]


async def test_a_post_without_the_csrf_token_is_refused(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    csrf = await login(console_client, staff["moderator"])
    path = f"/console/claims/{claim_id}/status"
    for token in (None, "", "not-the-token"):
        status, _, body = await post_form(console_client, path, token, status="verifying")
        assert status == 403 and "表单已失效" in body
    assert await claim_status(console_client, claim_id) == "pending"
    status, location, _ = await post_form(console_client, path, csrf, status="verifying")
    assert status == 303 and location == f"/console/claims/{claim_id}?done=status"
    assert await claim_status(console_client, claim_id) == "verifying"


async def test_a_moderator_can_triage_but_not_publish_or_manage_users(
    console_client, staff
) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    csrf = await login(console_client, staff["moderator"])
    page = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert "/status" in page and "/publish" not in page and "/verdict" not in page
    await post_form(console_client, f"/console/claims/{claim_id}/status", csrf, status="verifying")
    status, _, body = await post_form(console_client, f"/console/claims/{claim_id}/publish", csrf)
    assert status == 403 and "审核员没有这项权限" in body
    status, _, _ = await post_form(
        console_client, f"/console/claims/{claim_id}/verdict", csrf, verdict="rumor"
    )
    assert status == 403
    assert (await console_client.get("/console/users")).status == 403
    assert (await console_client.get("/console/audit")).status == 403
    status, _, _ = await post_form(console_client, "/console/users", csrf, name="eve", role="admin")
    assert status == 403
    status, _, _ = await post_form(
        console_client, "/console/users/role", csrf, name="mod", role="admin"
    )
    assert status == 403
    assert await claim_status(console_client, claim_id) == "verifying"


async def test_report_texts_render_inert(console_client, staff) -> None:
    claim_id = await submit(console_client, XSS_SCRIPT, "u1")
    other = await submit(console_client, XSS_IMG, "u2")
    await login(console_client, staff["moderator"])
    pages = (
        "/console/",
        f"/console/claims/{claim_id}",
        f"/console/claims/{other}",
        "/console/?q=<",
    )
    for path in pages:
        resp = await console_client.get(path)
        body = await resp.text()
        assert resp.status == 200
        # The only scripts are our own files (same origin, no inline code).
        assert set(re.findall(r"<script[^>]*>", body)) <= {OUR_SCRIPT, CLAIM_SCRIPT}
        assert "<img" not in body and 'onerror="' not in body
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    bodies = [await (await console_client.get(p)).text() for p in pages[1:3]]
    for text in (XSS_SCRIPT, XSS_IMG):  # shown as text, as typed
        assert any(str(markupsafe.escape(text)) in body for body in bodies)


async def test_refused_actions_show_the_reason_and_keep_the_draft(console_client, staff) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    csrf = await login(console_client, staff["admin"])
    status, _, body = await post_form(
        console_client, f"/console/claims/{claim_id}/status", csrf, status="concluded"
    )
    assert status == 409 and "发布结论" in body
    status, _, body = await post_form(
        console_client,
        f"/console/claims/{claim_id}/debunk",
        csrf,
        title="喝醋能软化血管吗",
        explanation="太长" * 151,
        source_organisation_1="国家卫健委",
        source_title_1="醋不能软化血管",
    )
    assert status == 400 and "300" in body and "醋不能软化血管" in body and "太长太长" in body
    status, _, body = await post_form(
        console_client, f"/console/claims/{claim_id}/merge", csrf, target="x"
    )
    assert status == 400 and "整数" in body
    assert (await console_client.get("/console/claims/999")).status == 404


async def test_admin_concludes_a_claim_through_the_forms(console_client, staff, tmp_path) -> None:
    claim_id = await submit(console_client, VINEGAR, "u1")
    await submit(console_client, "听说喝醋可以软化血管，是真的吗", "u2", "web")
    csrf = await login(console_client, staff["admin"])
    base = f"/console/claims/{claim_id}"
    steps = [
        ("assign", {"assignee": "expert"}),
        ("status", {"status": "verifying"}),
        ("verdict", {"verdict": "rumor"}),
        (
            "debunk",
            {
                "title": "喝醋能软化血管吗",
                "explanation": EXPLANATION,
                "source_organisation_1": "国家卫生健康委员会",
                "source_title_1": "健康科普：醋不能软化血管",
                "source_url_1": "https://www.nhc.gov.cn/",
            },
        ),
        ("publish", {}),
    ]
    for action, fields in steps:
        status, location, body = await post_form(console_client, f"{base}/{action}", csrf, **fields)
        assert status == 303, (action, body)
        assert location == f"{base}?done={action}"
    page = await (await console_client.get(f"{base}?done=publish")).text()
    assert "已发布" in page and "已结论" in page and f"rumor-claim-{claim_id}" in page
    db = database(console_client)
    async with db.session() as session:
        statuses = (await session.execute(select(ReportDelivery.status))).scalars().all()
        actions = (
            (
                await session.execute(
                    select(AuditEntry.action).where(AuditEntry.target == f"claim:{claim_id}")
                )
            )
            .scalars()
            .all()
        )
    assert statuses == ["due", "due"]
    assert actions == ["assign", "status", "verdict", "debunk", "publish"]
    knowledge = KnowledgeService(tmp_path / "empty-kb", None, db)
    await knowledge.refresh(force=True)
    found = await knowledge.match_debunk("喝醋真的能软化血管吗")
    assert found is not None and found[0].id == f"rumor-claim-{claim_id}"
    audit = await (await console_client.get("/console/audit")).text()
    assert "发布" in audit and f"claim:{claim_id}" in audit


async def test_merge_and_split_forms(console_client, staff) -> None:
    a = await submit(console_client, VINEGAR, "u1")
    b = await submit(console_client, "重庆市梁平区明天停水三天，大家赶快储水", "u2")
    csrf = await login(console_client, staff["moderator"])
    status, location, _ = await post_form(
        console_client, f"/console/claims/{b}/merge", csrf, target=str(a)
    )
    assert status == 303 and location == f"/console/claims/{a}?done=merge"
    page = await (await console_client.get(location)).text()
    ids = re.findall(r'name="report" value="(\d+)"', page)
    assert len(ids) == 2 and f"/console/claims/{b}" in page
    status, location, _ = await post_form(
        console_client, f"/console/claims/{a}/split", csrf, report=[ids[1]]
    )
    assert status == 303 and "done=split" in location
    assert "停水" in await (await console_client.get(location)).text()


async def test_sessions_expire_and_end_on_sign_out(console_client, staff) -> None:
    csrf = await login(console_client, staff["expert"])
    status, location, _ = await post_form(console_client, "/console/logout", csrf)
    assert status == 303 and location == "/console/login"
    assert (await console_client.get("/console/", allow_redirects=False)).status == 303
    await login(console_client, staff["expert"])
    async with database(console_client).session() as session:
        await session.execute(
            update(ConsoleSession).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    assert (await console_client.get("/console/", allow_redirects=False)).status == 303


async def test_admin_manages_users(console_client, staff) -> None:
    csrf = await login(console_client, staff["admin"])
    status, _, body = await post_form(
        console_client, "/console/users", csrf, name="lily", role="expert"
    )
    assert status == 200
    password = re.search(r'id="one-time-password">([^<]+)<', body).group(1)
    status, _, _ = await post_form(
        console_client, "/console/users/role", csrf, name="lily", role="moderator"
    )
    assert status == 303
    console_client.session.cookie_jar.clear()
    await login(console_client, Staff("lily", "moderator", password, token=""))
    assert "lily（审核员）" in await (await console_client.get("/console/")).text()
    console_client.session.cookie_jar.clear()
    csrf = await login(console_client, staff["admin"])
    await post_form(console_client, "/console/users/active", csrf, name="lily", active="0")
    status, _, body = await post_form(
        console_client, "/console/users/active", csrf, name="admin", active="0"
    )
    assert status == 400 and "不能停用自己" in body
    async with database(console_client).session() as session:
        signed_in = (await session.execute(select(ConsoleSession.user_id))).scalars().all()
    assert set(signed_in) == {3}  # lily's session ended with her account


async def test_console_css_is_large_print() -> None:
    css = (HERE / "static" / "console.css").read_text(encoding="utf-8")
    root = int(re.search(r"html \{ font-size: (\d+)px", css).group(1))
    assert root >= 20
    for rem in re.findall(r"font-size: ([\d.]+)rem", css):
        assert float(rem) * root >= 20
    assert css.count("min-height: 48px") >= 3
    # Server-rendered pages that work without scripts.
    templates = (HERE / "templates" / "console").glob("*.html")
    # Scripts only as files of our own (CSP: script-src 'self'), never inline: the
    # queue's keyboard shortcuts and the claim page's preview and autosave.
    scripts = {t.name: re.findall(r"<script[^>]*>", t.read_text("utf-8")) for t in templates}
    assert {name: found for name, found in scripts.items() if found} == {
        "queue.html": [OUR_SCRIPT],
        "claim.html": [CLAIM_SCRIPT],
    }


async def test_pictures_sent_with_a_report_are_shown_to_signed_in_users_only(
    console_client, staff
) -> None:
    from bot.rumors import evidence
    from bot.storage.models import RumorReport

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    db = database(console_client)
    kept = await evidence.keep_image(
        db, sender_id="u9", channel="wechat", media_id="m9", pic_url="https://mmbiz.example/9"
    )
    linked_only = await evidence.keep_image(
        db, sender_id="u9", channel="wechat", media_id="m10", pic_url="https://mmbiz.example/10"
    )
    await evidence.store_content(db, kept, png, "image/png")
    claim_id = await submit(console_client, VINEGAR, "u9")
    async with db.session() as session:
        public_id = (
            await session.execute(
                select(RumorReport.public_id).where(RumorReport.claim_id == claim_id)
            )
        ).scalar_one()
    assert await evidence.attach_recent(db, sender_id="u9", report_public_id=public_id) == 2

    picture = f"/console/evidence/{kept}"
    resp = await console_client.get(picture, allow_redirects=False)
    assert resp.status == 303  # no session, no picture
    await login(console_client, staff["moderator"])
    body = await (await console_client.get(f"/console/claims/{claim_id}")).text()
    assert f'href="{picture}"' in body and 'href="https://mmbiz.example/10"' in body
    resp = await console_client.get(picture)
    assert resp.status == 200 and await resp.read() == png
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert (await console_client.get(f"/console/evidence/{linked_only}")).status == 404


async def test_a_password_change_is_refused_when_the_new_one_is_unusable(
    console_client, staff
) -> None:
    """Two different new passwords, one too short or one too long change nothing and say why."""
    from bot.accounts.users import authenticate

    mod = staff["moderator"]
    csrf = await login(console_client, mod)
    page = await console_client.get("/console/password")
    assert page.status == 200 and 'name="repeat"' in await page.text()
    tries = [
        ("a-long-new-password-1", "a-long-new-password-2", "两次输入的新密码不一样"),
        ("short-9ch", "short-9ch", "新密码至少 10 个字符"),  # nine characters
        ("长" * 300, "长" * 300, "新密码最多 256 个字符"),  # refused, not cut to 256
    ]
    for new, repeat, why in tries:
        status, _, body = await post_form(
            console_client, "/console/password", csrf, current=mod.password, new=new, repeat=repeat
        )
        assert status == 400 and why in body
        assert await authenticate(database(console_client), "mod", new) is None
    assert (await authenticate(database(console_client), "mod", mod.password)).name == "mod"
    # still signed in: nothing was changed, so no session ended
    assert (await console_client.get("/console/", allow_redirects=False)).status == 200
