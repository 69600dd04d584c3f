"""Fixtures of the action tests: ``kit`` (the actions' services, installed where
``actions.services.get_services`` finds them: real SQLite storage in the test's tmp
dir, fake knowledge and understanding) and ``act`` (run an action). Trackers are
built with ``tests.actions.support.make_tracker``."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa_sdk import Action, Tracker

import actions.services
from actions.services import Services
from bot.rumors.reports import ReportQueue
from bot.storage.db import Database
from tests.actions.support import FakeKnowledge, FakeUnderstanding, Kit, run_action


@pytest.fixture(scope="session")
async def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, built once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("actions-db") / "template.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    await db.close()
    return path


@pytest.fixture
async def kit(
    migrated_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Kit]:
    path = tmp_path / "kepu.db"
    shutil.copy(migrated_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    services = Services(
        settings=SimpleNamespace(public_url=""),  # type: ignore[arg-type]
        db=db,
        knowledge=FakeKnowledge(),  # type: ignore[arg-type]
        fraud=None,  # type: ignore[arg-type]  (only Understanding uses it)
        reports=ReportQueue(db),
        understanding=FakeUnderstanding(),  # type: ignore[arg-type]
    )
    monkeypatch.setattr(actions.services, "_services", services)
    yield Kit(services, tmp_path)
    await db.close()
    await services.db.close()


@pytest.fixture
def act(kit: Kit) -> Callable[[Action, Tracker], Any]:
    """``await act(ActionX(), make_tracker(...))`` with the test's services installed."""
    return run_action
