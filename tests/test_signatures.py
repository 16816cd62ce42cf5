"""Acknowledgment of receipt and the district's signature: the teacher signs with a typed
name that says receipt is not agreement; the letter is a PAdES-signed PDF that the real
``pyhanko`` tool and the public verify page accept, and a changed copy they refuse."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.signing import Acknowledgment, SigningKey
from app.models.user import User
from app.security.encryption import unseal
from app.services import document_signing, signatures
from app.services.errors import Conflict
from app.tenants.context import tenant_scope
from app.workflows import load_preset
from tests.casework import Browser, errors_beside
from tests.factories import csrf_token
from tests.test_exports import _export
from tests.test_teacher_decision import _approve

PYHANKO = str(Path(sys.executable).with_name("pyhanko"))


@pytest.fixture
def decided(app, awaiting_approval):
    """A Boston PAR case the Superintendent approved, with its teacher."""
    return _approve(app, awaiting_approval("boston", "boston_esp", "par", "needs_improvement"))


def _page(app, d, user) -> str:
    response = Browser(app, d.district, user).get(f"/cases/{d.case_id}")
    assert response.status_code == 200
    return response.text


def _acknowledge(app, d, user, typed_name: str, understood: bool = True):
    data = {"typed_name": typed_name}
    if understood:
        data["understood"] = "y"
    return Browser(app, d.district, user).post(
        f"/cases/{d.case_id}", f"/cases/{d.case_id}/acknowledgments", data
    )


def _rows(app, d) -> list[Acknowledgment]:
    with app.app_context(), tenant_scope(d.district.tenant.id):
        rows = db.session.execute(select(Acknowledgment)).scalars().all()
        db.session.expunge_all()
        return rows


def _letter(app, d, user=None) -> bytes:
    response = Browser(app, d.district, user or d.teacher).get(f"/cases/{d.case_id}/decision.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def _keys(app, tenant_id: int) -> list[SigningKey]:
    with app.app_context(), tenant_scope(tenant_id):
        rows = document_signing.keys()
        db.session.expunge_all()
        return rows


def _validate_with_cli(tmp_path, pdf: bytes, certificates: list[str]):
    """``pyhanko sign validate`` trusting only the district's certificates."""
    pdf_path = tmp_path / "letter.pdf"
    pdf_path.write_bytes(pdf)
    trust = []
    for n, pem in enumerate(certificates):
        path = tmp_path / f"district-{n}.pem"
        path.write_text(pem)
        trust += ["--trust", str(path)]
    return subprocess.run(
        [PYHANKO, "sign", "validate", "--pretty-print", "--trust-replace", *trust, str(pdf_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _verify_page(app, slug: str, pdf: bytes, name: str = "letter.pdf"):
    client = app.test_client()
    token = csrf_token(client.get(f"/t/{slug}/verify").text)
    return client.post(
        f"/t/{slug}/verify",
        data={"csrf_token": token, "document": (io.BytesIO(pdf), name)},
        content_type="multipart/form-data",
    )


def _verdict(response) -> str:
    assert response.status_code == 200, response.text
    marker = 'data-verdict="'
    start = response.text.index(marker) + len(marker)
    return response.text[start : response.text.index('"', start)]


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# --- The district's key ------------------------------------------------------------------


def test_a_district_gets_its_signing_key_at_provisioning(app, make_tenant):
    tenant = make_tenant("quincy", "Quincy Public Schools")
    [key] = _keys(app, tenant.id)
    assert key.retired_at is None and len(key.fingerprint) == 64
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(key.certificate_pem.encode())
    assert certificate.subject.rfc4514_string().startswith(
        "O=Quincy Public Schools,CN=Quincy Public Schools — Parley documents"
    )
    assert "PRIVATE KEY" not in key.private_key_encrypted  # sealed, not stored in the clear
    with app.app_context():
        assert unseal(key.private_key_encrypted).startswith("-----BEGIN PRIVATE KEY-----")
    with app.app_context(), tenant_scope(tenant.id):
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "signing.key_created" in actions


def test_a_district_without_a_key_gets_one_when_it_first_signs(app, decided):
    tenant_id = decided.district.tenant.id
    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(SigningKey.__table__.delete())
        db.session.commit()
    assert _keys(app, tenant_id) == []
    _letter(app, decided)
    assert len(_keys(app, tenant_id)) == 1


# --- Acknowledgment ----------------------------------------------------------------------


def test_a_wrong_typed_name_is_refused_beside_the_field_and_records_nothing(app, decided):
    response = _acknowledge(app, decided, decided.teacher, "Somebody Else")
    assert response.status_code == 422
    beside = errors_beside(response.text, "typed_name")
    assert "Type your name as the district has it" in beside and decided.teacher.name in beside
    assert _rows(app, decided) == []


def test_acknowledging_needs_the_box_ticked(app, decided):
    response = _acknowledge(app, decided, decided.teacher, decided.teacher.name, understood=False)
    assert response.status_code == 400
    assert "Tick the box" in errors_beside(response.text, "understood")
    assert _rows(app, decided) == []
    page = _page(app, decided, decided.teacher)
    form = page.split('data-testid="acknowledgment-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="understood"' in form and "checked" not in form  # never ticked for them


def test_the_teacher_acknowledges_once_with_an_audit_event(app, decided):
    typed = "  " + decided.teacher.name.upper().replace(" ", "") + " "
    response = _acknowledge(app, decided, decided.teacher, typed)
    assert response.status_code == 302, response.text
    [row] = _rows(app, decided)
    assert row.user_id == decided.teacher.id and row.relation == "case_teacher"
    assert row.document == "decision" and row.statement == signatures.STATEMENT
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.document_acknowledged")
        ).scalar_one()
        assert event.object_id == str(decided.case_id)
        # Once only: the service refuses a second one, and the page no longer offers it.
        with pytest.raises(Conflict):
            signatures.acknowledge(
                db.session.get(Case, decided.case_id),
                db.session.get(User, decided.teacher.id),
                "decision",
                decided.teacher.name,
            )
        db.session.rollback()
    page = _page(app, decided, decided.teacher)
    assert 'data-testid="acknowledgment-form"' not in page
    section = page.split('data-testid="acknowledgments"', 1)[1]
    assert "does not mean that I agree" in section and decided.teacher.name in section
    # The letter now lists the acknowledgment with the receipt statement.
    words = " ".join(_text(_letter(app, decided)).split())
    assert "Acknowledgments of receipt" in words
    assert "the teacher the case is about" in words
    assert "My signature does not mean that I agree with it." in words


def test_only_those_the_track_names_may_acknowledge(app, decided):
    ct = decided.district.people["ct"]
    coordinator = decided.district.people["coordinator"]
    # The CT reads the decision but this track asks only the teacher to acknowledge it.
    assert 'data-testid="acknowledgment-form"' not in _page(app, decided, ct)
    assert _acknowledge(app, decided, ct, ct.name).status_code == 403
    assert _acknowledge(app, decided, coordinator, coordinator.name).status_code == 403
    chair = _user(app, decided, "chair@boston.org")
    assert _acknowledge(app, decided, chair, chair.name).status_code in (403, 404)
    assert _rows(app, decided) == []


def test_the_ct_acknowledges_where_the_track_asks(app, awaiting_approval):
    document = copy.deepcopy(load_preset("boston_esp"))
    document["tracks"]["par"]["acknowledged_by"] = ["case_teacher", "assigned_ct"]
    d = _approve(
        app, awaiting_approval("newton", "boston_esp", "par", "needs_improvement", document)
    )
    ct = d.district.people["ct"]
    assert 'data-testid="acknowledgment-form"' in _page(app, d, ct)
    assert _acknowledge(app, d, ct, ct.name).status_code == 302
    assert [r.relation for r in _rows(app, d)] == ["assigned_ct"]
    assert "the case's Consulting Teacher" in " ".join(_text(_letter(app, d)).split())


def test_nothing_to_acknowledge_before_the_decision_is_approved(app, awaiting_approval):
    waiting = awaiting_approval("salem", "boston_esp", "par", "needs_improvement")
    with app.app_context(), tenant_scope(waiting.district.tenant.id):
        case = db.session.get(Case, waiting.case_id)
        teacher = db.session.get(User, case.teacher_id)
        assert not signatures.pending_for(case, teacher, "decision")
        assert signatures.for_page(case, teacher) is None


# --- The signed letter -------------------------------------------------------------------


def test_the_signed_letter_validates_with_the_pyhanko_tool(app, decided, tmp_path):
    letter = _letter(app, decided)
    [key] = _keys(app, decided.district.tenant.id)
    result = _validate_with_cli(tmp_path, letter, [key.certificate_pem])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The signature is cryptographically sound." in result.stdout
    assert "The signer's certificate is trusted." in result.stdout
    assert "The signature covers the entire file." in result.stdout
    assert "The signature is judged VALID." in result.stdout
    assert f"Certificate SHA256 fingerprint: {key.fingerprint}" in result.stdout
    assert _verdict(_verify_page(app, decided.district.slug, letter)) == "unaltered"


def _changed_inside(letter: bytes) -> bytes:
    """The same file with one byte changed inside the signed range (the document's title)."""
    at = letter.index(b"Decision letter")
    return letter[:at] + b"X" + letter[at + 1 :]


def _with_a_changed_page(letter: bytes) -> bytes:
    """An incremental update appended after the signature that draws over the first page."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(letter))
    cover = generic.StreamObject(stream_data=b"0 0 0 rg 50 50 500 700 re f")
    writer.add_stream_to_page(0, writer.add_object(cover))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_tampered_letter_fails_the_tool_and_the_verify_page(app, decided, tmp_path):
    letter = _letter(app, decided)
    [key] = _keys(app, decided.district.tenant.id)
    for tampered in (_changed_inside(letter), _with_a_changed_page(letter)):
        assert tampered != letter
        result = _validate_with_cli(tmp_path, tampered, [key.certificate_pem])
        assert result.returncode != 0, result.stdout
        assert "The signature is judged VALID." not in result.stdout
        assert _verdict(_verify_page(app, decided.district.slug, tampered)) == "changed"
    response = _verify_page(app, decided.district.slug, _with_a_changed_page(letter))
    assert "was changed after" in response.text


def test_after_rotation_new_letters_use_the_new_key_and_old_ones_still_verify(app, decided):
    old_letter = _letter(app, decided)
    [old] = _keys(app, decided.district.tenant.id)
    admin = Browser(app, decided.district, decided.district.people["admin"])
    refused = admin.post("/admin/signing", "/admin/signing/rotate", {})
    assert refused.status_code == 400 and "Tick the box" in errors_beside(refused.text, "confirm")
    assert (
        admin.post("/admin/signing", "/admin/signing/rotate", {"confirm": "y"}).status_code == 302
    )
    new, retired = _keys(app, decided.district.tenant.id)
    assert retired.fingerprint == old.fingerprint and retired.retired_at is not None
    assert new.retired_at is None and new.fingerprint != old.fingerprint
    page = admin.get("/admin/signing").text
    assert new.fingerprint in page.split('data-testid="current-key"', 1)[1]
    assert 'data-testid="retired-key"' in page and old.fingerprint in page
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        assert (
            db.session.execute(select(AuditEvent).where(AuditEvent.action == "signing.key_rotated"))
            .scalar_one()
            .actor_label
            == decided.district.people["admin"].email
        )

    new_letter = _letter(app, decided)
    answer = _verify_page(app, decided.district.slug, new_letter)
    assert _verdict(answer) == "unaltered" and new.fingerprint in answer.text
    assert "current key" in answer.text
    answer = _verify_page(app, decided.district.slug, old_letter)
    assert _verdict(answer) == "unaltered" and old.fingerprint in answer.text
    assert "retired key" in answer.text


def test_the_signing_page_is_for_program_admins(app, decided):
    coordinator = Browser(app, decided.district, decided.district.people["coordinator"])
    assert coordinator.get("/admin/signing").status_code == 403
    admin = Browser(app, decided.district, decided.district.people["admin"])
    assert "Document signing" in admin.get("/admin/users").text


def test_the_command_line_rotates_a_districts_key(app, decided):
    [old] = _keys(app, decided.district.tenant.id)
    with app.app_context():
        result = CliRunner().invoke(app.cli, ["signing", "rotate", decided.district.slug])
    assert result.exit_code == 0, result.output
    new, retired = _keys(app, decided.district.tenant.id)
    assert retired.fingerprint == old.fingerprint and new.fingerprint in result.output


def test_another_districts_verify_page_says_the_letter_is_not_theirs(app, decided, district):
    district("worcester", "boston_esp")
    letter = _letter(app, decided)
    answer = _verify_page(app, "worcester", letter)
    assert _verdict(answer) == "not_ours"
    assert "was not signed by Worcester Schools" in answer.text


def test_the_verify_page_answers_for_files_that_are_not_signed_pdfs(app, decided):
    slug = decided.district.slug
    assert _verdict(_verify_page(app, slug, b"hello, not a pdf", "notes.txt")) == "not_signed"
    unsigned = signatures_free_pdf()
    assert _verdict(_verify_page(app, slug, unsigned)) == "not_signed"
    client = app.test_client()
    token = csrf_token(client.get(f"/t/{slug}/verify").text)
    empty = client.post(f"/t/{slug}/verify", data={"csrf_token": token})
    assert empty.status_code == 400
    assert "Choose the PDF to check." in errors_beside(empty.text, "document")


def test_the_verify_page_is_rate_limited_like_the_other_public_forms(app, make_tenant):
    make_tenant("lowell", "Lowell Public Schools")
    client = app.test_client()
    token = csrf_token(client.get("/t/lowell/verify").text)
    answers = [
        client.post(
            "/t/lowell/verify",
            data={"csrf_token": token, "document": (io.BytesIO(b"%PDF-1.7"), "a.pdf")},
            content_type="multipart/form-data",
        ).status_code
        for _ in range(11)
    ]
    assert answers[:10] == [200] * 10 and answers[10] == 429


def signatures_free_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Decision letter")
    page.save()
    return buffer.getvalue()


def test_the_private_key_never_leaves_in_the_district_archive(app, decided):
    _letter(app, decided)
    [key] = _keys(app, decided.district.tenant.id)
    _, data = _export(app, decided.district, decided.district.people["admin"], "tenant_archive")
    archive = zipfile.ZipFile(io.BytesIO(data))
    rows = [json.loads(x) for x in archive.read("tables/signing_keys.jsonl").splitlines()]
    assert [r["fingerprint"] for r in rows] == [key.fingerprint]
    assert all("private_key_encrypted" not in r for r in rows)
    sealed = key.private_key_encrypted.encode()
    assert not any(sealed in archive.read(name) for name in archive.namelist())


def _user(app, d, email: str) -> User:
    with app.app_context(), tenant_scope(d.district.tenant.id):
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        db.session.expunge(user)
        return user
