"""The annual report's charts read on a 390 px phone: text no smaller than 11 px there,
labels that fit the chart and each other, one measure per chart, a title and a description.

Sizes are checked from the SVG itself: a chart is shown at its own width or, on a phone,
at the ~314 px a card leaves of 390 (16 px of page margin and 21 px of card padding and
border on each side, 1 px of image border). Text widths are estimated at 0.62 em a
character, wider than the sans-serif text the charts use (the browser test measures it).
matplotlib writes each text's size and anchor in its ``style``, and each bar as a ``<path>``
whose ``style`` has its fill.
"""

from __future__ import annotations

import re
import threading
from xml.etree import ElementTree as ET

import matplotlib
import pytest

from app.services import charts

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"
PHONE = 314
LONG = (
    "My consulting teacher was a strong advocate for me and helped me understand what the "
    "standards of the profession ask of a teacher in my school."
)
REPORT = {
    "year": "2009-2010",
    "outcome_groups": {"met_standards": 10, "retirements_resignations_other": 21, "active": 40},
    "by_track": {
        "peer_assistance": {"average_months_of_support": 13.5},
        "peer_review": {"average_months_of_support": 9.2},
    },
    "survey": {
        "title": "Participant questionnaire",
        "statements": [
            {
                "text": LONG,
                "counts": {"strongly_agree": 12, "agree": 6, "disagree": 2, "strongly_disagree": 1},
            },
            {
                "text": "The program helped me.",
                "counts": {"strongly_agree": 0, "agree": 16, "disagree": 0, "strongly_disagree": 3},
            },
        ],
    },
}
LABELS = {
    "met_standards": "Teachers who met standards",
    "retirements_resignations_other": "Retirements/Resignations/Other",
    "active": "Active",
}
TREND = {
    "years": [f"{y}-{y + 1}" for y in range(2009, 2024)],
    "participants": list(range(5, 80, 5)),
    "average_months_of_support": [9.5] * 14 + [187.3],
}


def _names(key: str) -> str:
    return {"peer_assistance": "Peer Assistance", "peer_review": "Peer Review (PAR)"}[key]


CHARTS = {
    "outcomes": lambda: charts.outcome_groups(REPORT, LABELS, "#1f4e79"),
    "months": lambda: charts.months_by_track(REPORT, "#1f4e79", _names),
    "distribution": lambda: charts.distribution(
        {"0-2": 3, "3-5": 5, "6-8": 0, "9-11": 7, "12+": 120}, "#1f4e79", "2009-2010"
    ),
    "trend participants": lambda: charts.trend(TREND, "#1f4e79", "participants"),
    "trend months": lambda: charts.trend(TREND, "#1f4e79", "months"),
    "survey": lambda: charts.likert(REPORT, "#1f4e79"),
}


