"""The style-twin comparison (bench.twin_eval): what counts as the same reply."""

from __future__ import annotations

from bench.twin_eval import DATA, Reply, load, report


def _row(n: int) -> dict[str, str]:
    return {"id": f"T{n}", "clean": "问", "dialect": "问嘛", "voice": "嗯问", "meaning": ""}


def test_a_version_agrees_only_with_its_clean_twins_reply() -> None:
    answer = Reply("answer", "health-salt-limit", "")
    rows = [_row(1), _row(2), _row(3)]
    results = [
        # the same entry, reached another way (a debunk is not asked for here)
        {"clean": answer, "dialect": answer, "voice": Reply("debunk", "health-salt-limit", "")},
        # the clean twin answered, the voice one did not
        {"clean": answer, "dialect": answer, "voice": Reply("none", None, "嗯问")},
        # both unanswered in the same way; then another entry
        {
            "clean": Reply("none", None, ""),
            "dialect": Reply("none", None, ""),
            "voice": Reply("answer", "health-oil-limit", ""),
        },
    ]
    lines = report(rows, results, show=5)
    assert "| dialect | 3 | 100.0% (3) |" in lines
    assert "| voice | 3 | 33.3% (1) |" in lines
    assert "| voice | answer → none | 1 |" in lines
    assert "| voice | none → answer | 1 |" in lines
    assert sum(line.startswith("- T") for line in lines) == 2


def test_the_set_holds_three_versions_of_each_message() -> None:
    rows = load(DATA)
    assert len(rows) == 300
    assert len({r["id"] for r in rows}) == 300
    for r in rows:
        assert r["clean"] and r["dialect"] and r["voice"], r["id"]
