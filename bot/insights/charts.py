"""Small charts for the insights pages, drawn on the server as SVG to inline in HTML.

Why this shape:

- matplotlib comes with Rasa, so no new dependency; it is imported only when a
  chart is drawn, since it takes about a second to import.
- Only the object-oriented API (``Figure`` + ``FigureCanvasSVG``), never pyplot:
  no global figures. matplotlib's settings (``rc_context``) and Python's warning
  filters are process-wide, though, so one chart is drawn at a time (a lock);
  drawing from a worker thread is fine.
- Text stays text (``svg.fonttype = "none"``): the browser draws the Chinese with
  its own fonts, and the server needs no CJK font. matplotlib measures the text
  with a Latin font, so margins are worked out here from character widths.
- Labels and titles are user data: ``$`` is escaped so that mathtext never reads
  them, and the SVG is cleaned to be inlined safely under the console's CSP
  (``style-src 'self'``, which blocks ``style`` attributes): CSS styles become
  presentation attributes, the global ``<style>`` goes, ids get a per-chart
  prefix, and there is no script, no link out and no date (same data, same bytes).
- Colours: the Okabe–Ito palette, which colour-blind readers can tell apart.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from bot.insights.suppress import HIDDEN

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH = 720  # px; the SVG scales down to the page's width
HEIGHT = 260
EMPTY_HEIGHT = 120
BAR_PX = 22  # horizontal bar charts grow by this much per bar
MIN_BAR_HEIGHT = 160
MAX_LABEL_CHARS = 18
MAX_X_LABELS = 10
EMPTY_MESSAGE = "这段时间没有数据"
HIDDEN_NOTE = f"{HIDDEN}：人数太少，为保护隐私不显示"

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
TEXT = "#333333"
MUTED = "#767676"  # 4.5:1 on white
AXIS = "#999999"
GRID = "#E5E5E5"
FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
    "sans-serif",
)
_FONT_CSS = ", ".join(name if name == "sans-serif" else f"'{name}'" for name in FONTS)
_TICK_SIZE = 13
_TITLE_SIZE = 15
_NOTE_SIZE = 12
_TITLE_TOP = 12  # px from the top edge to the title's top
_TOP = 40  # px above the plot: the title
_LEGEND = 24  # px more above the plot when there is a legend
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "kepu-insights",  # ids from content, not random: same data, same bytes
    "text.usetex": False,
    "font.family": list(FONTS),
    "font.size": _TICK_SIZE,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": AXIS,
    "axes.linewidth": 0.8,
    "xtick.color": AXIS,
    "ytick.color": AXIS,
    "xtick.labelcolor": TEXT,
    "ytick.labelcolor": TEXT,
    "xtick.labelsize": _TICK_SIZE,
    "ytick.labelsize": _TICK_SIZE,
    "axes.formatter.useoffset": False,
    "axes.formatter.use_mathtext": False,
    "axes.unicode_minus": False,
    "legend.fontsize": _TICK_SIZE,
    "legend.frameon": False,
    "figure.facecolor": "#FFFFFF",
    "axes.facecolor": "#FFFFFF",
}
# No Creator (a link to matplotlib.org), no Date (the same chart must give the same bytes).
_NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}
_LOCK = threading.Lock()  # rcParams and warning filters are process-wide
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"<[^>]*>")  # matplotlib escapes '>' in attribute values and text
_STYLE = re.compile(r'\sstyle="([^"]*)"')


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    horizontal: bool = True,
    unit: str = "",
) -> str:
    """One series as bars, the value at each bar's end; ``None`` (hidden) shows as "<5"."""
    numbers = _numbers(values)
    _same_length(labels, numbers, "values")
    if all(v is None for v in numbers):
        return empty_chart(title)
    shown = [_display(label) for label in labels]
    hidden = any(v is None for v in numbers)
    rotate = False
    height: float
    margins: tuple[float, float, float, float]
    if horizontal:
        height = max(MIN_BAR_HEIGHT, BAR_PX * len(numbers) + _TOP + 32)
        left = min(max(_text_px(s, _TICK_SIZE) for s in shown) + 16, WIDTH * 0.45)
        margins = (left, 24, _TOP, 28)
    else:
        height, bottom, rotate = _x_label_room(shown, left=48, right=16)
        margins = (48, 16, _TOP, bottom)

    def draw(fig: Figure) -> None:
        ax = _axes(fig, height, margins)
        _heading(fig, height, title, HIDDEN_NOTE if hidden else "")
        _bars(fig, ax, shown, numbers, horizontal=horizontal, unit=unit, rotate=rotate)

    return _render(draw, height, title)


