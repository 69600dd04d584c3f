"""The charts of each statistics table, for the 统计 page and the monthly report."""

from __future__ import annotations

import functools
from typing import Any

from bot.insights import charts
from bot.insights.stats import OUTCOMES, Table


def _numbers(rows: list[list[Any]], column: int) -> list[float | None]:
    return [row[column] if row[column] is None else float(row[column]) for row in rows]


def chart_count(table: Table) -> int:
    """How many charts ``draw`` makes of the table (without drawing them)."""
    if table.key == "feedback" or not _drawable(table):
        return 0
    return 3 if table.key == "daily" else 1


def _drawable(table: Table) -> bool:
    """Something to draw: a number that is neither zero nor hidden (all hidden or
    all zero: the table says so better than an empty chart)."""
    return any(isinstance(v, int | float) and v for row in table.rows for v in row[1:])


def draw_all(tables: list[Table]) -> dict[str, list[str]]:
    """The charts of each table (by key), as SVG."""
    return {table.key: draw(table) for table in tables}


def draw(table: Table) -> list[str]:
    """The table's charts; the same figures are drawn once (a past period's never
    change, and today's are read at most once a minute: ``bot.insights.stats``)."""
    return list(_draw(table.key, table.title, tuple(tuple(row) for row in table.rows)))


@functools.lru_cache(maxsize=256)
def _draw(key: str, title: str, frozen: tuple[tuple[Any, ...], ...]) -> tuple[str, ...]:
    return tuple(_charts(Table(key, title, [], [list(row) for row in frozen])))


def _charts(table: Table) -> list[str]:
    rows = table.rows
    if not _drawable(table):
        return []  # nothing to draw: the page says so in words
    if table.key == "daily":
        days = [row[0][5:] for row in rows]
        users = charts.line_chart(
            days,
            {"用户": _numbers(rows, 1), "新用户": _numbers(rows, 2)},
            title="每天的用户",
            unit="人",
        )
        outcomes = charts.stacked_bar_chart(
            days,
            {label: _numbers(rows, 6 + i) for i, label in enumerate(OUTCOMES.values())},
            title="每天的提问：直接回答、给出选项、没答上",
            unit="次",
        )
        rate = charts.line_chart(
            days,
            {"没答上的比例": [float(r[-1][:-1]) if r[-1] else None for r in rows]},
            title="没答上的比例（%）",
            percent=True,
        )
        return [users, outcomes, rate]
    if table.key in ("feedback",):
        return []
    if table.key == "hours":
        return [
            charts.bar_chart(
                [row[0][:2] for row in rows],
                _numbers(rows, 1),
                title=table.title,
                horizontal=False,
                unit="条",
            )
        ]
    label_columns = len(rows[0]) - 1 if rows else 1
    if table.key in ("entry", "debunk"):
        labels = [str(row[1]) for row in rows]
    else:
        labels = [" · ".join(str(v) for v in row[:label_columns]) for row in rows]
    return [charts.bar_chart(labels, _numbers(rows, label_columns), title=table.title)]
