"""The pure parts of bench/profile_turn.py: reading py-spy's flame graph, sorting stacks
into categories, the per-process split and the table. Nothing is started or sampled."""

from __future__ import annotations

import pytest

from bench import profile_turn as pt


def _frame(name: str, depth: int, x: int, w: int) -> str:
    total = 10
    y = 52 + 16 * depth  # py-spy draws icicles: the root on top
    return (
        f"<g><title>{name} ({w} samples, {w / total * 100:.2f}%)</title>"
        f'<rect x="{x * 10}%" y="{y}" width="{w * 10}%" height="15" fill="rgb(1,2,3)" '
        f'fg:x="{x}" fg:w="{w}"/><text x="0" y="0"></text></g>'
    )


SVG = (
    "<svg>"
    + "".join(
        [
            _frame("all", 0, 0, 10),
            _frame("handle_message (rasa/core/processor.py)", 1, 0, 10),
            _frame("save (bot/channels/tracker_store.py)", 2, 0, 4),
            _frame("execute (sqlalchemy/engine/base.py)", 3, 0, 3),
            _frame("_predict (rasa/nlu/classifiers/diet_classifier.py)", 2, 4, 3),
            _frame("__call__ (tensorflow/python/eager/def_function.py)", 3, 4, 3),
            _frame("dumps (json/__init__.py)", 2, 7, 2),
        ]
    )
    + "</svg>"
)


def test_the_frame_tree_and_self_time_come_back_from_the_svg() -> None:
    root = pt.parse_flamegraph(SVG)
    assert root is not None and root.name == "all" and root.w == 10
    found = dict((stack[-1], n) for stack, n in pt.stacks(root))
    assert found == {
        "handle_message (rasa/core/processor.py)": 1,
        "save (bot/channels/tracker_store.py)": 1,
        "execute (sqlalchemy/engine/base.py)": 3,
        "__call__ (tensorflow/python/eager/def_function.py)": 3,
        "dumps (json/__init__.py)": 2,
    }
    assert pt.parse_flamegraph("<svg></svg>") is None


def test_helpers_count_for_the_caller_found_further_out() -> None:
    assert pt.categorize(pt.parse_flamegraph(SVG)) == {
        "Rasa message processing": 1,
        "tracker store (SQL, events to and from rows)": 4,
        "DIET inference (Python side of TF)": 3,
        "JSON (de)serialisation": 2,
    }
    # A helper with no known caller keeps its own category; unknown code is "other".
    assert pt.classify(["run (threading.py)", "execute (sqlalchemy/engine/base.py)"]) == (
        "SQL (SQLAlchemy, sqlite3)"
    )
    assert pt.classify(["select (selectors.py)"]) == pt.OTHER
    search = [
        "run (actions/understand.py)",
        "search (bot/knowledge/search.py)",
        "cut (jieba/__init__.py)",
    ]
    assert pt.classify(search) == "search and understanding"


def test_python_cpu_is_split_by_samples_and_native_threads_have_their_row() -> None:
    prof = pt.ProcessProfile(
        role="rasa",
        pid=1,
        cpu_ms_per_turn=30.0,
        native_ms_per_turn=6.0,
        gil_ms_per_turn=18.0,
        samples={"a": 2, "b": 1},
        threads={},
    )
    assert prof.rows() == pytest.approx(
        {"a": 12.0, "b": 6.0, pt.GIL_RELEASED: 6.0, pt.NATIVE_THREADS: 6.0}
    )
    busy = pt.ProcessProfile("rasa", 1, 30.0, 6.0, 40.0, {"a": 1}, {})  # GIL held while descheduled
    assert busy.rows() == pytest.approx({"a": 24.0, pt.NATIVE_THREADS: 6.0})


def test_table_puts_profiles_side_by_side() -> None:
    one = {
        "label": "before",
        "cpu_ms_per_turn": 10.0,
        "throughput": 5.0,
        "processes": {"rasa": {"cpu_ms_per_turn": 10.0, "ms_per_turn": {"x": 7.0, "y": 3.0}}},
    }
    two = {**one, "label": "after", "cpu_ms_per_turn": 8.0}
    two["processes"] = {"rasa": {"cpu_ms_per_turn": 8.0, "ms_per_turn": {"x": 5.0}}}
    text = "\n".join(pt.table([one, two]))
    assert "| rasa | x | 7.0 | 5.0 |" in text and "| rasa | y | 3.0 | – |" in text
    assert "| all | **CPU ms per turn** | **10.0** | **8.0** |" in text


def test_arguments_are_checked() -> None:
    assert pt.parse_args([]).label == "before"
    with pytest.raises(SystemExit):
        pt.parse_args(["--label", "Bad Label"])
    with pytest.raises(SystemExit):
        pt.parse_args(["--rate", "0"])
