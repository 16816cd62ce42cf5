"""A ZIP archive of a district's tables and files, written in constant memory.

A district's export can hold millions of rows and gigabytes of evidence files, and
it is streamed to wherever the caller points it: a local file, an object-store upload
or an HTTP response that cannot seek. So the writer never holds more than one bounded
buffer of rows (or a few chunks of finished lines) or one chunk of a file, and it works
on streams that cannot seek.

Layout of an archive::

    tables/<table>.jsonl   one JSON object per line, one line per row
    files/<arcname>        each file, byte for byte
    manifest.json          {"tables": {table: row_count}, "files": n, ...caller's keys}

``manifest.json`` is written last, so an archive without it was interrupted and must
not be trusted; its counts let a re-import check that it read every row.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import queue
import re
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO
from uuid import UUID

__all__ = ["ArchiveSummary", "JsonLines", "iter_table", "read_manifest", "write_archive"]

#: Name of the manifest entry, written after every table and file.
MANIFEST_NAME = "manifest.json"
#: ``progress`` is told about a table every this many rows (and at the table's end).
PROGRESS_EVERY = 1000
#: Serialised rows are handed to the compressor in batches of about this many bytes:
#: one ``write`` per row would cost a CRC and compressor call per row, while the batch
#: stays a fixed size however many rows a table has.
_ROW_BUFFER_BYTES = 64 * 1024
#: Chunks of finished lines (see JsonLines) read ahead of the compressor, at most.
_CHUNKS_IN_FLIGHT = 4
#: Files are copied in chunks of this size, so a large file never sits in memory.
_FILE_CHUNK_BYTES = 64 * 1024
#: Manifest keys the writer fills in itself; a caller may not overwrite the counts.
_RESERVED_MANIFEST_KEYS = frozenset({"tables", "files"})
#: A table name becomes one path component, so it is kept to plain characters.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: ``C:`` and the like: a drive on Windows, where an archive may well be unpacked.
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True)
class JsonLines:
    """A table's rows already written as JSON Lines, in chunks of whole lines.

    For rows whose source can write the lines itself faster than Python can (PostgreSQL's
    ``row_to_json`` over ``COPY``, see :mod:`app.exports.pg_json`): the chunks go into the
    archive as they are, counted by their line breaks, so each line must be one JSON
    object with no line break inside it. Chunks should be large (a megabyte, say), as each
    is one write to the compressor.
    """

    chunks: Iterable[bytes]


@dataclass(frozen=True)
class ArchiveSummary:
    """What was written: the same counts as the manifest, plus the archive's size.

    ``bytes_written`` is ``None`` when the target cannot seek, because the size is
    then only known to whoever reads the stream.
    """

    tables: dict[str, int]
    files: int
    bytes_written: int | None


def write_archive(
    target: BinaryIO,
    tables: Iterable[tuple[str, Iterable[Mapping[str, Any]] | JsonLines]],
    files: Iterable[tuple[str, Callable[[], BinaryIO]]] = (),
    *,
    manifest: Mapping[str, Any] | None = None,
    progress: Callable[[str, int], None] | None = None,
    compresslevel: int | None = None,
) -> ArchiveSummary:
    """Write a ZIP of ``tables`` and ``files`` to ``target`` and return its counts.

    ``tables`` pairs a table name with its rows; each row iterable is consumed once,
    lazily, so it can be a server-side cursor. Rows may also come as :class:`JsonLines`,
    written by their source and copied as they are. ``files`` pairs an archive name with
    a callable that opens the file: a file is opened only when its turn comes and is
    closed right after, so thousands of files never hold thousands of handles.

    Every table name, file name and the ``manifest`` are checked before the first
    byte is written, so a bad name fails the export at once rather than after an
    hour of writing, and leaves ``target`` untouched. Raises ``ValueError`` for an
    unsafe or repeated name or a reserved manifest key, ``TypeError`` for a row or
    value that cannot be turned into JSON.

    ``compresslevel`` is zlib's (1 fastest, 9 smallest; ``None`` its default, 6).

    ``target`` is not closed. If it cannot seek (``seekable()`` is false), each
    entry carries a data descriptor instead of having its header rewritten.
    """
    table_list = [(_check_table_name(name), rows) for name, rows in tables]
    _check_unique("table", [name for name, _ in table_list])
    file_list = [(_safe_arcname(name), opener) for name, opener in files]
    _check_unique("file", [name for name, _ in file_list])
    extra = dict(manifest or {})
    reserved = sorted(_RESERVED_MANIFEST_KEYS.intersection(extra))
    if reserved:
        raise ValueError(f"manifest keys {reserved} are filled in by the archive writer")
    # Serialised now only to fail before writing if a value has no JSON form.
    _dumps(extra)

    seekable = _is_seekable(target)
    start = target.tell() if seekable else 0
    # A stream that says it cannot seek is handed over without seek/tell, so zipfile
    # takes its streaming path even if the stream's seek happens to half-work.
    sink: BinaryIO = target if seekable else _WriteOnly(target)  # type: ignore[assignment]

    counts: dict[str, int] = {}
    with zipfile.ZipFile(
        sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=compresslevel
    ) as zf:
        for name, rows in table_list:
            counts[name] = _write_table(zf, name, rows, progress)
        for arcname, opener in file_list:
            _write_file(zf, f"files/{arcname}", opener)
        body = {"tables": counts, "files": len(file_list), **extra}
        zf.writestr(MANIFEST_NAME, _dumps(body, indent=2).encode("utf-8") + b"\n")

    size = target.tell() - start if seekable else None
    return ArchiveSummary(tables=dict(counts), files=len(file_list), bytes_written=size)


def read_manifest(source: BinaryIO) -> dict[str, Any]:
    """Return the manifest of an archive written by :func:`write_archive`.

    Raises ``KeyError`` when the archive has no manifest, i.e. its writing was
    interrupted. ``source`` must be seekable, as reading a ZIP starts at its end.
    """
    with zipfile.ZipFile(source) as zf:
        try:
            raw = zf.read(MANIFEST_NAME)
        except KeyError:
            raise KeyError(f"archive has no {MANIFEST_NAME}: it is incomplete") from None
    return json.loads(raw)


def iter_table(source: BinaryIO, name: str) -> Iterator[dict[str, Any]]:
    """Yield the rows of table ``name`` one at a time, as the JSON objects written.

    Values come back as stored: dates and datetimes as ISO strings, decimals as
    strings, bytes as base64. Rows are decoded lazily, so reading a large table
    back is as cheap in memory as writing it. Raises ``KeyError`` (on the first
    ``next``) when the archive has no such table.
    """
    entry = f"tables/{_check_table_name(name)}.jsonl"
    with zipfile.ZipFile(source) as zf:
        try:
            raw = zf.open(entry)
        except KeyError:
            raise KeyError(f"archive has no table {name!r}") from None
        # newline="\n": only the writer's separator splits rows, never a U+2028
        # or other character that some line splitters treat as a line break.
        with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text:
            for line in text:
                yield json.loads(line)


def _write_table(
    zf: zipfile.ZipFile,
    name: str,
    rows: Iterable[Mapping[str, Any]] | JsonLines,
    progress: Callable[[str, int], None] | None,
) -> int:
    """Write one table as JSON Lines and return its row count."""
    # force_zip64: the size is unknown until the end, and without ZIP64 headers a
    # table past 4 GiB could not be recorded, on a stream that cannot seek least of all.
    with zf.open(f"tables/{name}.jsonl", "w", force_zip64=True) as out:
        if isinstance(rows, JsonLines):
            count = _copy_lines(out, name, rows, progress)
        else:
            count = _encode_rows(out, name, rows, progress)
    # The last report, unless the count was a multiple of PROGRESS_EVERY and has just
    # been reported: callers get strictly increasing counts, and always the final one.
    if progress is not None and (count == 0 or count % PROGRESS_EVERY):
        progress(name, count)
    return count


def _encode_rows(
    out: BinaryIO,
    name: str,
    rows: Iterable[Mapping[str, Any]],
    progress: Callable[[str, int], None] | None,
) -> int:
    """Serialise mappings one line each, handing them to ``out`` in batches."""
    count = 0
    buffer: list[bytes] = []
    buffered = 0
    for row in rows:
        line = _row_line(name, count, row)
        buffer.append(line)
        buffered += len(line)
        count += 1
        if buffered >= _ROW_BUFFER_BYTES:
            out.write(b"".join(buffer))
            buffer.clear()
            buffered = 0
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(name, count)
    if buffer:
        out.write(b"".join(buffer))
    return count


def _copy_lines(
    out: BinaryIO, name: str, lines: JsonLines, progress: Callable[[str, int], None] | None
) -> int:
    """Copy chunks of finished lines, counting them; progress is told at chunk ends, each
    time a multiple of PROGRESS_EVERY was passed (with the count at that chunk's end).

    The compressor runs on a thread of its own: zlib lets go of the GIL while it works, so
    it compresses one chunk while this thread reads the next from its source, instead of
    each waiting for the other. At most _CHUNKS_IN_FLIGHT chunks wait between the two.
    """
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=_CHUNKS_IN_FLIGHT)
    failed: list[BaseException] = []

    def compress() -> None:
        # Keeps taking chunks after a failure, so the reader never blocks on a full queue.
        while (chunk := pending.get()) is not None:
            if not failed:
                try:
                    out.write(chunk)
                except BaseException as exc:  # re-raised on the reading thread
                    failed.append(exc)

    writer = threading.Thread(target=compress, name=f"archive-{name}", daemon=True)
    writer.start()
    count = 0
    try:
        for chunk in lines.chunks:
            if failed:
                break
            if not chunk:
                continue
            if chunk[-1:] != b"\n":
                raise ValueError(f"table {name!r}: a chunk of lines ends inside a line")
            pending.put(chunk)
            before, count = count, count + chunk.count(b"\n")
            if progress is not None and count // PROGRESS_EVERY > before // PROGRESS_EVERY:
                progress(name, count)
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]
    return count


def _row_line(table: str, index: int, row: Mapping[str, Any]) -> bytes:
    """Serialise one row as a line of JSON, naming the row if it cannot be."""
    if not isinstance(row, Mapping):
        raise TypeError(f"table {table!r} row {index}: expected a mapping, got {type(row)!r}")
    try:
        # dict(): json only serialises real dicts, and rows from a database driver
        # are often other mappings.
        text = _dumps(row if isinstance(row, dict) else dict(row))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"table {table!r} row {index}: {exc}") from exc
    return text.encode("utf-8") + b"\n"


def _write_file(zf: zipfile.ZipFile, entry: str, opener: Callable[[], BinaryIO]) -> None:
    """Copy one file into the archive chunk by chunk, closing it afterwards."""
    source = opener()
    try:
        with zf.open(entry, "w", force_zip64=True) as out:
            shutil.copyfileobj(source, out, _FILE_CHUNK_BYTES)
    finally:
        source.close()


def _json_default(value: Any) -> Any:
    """Give JSON forms to the types database rows carry; refuse anything else.

    Everything maps to a string or list that a re-import can parse back without
    loss: ISO 8601 for dates and times (with their UTC offset), the exact decimal
    text (so ``12.50`` keeps its scale), base64 for bytes, and sets sorted so the
    same data always gives the same archive.
    """
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Set):
        try:
            return sorted(value)
        except TypeError:
            # Mixed types have no natural order; repr still gives a stable one.
            return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} value {value!r} has no JSON form")


def _dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text for the archive: readable UTF-8 rather than ``\\u`` escapes; one line
    unless ``indent`` is given, which only the manifest uses."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, indent=indent)


def _check_table_name(name: str) -> str:
    """Return ``name`` if it can be the single path component ``tables/<name>.jsonl``."""
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"unsafe table name {name!r}: use letters, digits, '_', '.', '-'")
    return name


def _safe_arcname(name: str) -> str:
    """Return ``name`` as a relative path inside ``files/``, or raise ``ValueError``.

    The archive may be unpacked by any tool on any system, so anything that could
    land outside the folder it is unpacked into is refused rather than repaired:
    absolute paths, ``..`` components and Windows drives. Backslashes count as
    separators, as they do on Windows; empty and ``.`` components are dropped.
    """
    if not isinstance(name, str) or "\x00" in name:
        raise ValueError(f"unsafe file name {name!r}")
    if name.startswith(("/", "\\")):
        raise ValueError(f"unsafe file name {name!r}: absolute path")
    parts = [part for part in re.split(r"[/\\]", name) if part not in ("", ".")]
    if not parts:
        raise ValueError(f"unsafe file name {name!r}: empty path")
    if ".." in parts:
        raise ValueError(f"unsafe file name {name!r}: '..' component")
    if _DRIVE.match(parts[0]):
        raise ValueError(f"unsafe file name {name!r}: drive letter")
    return "/".join(parts)


def _check_unique(kind: str, names: list[str]) -> None:
    """Refuse repeated names: a ZIP would keep both entries but a reader sees one."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{kind} name {name!r} appears more than once")
        seen.add(name)


def _is_seekable(stream: BinaryIO) -> bool:
    """Whether ``stream`` says it can seek; a stream without ``seekable`` cannot."""
    seekable = getattr(stream, "seekable", None)
    if seekable is None:
        return False
    try:
        return bool(seekable())
    except (OSError, ValueError):
        return False


class _WriteOnly:
    """A stream reduced to ``write`` and ``flush``, so zipfile never tries to seek.

    zipfile decides between rewriting headers and writing data descriptors by
    probing ``tell``/``seek``; hiding them makes that decision agree with the
    stream's own ``seekable()``.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        # zipfile trusts that every byte went out; a raw stream may take fewer,
        # so the rest is offered again rather than silently dropped. ``None`` is
        # taken as "all of it", as ad-hoc file-likes often return nothing.
        view = memoryview(data).cast("B")
        while view:
            written = self._stream.write(view)
            if written is None:
                break
            if written <= 0:
                raise OSError("target stream accepted no bytes")
            view = view[written:]
        return len(data)

    def flush(self) -> None:
        flush = getattr(self._stream, "flush", None)
        if flush is not None:
            flush()
