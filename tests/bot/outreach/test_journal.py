"""A worker's journal on disk (bot/outreach/journal.py): private, locked while its
worker lives, cut back after each group, read whole or not relied on at all."""

from __future__ import annotations

import os
import stat
import time
from datetime import datetime, timedelta, timezone

import pytest

from bot.outreach import journal as journals
from bot.outreach.journal import Journal, JournalError, boot_id, left_behind, parse

LEASE = timedelta(minutes=5)
CAP = timedelta(days=7)
BOOT = boot_id()
FIRST = (
    f"kepu-outreach-journal 2 lease=300000000 cap=604800000000 pid={os.getpid()} "
    f"boot={BOOT or '-'}\n"
)
AT = datetime(2026, 12, 7, 9, 30, tzinfo=timezone.utc)


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
    whole = parse(path, FIRST + "batch a:1\ncall 3 a:1\nbatch a:2\n", BOOT)
    assert whole.whole and whole.calls == {"a:1": frozenset({3}), "a:2": frozenset()}
    for text in (
        FIRST + "batch a:1\ncall 3 a:1\nsent 4 a:1 custom 1\n",  # taken, but never called
        FIRST + "batch a:1\ncall 3 a:1\nsent 3 a:1 custom\n",  # no time
        FIRST + "batch a:1\ncall 3 a:1\nsent 3 a:1 custom 17x\n",
        FIRST + "batch a:1\ncall 3 a:1 extra\n",
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
        read = parse(path, text, BOOT)
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


def test_a_delivery_the_platform_took_is_read_back_with_its_route_and_time(tmp_path) -> None:
    journal = Journal.create(tmp_path, LEASE, CAP)
    journal.begin("w:b1")
    journal.note("w:b1", 7)
    journal.delivered("w:b1", 7, "custom", AT)
    journal.note("w:b1", 8)  # its call under way when the worker died
    with pytest.raises(ValueError, match="one printable word"):
        journal.delivered("w:b1", 8, "two words", AT)
    dies(journal)
    (found,) = left_behind(tmp_path)
    assert found.whole
    assert found.calls == {"w:b1": frozenset({7, 8})}
    assert found.sent == {"w:b1": {7: ("custom", AT)}}


def test_lines_wait_for_the_disk_only_where_the_boot_cannot_be_told(tmp_path, monkeypatch) -> None:
    """Within one boot the kernel keeps what a killed process wrote, so no line is
    synced (only the new file); without a boot id every call's line is, before it."""
    synced: list[int] = []
    monkeypatch.setattr(journals, "_sync", synced.append)
    if BOOT is not None:
        quick = Journal.create(tmp_path / "a", LEASE, CAP)
        assert not quick.waits
        synced.clear()
        quick.begin("w:b1")
        quick.note("w:b1", 1)
        quick.delivered("w:b1", 1, "custom", AT)
        assert synced == []
        quick.close()
    monkeypatch.setattr(journals, "BOOT_ID", tmp_path / "no-such-file")
    careful = Journal.create(tmp_path / "b", LEASE, CAP)
    assert careful.waits and careful.path.read_text().endswith(" boot=-\n")
    synced.clear()
    careful.begin("w:b1")
    careful.note("w:b1", 1)
    careful.delivered("w:b1", 1, "custom", AT)  # losing it costs only a row in doubt
    assert len(synced) == 2
    dies(careful)
    (found,) = left_behind(tmp_path / "b")  # synced lines: relied on in any boot
    assert found.whole and found.sent == {"w:b1": {1: ("custom", AT)}}


def test_unsynced_lines_are_relied_on_only_in_the_boot_that_wrote_them(tmp_path) -> None:
    path = tmp_path / "x.journal"
    first = "kepu-outreach-journal 2 lease=300000000 cap=604800000000 pid=1 boot=b-1\n"
    text = first + "batch a:1\ncall 3 a:1\n"
    assert parse(path, text, "b-1").whole
    assert not parse(path, text, "b-2").whole  # the machine restarted since
    assert not parse(path, text, None).whole  # this boot cannot be told
    assert parse(path, text.replace("boot=b-1", "boot=-"), "b-2").whole  # synced
    # A journal of the first version (every line synced) is still read.
    old = "kepu-outreach-journal 1 lease=300000000 cap=604800000000 pid=1\n"
    assert parse(path, old + "batch a:1\ncall 3 a:1\n", None).whole


def test_a_journal_folder_has_one_private_place_id(tmp_path) -> None:
    directory = tmp_path / "outreach-journal"
    place = journals.place_of(directory)
    assert len(place) == 12 and place.isalnum()
    assert journals.place_of(directory) == place  # made once, then read
    assert stat.S_IMODE((directory / "place").stat().st_mode) == 0o600
    assert os.listdir(directory) == ["place"]
    assert journals.place_of(tmp_path / "elsewhere") != place
    (directory / "place").write_text("../../x\n")
    with pytest.raises(JournalError, match="a bad place id"):
        journals.place_of(directory)
