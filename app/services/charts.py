"""The annual report's and the network's charts as SVG drawn by matplotlib, served as images
of their own (never inlined).

matplotlib because the charts must stay readable on a 390 px phone, which needs labels that
wrap onto lines of their own (a survey statement, a district's outcome group
"Retirements/Resignations/Other"): pygal, used before, cannot wrap an axis label, and at that
width it truncated the labels and squeezed the bars to nothing. matplotlib sets any text where
it is told, so each long label is wrapped here (:func:`textwrap.wrap`) and set above its bar;
the bars, the values at their ends, the stacked answers and the legend keys are matplotlib's.

Every chart is :data:`WIDTH` points wide, and matplotlib's SVG counts 72 points to the inch,
so a point is a CSS pixel once the ``pt`` is taken off the chart's ``width``/``height``: its
natural width is 360 px, and the page's ``max-width: 100%`` only ever shrinks it, at most to the
~314 px a card leaves on a 390 px screen, where :data:`FONT` (13) still reads as 11 px. Text
stays text (``svg.fonttype: none``: searchable, and sharp at any size); a fixed hash salt and
no date make the same figures give the same bytes. Each chart shows one measure (a count of
teachers, or months of support), printed at the end of every bar, so no axis ever carries
two. Each has a ``<title>`` and a ``<desc>`` that says its figures in words, and the page
beside it has the same figures as a table.

Drawing never touches pyplot (its registry of open figures is global state): each chart is a
:class:`~matplotlib.figure.Figure` with its own Agg canvas, dropped when drawn. What stays
global is matplotlib's ``rcParams``, which its SVG writer reads at save time, so the charts'
settings are applied with :func:`matplotlib.rc_context` around the whole drawing, under a
lock: two requests never draw with each other's settings, and a chart takes ~30 ms.
"""

from __future__ import annotations

import functools
import io
import re
import textwrap
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import ParamSpec
from xml.sax.saxutils import escape

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Annotation

#: Width of every chart, in SVG user units (and its natural width in CSS pixels).
WIDTH = 360
#: The smallest text of a chart, and the title's size.
FONT = 13
TITLE_FONT = 15
#: A conservative average glyph width for sans-serif text, in ems, used to wrap and to
#: leave room: real text is narrower, so a wrapped line never runs out of the chart.
CHAR_EM = 0.62
_PAD = 12
_INNER = WIDTH - 2 * _PAD
_BAR = 18
_GAP = 12
#: A survey answer's bar, a little taller so a count sits well inside it.
_STACK = _BAR + 4
_KEY = 13
_INK = "#1d1d1d"
_MUTED = "#4a4f55"
#: Answers from the most positive to the most negative, dark blue to dark red.
_DIVERGING = ("#08519c", "#4a90c8", "#9ecae1", "#fcae91", "#e0603f", "#a50f15")
TEACHERS = "Number of teachers"
MONTHS = "Months of support (average per teacher)"

#: matplotlib's settings for every chart. The fonts are the reader's (the SVG names them and
#: the browser picks), ending with the one matplotlib ships so it always finds one to measure.
#: ``text.parse_math`` is off because labels are the district's words: "$5 to $10" is money.
_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "parley-charts",
    "font.family": "sans-serif",
    "font.sans-serif": ["Segoe UI", "Roboto", "Helvetica Neue", "Arial", "DejaVu Sans"],
    "font.size": FONT,
    "text.color": _INK,
    "text.parse_math": False,
    "axes.edgecolor": _INK,
    "axes.facecolor": "none",
    "figure.facecolor": "#fff",
    "legend.frameon": False,
}
_DRAWING = threading.Lock()
_P = ParamSpec("_P")


def _drawn(draw: Callable[_P, bytes]) -> Callable[_P, bytes]:
    """``draw`` with the charts' settings, one chart at a time: ``rc_context`` changes the
    process's ``rcParams`` (the SVG writer reads them at save time), so two threads drawing
    at once would each see the other's settings restored mid-drawing."""

    @functools.wraps(draw)
    def with_style(*args: _P.args, **kwargs: _P.kwargs) -> bytes:
        with _DRAWING, matplotlib.rc_context(_STYLE):
            return draw(*args, **kwargs)

    return with_style


