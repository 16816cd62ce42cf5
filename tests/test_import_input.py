"""What an imported CSV file may hold: UTF-8 text, any line ending, values that fit their
columns. Anything else is a 422 naming the line and column, and nothing is written; both
imports read files the same way."""

from __future__ import annotations

import codecs
import io

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.extensions import db
from app.models.case import Case
from app.models.survey import SurveyResponse, SurveyRound
from app.models.user import User
from app.tenants.context import tenant_scope
from tests.casework import Api
from tests.test_imports import GOOD, HEADER
from tests.test_surveys import ANSWERS

ANSWER = "R1,2009-06-01,agree,agree,strongly_agree,agree,agree,agree,Great\n"
LATIN_1 = "Caf\u00e9 \u00c9cole"  # é and É are one byte each in Latin-1, not UTF-8
SCHOOL = Case.school.type.length  # 200
RESPONSE_ID = SurveyResponse.external_id.type.length  # 100


@pytest.fixture
def pap(district):
    return district("bostonpap", "boston_pap_2007")


def _cases(app, d, data: bytes):
    return Api(app, d, d.people["coordinator"]).post(
        "/imports/cases",
        data={"file": (io.BytesIO(data), "cases.csv")},
        content_type="multipart/form-data",
    )


def _answers(app, d, data: bytes):
    return Api(app, d, d.people["coordinator"]).post(
        "/imports/survey-responses",
        data={
            "file": (io.BytesIO(data), "answers.csv"),
            "survey": "teacher_questionnaire",
            "year": "2008-2009",
            "sent": "70",
        },
        content_type="multipart/form-data",
    )


def _counts(app, d) -> tuple[int, ...]:
    with app.app_context(), tenant_scope(d.tenant.id):
        return tuple(
            db.session.execute(select(func.count()).select_from(model)).scalar()
            for model in (Case, User, SurveyRound, SurveyResponse)
        )


def _refused(app, d, post, data: bytes) -> dict[str, list[str]]:
    """Post ``data``; it must be a 422 that wrote nothing. The errors it named."""
    before = _counts(app, d)
    response = post(app, d, data)
    assert response.status_code == 422, (response.status_code, response.get_data()[:500])
    assert _counts(app, d) == before
    return response.json["errors"]


def _case_file(line: str) -> bytes:
    """The good file with ``line`` as its last row (line 5)."""
    return (HEADER + GOOD + line).encode()


def _case_line(school: str = "Adams", name: str = "Dee Dale") -> str:
    return f"B-9,{name},dee@bps.org,{school},peer_assistance,,2009-10-01,,,\n"


def _answer_file(response_id: str = "R1", comment: str = "Great") -> bytes:
    return (
        ANSWERS + f"{response_id},2009-06-01,agree,agree,agree,agree,agree,agree,{comment}\n"
    ).encode()


# A NUL ----------------------------------------------------------------------------------


def test_a_nul_in_a_case_row_is_named_by_line_and_column(app, pap):
    errors = _refused(app, pap, _cases, _case_file(_case_line(school="Ada\x00ms")))
    assert errors == {"rows[5].school": ["contains a NUL character, which text cannot hold"]}


def test_a_nul_in_a_survey_answer_is_named_by_line_and_column(app, pap):
    errors = _refused(app, pap, _answers, _answer_file(comment="Gr\x00eat"))
    assert errors == {"rows[2].comment": ["contains a NUL character, which text cannot hold"]}


# A field over the csv module's limit ----------------------------------------------------


def test_a_case_field_over_the_csv_limit_names_its_line(app, pap):
    errors = _refused(app, pap, _cases, _case_file(_case_line(school="x" * 200_000)))
    assert errors == {
        "rows[5]": ["has a value longer than 131,072 characters, more than any column holds"]
    }


def test_a_survey_field_over_the_csv_limit_names_its_line(app, pap):
    errors = _refused(app, pap, _answers, _answer_file(comment="x" * 200_000))
    assert errors == {
        "rows[2]": ["has a value longer than 131,072 characters, more than any column holds"]
    }


# A value longer than its column ---------------------------------------------------------


def test_case_values_longer_than_their_columns_are_named(app, pap):
    data = (
        HEADER
        + GOOD
        + _case_line(school="s" * (SCHOOL + 1))
        + _case_line(name="n" * (User.name.type.length + 5)).replace("B-9", "B-10")
    ).encode()
    errors = _refused(app, pap, _cases, data)
    assert errors == {
        "rows[5].school": [f"is {SCHOOL + 1} characters long; at most {SCHOOL} fit"],
        "rows[6].teacher_name": [
            f"is {User.name.type.length + 5} characters long; at most {User.name.type.length} fit"
        ],
    }