def line_chart(
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    unit: str = "",
    percent: bool = False,
) -> str:
    """Series over days as lines; ``None`` leaves a gap."""
    columns = _columns(x_labels, series)
    if not any(v is not None for column in columns.values() for v in column):
        return empty_chart(title)
    shown = [_display(label) for label in x_labels]
    legend = len(columns) > 1
    top = _TOP + (_LEGEND if legend else 0)
    height = HEIGHT + (_LEGEND if legend else 0)
    left = _value_axis_room(columns, percent, unit)

    def draw(fig: Figure) -> None:
        import numpy as np

        ax = _axes(fig, height, (left, 16, top, 28))
        _heading(fig, height, title, "")
        n = len(shown)
        xs = np.arange(n)
        handles = []
        for index, column in enumerate(columns.values()):
            colour = PALETTE[index % len(PALETTE)]
            ys = np.array([math.nan if v is None else v for v in column], dtype=float)
            (line,) = ax.plot(
                xs,
                ys,
                color=colour,
                linewidth=2,
                marker="o" if n <= 31 else "",
                markersize=5,
                clip_on=False,  # points on 0 would be cut in half
            )
            handles.append(line)
            # A point with gaps on both sides draws no line: mark it.
            alone = [
                i
                for i in range(n)
                if column[i] is not None
                and (i == 0 or column[i - 1] is None)
                and (i == n - 1 or column[i + 1] is None)
            ]
            if alone and n > 31:
                ax.plot(xs[alone], ys[alone], color=colour, linestyle="", marker="o", markersize=5)
        ax.set_xlim(-0.5, n - 0.5)
        _x_ticks(ax, shown, thin=True)
        _value_axis(ax, columns, percent=percent, unit=unit)
        if legend:
            _legend(ax, handles, list(columns))

    return _render(draw, height, title)


def stacked_bar_chart(
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    unit: str = "",
) -> str:
    """Vertical stacked bars, one stack per label; a bar with a hidden part gets "<5" above it."""
    columns = _columns(x_labels, series)
    if not any(v is not None for column in columns.values() for v in column):
        return empty_chart(title)
    shown = [_display(label) for label in x_labels]
    n = len(shown)
    totals = [sum(column[i] or 0 for column in columns.values()) for i in range(n)]
    partly_hidden = [any(column[i] is None for column in columns.values()) for i in range(n)]
    legend = len(columns) > 1
    top = _TOP + (_LEGEND if legend else 0)
    height = HEIGHT + (_LEGEND if legend else 0)
    left = _value_axis_room({"": totals}, False, unit)

    def draw(fig: Figure) -> None:
        from matplotlib.transforms import offset_copy

        ax = _axes(fig, height, (left, 16, top, 28))
        _heading(fig, height, title, HIDDEN_NOTE if any(partly_hidden) else "")
        xs = list(range(n))
        bottoms = [0.0] * n
        handles = []
        for index, column in enumerate(columns.values()):
            parts = [v or 0 for v in column]
            bars = ax.bar(
                xs,
                parts,
                bottom=bottoms,
                width=0.7,
                color=PALETTE[index % len(PALETTE)],
                linewidth=0,
            )
            handles.append(bars)
            bottoms = [b + p for b, p in zip(bottoms, parts, strict=True)]
        above = offset_copy(ax.transData, fig=fig, x=0, y=3, units="points")
        for x, total, marked in zip(xs, totals, partly_hidden, strict=True):
            if marked:
                ax.text(
                    x,
                    total,
                    _literal(HIDDEN),
                    transform=above,
                    ha="center",
                    va="bottom",
                    fontsize=_NOTE_SIZE,
                    color=MUTED,
                )
        ax.set_xlim(-0.5, n - 0.5)
        _x_ticks(ax, shown, thin=True)
        _value_axis(ax, {"": totals}, percent=False, unit=unit, room_px=16)
        if legend:
            _legend(ax, handles, list(columns))

    return _render(draw, height, title)