def _width_of(text: str, size: int = FONT) -> float:
    return len(text) * size * CHAR_EM


def _wrap(text: str, width: float, size: int = FONT) -> list[str]:
    """``text`` in lines that fit ``width``; a word longer than a line is broken."""
    chars = max(int(width // (size * CHAR_EM)), 1)
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [""]


class _Chart:
    """A figure laid out from the top down: each part takes the next ``y``, in points from
    the top-left corner, and the figure's height is set from the last one when it renders.

    ``page`` is an invisible axes over the whole figure whose data units are those points,
    so text and plots are placed where the layout says, whatever the final height."""

    def __init__(self, title: str, desc: str) -> None:
        self.title, self.desc = title, desc
        self.figure = Figure(figsize=(WIDTH / 72, 1))
        FigureCanvasAgg(self.figure)
        self.page = self.figure.add_axes((0, 0, 1, 1))
        self.page.set_axis_off()
        self.page.set_xlim(0, WIDTH)
        self.y = float(_PAD)
        self._plots: list[tuple[Axes, float, float, float]] = []

    def lines(
        self, text: str, *, size: int = FONT, bold: bool = False, color: str = _INK, x: float = _PAD
    ) -> None:
        """Wrapped text from ``x`` to the right margin, below what came before."""
        for line in _wrap(text, WIDTH - _PAD - x, size):
            self.y += size
            self.text(x, self.y, line, size=size, bold=bold, color=color)
            self.y += size * 0.35
        self.y += 6

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: int = FONT,
        bold: bool = False,
        color: str = _INK,
    ) -> None:
        """One line with its baseline at ``y``."""
        weight = "bold" if bold else "normal"
        self.page.text(x, y, text, fontsize=size, fontweight=weight, color=color)

    def plot(self, left: float, top: float, bottom: float) -> Axes:
        """Axes from ``left`` to the right margin between ``top`` and ``bottom``, sharing the
        page's ``y`` (a bar at ``y`` lies where a label at ``y`` would), with only a baseline
        on the left: each bar carries its own value, so no scale is drawn. It is put in place
        by :meth:`render`, once the figure's height is known."""
        axes = self.figure.add_axes((0, 0, 1, 1))
        self._plots.append((axes, left, top, bottom))
        axes.set_ylim(bottom, top)
        axes.xaxis.set_visible(False)
        for side in ("top", "right", "bottom"):
            axes.spines[side].set_visible(False)
        axes.tick_params(axis="y", length=0, pad=6, labelsize=FONT, labelcolor=_INK)
        axes.set_yticks([])
        return axes

    def render(self) -> bytes:
        height = round(self.y + _PAD)
        self.figure.set_size_inches(WIDTH / 72, height / 72)
        self.page.set_ylim(height, 0)
        for axes, left, top, bottom in self._plots:
            span = (WIDTH - _PAD - left) / WIDTH
            axes.set_position((left / WIDTH, 1 - bottom / height, span, (bottom - top) / height))
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="svg", metadata={"Date": None})
        return _accessible(buffer.getvalue().decode(), self.title, self.desc)


def _accessible(svg: str, title: str, desc: str) -> bytes:
    """``svg`` sized in CSS pixels, with a role, a title and a description.

    matplotlib writes the size in points (``width="360pt"``, 480 CSS px) over a viewBox in
    the same numbers, so dropping the unit makes a point one pixel; it has no element for a
    title or a description (its ``metadata`` is RDF, which assistive technology ignores)."""
    head, _, rest = svg.partition("<svg ")
    tag, _, body = rest.partition(">")
    tag = re.sub(r'\b(width|height)="([\d.]+)pt"', r'\1="\2"', tag)
    return (
        f'{head}<svg role="img" aria-labelledby="chart-title chart-desc" {tag}>\n'
        f' <title id="chart-title">{escape(title)}</title>\n'
        f' <desc id="chart-desc">{escape(desc)}</desc>{body}'
    ).encode()


