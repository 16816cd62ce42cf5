"""Evidence storage: limits, type sniffing and the tenant fence, on a real directory."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from app.services.errors import NotFound, ValidationFailed
from app.services.storage import (
    DOCX,
    JPEG,
    PDF,
    PNG,
    TEXT,
    LocalStorage,
    max_upload_bytes,
    sanitise_filename,
    storage_for,
)

MB = 1024 * 1024
PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
TYPE_REFUSED = "This file type is not accepted (PDF, images, Word, plain text)."


class CountingStream(io.RawIOBase):
    """An upload that makes its bytes on demand and counts how many were asked of it."""

    def __init__(self, size: int, fill: bytes = b"a", max_read: int | None = None) -> None:
        self.remaining = size
        self.fill = fill
        self.max_read = max_read
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.remaining
        if self.max_read is not None:
            n = min(n, self.max_read)
        n = min(n, self.remaining)
        self.remaining -= n
        self.bytes_read += n
        return self.fill * n


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


def _save(storage: LocalStorage, data: bytes, name: str = "x.pdf", limit: int = MB, tenant=1):
    return storage.save(tenant, io.BytesIO(data), name, limit)


def test_pdf_round_trip_keeps_bytes_size_and_hash(storage: LocalStorage) -> None:
    stored = _save(storage, PDF_BYTES, "Observation notes.pdf", tenant=7)

    assert stored.key.startswith("7/")
    assert stored.size == len(PDF_BYTES)
    assert stored.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert stored.content_type == PDF
    assert stored.original_name == "Observation notes.pdf"
    with storage.open(7, stored.key) as f:
        assert f.read() == PDF_BYTES


def test_files_are_laid_out_per_tenant_with_a_prefix_directory(storage: LocalStorage) -> None:
    stored = _save(storage, PDF_BYTES, tenant=3)

    name = stored.key.split("/")[1]
    assert _files(storage.root) == [storage.root / "3" / name[:2] / name]
    assert len(name) == 32


def test_a_file_over_the_limit_is_refused_and_leaves_nothing(storage: LocalStorage) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _save(storage, PDF_BYTES + b"x" * MB, limit=MB)

    assert exc.value.status == 422
    assert exc.value.errors == {"file": ["The file is larger than the limit of 1 MB."]}
    assert _files(storage.root) == []


def test_a_file_exactly_at_the_limit_is_accepted(storage: LocalStorage) -> None:
    stored = _save(storage, PDF_BYTES, limit=len(PDF_BYTES))

    assert stored.size == len(PDF_BYTES)


def test_an_empty_file_is_refused(storage: LocalStorage) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _save(storage, b"")

    assert exc.value.status == 422
    assert exc.value.errors == {"file": ["The file is empty."]}
    assert _files(storage.root) == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, id="windows-exe"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, id="elf"),
        pytest.param(b"<!DOCTYPE html><script>alert(1)</script>", id="html"),
        pytest.param(b"\xef\xbb\xbf\n  <svg onload=alert(1)>", id="svg-behind-bom"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 100, id="not-a-real-zip"),
    ],
)
def test_a_file_lying_about_being_a_pdf_is_refused_by_its_bytes(
    storage: LocalStorage, data: bytes
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _save(storage, data, "report.pdf")

    assert exc.value.errors == {"file": [TYPE_REFUSED]}
    assert _files(storage.root) == []


def test_a_zip_that_is_not_a_word_document_is_refused(storage: LocalStorage) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", "MZ")

    with pytest.raises(ValidationFailed):
        _save(storage, buffer.getvalue(), "notes.docx")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, PNG),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, JPEG),
        (_docx(), DOCX),
    ],
)
def test_the_type_comes_from_the_bytes_not_the_name(
    storage: LocalStorage, data: bytes, content_type: str
) -> None:
    stored = _save(storage, data, "claims-to-be.pdf")

    assert stored.content_type == content_type


def test_plain_utf8_text_is_accepted(storage: LocalStorage) -> None:
    text = "Visite du 3 mars : élève engagé, 10/10 ✓\n".encode()

    stored = _save(storage, text, "notes.txt")

    assert stored.content_type == TEXT
    with storage.open(1, stored.key) as f:
        assert f.read() == text


def test_text_split_mid_character_across_reads_is_still_text(storage: LocalStorage) -> None:
    stream = CountingStream(3000, fill="é".encode(), max_read=1)

    stored = storage.save(1, stream, "notes.txt", MB)

    assert stored.content_type == TEXT
    assert stored.size == 6000


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"caf\xe9 latin-1", id="not-utf8"),
        pytest.param(b"hello\x00world", id="nul-byte"),
        pytest.param("truncated é".encode()[:-1], id="cut-mid-character"),
    ],
)
def test_text_that_is_not_clean_utf8_is_refused(storage: LocalStorage, data: bytes) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _save(storage, data, "notes.txt")

    assert exc.value.errors == {"file": [TYPE_REFUSED]}


def test_another_tenants_key_is_not_found(storage: LocalStorage) -> None:
    stored = _save(storage, PDF_BYTES, tenant=1)
    forged = "2/" + stored.key.split("/")[1]

    with pytest.raises(NotFound) as exc:
        storage.open(2, stored.key)
    assert exc.value.status == 404
    with pytest.raises(NotFound):
        storage.open(2, forged)
    with pytest.raises(NotFound):
        storage.delete(2, stored.key)
    with storage.open(1, stored.key) as f:
        assert f.read() == PDF_BYTES


@pytest.mark.parametrize(
    "key", ["1/../2/x", "/etc/passwd", "1\\..\\x", "1/../../etc/passwd", "1/", "", "1"]
)
def test_traversal_and_malformed_keys_are_not_found(
    storage: LocalStorage, tmp_path: Path, key: str
) -> None:
    # Give a naive path join something real to find.
    (storage.root / "2").mkdir(parents=True)
    (storage.root / "2" / "x").write_bytes(b"tenant 2 secret")
    (storage.root / "x").write_bytes(b"root secret")

    with pytest.raises(NotFound):
        storage.open(1, key)
    with pytest.raises(NotFound):
        storage.delete(1, key)
    assert (storage.root / "2" / "x").exists()
    assert (storage.root / "x").exists()


def test_delete_removes_the_file_and_is_safe_to_repeat(storage: LocalStorage) -> None:
    stored = _save(storage, PDF_BYTES)

    storage.delete(1, stored.key)
    storage.delete(1, stored.key)

    assert _files(storage.root) == []
    with pytest.raises(NotFound):
        storage.open(1, stored.key)


def test_a_large_upload_is_refused_without_reading_all_of_it(storage: LocalStorage) -> None:
    stream = CountingStream(3 * MB, fill=b"%")

    with pytest.raises(ValidationFailed):
        storage.save(1, stream, "big.pdf", MB)

    assert stream.bytes_read <= MB + 64 * 1024
    assert _files(storage.root) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\Desktop\\visit 1.docx", "visit 1.docx"),
        ("/abs/path/notes.txt", "notes.txt"),
        ("..", "file"),
        ("", "file"),
        ("///", "file"),
        (".htaccess", "htaccess"),
        ("Évaluation année 2.pdf", "Évaluation année 2.pdf"),
        ("a<script>b.pdf", "a_script_b.pdf"),
        ("invoice\u202egpj.exe", "invoice_gpj.exe"),
        ("line\r\nbreak.txt", "line_break.txt"),
    ],
)
def test_sanitise_filename(name: str, expected: str) -> None:
    assert sanitise_filename(name) == expected


def test_sanitise_filename_limits_length_and_keeps_the_extension() -> None:
    cleaned = sanitise_filename("x" * 300 + ".pdf")

    assert len(cleaned) == 120
    assert cleaned.endswith("x.pdf")
    assert len(sanitise_filename("y" * 300)) == 120


def test_storage_for_defaults_to_instance_uploads(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))

    backend = storage_for(app)

    assert isinstance(backend, LocalStorage)
    assert backend.root == tmp_path / "instance" / "uploads"
    assert max_upload_bytes(app) == 10 * MB


def test_storage_for_reads_the_configuration(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(UPLOAD_ROOT=str(tmp_path / "elsewhere"), MAX_EVIDENCE_BYTES=2 * MB)

    backend = storage_for(app)
    stored = backend.save(1, io.BytesIO(PDF_BYTES), "a.pdf", max_upload_bytes(app))

    assert max_upload_bytes(app) == 2 * MB
    assert _files(tmp_path / "elsewhere") != []
    assert stored.key.startswith("1/")
