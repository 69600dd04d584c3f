"""Run the Rasa server, the action server and the web service as one unit.

Each child runs in its own process group and is told by the kernel to stop if
the supervisor dies (``PR_SET_PDEATHSIG``), so neither Ctrl-C, SIGTERM nor a
killed supervisor leaves orphans. When one child exits on its own the others
are stopped too: a half-running assistant is worse than a stopped one.

Children run with the umask 077 by default (``ProcessSpec.umask``): whatever
they create (databases, journals, logs, pictures) is readable by the service's
user only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import signal
import sys
import time
from dataclasses import dataclass, field

import aiohttp

STOP_GRACE_SECONDS = 10.0
PRIVATE_UMASK = 0o077
_PR_SET_PDEATHSIG = 1


@dataclass
class ProcessSpec:
    """One child process and how to tell that it is ready."""

    name: str
    argv: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    # Files and folders the child creates: owner only (None: inherit the umask).
    umask: int | None = PRIVATE_UMASK


def _die_with_parent(umask: int | None = None) -> None:  # in the child, between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if umask is not None:
        os.umask(umask)


class Supervisor:
    """Start children, report readiness, stop them all on a signal or a crash."""

    def __init__(self, specs: list[ProcessSpec], ready_timeout: float = 300.0) -> None:
        self.specs = specs
        self.ready_timeout = ready_timeout
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self._stop = asyncio.Event()
        self._reason = ""

    async def run(self, on_ready: str = "") -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._request_stop, f"signal {sig.name}")
        try:
            for spec in self.specs:
                self.procs[spec.name] = await asyncio.create_subprocess_exec(
                    *spec.argv,
                    env={**os.environ, **spec.env},
                    start_new_session=True,
                    preexec_fn=functools.partial(_die_with_parent, spec.umask),
                )
                _say(f"started {spec.name} (pid {self.procs[spec.name].pid})")
            watchers = [asyncio.create_task(self._watch(n, p)) for n, p in self.procs.items()]
            ready = asyncio.create_task(self._wait_ready(on_ready))
            await self._stop.wait()
            ready.cancel()
            for w in watchers:
                w.cancel()
        finally:
            await self.stop_all()
        _say(f"stopped ({self._reason})")
        return 0 if self._reason.startswith("signal") else 1

    def _request_stop(self, reason: str) -> None:
        if not self._stop.is_set():
            self._reason = reason
            self._stop.set()

    async def _watch(self, name: str, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        self._request_stop(f"{name} exited with code {code}")

    async def _wait_ready(self, message: str) -> None:
        started = time.monotonic()
        pending = {s.name: s.ready_url for s in self.specs}
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while pending:
                if time.monotonic() - started > self.ready_timeout:
                    self._request_stop(
                        f"not ready after {self.ready_timeout:.0f}s: {sorted(pending)}"
                    )
                    return
                for name, url in list(pending.items()):
                    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                        async with session.get(url) as resp:
                            if resp.status < 500:
                                del pending[name]
                                _say(f"{name} ready after {time.monotonic() - started:.1f}s")
                await asyncio.sleep(0.5)
        if message:
            _say(message)

    async def stop_all(self) -> None:
        """SIGTERM every process group, then SIGKILL what is left after a grace period."""
        alive = {n: p for n, p in self.procs.items() if p.returncode is None}
        for proc in alive.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in alive.items():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                await asyncio.wait_for(proc.wait(), remaining)
            except asyncio.TimeoutError:
                _say(f"{name} did not stop in {STOP_GRACE_SECONDS:.0f}s; killing it")
                _signal_group(proc.pid, signal.SIGKILL)
                await proc.wait()
        # Grandchildren (e.g. worker processes) share the group: make sure they are gone.
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _say(text: str) -> None:
    print(f"[kepu] {text}", file=sys.stderr, flush=True)
