"""The pure parts of bench/outreach_broadcast.py: the subscribers it fills, which turns
count as "during", the report. No services are started and nothing is timed."""

from __future__ import annotations

import datetime

from bench import outreach_broadcast as bench
from bench.outreach_broadcast import Phase, Turn


def test_subscribers_are_within_the_window_and_one_each() -> None:
    now = datetime.datetime(2026, 12, 7, 2, tzinfo=datetime.timezone.utc)
    (recipients, _, people), (subs, _, rows) = bench.subscriber_tables(3, now)
    assert recipients == "outreach_recipients" and subs == "outreach_subscriptions"
    assert [p[2] for p in people] == ["o-bench-000001", "o-bench-000002", "o-bench-000003"]
    assert all(now - p[3] == datetime.timedelta(hours=1) for p in people)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (1, "fraud", ""),
        (2, "fraud", ""),
        (3, "fraud", ""),
    ]


def test_only_turns_inside_the_broadcast_count_as_during() -> None:
    phase = Phase("during", [Turn(1.0, 1.5, True), Turn(2.0, 2.2, True), Turn(3.0, 9.0, True)])
    phase.turns.append(Turn(2.5, 2.6, False))
    assert phase.latencies(1.8, 5.0) == [0.20000000000000018]
    assert phase.errors == 1


def test_the_report_says_the_target_and_the_machine() -> None:
    turns = {
        name: {"turns": 100, "errors": 0, "p50_ms": 200.0, "p95_ms": p95}
        for name, p95 in (
            ("before", 400.0),
            ("during", 460.0),
            ("after", 420.0),
            ("baseline", 410.0),
        )
    }
    result = {
        "machine": {"nproc": 2, "cpu": "x", "ram_gib": 8, "python": "3.10"},
        "date": "2026-12-07",
        "load_before": [3.1, 2.0, 1.5],
        "load_after": [3.5, 2.5, 1.8],
        "subscribers": 100_000,
        "backend": "sqlite",
        "users": 8,
        "think": [1.0, 2.0],
        "fill_seconds": 2.5,
        "waited_for_plan_s": 12.0,
        "broadcast_seconds": 500.0,
        "by_status": {"sent": 100_000},
        "standin_messages": 100_000,
        "standin_people": 100_000,
        "people_twice": 0,
        "rss_before_mib": 300.0,
        "rss_peak_mib": 320.0,
        "web_cpu_seconds": 200.0,
        "turns": turns,
        "slowdown_p95": round(460 / 410, 3),
    }
    text = bench.report(result, ".venv/bin/python -m bench.outreach_broadcast")
    assert text.startswith(bench.SECTION)
    assert "100,000 WeChat subscribers" in text and "(200 messages/s)" in text
    assert "load average [3.1, 2.0, 1.5] before" in text
    assert (
        "its journal (a line before each send and after each delivery, no fdatasync): off." in text
    )
    assert "fdatasync): on." in bench.report({**result, "journal": True}, "bench")
    assert "1.12 (target ≤ 1.10: **not met**)" in text
    assert "| while sending | 100 | 0 | 200.0 | 460.0 |" in text
