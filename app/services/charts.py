"""The annual report's charts as SVG, served as images of their own (never inlined).

Drawn here rather than by a chart library: the charts must stay readable on a 390 px phone,
which needs labels that wrap onto lines of their own (a survey statement, a district's
outcome group "Retirements/Resignations/Other"), and pygal, used before, cannot wrap an
axis label: at that width it truncated the labels and squeezed the bars to nothing.

Every chart is laid out at :data:`WIDTH` user units with no text under :data:`FONT`, and
says its size in ``width``/``height``: the page's ``max-width: 100%`` only ever shrinks it,
at most to the ~314 px a card leaves on a 390 px screen, where 13 units still read as 11 px.
Each chart shows one measure (a count of teachers, or months of support), printed at the
end of every bar, so no axis ever carries two. Each has a ``<title>`` and a ``<desc>`` that
says its figures in words, and the page beside it has the same figures as a table.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from xml.etree import ElementTree as ET

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
_INK = "#1d1d1d"
_MUTED = "#4a4f55"
_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
#: Answers from the most positive to the most negative, dark blue to dark red.
_DIVERGING = ("#08519c", "#4a90c8", "#9ecae1", "#fcae91", "#e0603f", "#a50f15")
TEACHERS = "Number of teachers"
MONTHS = "Months of support (average per teacher)"


def _width_of(text: str, size: int = FONT) -> float:
    return len(text) * size * CHAR_EM


def _wrap(text: str, width: float, size: int = FONT) -> list[str]:
    """``text`` in lines that fit ``width``; a word longer than a line is broken."""
    chars = max(int(width // (size * CHAR_EM)), 1)
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [""]


class _Svg:
    """An SVG document grown from the top down: each part takes the next ``y``."""

    def __init__(self, title: str, desc: str) -> None:
        self.root = ET.Element(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "role": "img",
                "aria-labelledby": "chart-title chart-desc",
                "font-family": _FAMILY,
                "font-size": str(FONT),
            },
        )
        ET.SubElement(self.root, "title", {"id": "chart-title"}).text = title
        ET.SubElement(self.root, "desc", {"id": "chart-desc"}).text = desc
        ET.SubElement(self.root, "rect", _attrs(width="100%", height="100%", fill="#fff"))
        self.y = float(_PAD)

    def lines(self, text: str, *, size: int = FONT, bold: bool = False, color: str = _INK):
        """Wrapped text across the chart's width, below what came before."""
        for line in _wrap(text, _INNER, size):
            self.y += size
            self.text(_PAD, self.y, line, size=size, bold=bold, color=color)
            self.y += size * 0.35
        self.y += 6

    def text(self, x: float, y: float, text: str, **style) -> ET.Element:
        size, anchor = style.get("size", FONT), style.get("anchor", "start")
        attrs = _attrs(x=x, y=y, fill=style.get("color", _INK))
        if size != FONT:
            attrs["font-size"] = str(size)
        if anchor != "start":
            attrs["text-anchor"] = anchor
        if style.get("bold"):
            attrs["font-weight"] = "bold"
        node = ET.SubElement(self.root, "text", attrs)
        node.text = text
        return node

    def rect(self, x: float, y: float, width: float, height: float, fill: str, tip: str):
        node = ET.SubElement(
            self.root, "rect", _attrs(x=x, y=y, width=max(width, 0), height=height, fill=fill)
        )
        ET.SubElement(node, "title").text = tip

    def render(self) -> bytes:
        height = round(self.y + _PAD)
        self.root.set("width", str(WIDTH))
        self.root.set("height", str(height))
        self.root.set("viewBox", f"0 0 {WIDTH} {height}")
        return ET.tostring(self.root, encoding="utf-8", xml_declaration=True)


def _attrs(**values: object) -> dict[str, str]:
    return {
        key.replace("_", "-"): (f"{value:.1f}" if isinstance(value, float) else str(value))
        for key, value in values.items()
    }


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
    svg = _Svg(title, desc)
    svg.lines(title, size=TITLE_FONT, bold=True)
    svg.lines(measure, color=_MUTED)
    side = max((_width_of(label) for label, _ in rows), default=0) <= _INNER / 3
    left = _PAD + (max(_width_of(label) for label, _ in rows) + 8 if side and rows else 0)
    room = WIDTH - _PAD - left - max((_width_of(text) for _, text in shown), default=0) - 6
    top = max((value for _, value in rows if value is not None), default=0) or 1
    first = svg.y
    for (label, value), (_, text) in zip(rows, shown, strict=True):
        if side:
            svg.text(_PAD, svg.y + _BAR / 2 + FONT * 0.35, label)
        else:
            svg.lines(label)
            svg.y -= 4
        length = 0 if value is None else room * value / top
        svg.rect(left, svg.y, length, _BAR, color, f"{label}: {text}")
        svg.text(left + length + 6, svg.y + _BAR / 2 + FONT * 0.35, text, color=_MUTED)
        svg.y += _BAR + _GAP
    if rows:
        ET.SubElement(
            svg.root,
            "path",
            _attrs(d=f"M{left:.1f} {first - 4:.1f}V{svg.y - _GAP + 4:.1f}", stroke=_INK),
        )
    return svg.render()


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


def _legend(svg: _Svg, options: Sequence[str], colors: Sequence[str]) -> None:
    """A swatch and a name per answer, flowing onto as many rows as the width needs."""
    x, y = float(_PAD), svg.y
    for option, fill in zip(options, colors, strict=True):
        words = _answer(option)
        need = 16 + _width_of(words) + 12
        if x > _PAD and x + need > WIDTH - _PAD:
            x, y = float(_PAD), y + FONT + 8
        svg.rect(x, y, 12, 12, fill, words)
        svg.text(x + 16, y + 11, words)
        x += need
    svg.y = y + FONT + 14


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
    svg = _Svg(survey["title"], f"{TEACHERS} giving each answer. {desc}")
    svg.lines(survey["title"], size=TITLE_FONT, bold=True)
    svg.lines(f"{TEACHERS} giving each answer", color=_MUTED)
    if options:
        _legend(svg, options, colors)
    for statement in statements:
        svg.lines(statement["text"])
        svg.y -= 4
        total = sum(statement["counts"].values())
        x = float(_PAD)
        for option, fill in zip(options, colors, strict=True):
            count = statement["counts"].get(option, 0)
            width = _INNER * count / total if total else 0
            svg.rect(x, svg.y, width, _BAR + 4, fill, f"{_answer(option)}: {count}")
            if count and width >= _width_of(str(count)) + 6:
                mid = svg.y + (_BAR + 4) / 2 + FONT * 0.35
                svg.text(x + width / 2, mid, str(count), anchor="middle", color=_ink_on(fill))
            x += width
        if not total:
            svg.text(_PAD, svg.y + (_BAR + 4) / 2 + FONT * 0.35, "No answers", color=_MUTED)
        svg.y += _BAR + 4 + _GAP + 4
    return svg.render()