def empty_chart(title: str, message: str = EMPTY_MESSAGE) -> str:
    """A small SVG with the title and a message, for when there is nothing to draw."""

    def draw(fig: Figure) -> None:
        _heading(fig, EMPTY_HEIGHT, title, "")
        fig.text(
            0.5,
            0.4,
            _literal(_clean(message)),
            ha="center",
            va="center",
            fontsize=_TITLE_SIZE,
            color=MUTED,
        )

    return _render(draw, EMPTY_HEIGHT, title)


# Input


def _numbers(values: Sequence[float | None]) -> list[float | None]:
    numbers: list[float | None] = []
    for value in values:
        if value is None:
            numbers.append(None)
            continue
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"not a finite number: {value!r}")
        numbers.append(number)
    return numbers


def _same_length(labels: Sequence[str], values: Sequence[object], name: str) -> None:
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} {name}")


def _columns(
    x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]]
) -> dict[str, list[float | None]]:
    columns = {}
    for name, values in series.items():
        columns[name] = _numbers(values)
        _same_length(x_labels, columns[name], f"values in series {name!r}")
    return columns


def _clean(text: str) -> str:
    """One line of text XML can carry."""
    return " ".join(_CONTROL.sub("", str(text)).split())


def _display(label: str) -> str:
    """A label as shown: one line, at most ``MAX_LABEL_CHARS`` characters."""
    label = _clean(label)
    if len(label) > MAX_LABEL_CHARS:
        return label[: MAX_LABEL_CHARS - 1] + "…"
    return label


def _literal(text: str) -> str:
    """Text that mathtext leaves alone: every ``$`` escaped, which matplotlib undoes on drawing."""
    return text.replace("$", r"\$")


def _text_px(text: str, size: float) -> float:
    """Roughly how wide the browser draws ``text``: CJK characters are square, others narrower."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.62 for c in text)


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _whole(columns: Mapping[str, Sequence[float | None]]) -> bool:
    return all(v is None or float(v).is_integer() for c in columns.values() for v in c)


# Layout


def _x_label_room(shown: Sequence[str], *, left: float, right: float) -> tuple[float, float, bool]:
    """Height, bottom margin and whether to slant the labels of a vertical bar chart."""
    slot = (WIDTH - left - right) / max(len(shown), 1)
    widest = max((_text_px(s, _TICK_SIZE) for s in shown), default=0)
    if widest <= slot * 0.9:
        return HEIGHT, 28.0, False
    bottom = widest * 0.5 + _TICK_SIZE * 0.87 + 14  # slanted by 30°
    return HEIGHT - 28 + bottom, bottom, True


def _value_axis_room(
    columns: Mapping[str, Sequence[float | None]], percent: bool, unit: str
) -> float:
    """Left margin for the value axis's tick labels (and the unit)."""
    top = max((v for c in columns.values() for v in c if v is not None), default=0)
    widest = _text_px(_number(top * 1.25) + ("%" if percent else ""), _TICK_SIZE)
    return max(widest, 16) + 14 + (_TICK_SIZE + 8 if unit and not percent else 0)


def _axes(fig: Figure, height: float, margins: tuple[float, float, float, float]) -> Axes:
    """Plot area inside (left, right, top, bottom) pixel margins, without chart junk."""
    left, right, top, bottom = margins
    ax = fig.add_axes(
        (
            left / WIDTH,
            bottom / height,
            (WIDTH - left - right) / WIDTH,
            (height - top - bottom) / height,
        )
    )
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.set_axisbelow(True)
    return ax


