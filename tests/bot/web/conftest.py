"""Fixtures of the console's web tests: the app from its factory and one user per role."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bench.ports import free_port
from bot.accounts.users import add_user, create_token
from bot.fraud.checker import default_checker
from bot.knowledge.service import KnowledgeService
from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.web.console_support import Staff, database


@pytest.fixture
async def console_client(aiohttp_client, tmp_path: Path, request) -> TestClient:
    """The app; settings beyond the defaults come from an indirect parameter."""
    (tmp_path / "empty-kb").mkdir()
    settings = Settings(
        var_dir=tmp_path,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        **getattr(request, "param", {}),
    )
    app = create_app(
        settings, knowledge=KnowledgeService(tmp_path / "empty-kb"), fraud=default_checker()
    )
    return await aiohttp_client(app)


@pytest.fixture
async def staff(console_client: TestClient) -> dict[str, Staff]:
    db = database(console_client)
    out = {}
    for name, role in (("mod", "moderator"), ("expert", "expert"), ("admin", "admin")):
        password = await add_user(db, name, role)
        out[role] = Staff(name, role, password, await create_token(db, name))
    return out