def test_a_value_exactly_as_long_as_its_column_imports(app, pap):
    response = _cases(app, pap, _case_file(_case_line(school="s" * SCHOOL)))
    assert response.status_code == 200, response.json
    with app.app_context(), tenant_scope(pap.tenant.id):
        case = db.session.execute(select(Case).where(Case.external_id == "B-9")).scalar_one()
        assert case.school == "s" * SCHOOL


def test_a_survey_response_id_longer_than_its_column_is_named(app, pap):
    errors = _refused(app, pap, _answers, _answer_file(response_id="R" * (RESPONSE_ID + 1)))
    assert errors == {
        "rows[2].response_id": [f"is {RESPONSE_ID + 1} characters long; at most {RESPONSE_ID} fit"]
    }


# Line endings and the byte-order mark ---------------------------------------------------


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_cases_import_with_any_line_ending(app, pap, ending, bom):
    response = _cases(app, pap, bom + (HEADER + GOOD).replace("\n", ending).encode())
    assert response.status_code == 200, response.json
    assert response.json == {"created": 3, "updated": 0}
    with app.app_context(), tenant_scope(pap.tenant.id):
        schools = db.session.execute(select(Case.school).order_by(Case.external_id)).scalars()
        assert list(schools) == ["Adams", "Blake", "Adams"]
        open_case = db.session.execute(select(Case).where(Case.external_id == "B-002")).scalar_one()
        assert open_case.ended_on is None and open_case.outcome is None


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_survey_answers_import_with_any_line_ending(app, pap, ending):
    text = ANSWERS + ANSWER + ANSWER.replace("R1", "R2").replace("Great", '"Fine\nthanks"')
    response = _answers(app, pap, text.replace("\n", ending).encode())
    assert response.status_code == 200, response.json
    assert response.json == {"created": 2, "updated": 0}
    with app.app_context(), tenant_scope(pap.tenant.id):
        comments = db.session.execute(
            select(SurveyResponse.comment).order_by(SurveyResponse.external_id)
        ).scalars()
        assert list(comments) == ["Great", f"Fine{ending}thanks"]


def test_rows_are_named_by_the_line_they_start_on(app, pap):
    two_lines = ANSWER.replace("Great", '"Great,\nreally"')
    data = ANSWERS + two_lines + "\n" + ANSWER.replace("R1,2009-06-01", "R2,someday")
    assert _refused(app, pap, _answers, data.encode()) == {
        "rows[5].submitted_on": ["'someday' is not a date (use YYYY-MM-DD)"]
    }


# Text that is not UTF-8 -----------------------------------------------------------------


def test_a_latin_1_case_file_is_refused_naming_line_and_column(app, pap):
    data = (HEADER + GOOD).encode() + _case_line(school=LATIN_1).encode("latin-1")
    errors = _refused(app, pap, _cases, data)
    assert errors == {
        "file": ['The file is not UTF-8 text: save it as "CSV UTF-8" and import it again.'],
        "rows[5].school": ["is not UTF-8 text (byte 0xE9 cannot be read)"],
    }


def test_a_latin_1_survey_file_is_refused_naming_line_and_column(app, pap):
    data = ANSWERS.encode() + ANSWER.replace("Great", "Tr\u00e8s bien").encode("latin-1")
    errors = _refused(app, pap, _answers, data)
    assert errors == {
        "file": ['The file is not UTF-8 text: save it as "CSV UTF-8" and import it again.'],
        "rows[2].comment": ["is not UTF-8 text (byte 0xE8 cannot be read)"],
    }


def test_an_encoded_lone_surrogate_is_not_text(app, pap):
    data = (HEADER + GOOD).encode() + _case_line(name="Dee \udc00").encode("utf-8", "surrogatepass")
    errors = _refused(app, pap, _cases, data)
    assert errors["rows[5].teacher_name"] == ["is not UTF-8 text (byte 0xED cannot be read)"]


def test_a_lone_surrogate_handed_in_as_text_is_refused():
    from app.services import csv_input

    table = csv_input.read(io.StringIO("name\nAnn\ud800\n"), ["name"], {"name": User.name})
    assert (table.rows, table.errors) == ([], {"rows[2].name": ["is not valid Unicode text"]})