def _heading(fig: Figure, height: float, title: str, note: str) -> None:
    """The title at the top left and, if any, a grey note at the top right."""
    note_px = _text_px(note, _NOTE_SIZE) if note else 0
    room = WIDTH - 32 - (note_px + 16 if note else 0)
    text = _clean(title)
    while text and _text_px(text, _TITLE_SIZE) > room:
        text = text[:-2] + "…" if len(text) > 1 else ""
    y = 1 - _TITLE_TOP / height
    fig.text(
        16 / WIDTH,
        y,
        _literal(text),
        ha="left",
        va="top",
        fontsize=_TITLE_SIZE,
        fontweight="bold",
        color=TEXT,
    )
    if note:
        fig.text(
            1 - 16 / WIDTH,
            y,
            _literal(note),
            ha="right",
            va="top",
            fontsize=_NOTE_SIZE,
            color=MUTED,
        )


def _legend(ax: Axes, handles: list[Artist], names: list[str]) -> None:
    """A legend in one row above the plot (explicit labels: a leading '_' is not hidden)."""
    ax.legend(
        handles,
        [_literal(_display(name)) for name in names],
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncol=len(names),
        borderaxespad=0,
        borderpad=0,
        handlelength=1.4,
        columnspacing=1.6,
    )


def _x_ticks(ax: Axes, shown: Sequence[str], *, thin: bool, rotate: bool = False) -> None:
    """Category labels on the x axis; at most ``MAX_X_LABELS`` of them, evenly spread, if thin."""
    n = len(shown)
    step = math.ceil(n / MAX_X_LABELS) if thin and n > MAX_X_LABELS else 1
    positions = list(range(0, n, step))
    ax.tick_params(axis="x", length=0, pad=6)
    ax.set_xticks(positions)
    if rotate:
        ax.set_xticklabels(
            [_literal(shown[i]) for i in positions], rotation=30, ha="right", rotation_mode="anchor"
        )
    else:
        ax.set_xticklabels([_literal(shown[i]) for i in positions])


