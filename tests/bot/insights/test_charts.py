"""Server-drawn SVG charts: safe to inline, text kept as text, hidden cells shown as "<5"."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.insights import charts

ROOT = Path(__file__).resolve().parents[3]
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
DAYS = [f"12-{day:02d}" for day in range(1, 31)]


def texts(svg: str) -> list[str]:
    """What the <text> elements say, as the browser shows it."""
    return [el.text or "" for el in ET.fromstring(svg).iter(f"{SVG}text")]


SAMPLES = {
    "horizontal bars": lambda: charts.bar_chart(
        ["怎么激活医保卡", "$100$ 红包", "天气"], [12, None, 0], title="常见问题", unit="次"
    ),
    "vertical bars": lambda: charts.bar_chart(
        ["微信", "企业微信", "网页"], [120, 45, None], title="各渠道", horizontal=False
    ),
    "lines": lambda: charts.line_chart(
        DAYS, {"提问": list(range(30)), "没答上": [None] * 10 + [3] * 20}, title="每天的提问"
    ),
    "stacked bars": lambda: charts.stacked_bar_chart(
        DAYS[:7],
        {"直接回答": [9, 8, 7, 6, 5, 4, 3], "没答上": [None, 5, 6, 7, 8, 9, 10]},
        title="每天的回答",
    ),
    "empty": lambda: charts.empty_chart("没有数据的图"),
}


@pytest.fixture(scope="module")
def drawn() -> dict[str, str]:
    return {name: draw() for name, draw in SAMPLES.items()}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_inline_svg_is_well_formed_and_labelled(drawn: dict[str, str], name: str) -> None:
    svg = drawn[name]
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root[0].tag == f"{SVG}title" and root[0].text == root.get("aria-label")
    assert root.get("width") == "100%" and root.get("height") is None
    assert re.fullmatch(r"0 0 720 \d+(\.\d+)?", root.get("viewBox", ""))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_nothing_runs_or_loads_from_elsewhere(drawn: dict[str, str], name: str) -> None:
    svg = drawn[name]
    assert "<script" not in svg.lower() and "<!doctype" not in svg.lower()
    assert "<metadata" not in svg and "<style" not in svg
    assert set(re.findall(r"https?://[^\"'\s]*", svg)) <= NAMESPACES
    for element in ET.fromstring(svg).iter():
        for key, value in element.attrib.items():
            assert not key.startswith("on")
            if key in ("href", f"{XLINK}href"):
                assert value.startswith("#")
            # The console's CSP (style-src 'self') blocks style attributes.
            assert key != "style", element.tag


def test_chinese_labels_are_text(drawn: dict[str, str]) -> None:
    assert "怎么激活医保卡" in texts(drawn["horizontal bars"])
    assert "常见问题" in texts(drawn["horizontal bars"])
    assert {"直接回答", "没答上"} <= set(texts(drawn["stacked bars"]))
    assert {"提问", "没答上"} <= set(texts(drawn["lines"]))


def test_hidden_values_show_as_less_than_five(drawn: dict[str, str]) -> None:
    assert "<5" in texts(drawn["horizontal bars"])
    assert "<5" in texts(drawn["vertical bars"])
    # One "<5" above the only day with a hidden part.
    assert texts(drawn["stacked bars"]).count("<5") == 1


def test_values_are_written_and_first_label_is_on_top(drawn: dict[str, str]) -> None:
    assert "12次" in texts(drawn["horizontal bars"])
    assert "0次" not in texts(drawn["horizontal bars"])  # zeros go unlabelled
    root = ET.fromstring(drawn["horizontal bars"])
    y = {el.text: float(el.get("y")) for el in root.iter(f"{SVG}text")}
    assert y["怎么激活医保卡"] < y["$100$ 红包"] < y["天气"]


def test_dollar_signs_are_not_mathtext(drawn: dict[str, str]) -> None:
    assert "$100$ 红包" in texts(drawn["horizontal bars"])
    svg = charts.line_chart(["1"], {"$x$": [1], "$y$": [2]}, title="$\\alpha$ 与 $100$")
    assert "$\\alpha$ 与 $100$" in texts(svg)
    assert {"$x$", "$y$"} <= set(texts(svg))


def test_same_data_same_bytes(drawn: dict[str, str]) -> None:
    for name, draw in SAMPLES.items():
        assert draw() == drawn[name], name


def test_ids_differ_between_charts(drawn: dict[str, str]) -> None:
    """Several charts inline on one page must not share ids."""

    def ids(svg: str) -> set[str]:
        return {el.get("id") for el in ET.fromstring(svg).iter() if el.get("id")}

    assert not ids(drawn["lines"]) & ids(drawn["stacked bars"])


def test_title_and_labels_are_escaped() -> None:
    title = '<script>alert("x")</script> & 报告'
    svg = charts.bar_chart(["<b>粗</b>", "a & b"], [5, 6], title=title)
    assert "<script" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert root.get("aria-label") == title
    assert {title, "<b>粗</b>", "a & b"} <= set(texts(svg))


def test_long_labels_are_cut() -> None:
    label = "医保卡怎么激活和使用需要带哪些证件去哪里办理"
    shown = texts(charts.bar_chart([label], [7], title="长"))
    assert label[:17] + "…" in shown
    assert label not in shown


def test_x_labels_thinned_to_ten(drawn: dict[str, str]) -> None:
    days = [t for t in texts(drawn["lines"]) if re.fullmatch(r"12-\d\d", t)]
    assert days[0] == "12-01" and 5 <= len(days) <= 10


def test_percent_axis() -> None:
    svg = charts.line_chart(DAYS[:3], {"答上率": [50, None, 87.5]}, title="答上率", percent=True)
    assert {"0%", "40%", "80%"} <= set(texts(svg))


def test_single_point() -> None:
    svg = charts.line_chart(["12-01"], {"提问": [3]}, title="一天")
    assert "12-01" in texts(svg)
    assert "这段时间没有数据" not in texts(svg)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.bar_chart([], [], title="空"),
        lambda: charts.bar_chart(["甲", "乙"], [None, None], title="空"),
        lambda: charts.line_chart([], {}, title="空"),
        lambda: charts.line_chart(DAYS[:2], {"提问": [None, None]}, title="空"),
        lambda: charts.stacked_bar_chart(DAYS[:2], {}, title="空"),
        lambda: charts.stacked_bar_chart([], {"提问": []}, title="空"),
    ],
)
def test_no_data_gives_the_empty_chart(draw) -> None:
    svg = draw()
    assert svg.startswith("<svg")
    assert "这段时间没有数据" in texts(svg)
    assert "空" in texts(svg)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.bar_chart(["甲", "乙"], [1], title="错"),
        lambda: charts.line_chart(DAYS[:3], {"提问": [1, 2]}, title="错"),
        lambda: charts.stacked_bar_chart(DAYS[:2], {"a": [1, 2], "b": [1, 2, 3]}, title="错"),
        lambda: charts.bar_chart(["甲"], [float("inf")], title="错"),
    ],
)
def test_bad_input_is_refused(draw) -> None:
    with pytest.raises(ValueError):
        draw()


def test_import_does_not_load_matplotlib() -> None:
    code = "import sys, bot.insights.charts; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
