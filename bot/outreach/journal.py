"""Each worker's journal of the alert deliveries it is about to send, on local disk.

A group's rows go to ``sending`` in one transaction and their outcomes are written in
another (``bot/outreach/engine.py``, "Groups"); a worker that dies in between leaves
the whole group ``sending``, and the database alone cannot say which of its rows
had a call under way and which were never tried. The journal can: just before each
API call the worker appends the delivery's id to its own file, and after a call the
platform answered "delivered" it appends that too. ``recover`` sends the rows a dead
worker's journal names as delivered to ``sent``, the others it names to ``unknown``
(nobody gets two copies) and the rest back to ``pending`` (nobody is skipped). It
costs no database write, only a small write to the file per call.

**Crashes it covers.** A process that dies (killed, out of memory, a bug) leaves what
it wrote in the kernel's page cache: the next worker on this host reads it whole
without any ``fdatasync``. A machine that stops (power, kernel panic) may lose the
last lines, so each journal names the boot it was written in
(``/proc/sys/kernel/random/boot_id``) and one of an earlier boot is not relied on
(its worker's rows are ``unknown``, as without a journal). Where the boot cannot be
read (not Linux) every line is synced before the call (``waits``: the caller then
writes from a thread).

**Files.** ``<directory>/<random>.journal`` (the directory 0700, the files 0600), one
per worker. The worker holds an exclusive ``flock`` on its file from the moment the
file has a name until it stops, and the kernel drops a dead process's locks: a
journal that can be locked belongs to a worker that is gone, whatever its rows'
leases say. A journal's lines::

    kepu-outreach-journal 2 lease=<µs> cap=<µs> pid=<pid> boot=<boot id or ->
    batch <token>                       a batch claimed under <token> (its rows' ``worker``)
    call <id> <token>                   delivery <id> of that batch: its call may have started
    sent <id> <token> <route> <µs>      the platform took it (its route, the time, Unix µs)

The first line gives the worker's ``Policy.lease`` and ``Policy.cap``: a group set its
rows' lease to its start + lease and reserved their people's weekly cap until its
start + cap, so a row given back can give back the cap it took (``hold``). Version 1
journals (every line synced, no boot, no ``sent`` lines) are still read.

**What is kept.** For the batch in hand its ``batch`` line, and the lines of the group
in hand. After a group's outcomes are committed its lines are cut off; a group that
ended otherwise (a call cancelled, its outcomes not written) keeps them until the
next batch starts, when the file goes back to its first line: the file never grows
past one batch line and one group. A clean stop removes it.

**Reading** (``left_behind``): the journals nobody holds. One that cannot be read
whole (a line cut short, as by a write the machine did not finish, or any line that
does not parse), or that was written in another boot, is not relied on at all: its
worker's rows are treated as if it had no journal (``unknown``), which may leave
someone untried but never sends twice.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

MAGIC = "kepu-outreach-journal"
VERSION = "2"
READABLE = frozenset({"1", "2"})
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
SUFFIX = ".journal"
PLACE = "place"  # the directory's id (``place_of``)
# A file being made (before it is locked and named *.journal); one left by a process
# that died in those few instructions is removed after this long.
UNFINISHED = ".journal-new"
UNFINISHED_AGE = 60.0
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_sync = getattr(os, "fdatasync", os.fsync)  # the data and the size; no other metadata


class JournalError(OSError):
    """A journal cannot be made or written: no call may start until it can."""


@contextlib.contextmanager
def _failing(what: str, path: Path) -> Iterator[None]:
    """``OSError`` as ``JournalError``, saying which journal and what was being done."""
    try:
        yield
    except JournalError:
        raise
    except OSError as exc:
        raise JournalError(exc.errno, f"outreach journal {path}: {what}: {exc}") from exc


def _micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def boot_id() -> str | None:
    """This boot of the machine (Linux), or None where it cannot be told."""
    try:
        found = BOOT_ID.read_text().strip()
    except OSError:
        return None
    return found if found and found.isprintable() and " " not in found else None


class Journal:
    """This worker's journal: created, locked and named by ``create``, written by
    ``begin``, ``note``, ``delivered`` and ``settle``, removed by ``close``.

    Where ``waits`` (no boot id), ``begin`` and ``note`` wait for the disk: call them
    in a thread. Every method holds the journal's lock, so a ``note`` still running
    in its thread after its task was cancelled finishes before the file is cut."""

    def __init__(self, path: Path, fd: int, start: int, waits: bool = True) -> None:
        self.path = path
        self.waits = waits  # lines synced one by one (no boot id to scope them)
        self._fd = fd
        self._start = start  # the end of the first line
        self._end = start  # the end of what was written whole
        self._mark = start  # where a settled group's lines begin
        self._torn = False  # a write failed: what lies past _end is cut before the next
        self._lock = threading.Lock()

    @classmethod
    def create(cls, directory: Path, lease: timedelta, cap: timedelta) -> Journal:
        """A new journal in ``directory`` (made 0700 if missing): written, synced and
        locked under a name nobody reads, then renamed, so that every ``*.journal``
        is whole and either locked by a live worker or left by a dead one."""
        with _failing("create", directory):
            return cls._create(directory, lease, cap)

    @classmethod
    def _create(cls, directory: Path, lease: timedelta, cap: timedelta) -> Journal:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if directory.stat().st_mode & 0o077:
            os.chmod(directory, 0o700)
        boot = boot_id()
        name = uuid.uuid4().hex
        unfinished = directory / f"{name}{UNFINISHED}"
        fd = os.open(unfinished, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            first = (
                f"{MAGIC} {VERSION} lease={_micros(lease)} cap={_micros(cap)} "
                f"pid={os.getpid()} boot={boot or '-'}\n"
            ).encode()
            _write_all(fd, first, 0)
            _sync(fd)
            path = directory / f"{name}{SUFFIX}"
            os.rename(unfinished, path)
            _sync_directory(directory)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(unfinished)
            raise
        return cls(path, fd, len(first), waits=boot is None)

    def begin(self, token: str) -> None:
        """A batch claimed under ``token``, before any of its rows is ``sending``:
        the lines of earlier batches go (their groups were settled; a row one of them
        left in doubt is then ``unknown`` as without a journal), and this one's batch
        line is written and synced."""
        with self._lock, _failing("begin a batch", self.path):
            self._cut(self._start)
            self._append(f"batch {token}\n")
            self._mark = self._end

    def note(self, token: str, delivery_id: int) -> None:
        """Delivery ``delivery_id`` of batch ``token`` is about to be sent: returns
        once the line is written (on disk where ``waits``). Raises ``JournalError``
        if it cannot be written (the call must then not be made)."""
        with self._lock, _failing("note a call", self.path):
            self._append(f"call {delivery_id} {token}\n")

    def delivered(self, token: str, delivery_id: int, route: str, at: datetime) -> None:
        """The platform took delivery ``delivery_id``'s message (by ``route``, at
        ``at``): if this worker dies before the group's outcomes are written, the row
        is ``sent``, not in doubt. Never synced: losing the line only leaves the row
        ``unknown``. Raises ``JournalError`` like ``note``."""
        if not route or not route.isascii() or not route.isprintable() or " " in route:
            raise ValueError(f"outreach journal: a route must be one printable word: {route!r}")
        micros = _micros(at - EPOCH)
        with self._lock, _failing("note a delivery", self.path):
            self._append(f"sent {delivery_id} {token} {route} {micros}\n", sync=False)

    def settle(self, written: bool) -> None:
        """A group has ended. ``written``: its outcomes were committed and none of its
        rows is left ``sending``, so its lines are cut off. Otherwise they stay (until
        the next batch), as ``recover`` will need them if this worker dies."""
        with self._lock, _failing("settle a group", self.path):
            if written:
                self._cut(self._mark)
            else:
                self._mark = self._end

    def close(self) -> None:
        """A clean stop: the file is removed, then closed (its lock goes with it).
        Rows of this worker still ``sending`` (a call cancelled) become ``unknown``
        after their lease, as without a journal."""
        with self._lock, _failing("close", self.path):
            if self._fd < 0:
                return
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            os.close(self._fd)
            self._fd = -1

    def _append(self, line: str, sync: bool = True) -> None:
        data = line.encode()
        if self._torn:
            os.ftruncate(self._fd, self._end)
            self._torn = False
        try:
            _write_all(self._fd, data, self._end)
            if sync and self.waits:
                _sync(self._fd)
        except BaseException:
            self._torn = True
            raise
        self._end += len(data)

    def _cut(self, offset: int) -> None:
        if self._end != offset or self._torn:
            os.ftruncate(self._fd, offset)
            self._end = offset
            self._torn = False


def place_of(directory: Path) -> str:
    """The id of this journal directory (of its host's ``var/``), made by the first
    worker that asks: workers that keep their journals here end their batch tokens
    with ``@<place>``, so that a worker elsewhere can tell a row whose journal may yet
    be read on its own host (``Policy.foreign_grace``) from one whose worker kept no
    journal at all."""
    with _failing("read its place", directory):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / PLACE
        try:
            found = path.read_text().strip()
        except FileNotFoundError:
            found = ""
        if not found:
            # Written whole under another name, then linked: a racing worker's link
            # fails and both read the same id.
            made = directory / f"{PLACE}.{uuid.uuid4().hex}"
            made.write_text(uuid.uuid4().hex[:12] + "\n")
            os.chmod(made, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(made, path)
            made.unlink()
            found = path.read_text().strip()
    if not (len(found) == 12 and found.isascii() and found.isalnum()):
        raise JournalError(errno.EINVAL, f"outreach journal {directory}: a bad place id")
    return found


def _write_all(fd: int, data: bytes, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        if written <= 0:
            raise OSError(errno.ENOSPC, "outreach journal: nothing written")
        data, offset = data[written:], offset + written


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Remains:
    """The journal of a worker that is gone."""

    path: Path
    whole: bool  # every line read and understood, in this boot: it may be relied on
    hold: timedelta  # cap - lease: a row's cap was reserved until its lease_until + hold
    calls: Mapping[str, frozenset[int]]  # batch token -> deliveries whose call may have started
    # batch token -> deliveries the platform took -> (route, when)
    sent: Mapping[str, Mapping[int, tuple[str, datetime]]] = field(default_factory=dict)


def parse(path: Path, text: str, boot: str | None = None) -> Remains:
    """What a journal's text says; ``whole`` is False if any line is cut short or
    does not parse, or if its lines were not synced and it was written in a boot
    other than ``boot`` (this one's; None: unknown). The batches read up to a fault
    are still listed, for clean-up."""
    calls: dict[str, set[int]] = {}
    sent: dict[str, dict[int, tuple[str, datetime]]] = {}
    lines = text.split("\n")
    whole = lines[-1] == ""  # the last line ends with its newline
    lines = lines[:-1]
    hold = timedelta(0)
    if not lines or not _first_line(lines[0]):
        return Remains(path, False, hold, {})
    fields: dict[str, str] = {}
    for part in lines[0].split()[2:]:
        key, _, value = part.partition("=")
        fields[key] = value
    try:
        hold = timedelta(microseconds=int(fields["cap"]) - int(fields["lease"]))
    except (KeyError, ValueError):
        whole = False
    if lines[0].split()[1] != "1" and fields.get("boot") != "-":
        # Lines not synced one by one: only as good as the page cache they were in.
        whole = whole and boot is not None and fields.get("boot") == boot
    for line in lines[1:]:
        kind, _, rest = line.partition(" ")
        if kind == "batch" and rest and " " not in rest:
            calls.setdefault(rest, set())
            sent.setdefault(rest, {})
            continue
        parts = rest.split(" ")
        if (
            not parts[0].isascii()
            or not parts[0].isdigit()
            or parts[1:2] == []
            or (parts[1] not in calls)
        ):
            whole = False
            break
        delivery, token = int(parts[0]), parts[1]
        if kind == "call" and len(parts) == 2:
            calls[token].add(delivery)
            continue
        if kind == "sent" and len(parts) == 4 and delivery in calls[token]:
            at = _instant(parts[3])
            if parts[2] and at is not None:
                sent[token][delivery] = (parts[2], at)
                continue
        whole = False
        break
    return Remains(
        path,
        whole,
        hold,
        {token: frozenset(ids) for token, ids in calls.items()},
        {token: found for token, found in sent.items() if found},
    )


def _instant(micros: str) -> datetime | None:
    if not micros.isascii() or not micros.isdigit():
        return None
    return EPOCH + timedelta(microseconds=int(micros))


def _first_line(line: str) -> bool:
    words = line.split()
    return len(words) >= 2 and words[0] == MAGIC and words[1] in READABLE


def left_behind(directory: Path) -> list[Remains]:
    """The journals in ``directory`` that no live worker holds, read; unfinished files
    of workers that died while making one are removed."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    found: list[Remains] = []
    boot = boot_id()
    for name in names:
        path = directory / name
        if name.endswith(UNFINISHED):
            _remove_unfinished(path)
        elif name.endswith(SUFFIX):
            text = _read_unheld(path)
            if text is not None:
                found.append(parse(path, text, boot))
    return found


def _read_unheld(path: Path) -> str | None:
    """The text of ``path`` if no process holds its lock (its worker is gone), else
    None. Readers share the lock, so two workers may read one journal at once."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None  # removed meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # its worker is alive
        with os.fdopen(os.dup(fd), "rb") as file:
            return file.read().decode("utf-8", errors="replace")
    finally:
        os.close(fd)


def _remove_unfinished(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        if time.time() - os.fstat(fd).st_mtime > UNFINISHED_AGE:
            path.unlink(missing_ok=True)
    except BlockingIOError:
        pass  # being made
    finally:
        os.close(fd)


def remove(remains: Remains) -> None:
    """Delete a dead worker's journal once its rows are recovered."""
    remains.path.unlink(missing_ok=True)
