"""The supervisor with real child processes (small HTTP servers)."""

import asyncio
import os
import signal
import sys

import pytest

from bench.ports import free_port
from bot.run.supervisor import ProcessSpec, Supervisor


def _server(name: str) -> ProcessSpec:
    port = free_port()
    return ProcessSpec(
        name,
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        f"http://127.0.0.1:{port}/",
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is not alive
        return fh.read().split()[2] != "Z"


async def _started(sup: Supervisor, count: int) -> None:
    while len(sup.procs) < count:
        await asyncio.sleep(0.05)


async def test_sigterm_stops_every_child() -> None:
    sup = Supervisor([_server("a"), _server("b")])
    task = asyncio.create_task(sup.run())
    await asyncio.wait_for(_started(sup, 2), 10)
    await asyncio.sleep(0.5)
    pids = [p.pid for p in sup.procs.values()]
    assert all(_alive(pid) for pid in pids)
    os.kill(os.getpid(), signal.SIGTERM)  # handled by the supervisor's loop handler
    assert await asyncio.wait_for(task, 20) == 0
    assert not any(_alive(pid) for pid in pids)


async def test_a_crashing_child_stops_the_others() -> None:
    crasher = ProcessSpec(
        "crasher",
        [sys.executable, "-c", "import time; time.sleep(1); raise SystemExit(3)"],
        "http://127.0.0.1:9/",
    )
    sup = Supervisor([_server("a"), crasher])
    code = await asyncio.wait_for(sup.run(), 30)
    assert code == 1
    assert not any(_alive(p.pid) for p in sup.procs.values())


@pytest.mark.parametrize("sig", [signal.SIGINT])
async def test_ctrl_c_stops_every_child(sig: signal.Signals) -> None:
    sup = Supervisor([_server("a")])
    task = asyncio.create_task(sup.run())
    await asyncio.wait_for(_started(sup, 1), 10)
    pid = sup.procs["a"].pid
    os.kill(os.getpid(), sig)
    assert await asyncio.wait_for(task, 20) == 0
    assert not _alive(pid)


async def test_children_create_private_files(tmp_path) -> None:
    """Databases, journals and logs a child writes are its user's only (umask 077)."""
    script = (
        "import os, sys, time; open(sys.argv[1], 'w').close(); os.mkdir(sys.argv[2]); "
        "time.sleep(60)"
    )

    def writer(name: str, **options: object) -> ProcessSpec:
        argv = [sys.executable, "-c", script, str(tmp_path / f"{name}.db"), str(tmp_path / name)]
        return ProcessSpec(name, argv, "http://127.0.0.1:9/", **options)

    sup = Supervisor([writer("private"), writer("inherits", umask=None)])
    task = asyncio.create_task(sup.run())
    for _ in range(200):
        if (tmp_path / "private").exists() and (tmp_path / "inherits").exists():
            break
        await asyncio.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, 20) == 0
    assert (tmp_path / "private.db").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o700
    with open("/proc/self/status") as fh:
        mask = int(next(line for line in fh if line.startswith("Umask:")).split()[1], 8)
    assert (tmp_path / "inherits.db").stat().st_mode & 0o777 == 0o666 & ~mask
