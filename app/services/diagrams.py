"""Tracks as state diagrams, drawn by Graphviz (``dot``) as SVG.

The SVG is served as an image of its own, never inlined in a page, so the
labels a district writes can never become markup in the portal.
"""

from __future__ import annotations

import shutil

import graphviz

from app.workflows.model import Track


def available() -> bool:
    """Graphviz's ``dot`` program is installed (pages show a table otherwise)."""
    return shutil.which("dot") is not None


def track_svg(track: Track) -> bytes:
    graph = graphviz.Digraph(
        name=track.key,
        graph_attr={"rankdir": "LR", "fontname": "Helvetica", "bgcolor": "white"},
        node_attr={"shape": "box", "style": "rounded", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"},
    )
    for key, state in track.states.items():
        shape = "doubleoctagon" if state.terminal else "box"
        penwidth = "2" if key == track.initial_state else "1"
        graph.node(key, state.label, shape=shape, penwidth=penwidth)
    for transition in track.transitions:
        for source in transition.sources:
            graph.edge(source, transition.to, label=transition.label)
    return graph.pipe(format="svg")
