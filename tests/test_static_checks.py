"""Checks CI runs over the code itself: bandit finds nothing of medium severity or above,
and the product imports neither its benchmarks nor its tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bandit_finds_nothing_of_medium_severity_or_above():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bandit",
            "-q",
            "-r",
            "app",
            "config",
            "wsgi.py",
            "--severity-level",
            "medium",
            "-f",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert findings == [], "\n".join(findings)
    assert report["metrics"]["_totals"]["loc"] > 1000, "bandit scanned too little to mean anything"


def test_the_product_never_imports_its_benchmarks_or_tests():
    """``app`` is what a district runs: an installed copy has no ``bench`` or ``tests``."""
    import ast

    found = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[0] in {"bench", "tests"}:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert found == []