def _unclipped(labels: list[Annotation]) -> None:
    """Show every value: matplotlib hides a label whose bar ends on the axes' edge (a zero)."""
    for label in labels:
        label.set_annotation_clip(False)


@_drawn
def _bars(
    title: str,
    measure: str,
    rows: Sequence[tuple[str, float | None]],
    color: str,
    show: Callable[[float], str] = str,
) -> bytes:
    """One horizontal bar per row, its value printed at its end, under the measure's name.

    Short labels (school years, "0-2 months") sit left of their bars; when one would take
    more than a third of the width, every label goes on its own wrapped lines above its bar.
    """
    shown = [(label, "no figure" if value is None else show(value)) for label, value in rows]
    desc = f"{measure}. " + "; ".join(f"{label}: {text}" for label, text in shown) + "."
    chart = _Chart(title, desc)
    chart.lines(title, size=TITLE_FONT, bold=True)
    chart.lines(measure, color=_MUTED)
    if not rows:
        return chart.render()
    widest = max(_width_of(label) for label, _ in rows)
    beside = widest <= _INNER / 3
    left = _PAD + widest + 8 if beside else _PAD
    first, centres = chart.y, []
    for label, _ in rows:
        if not beside:
            chart.lines(label, x=_PAD + 4)
            chart.y -= 4
        centres.append(chart.y + _BAR / 2)
        chart.y += _BAR + _GAP
    axes = chart.plot(left, top=first - 4, bottom=chart.y - _GAP + 4)
    values = [0 if value is None else value for _, value in rows]
    # The longest value, printed after its bar, must end inside the right margin.
    span = WIDTH - _PAD - left
    room = span - max(_width_of(text) for _, text in shown) - 6
    axes.set_xlim(0, (max(values) or 1) * span / max(room, 1))
    bars = axes.barh(centres, values, height=_BAR, color=color)
    _unclipped(axes.bar_label(bars, [text for _, text in shown], padding=6, color=_MUTED))
    if beside:
        axes.set_yticks(centres, [label for label, _ in rows])
    return chart.render()


def _months(value: float) -> str:
    return f"{value:.1f}"


def outcome_groups(report: dict, labels: Mapping[str, str], color: str) -> bytes:
    """Teachers by outcome group in the year, in the district's words for the groups."""
    rows = [
        (labels.get(key, key.replace("_", " ").capitalize()), count)
        for key, count in report["outcome_groups"].items()
    ]
    return _bars(f"Teachers by outcome, {report['year']}", TEACHERS, rows, color)


def months_by_track(report: dict, color: str, track_label: Callable[[str], str]) -> bytes:
    """Average months of support on each track (one measure: months)."""
    rows = [
        (track_label(key), row["average_months_of_support"])
        for key, row in report["by_track"].items()
    ]
    title = f"Average months of support by track, {report['year']}"
    return _bars(title, MONTHS, rows, color, _months)


def distribution(counts: Mapping[str, int], color: str, year: str = "") -> bytes:
    """Teachers by whole months of support ("0-2" months ... "12+" months)."""
    rows = [(f"{band} months", count) for band, count in counts.items()]
    title = "Teachers by months of support" + (f", {year}" if year else "")
    return _bars(title, TEACHERS, rows, color)


#: The trend's measures, each a chart of its own: (key in the rows, title, measure, format).
TREND_MEASURES: dict[str, tuple[str, str, str, Callable[[float], str]]] = {
    "participants": ("participants", "Teachers supported by school year", TEACHERS, str),
    "months": (
        "average_months_of_support",
        "Average months of support by school year",
        MONTHS,
        _months,
    ),
}


def trend(rows: Mapping[str, Sequence], color: str, measure: str = "participants") -> bytes:
    """One measure across the school years: teachers, or average months (never both on one
    axis: they count different things). ``rows`` is ``compare_years``' output."""
    key, title, name, show = TREND_MEASURES[measure]
    return _bars(title, name, list(zip(rows["years"], rows[key], strict=True)), color, show)


