"""Evidence files, stored per tenant: streamed, size-capped, type-sniffed, tenant-fenced.

Evidence is confidential personnel data, so three things hold for every backend:
an upload is never held whole in memory and never grows past the configured limit;
its type is decided from its bytes, not from what the browser claims; and a key is
only honoured for the tenant that owns it, so a guessed or forged key from another
district is indistinguishable from a missing file.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from app.core import uow
from app.services.errors import NotFound, ServiceError, StorageUnavailable, ValidationFailed

if TYPE_CHECKING:
    from flask import Flask

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ACCEPTED_TYPES = frozenset({PDF, PNG, JPEG, TEXT, DOCX})

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024
# Enough of the start to see a magic number, or markup behind leading whitespace.
_HEAD = 4096
_MAX_NAME = 120
_MAGIC = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
_ZIP_MAGIC = b"PK\x03\x04"
_KEY = re.compile(r"(?P<tenant>[1-9][0-9]*)/(?P<name>[0-9a-f]{32})")
_PARTIAL_DIR = ".partial"
#: What a volume answers when it cannot take a file: full, over quota, read-only, not ours.
_CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES})


@dataclass(frozen=True)
class StoredFile:
    """What the case record keeps about an upload; ``key`` is opaque to everyone else."""

    key: str
    size: int
    sha256: str
    content_type: str
    original_name: str


class StorageError(ServiceError):
    """Any refusal from file storage, so callers can catch storage problems as one."""


class FileTooLarge(StorageError, ValidationFailed):
    def __init__(self, max_bytes: int) -> None:
        megabytes = f"{round(max_bytes / (1024 * 1024), 1):g}"
        super().__init__({"file": [f"The file is larger than the limit of {megabytes} MB."]})


class EmptyFile(StorageError, ValidationFailed):
    def __init__(self) -> None:
        super().__init__({"file": ["The file is empty."]})


class FileTypeNotAccepted(StorageError, ValidationFailed):
    def __init__(self) -> None:
        super().__init__(
            {"file": ["This file type is not accepted (PDF, images, Word, plain text)."]}
        )


class StoreCannotWrite(StorageError, StorageUnavailable):
    """The volume refused the write; the request was fine, so it is a 507, not a 500."""

    def __init__(self) -> None:
        super().__init__({"file": ["The evidence store is full or read-only; nothing was saved."]})


class FileNotFound(StorageError, NotFound):
    """Also raised for another tenant's key: 404, never 403, so existence never leaks."""

    def __init__(self) -> None:
        super().__init__({"file": ["The file does not exist."]})


class StorageBackend(Protocol):
    """What the routes and jobs need from a store; an S3-compatible one would add only this.

    A new backend must keep the module's promises: stream with the ``max_bytes`` cap,
    sniff the type (reuse ``_Scan``), mint keys as ``"<tenant_id>/<uuid4 hex>"``, check
    them with ``_parse_key`` before touching anything, and raise ``StoreCannotWrite``
    when the store cannot take a file (full, over quota, read-only, no permission).
    """

    def save(
        self, tenant_id: int, stream: BinaryIO, original_name: str, max_bytes: int
    ) -> StoredFile: ...

    def open(self, tenant_id: int, key: str) -> BinaryIO: ...

    def delete(self, tenant_id: int, key: str) -> None: ...


def sanitise_filename(name: str) -> str:
    """A display/download name that cannot carry a path, control or bidi characters.

    The name is only shown and offered back in Content-Disposition (storage uses the
    key), but it comes from the client and ends up in headers and HTML.
    """
    name = unicodedata.normalize("NFC", name or "")
    base = re.split(r"[/\\]", name)[-1]
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base)
    cleaned = re.sub(r"_+", "_", cleaned)
    cleaned = re.sub(r" +", " ", cleaned).strip(" ._")
    if len(cleaned) > _MAX_NAME:
        stem, dot, suffix = cleaned.rpartition(".")
        if dot and stem and len(suffix) <= 10:
            cleaned = stem[: _MAX_NAME - len(suffix) - 1].rstrip(" ._") + "." + suffix
        else:
            cleaned = cleaned[:_MAX_NAME].rstrip(" ._")
    return cleaned or "file"


class _Scan:
    """Counts, hashes and sniffs the bytes as they pass, so one read does all three."""

    def __init__(self) -> None:
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = b""
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = True

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.digest.update(chunk)
        if len(self.head) < _HEAD:
            self.head += chunk[: _HEAD - len(self.head)]
        if self._text:
            self._text = b"\x00" not in chunk and self._decodes(chunk, final=False)

    def _decodes(self, chunk: bytes, final: bool) -> bool:
        try:
            self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            return False
        return True

    def content_type(self, path: Path) -> str:
        """The sniffed type, or FileTypeNotAccepted; the client's claim is never consulted."""
        for magic, content_type in _MAGIC:
            if self.head.startswith(magic):
                return content_type
        if self.head.startswith(_ZIP_MAGIC):
            if _is_word_document(path):
                return DOCX
            raise FileTypeNotAccepted()
        if self._text and self._decodes(b"", final=True) and not _looks_like_markup(self.head):
            return TEXT
        raise FileTypeNotAccepted()


