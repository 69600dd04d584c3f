"""A worker's journal on disk (bot/outreach/journal.py): private, locked while its
worker lives, cut back after each group, read whole or not relied on at all."""

from __future__ import annotations

import os
import stat
import time
from datetime import timedelta

import pytest

from bot.outreach.journal import Journal, JournalError, left_behind, parse

LEASE = timedelta(minutes=5)
CAP = timedelta(days=7)
FIRST = f"kepu-outreach-journal 1 lease=300000000 cap=604800000000 pid={os.getpid()}\n"


def dies(journal: Journal) -> None:
    """What the kernel does for a process that dies: its files are closed (the
    journal's lock with them); nothing is removed."""
    os.close(journal._fd)


def test_a_journal_is_private_and_holds_one_batch_and_one_group(tmp_path) -> None:
    directory = tmp_path / "outreach-journal"
    journal = Journal.create(directory, LEASE, CAP)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert os.listdir(directory) == [journal.path.name]
    journal.begin("w:b1")
    journal.note("w:b1", 7)
    journal.note("w:b1", 8)
    assert journal.path.read_text() == FIRST + "batch w:b1\ncall 7 w:b1\ncall 8 w:b1\n"
    journal.settle(True)  # the group's outcomes are written: its lines go
    assert journal.path.read_text() == FIRST + "batch w:b1\n"
    journal.note("w:b1", 9)
    journal.settle(False)  # a call in doubt: its lines stay for the rest of the batch
    journal.note("w:b1", 10)
    journal.settle(True)
    assert journal.path.read_text() == FIRST + "batch w:b1\ncall 9 w:b1\n"
    journal.begin("w:b2")  # a new batch: back to the first line
    assert journal.path.read_text() == FIRST + "batch w:b2\n"
    journal.close()  # a clean stop
    assert os.listdir(directory) == []
    journal.close()  # twice: nothing more


def test_a_folder_others_can_read_is_made_private(tmp_path) -> None:
    directory = tmp_path / "outreach-journal"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    Journal.create(directory, LEASE, CAP).close()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_only_a_dead_workers_journal_is_read(tmp_path) -> None:
    alive = Journal.create(tmp_path, LEASE, CAP)
    alive.begin("live:b1")
    alive.note("live:b1", 1)
    dead = Journal.create(tmp_path, timedelta(minutes=2), CAP)
    dead.begin("dead:b1")
    dead.note("dead:b1", 4)
    dead.note("dead:b1", 5)
    dies(dead)
    (found,) = left_behind(tmp_path)  # the live one is locked: not read
    assert found.path == dead.path and found.whole
    assert found.calls == {"dead:b1": frozenset({4, 5})}
    assert found.hold == CAP - timedelta(minutes=2)  # its own lease, not ours
    assert left_behind(tmp_path) == [found]  # reading removes nothing
    alive.close()
    assert left_behind(tmp_path / "none") == []


def test_a_journal_not_read_whole_is_not_relied_on(tmp_path) -> None:
    path = tmp_path / "x.journal"
    whole = parse(path, FIRST + "batch a:1\ncall 3 a:1\nbatch a:2\n")
    assert whole.whole and whole.calls == {"a:1": frozenset({3}), "a:2": frozenset()}
    for text in (
        FIRST + "batch a:1\ncall 3 a:1\ncall 4",  # the last line cut short
        FIRST + "batch a:1\ncall 3 a:1\ncall 4 a:",  # ... even where it might parse
        FIRST + "batch a:1\ncall x a:1\ncall 4 a:1\n",  # a line that does not parse
        FIRST + "batch a:1\ncall \u00b2 a:1\n",  # a digit, but not an ASCII one
        FIRST + "call 3 a:1\n",  # a call of no batch
        FIRST.replace("cap=604800000000", "cap=") + "batch a:1\n",
        "batch a:1\ncall 3 a:1\n",  # no first line
        FIRST[:20],
        "",
    ):
        read = parse(path, text)
        assert not read.whole, text
    # The batches read before the fault are still named (for removing the file).
    assert parse(path, FIRST + "batch a:1\ncall 3").calls == {"a:1": frozenset()}


def test_a_write_that_failed_is_cut_before_the_next(tmp_path, monkeypatch) -> None:
    journal = Journal.create(tmp_path, LEASE, CAP)
    journal.begin("w:b1")
    real = os.pwrite

    def half(fd: int, data: bytes, offset: int) -> int:
        real(fd, data[:4], offset)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", half)
    with pytest.raises(JournalError, match="note a call"):
        journal.note("w:b1", 7)
    monkeypatch.setattr(os, "pwrite", real)
    journal.note("w:b1", 8)
    assert journal.path.read_text() == FIRST + "batch w:b1\ncall 8 w:b1\n"
    journal.close()


def test_a_file_left_half_made_goes_once_it_is_old(tmp_path) -> None:
    old = tmp_path / "a.journal-new"
    old.write_text("kepu-outreach-")
    os.utime(old, (time.time() - 120, time.time() - 120))
    new = tmp_path / "b.journal-new"
    new.write_text("")
    assert left_behind(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == ["b.journal-new"]