def _answer(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _palette(count: int) -> list[str]:
    """``count`` colours spread over the diverging scale, so the ends stay its ends."""
    if count == 1:
        return [_DIVERGING[0]]
    last = len(_DIVERGING) - 1
    return [_DIVERGING[int(i * last / (count - 1) + 0.5)] for i in range(count)]


def _ink_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (by its relative luminance)."""
    channels = [int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#fff"


def _legend(chart: _Chart, options: Sequence[str], colors: Sequence[str]) -> None:
    """A key per answer, flowing onto as many rows as the width needs.

    Each key is a one-entry legend placed by this flow rather than one legend's grid:
    matplotlib spaces a grid's columns by its own font's widths, and the reader's font may be
    wider, so the flow leaves room by :data:`CHAR_EM` as the labels do."""
    x, y = float(_PAD), chart.y
    for option, fill in zip(options, colors, strict=True):
        words = _answer(option)
        need = _KEY + 4 + _width_of(words) + 12
        if x > _PAD and x + need > WIDTH - _PAD:
            x, y = float(_PAD), y + FONT + 8
        chart.figure.legend(
            handles=[Patch(color=fill, label=words)],
            loc="upper left",
            bbox_to_anchor=(x, y),
            bbox_transform=chart.page.transData,
            borderpad=0,
            borderaxespad=0,
            handlelength=_KEY / FONT,
            handleheight=_KEY / FONT,
            handletextpad=4 / FONT,
            fontsize=FONT,
        )
        x += need
    chart.y = y + FONT + 14


@_drawn
def likert(report: dict, color: str) -> bytes:
    """Each statement in full on its own lines, then a bar split by how many gave each
    answer (the counts printed where they fit; the table on the page has them all)."""
    survey = report["survey"] or {"statements": [], "title": "No survey"}
    statements = survey["statements"]
    options: list[str] = []
    for statement in statements:
        options.extend(key for key in statement["counts"] if key not in options)
    colors = _palette(len(options)) if options else []
    desc = " ".join(
        f"{s['text']}: " + ", ".join(f"{_answer(k)} {s['counts'].get(k, 0)}" for k in options) + "."
        for s in statements
    )
    chart = _Chart(survey["title"], f"{TEACHERS} giving each answer. {desc}")
    chart.lines(survey["title"], size=TITLE_FONT, bold=True)
    chart.lines(f"{TEACHERS} giving each answer", color=_MUTED)
    if options:
        _legend(chart, options, colors)
    if not statements:
        return chart.render()
    first, centres = chart.y, []
    totals = [sum(statement["counts"].values()) for statement in statements]
    for statement, total in zip(statements, totals, strict=True):
        chart.lines(statement["text"])
        chart.y -= 4
        centres.append(chart.y + _STACK / 2)
        if not total:
            chart.text(_PAD, chart.y + _STACK / 2 + FONT * 0.35, "No answers", color=_MUTED)
        chart.y += _STACK + _GAP + 4
    axes = chart.plot(_PAD, top=first, bottom=chart.y)
    axes.spines["left"].set_visible(False)
    axes.set_xlim(0, 1)
    starts = [0.0] * len(statements)
    for option, fill in zip(options, colors, strict=True):
        counts = [statement["counts"].get(option, 0) for statement in statements]
        shares = [
            count / total if total else 0 for count, total in zip(counts, totals, strict=True)
        ]
        bars = axes.barh(centres, shares, left=starts, height=_STACK, color=fill)
        printed = [
            str(count) if count and _INNER * share >= _width_of(str(count)) + 6 else ""
            for count, share in zip(counts, shares, strict=True)
        ]
        _unclipped(axes.bar_label(bars, printed, label_type="center", color=_ink_on(fill)))
        starts = [start + share for start, share in zip(starts, shares, strict=True)]
    return chart.render()
