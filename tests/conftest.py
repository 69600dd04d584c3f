"""Shared fixtures: test settings, the trained model, a real action server and
an in-process Rasa agent (loaded once per session: loading takes ~20 s)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bench.ports import free_port
from bot.settings import PROJECT_ROOT

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
# Sentence vectors of the entries are derived data: compute once, share across runs.
# Fixtures of every storage test: `database_url` (SQLite, PostgreSQL), `migrated_db`.
pytest_plugins = ["tests.bot.storage_backends"]

SHARED_CACHE = PROJECT_ROOT / "var" / "cache"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """How `make test` shares the suite between its two workers (``-n 2 --dist
    loadgroup``; plain pytest ignores the groups). The tests that start the whole
    service (``stack``: a supervisor, Rasa processes, nginx) run one after another
    on one worker: two stacks starting at once on two cores time each other out.
    The in-process dialogue tests share one worker too, so the agent is loaded
    once. Every other module stays whole on one worker, its module fixtures
    built once. Runs before xdist's own hook, which reads the groups."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if item.get_closest_marker("stack"):
            group = "stack"
        elif item.get_closest_marker("conversation"):
            group = "conversation"
        else:
            group = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


def in_ci() -> bool:
    """Whether the tests run as CI runs them (``CI=true``), read when asked."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


# Property tests pass or fail on what they generate, never on how busy the
# machine is: no per-example deadline, no "too slow" health check. In CI they
# are derandomized (the same examples every run), so a red run is a bug found,
# not an unlucky draw; locally each run explores new examples.
hypothesis_settings.register_profile(
    "kepu", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "kepu-ci", parent=hypothesis_settings.get_profile("kepu"), derandomize=True, database=None
)
hypothesis_settings.load_profile("kepu-ci" if in_ci() else "kepu")


# Debian's chromium (never a downloaded browser) for the Playwright tests.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def launch_chromium(pw: Any) -> Any:
    """Headless Debian chromium through a started ``sync_playwright()``."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


def service_absent(reason: str) -> NoReturn:
    """A service a test needs (PostgreSQL, Redis, Debian's chromium) is not there:
    skip, saying why. In CI (``CI=true``) the machine has them all, so an absent
    one fails the run instead of letting it pass with the test unrun."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether anything accepts TCP connections there (the only reason to skip)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_http(url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} not up after {timeout:.0f}s")


@pytest.fixture(scope="session")
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def session_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The model for the current inputs (`make test` trains it before pytest)."""
    from bot.run.training import train_if_needed

    return train_if_needed(PROJECT_ROOT / "models")


@dataclass(frozen=True)
class ActionServer:
    url: str
    headers: dict[str, str]


@pytest.fixture(scope="session")
def action_server(session_var: Path) -> Iterator[ActionServer]:
    """The action server as `kepu run` starts it (``actions.security``: calls need the
    shared secret; ``/health`` is ready only once the knowledge index, the fraud
    classifier and the redactor are built), on a free port with its own SQLite
    database. Waiting for that readiness keeps the first custom action of a test
    from building them on a busy machine (and running into the request timeout)."""
    from bot.settings import ACTION_SECRET_HEADER, Settings, action_secret

    port = free_port()
    env = {
        **os.environ,
        "KEPU_VAR_DIR": str(session_var),
        "KEPU_CACHE_DIR": str(SHARED_CACHE),
        "SANIC_HOST": "127.0.0.1",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    # As `kepu run` does: schema, knowledge import and vectors before serving.
    subprocess.run(
        [sys.executable, "-m", "bot.run.cli", "kb", "import"], env=env, check=True, cwd=PROJECT_ROOT
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.security", "--actions", "actions", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # A fresh clone trains the fraud classifier here: minutes on a loaded machine.
        wait_http(f"http://127.0.0.1:{port}/health", timeout=900, proc=proc)
        secret = action_secret(Settings.from_env(env))
        yield ActionServer(f"http://127.0.0.1:{port}/webhook", {ACTION_SECRET_HEADER: secret})
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def agent(model_path: Path, action_server: ActionServer):
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(
        str(model_path),
        action_endpoint=EndpointConfig(url=action_server.url, headers=action_server.headers),
    )