def _is_word_document(path: Path) -> bool:
    # Any zip starts with PK; only the central directory (not the content) is read here.
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return {"[Content_Types].xml", "word/document.xml"} <= names


def _looks_like_markup(head: bytes) -> bool:
    # Browsers sniff text that opens with a tag as HTML/SVG; such "text" could run script.
    return head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n\f").startswith(b"<")


def _parse_key(tenant_id: int, key: str) -> str:
    """The key's file name, if the key is well-formed and this tenant's; else FileNotFound.

    Accepting only the exact shape we mint rules out traversal (``..``, absolute paths,
    backslashes, NULs) without having to enumerate the tricks.
    """
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None or match["tenant"] != str(tenant_id):
        raise FileNotFound()
    return match["name"]


def _check_tenant(tenant_id: int) -> None:
    if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id < 1:
        raise ValueError(f"tenant_id must be a positive int, not {tenant_id!r}")


class LocalStorage:
    """Files under ``root/<tenant_id>/<2-char prefix>/<uuid hex>``; the prefix keeps
    directories small. Partial uploads live in ``root/.partial`` (same filesystem, so
    the final rename is atomic and a crash never leaves a half file under a real key).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(
        self,
        tenant_id: int,
        stream: BinaryIO,
        original_name: str,
        max_bytes: int,
        *,
        content_type: str | None = None,
    ) -> StoredFile:
        """Store an upload, refusing it (and leaving nothing behind) if it is empty,
        larger than ``max_bytes`` or not an accepted type, or if the volume cannot take
        it (``StoreCannotWrite``; any other OS error is a fault and stays one).

        ``content_type`` is given only for files Parley built itself (exports, minutes):
        their type is known, so the upload sniffing does not apply.
        """
        _check_tenant(tenant_id)
        try:
            return self._save(tenant_id, stream, original_name, max_bytes, content_type)
        except OSError as exc:
            if exc.errno in _CANNOT_WRITE:
                raise StoreCannotWrite() from exc
            raise

    def _save(
        self,
        tenant_id: int,
        stream: BinaryIO,
        original_name: str,
        max_bytes: int,
        content_type: str | None,
    ) -> StoredFile:
        partial_dir = self.root / _PARTIAL_DIR
        partial_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, partial_name = tempfile.mkstemp(dir=partial_dir)
        partial = Path(partial_name)
        try:
            with os.fdopen(fd, "wb") as out:
                scan = _copy(stream, out, max_bytes)
                out.flush()
                os.fsync(out.fileno())
            if scan.size == 0:
                raise EmptyFile()
            content_type = content_type or scan.content_type(partial)
            name = uuid.uuid4().hex
            target = self._path(tenant_id, name)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(partial, target)
        except BaseException:
            # Best effort: on a volume gone read-only the unlink fails too, and the error
            # worth reporting is the one that stopped the write.
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise
        return StoredFile(
            key=f"{tenant_id}/{name}",
            size=scan.size,
            sha256=scan.digest.hexdigest(),
            content_type=content_type,
            original_name=sanitise_filename(original_name),
        )

    def open(self, tenant_id: int, key: str) -> BinaryIO:
        """The file for reading; FileNotFound (404) for a missing or another tenant's key."""
        path = self._path(tenant_id, _parse_key(tenant_id, key))
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise FileNotFound() from None

    def delete(self, tenant_id: int, key: str) -> None:
        """Remove the file; deleting twice is fine, because jobs may run more than once."""
        path = self._path(tenant_id, _parse_key(tenant_id, key))
        path.unlink(missing_ok=True)

    def _path(self, tenant_id: int, name: str) -> Path:
        return self.root / str(tenant_id) / name[:2] / name


def _copy(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> _Scan:
    # Asking for at most one byte past the limit means an oversized upload is refused
    # after reading max_bytes + 1, however large it is.
    scan = _Scan()
    while chunk := stream.read(min(_CHUNK, max_bytes + 1 - scan.size)):
        scan.feed(chunk)
        if scan.size > max_bytes:
            raise FileTooLarge(max_bytes)
        out.write(chunk)
    return scan


def storage_for(app: Flask) -> StorageBackend:
    """The configured store: local disk under ``UPLOAD_ROOT`` (default instance/uploads)."""
    root = app.config.get("UPLOAD_ROOT") or Path(app.instance_path) / "uploads"
    return LocalStorage(Path(root))


def max_upload_bytes(app: Flask) -> int:
    """The per-file limit; set Flask's MAX_CONTENT_LENGTH a little above it as well."""
    return int(app.config.get("MAX_EVIDENCE_BYTES", DEFAULT_MAX_BYTES))


def save_upload(app: Flask, tenant_id: int, stream: BinaryIO, original_name: str) -> StoredFile:
    """Store an upload within the unit of work: capped at :func:`max_upload_bytes`, and
    deleted again if the work rolls back (``uow.undo_on_rollback``), so a refused
    request never leaves its file on disk."""
    store = storage_for(app)
    stored = store.save(tenant_id, stream, original_name, max_upload_bytes(app))
    uow.undo_on_rollback(partial(store.delete, tenant_id, stored.key))
    return stored