def _svg(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def _style(node: ET.Element) -> dict[str, str]:
    """A node's ``style`` attribute as a mapping (``font-size: 13px; fill: #fff``)."""
    pairs = (part.split(":", 1) for part in (node.get("style") or "").split(";") if ":" in part)
    return {key.strip(): value.strip() for key, value in pairs}


def _texts(root: ET.Element) -> list[dict]:
    """Every drawn text with its size, anchor, fill and estimated box (x0, x1, top, bottom)."""
    found = []
    for node in root.iter(f"{SVG}text"):
        style = _style(node)
        size = float(style["font-size"].removesuffix("px"))
        x, y, width = float(node.get("x")), float(node.get("y")), len(node.text) * size * 0.62
        anchor = style.get("text-anchor", "start")
        x0 = {"middle": x - width / 2, "end": x - width}.get(anchor, x)
        found.append(
            {
                "text": node.text,
                "size": size,
                "anchor": anchor,
                "x": x,
                "y": y,
                "fill": style.get("fill", "#000000"),
                "box": (x0, x0 + width, y - size, y + size * 0.25),
            }
        )
    return found


def _shapes(root: ET.Element) -> list[dict]:
    """Every filled shape (a bar, a legend key, the background) with its fill and bounds."""
    found = []
    for node in root.iter(f"{SVG}path"):
        fill = _style(node).get("fill", "none")
        numbers = [float(n) for n in re.findall(r"-?[\d.]+", node.get("d", ""))]
        if fill == "none" or not numbers:
            continue
        xs, ys = numbers[0::2], numbers[1::2]
        found.append({"fill": fill, "box": (min(xs), max(xs), min(ys), max(ys))})
    return found


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_is_sized_by_its_own_view_box_and_reads_at_11px_on_a_phone(name):
    root = _svg(CHARTS[name]())
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    assert (float(root.get("width")), float(root.get("height"))) == (width, height)
    shown = min(width, PHONE) / width
    texts = _texts(root)
    assert texts
    smallest = min(t["size"] for t in texts)
    assert smallest * shown >= 11, f"{name}: {smallest * shown:.1f} px on a phone"


@pytest.mark.parametrize("name", CHARTS)
def test_every_label_fits_the_chart_and_no_two_overlap(name):
    root = _svg(CHARTS[name]())
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    texts = _texts(root)
    for t in texts:
        x0, x1, top, bottom = t["box"]
        assert x0 >= 0 and x1 <= width and top >= 0 and bottom <= height, t
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            ax0, ax1, at, ab = a["box"]
            bx0, bx1, bt, bb = b["box"]
            apart = ax1 <= bx0 or bx1 <= ax0 or ab <= bt or bb <= at
            assert apart, f"{name}: {a['text']!r} overlaps {b['text']!r}"


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_has_a_title_and_a_description_of_its_figures(name):
    root = _svg(CHARTS[name]())
    assert root.get("role") == "img"
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None and title.text
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_long_labels_wrap_onto_lines_of_their_own_in_full():
    root = _svg(charts.likert(REPORT, "#1f4e79"))
    lines = [t["text"] for t in _texts(root)]
    start = next(i for i, line in enumerate(lines) if LONG.startswith(line))
    joined = ""
    for line in lines[start:]:
        joined = f"{joined} {line}".strip()
        if joined == LONG:
            break
    assert joined == LONG
    outcome = [t["text"] for t in _texts(_svg(CHARTS["outcomes"]()))]
    assert "Retirements/Resignations/Other" in outcome
    assert not any("…" in line for line in outcome)


def test_the_trend_shows_one_measure_per_chart():
    people = _svg(charts.trend(TREND, "#1f4e79", "participants"))
    months = _svg(charts.trend(TREND, "#1f4e79", "months"))
    people_text = [t["text"] for t in _texts(people)]
    months_text = [t["text"] for t in _texts(months)]
    assert charts.TEACHERS in people_text and charts.MONTHS not in people_text
    assert charts.MONTHS in months_text and charts.TEACHERS not in months_text
    # Each chart's values are its own measure only: 75 teachers, 187.3 months.
    assert "75" in people_text and "187.3" not in people_text
    assert "187.3" in months_text and "75" not in months_text


def test_bar_lengths_follow_the_values():
    root = _svg(charts.distribution({"0-2": 1, "3-5": 2, "6-8": 4}, "#123456"))
    bars = [s for s in _shapes(root) if s["fill"] == "#123456"]
    widths = [s["box"][1] - s["box"][0] for s in bars]
    assert len(widths) == 3
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.2)
    assert widths[2] == pytest.approx(4 * widths[0], abs=0.2)


def test_survey_counts_sit_on_a_colour_they_contrast_with():
    root = _svg(charts.likert(REPORT, "#1f4e79"))
    shapes = _shapes(root)
    counts = [t for t in _texts(root) if t["anchor"] == "middle"]
    # 12, 6, 2, 1 and 16, 3: every count that fits is printed
    assert sorted(t["text"] for t in counts) == sorted(["12", "6", "2", "1", "16", "3"])
    for text in counts:
        behind = [s for s in shapes if _under(text, s["box"])]
        assert len(behind) >= 2, text  # the background, then its bar
        assert _contrast(text["fill"], behind[-1]["fill"]) >= 4.5, text["text"]


def _under(text: dict, box: tuple[float, float, float, float]) -> bool:
    """Whether ``text``'s anchor point lies on the shape whose bounds are ``box``."""
    left, right, top, bottom = box
    return left <= text["x"] <= right and top <= text["y"] <= bottom


def test_the_same_figures_give_the_same_bytes_text_as_text_and_no_date():
    for name, draw in CHARTS.items():
        first = draw()
        assert draw() == first, name
        assert b"<dc:date>" not in first, name
        assert b"<use " not in first, name  # glyphs drawn as paths would be reused shapes


def test_charts_drawn_at_once_in_threads_are_the_same_as_one_by_one():
    alone = {name: draw() for name, draw in CHARTS.items()}
    together: dict[str, list[bytes]] = {name: [] for name in CHARTS}

    def draw_all() -> None:
        for name, draw in CHARTS.items():
            together[name].append(draw())

    threads = [threading.Thread(target=draw_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(drawn == [alone[name]] * 4 for name, drawn in together.items())


def test_drawing_leaves_matplotlibs_settings_as_they_were():
    before = dict(matplotlib.rcParams)
    charts.likert(REPORT, "#1f4e79")
    assert dict(matplotlib.rcParams) == before


def test_a_label_with_dollar_signs_is_printed_as_written():
    words = "Costs $5 to $10 per visit"
    report = {"year": "2009-2010", "outcome_groups": {"x": 1}}
    root = _svg(charts.outcome_groups(report, {"x": words}, "#1f4e79"))
    assert words in [t["text"] for t in _texts(root)]


def _luminance(color: str) -> float:
    color = color.lstrip("#")
    if len(color) == 3:
        color = "".join(c * 2 for c in color)
    channels = [int(color[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