def _value_axis(
    ax: Axes,
    columns: Mapping[str, Sequence[float | None]],
    *,
    percent: bool,
    unit: str,
    room_px: float = 0,
    axis: str = "y",
) -> None:
    """Value axis from 0, light grid lines across the plot, whole-number ticks for counts."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    values = [v for c in columns.values() for v in c if v is not None]
    low = min(0.0, min(values))
    high = max(values)
    if high <= low:
        high = low + 1
    size = ax.bbox.height if axis == "y" else ax.bbox.width
    # Room for text beyond the largest value (room_px) and a little air.
    high = high * size / max(size - room_px, 1) if room_px else high * 1.05
    value_axis = ax.yaxis if axis == "y" else ax.xaxis
    value_axis.set_major_locator(MaxNLocator(nbins=5, integer=_whole(columns) and not percent))
    suffix = "%" if percent else ""
    value_axis.set_major_formatter(FuncFormatter(lambda v, _pos: _number(v) + suffix))
    ax.tick_params(axis=axis, length=0, pad=6)
    ax.grid(True, axis=axis, color=GRID, linewidth=0.8)
    if axis == "y":
        ax.set_ylim(low, high)
        ax.spines["left"].set_visible(False)
        if unit and not percent:
            ax.set_ylabel(_literal(_clean(unit)), fontsize=_NOTE_SIZE, color=MUTED)
    else:
        ax.set_xlim(low, high)
        ax.spines["bottom"].set_visible(False)


def _bars(
    fig: Figure,
    ax: Axes,
    shown: Sequence[str],
    numbers: Sequence[float | None],
    *,
    horizontal: bool,
    unit: str,
    rotate: bool,
) -> None:
    """The bars of ``bar_chart``, each with its value (or "<5") at its end."""
    from matplotlib.transforms import offset_copy

    n = len(shown)
    places = [i for i, v in enumerate(numbers) if v is not None]
    heights = [numbers[i] for i in places]
    unit = _clean(unit)
    # Zeros get no label; nor do the values of many narrow columns (the table has them).
    crowded = not horizontal and n > 12
    texts = [
        HIDDEN if v is None else ("" if v == 0 or crowded else _number(v) + unit) for v in numbers
    ]
    text_px = max(_text_px(t, _TICK_SIZE) for t in texts) + 8
    if horizontal:
        ax.barh(places, heights, height=0.65, color=PALETTE[0], linewidth=0)
        ax.set_ylim(n - 0.5, -0.5)  # the first label at the top
        ax.tick_params(axis="y", length=0, pad=6)
        ax.set_yticks(range(n))
        ax.set_yticklabels([_literal(s) for s in shown])
        _value_axis(ax, {"": numbers}, percent=False, unit="", room_px=text_px, axis="x")
        beyond = offset_copy(ax.transData, fig=fig, x=4, y=0, units="points")
        placement = {"ha": "left", "va": "center"}
    else:
        ax.bar(places, heights, width=0.65, color=PALETTE[0], linewidth=0)
        ax.set_xlim(-0.5, n - 0.5)
        _x_ticks(ax, shown, thin=False, rotate=rotate)
        _value_axis(ax, {"": numbers}, percent=False, unit="", room_px=_TICK_SIZE + 8)
        beyond = offset_copy(ax.transData, fig=fig, x=0, y=3, units="points")
        placement = {"ha": "center", "va": "bottom"}
    for i, (value, text) in enumerate(zip(numbers, texts, strict=True)):
        end = 0 if value is None else value
        xy = (end, i) if horizontal else (i, end)
        colour = MUTED if value is None else TEXT
        if text:
            ax.text(*xy, _literal(text), transform=beyond, color=colour, **placement)


# Rendering


def _render(draw: Callable[[Figure], None], height: float, title: str) -> str:
    """Draw a figure of ``WIDTH`` × ``height`` px and return it as clean inline SVG."""
    with _LOCK:
        import matplotlib
        from matplotlib.backends.backend_svg import FigureCanvasSVG
        from matplotlib.figure import Figure

        font_log = logging.getLogger("matplotlib.font_manager")
        level = font_log.level
        font_log.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings(), matplotlib.rc_context(_RC):
                warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
                warnings.filterwarnings("ignore", message=r"findfont")
                fig = Figure(figsize=(WIDTH / 72, height / 72), dpi=72)
                canvas = FigureCanvasSVG(fig)
                draw(fig)
                out = io.StringIO()
                canvas.print_svg(out, metadata=_NO_METADATA)
        finally:
            font_log.setLevel(level)
    return _inline(out.getvalue(), title)


def _inline(svg: str, title: str) -> str:
    """matplotlib's SVG made fit to inline in an HTML page (see the module docstring)."""
    svg = svg[svg.index("<svg") :]  # no XML declaration, no DOCTYPE (with its URL)
    prefix = "c" + hashlib.sha256(svg.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"\s*<defs>\s*<style[^>]*>[^<]*</style>\s*</defs>", "", svg)

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        text = re.sub(r'(\s)id="', rf'\1id="{prefix}', text)
        text = text.replace('href="#', f'href="#{prefix}').replace("url(#", f"url(#{prefix}")
        return _STYLE.sub(_attributes, text)

    svg = _TAG.sub(tag, svg)
    end = svg.index(">")
    root = re.sub(r'\s(?:width|height)="[^"]*"', "", svg[:end])
    label = _clean(title)
    root += (
        ' width="100%" class="insights-chart"'
        f' font-family="{_FONT_CSS}" stroke-linejoin="round" stroke-linecap="butt"'
        f' role="img" aria-label={quoteattr(label)}'
    )
    return f"{root}>\n <title>{escape(label)}</title>{svg[end + 1 :]}"


def _attributes(match: re.Match[str]) -> str:
    """A ``style`` attribute as presentation attributes, which the CSP allows."""
    attributes = []
    for declaration in match.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if not name:
            continue
        if name == "font":  # e.g. "700 13px 'Noto Sans CJK SC'": no such attribute
            *parts, size = value.split("'")[0].split()
            attributes.append(f'font-size="{size}"')  # the family is the root's
            for part in parts:  # style, variant, weight
                key = "font-variant" if part == "small-caps" else "font-style"
                attributes.append(f'{"font-weight" if part.isdigit() else key}="{part}"')
        else:
            attributes.append(f'{name}="{value}"')
    return " " + " ".join(attributes)
