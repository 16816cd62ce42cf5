"""Every CSV and XLSX cell a person typed leaves through the one safe writer.

Names, schools and notes that look like formulas are put in through the real import
and the real services, then read back from every spreadsheet export by its real path:
the case list page's CSV over HTTP and each CSV or XLSX export kind through its job.
A static check keeps any other module from writing rows itself.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import date
from pathlib import Path

import openpyxl
from sqlalchemy import select

from app.core import uow
from app.exports.cells import FORMULA_STARTS
from app.extensions import db
from app.models.case import Case
from app.models.export import EXPORT_KINDS
from app.models.user import User
from app.services import support
from app.tenants.context import tenant_scope
from tests.casework import Browser
from tests.test_exports import _export
from tests.test_imports import HEADER, _post

TEACHER = '=HYPERLINK("http://x","y")'
SCHOOL = "+1+1"
CT_NAME = "@SUM(1+1)"
NOTES = "=1+2"
NEXT_STEPS = "-3+4"
#: What each export must show (as text) of the values above; a kind not named here is
#: still read cell by cell for anything that would run as a formula.
SHOWN = {
    "cases": {TEACHER, SCHOOL, CT_NAME},
    "cases_csv": {TEACHER, SCHOOL, CT_NAME},
    "cases_xlsx": {TEACHER, SCHOOL, CT_NAME},
    "visits_csv": {TEACHER, CT_NAME, NOTES, NEXT_STEPS},
    "annual_xlsx": {CT_NAME},
}
APP = Path(__file__).resolve().parent.parent / "app"
THE_WRITER = APP / "exports" / "cells.py"


def _district_with_formulas(app, district):
    """Two imported cases of a teacher and school typed as formulas, a CT named like one,
    and a visit whose notes and next steps are formulas."""
    pap = district("bostonpap", "boston_pap_2007")
    rows = io.StringIO()
    writer = csv.writer(rows)
    person = [TEACHER, "f@bps.org", SCHOOL, "peer_assistance", "ct@bps.org"]
    for external_id, ended, outcome in (("F-1", "2010-06-30", "met_standards"), ("F-2", "", "")):
        writer.writerow([external_id, *person, "2009-08-01", "2009-09-01", ended, outcome])
    response = _post(app, pap, HEADER + rows.getvalue())
    assert response.status_code == 200, response.json
    with app.app_context(), tenant_scope(pap.tenant.id):
        ct = db.session.execute(select(User).where(User.email == "ct@bps.org")).scalar_one()
        ct.name = CT_NAME
        case = db.session.execute(select(Case).where(Case.closed_at.is_(None))).scalar_one()
        support.log_visit(
            case,
            ct,
            support.VisitInput(
                "observation", date(2010, 1, 5), 40, notes=NOTES, next_steps=NEXT_STEPS
            ),
        )
        uow.commit()
    return pap


def _cells(filename: str, data: bytes) -> list:
    """Every cell of a CSV (as text) or of every sheet of an XLSX (as openpyxl cells)."""
    if filename.endswith(".csv"):
        return [cell for row in csv.reader(io.StringIO(data.decode("utf-8"))) for cell in row]
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check(what: str, filename: str, data: bytes) -> None:
    """No cell would run as a formula, and each typed formula is there, quoted as text."""
    texts = []
    for cell in _cells(filename, data):
        if isinstance(cell, str):
            text = cell
        else:
            assert cell.data_type != "f", (what, cell.coordinate, cell.value)
            if not isinstance(cell.value, str):
                continue
            assert cell.data_type == "s", (what, cell.coordinate, cell.value)
            text = cell.value
        assert _is_number(text) or not text.startswith(FORMULA_STARTS), (what, text)
        texts.append(text)
    for typed in SHOWN.get(what, ()):
        assert "'" + typed in texts, (what, typed, texts)


def test_the_case_list_csv_page_keeps_typed_formulas_as_text(app, district):
    pap = _district_with_formulas(app, district)
    response = Browser(app, pap, pap.people["coordinator"]).get("/cases/export.csv")
    assert response.status_code == 200
    _check("cases", "cases.csv", response.data)


def test_every_spreadsheet_export_keeps_typed_formulas_as_text(app, district):
    pap = _district_with_formulas(app, district)
    kinds = [k for k in EXPORT_KINDS if k.endswith(("_csv", "_xlsx"))]
    assert {"cases_csv", "cases_xlsx", "visits_csv", "annual_xlsx"} <= set(kinds)
    for kind in kinds:
        year = "2009-2010" if kind.startswith("annual") else ""
        _, data = _export(app, pap, pap.people["coordinator"], kind, year)
        _check(kind, f"{kind}.{kind.rsplit('_', 1)[1]}", data)


def test_the_case_list_xlsx_cells_are_strings_starting_with_a_quote(app, district):
    pap = _district_with_formulas(app, district)
    _, data = _export(app, pap, pap.people["coordinator"], "cases_xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Cases"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 2
    for row in rows:
        for column, typed in (("teacher", TEACHER), ("school", SCHOOL)):
            assert (row[column].value, row[column].data_type) == ("'" + typed, "s")


# The one writer, kept one ----------------------------------------------------------------


#: What a worksheet is called where rows are appended to it (a list's ``append`` is fine).
_SHEET = re.compile(r"sheet|\bws\b|\.active\b", re.IGNORECASE)


def _row_writers(path: Path) -> list[str]:
    """Where a module writes CSV or spreadsheet rows without the safe writer."""
    tree = ast.parse(path.read_text(), str(path))
    csv_names = {"csv"}
    found = []
    uses_openpyxl = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "csv":
                    csv_names.add(alias.asname or "csv")
                uses_openpyxl |= alias.name.split(".")[0] == "openpyxl"
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            uses_openpyxl |= module.split(".")[0] == "openpyxl"
            if module == "csv":
                found += [
                    f"line {node.lineno}: from csv import {alias.name}"
                    for alias in node.names
                    if alias.name in {"writer", "DictWriter"}
                ]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"writer", "DictWriter"}
            and isinstance(node.value, ast.Name)
            and node.value.id in csv_names
        ):
            found.append(f"line {node.lineno}: csv.{node.attr}")
        if uses_openpyxl and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            call = node.func
            if (call.attr == "append" and _SHEET.search(ast.unparse(call.value))) or (
                call.attr == "cell" and any(k.arg == "value" for k in node.keywords)
            ):
                found.append(f"line {node.lineno}: {ast.unparse(call)}(...)")
        if uses_openpyxl and isinstance(node, ast.Assign):
            found += [
                f"line {node.lineno}: {ast.unparse(target)} = ..."
                for target in node.targets
                if isinstance(target, ast.Attribute) and target.attr == "value"
            ]
    return found


def test_only_the_cell_writer_writes_csv_or_spreadsheet_rows():
    """A module that writes CSV, or that uses openpyxl and appends or sets a cell's value,
    bypasses ``app.exports.cells``: names and notes would leave as live formulas."""
    offenders = {
        str(path.relative_to(APP.parent)): found
        for path in sorted(APP.rglob("*.py"))
        if path != THE_WRITER and (found := _row_writers(path))
    }
    assert offenders == {}


def test_the_static_check_finds_a_writer_that_bypasses_the_cells(tmp_path):
    module = tmp_path / "bypass.py"
    module.write_text(
        "import csv as c\nfrom openpyxl import Workbook\n"
        "w = c.writer(x)\nsheet.append(row)\nsheet.cell(row=1, column=1, value=v)\n"
        "sheet['A1'].value = v\nbook.active.append(row)\nstory.append(paragraph)\n"
    )
    assert len(_row_writers(module)) == 5
    module.write_text("from csv import DictWriter\n")
    assert len(_row_writers(module)) == 1
