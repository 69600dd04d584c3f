"""The pure parts of bench/growth.py's modules: a measurement's row and the growth
table. Nothing is measured."""

from __future__ import annotations

import math
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from bench import growth_report, throwaway_db, timing


def test_a_row_has_the_median_and_the_95th_percentile_of_its_samples() -> None:
    assert timing.quantiles([5.0, 1.0, 3.0, 2.0, 4.0]) == (3.0, 4.0)
    row = timing.row(1000, "search", [1.0, 2.0, 3.0], build_s=0.5)
    assert (row["size"], row["operation"], row["p50"], row["p95"], row["n"]) == (
        1000,
        "search",
        2.0,
        2.0,
        3,
    )
    assert row["build_s"] == 0.5 and row["load"] >= 0
    assert "p50" not in timing.row(10, "nothing timed")
    assert len(timing.timed(lambda: None, repeat=3)) == 3


def test_the_table_gives_growth_over_the_same_operation_ten_times_smaller() -> None:
    rows = [
        {"size": 1000, "operation": "search", "load": 0.5, "p50": 1.0, "build_s": 0.1},
        {"size": 10000, "operation": "search", "load": 0.7, "p50": 2.5, "build_s": 0.4},
        {"size": 10000, "operation": "match", "error": 1},
    ]
    lines = growth_report.table(rows).splitlines()
    assert lines[2] == "| 1,000 | search | 1.00 | — | 0.10 | — | — | — | 0.50 |"
    assert lines[3] == "| 10,000 | search | 2.50 | — | 0.40 | — | 2.5× | 4.0× | 0.70 |"
    assert lines[4] == "| 10,000 | match | failed (1) |||||||"
    assert growth_report.fmt(1234.5, " ms") == "1,234 ms" and growth_report.fmt(12.34) == "12.3"
    assert growth_report.fmt(None) == growth_report.fmt(math.nan) == "—"


def test_rows_are_bulk_loaded_into_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT)")
    throwaway_db.load_sqlite(
        path, [("t", "id, at", [(1, datetime(2026, 1, 2, 3, 4, 5)), (2, "x")])]
    )
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT id, at FROM t ORDER BY id").fetchall() == [
            (1, "2026-01-02 03:04:05.000000"),
            (2, "x"),
        ]


def test_the_report_of_no_rows_is_the_table_head(capsys: pytest.CaptureFixture) -> None:
    growth_report.report([])
    assert capsys.readouterr().out.count("\n") == 2