def test_a_utf_16_file_is_refused_as_a_whole(app, pap):
    data = codecs.BOM_UTF16_LE + (ANSWERS + ANSWER).encode("utf-16-le")
    assert _refused(app, pap, _answers, data) == {
        "file": [
            'The file is saved as UTF-16 ("Unicode text"): save it as "CSV UTF-8" and '
            "import it again."
        ]
    }


def test_a_latin_1_header_is_refused_before_any_row(app, pap):
    data = HEADER.replace("school", "\u00e9cole").encode("latin-1") + GOOD.encode()
    errors = _refused(app, pap, _cases, data)
    assert errors["file"] == [
        "The header (line 1), column 4: is not UTF-8 text (byte 0xE9 cannot be read)",
        "Missing column: school.",
        'The file is not UTF-8 text: save it as "CSV UTF-8" and import it again.',
    ]


# The shape of the file ------------------------------------------------------------------


def test_a_row_with_more_values_than_the_header_is_named(app, pap):
    data = (ANSWERS + ANSWER.replace("Great", "Great,really,truly")).encode()
    assert _refused(app, pap, _answers, data) == {
        "rows[2]": [
            "has 11 values but the header has 9 columns (put a value holding a comma in "
            'double quotes: "Adams, North")'
        ]
    }


def test_empty_values_after_the_last_column_are_ignored(app, pap):
    response = _answers(app, pap, (ANSWERS + ANSWER.replace("\n", ",,\n")).encode())
    assert response.status_code == 200, response.json


def test_a_quote_never_closed_is_named_by_its_line(app, pap):
    data = _case_file(_case_line(school='"Adams'))
    assert _refused(app, pap, _cases, data) == {
        "rows[5]": ['has a quoted value that is never closed (a " is missing)']
    }


def test_a_repeated_column_is_refused(app, pap):
    data = (HEADER.replace("\n", ",school\n") + GOOD.replace("\n", ",Other\n")).encode()
    assert _refused(app, pap, _cases, data) == {"file": ["Column school appears twice."]}


def test_rows_beyond_the_limit_are_refused(app, pap, monkeypatch):
    from app.services import csv_input

    monkeypatch.setattr(csv_input, "MAX_ROWS", 2)
    assert _refused(app, pap, _cases, (HEADER + GOOD).encode()) == {
        "file": ["At most 2 rows per file."]
    }
    assert _refused(app, pap, _answers, (ANSWERS + ANSWER * 3).encode()) == {
        "file": ["At most 2 rows per file."]
    }


def test_a_file_beyond_the_size_limit_is_refused(app, pap, monkeypatch):
    from app.services import csv_input

    monkeypatch.setattr(csv_input, "MAX_BYTES", 100)
    assert _refused(app, pap, _cases, (HEADER + GOOD).encode()) == {
        "file": ["The file is larger than 100 bytes; split it and import each part."]
    }


def test_an_upload_beyond_the_request_limit_is_refused_before_reading(app, pap):
    before = _counts(app, pap)
    data = (HEADER + GOOD).encode() + b"x" * app.config["MAX_CONTENT_LENGTH"]
    assert _cases(app, pap, data).status_code == 413
    assert _counts(app, pap) == before


def test_the_command_line_reads_files_the_same_way(app, pap, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes((HEADER + GOOD).replace("\n", "\r").encode())
    with app.app_context():
        result = CliRunner().invoke(app.cli, ["import", "cases", "--tenant", pap.slug, str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 new and 0 updated cases" in result.output
    path.write_bytes(_case_file(_case_line(school=LATIN_1)).decode().encode("latin-1"))
    with app.app_context():
        bad = CliRunner().invoke(app.cli, ["import", "cases", "--tenant", pap.slug, str(path)])
    assert bad.exit_code == 1
    assert "rows[5].school: is not UTF-8 text (byte 0xE9 cannot be read)" in bad.output


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty: it has no header and no rows."),
        (b"\r\n \n", "The file is empty: it has no header and no rows."),
        (
            b"PK\x03\x04\x14\x00workbook",
            'The file is a spreadsheet or another zipped document, not CSV: save it as "CSV '
            'UTF-8" and import it again.',
        ),
        (b"%PDF-1.4\n", 'The file is a PDF, not CSV: save it as "CSV UTF-8" and import it again.'),
    ],
)
def test_an_empty_file_or_a_document_is_refused_as_a_whole(app, pap, data, message):
    assert _refused(app, pap, _cases, data) == {"file": [message]}
    assert _refused(app, pap, _answers, data) == {"file": [message]}
