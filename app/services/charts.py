"""Report charts drawn by pygal as SVG, served as images of their own (never inlined)."""

from __future__ import annotations

import pygal
from pygal.style import Style


def _style(color: str) -> Style:
    return Style(
        background="white", plot_background="white", colors=(color, "#7f8c8d", "#c0392b", "#27ae60")
    )


def outcome_groups(report: dict, labels: dict[str, str], color: str) -> bytes:
    chart = pygal.HorizontalBar(
        style=_style(color),
        js=[],
        height=360,
        show_legend=False,
        title=f"Participants by outcome, {report['year']}",
    )
    chart.x_labels = [labels.get(k, k.replace("_", " ")) for k in report["outcome_groups"]]
    chart.add("Teachers", list(report["outcome_groups"].values()))
    return chart.render()


def months_by_track(report: dict, color: str) -> bytes:
    chart = pygal.Bar(
        style=_style(color),
        js=[],
        height=360,
        show_legend=False,
        title="Average months of support by track",
    )
    chart.x_labels = list(report["by_track"])
    chart.add("Months", [t["average_months_of_support"] for t in report["by_track"].values()])
    return chart.render()


def trend(rows: dict, color: str) -> bytes:
    chart = pygal.Line(style=_style(color), js=[], height=360, title="Participants by school year")
    chart.x_labels = rows["years"]
    chart.add("Participants", rows["participants"])
    chart.add("Average months", rows["average_months_of_support"])
    return chart.render()


def likert(report: dict, color: str) -> bytes:
    """One stacked bar per statement: how many chose each answer."""
    survey = report["survey"] or {"statements": [], "title": "No survey"}
    chart = pygal.StackedBar(
        style=_style(color),
        js=[],
        height=360,
        horizontal=True,
        title=survey["title"],
        truncate_label=40,
    )
    statements = survey["statements"]
    chart.x_labels = [s["text"] for s in statements]
    scale = list(statements[0]["counts"]) if statements else []
    for option in scale:
        chart.add(
            option.replace("_", " ").capitalize(), [s["counts"].get(option, 0) for s in statements]
        )
    return chart.render()


def distribution(counts: dict[str, int], color: str) -> bytes:
    chart = pygal.Bar(
        style=_style(color),
        js=[],
        height=360,
        show_legend=False,
        title="Participants by months of support",
    )
    chart.x_labels = list(counts)
    chart.add("Teachers", list(counts.values()))
    return chart.render()
