"""The export archive: what goes in comes back out, on any stream, in fixed memory.

Expected values are written out as literals (ISO strings, base64 text) rather than
computed with the code under test, so a wrong serialisation cannot agree with itself.
"""

from __future__ import annotations

import gc
import io
import json
import os
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from app.exports.archive import (
    ArchiveSummary,
    JsonLines,
    iter_table,
    read_manifest,
    write_archive,
)

EASTERN = timezone(timedelta(hours=-5))

TEACHERS = [
    {
        "id": 1,
        "name": "Zoë Ñúñez",
        "hired_on": date(2019, 8, 26),
        "salary": Decimal("61250.50"),
        "photo": b"\x89PNG\x00",
        "subjects": {"math", "art"},
    },
    {
        "id": 2,
        "name": "王小明 \u2028 line-separator and 🎓",
        "hired_on": None,
        "salary": None,
        "photo": None,
        "subjects": set(),
    },
]
CASES = [
    {"id": 10, "opened_at": datetime(2024, 9, 3, 8, 15, tzinfo=EASTERN), "note": "a\nb"},
    {"id": 11, "opened_at": datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)},
    {"id": 12, "opened_at": None, "note": ""},
]
VISITS: list[dict[str, Any]] = []


def _archive(**kwargs: Any) -> tuple[io.BytesIO, ArchiveSummary]:
    buffer = io.BytesIO()
    summary = write_archive(buffer, **kwargs)
    buffer.seek(0)
    return buffer, summary


class _Unseekable(io.RawIOBase):
    """A pipe-like stream over a BytesIO: it writes, but cannot seek or tell."""

    def __init__(self) -> None:
        self.inner = io.BytesIO()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        return self.inner.write(data)

    def seek(self, *args: Any) -> int:
        raise io.UnsupportedOperation("seek")

    def tell(self) -> int:
        raise io.UnsupportedOperation("tell")


class _NullSink:
    """Counts and discards what is written, so the target itself holds no memory."""

    def __init__(self) -> None:
        self.size = 0

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


class _Opener:
    """Opens a BytesIO on demand and remembers whether it was opened and closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.handles: list[io.BytesIO] = []

    def __call__(self) -> io.BytesIO:
        handle = io.BytesIO(self.data)
        self.handles.append(handle)
        return handle


# --- round trip --------------------------------------------------------------------


def test_tables_round_trip_with_manifest_counts() -> None:
    buffer, summary = _archive(
        tables=[("teachers", iter(TEACHERS)), ("cases", iter(CASES)), ("visits", VISITS)],
        manifest={"district": "springfield", "schema": 7},
    )

    assert summary.tables == {"teachers": 2, "cases": 3, "visits": 0}
    assert summary.files == 0
    assert summary.bytes_written == len(buffer.getvalue())
    assert read_manifest(buffer) == {
        "tables": {"teachers": 2, "cases": 3, "visits": 0},
        "files": 0,
        "district": "springfield",
        "schema": 7,
    }
    assert list(iter_table(buffer, "teachers")) == [
        {
            "id": 1,
            "name": "Zoë Ñúñez",
            "hired_on": "2019-08-26",
            "salary": "61250.50",
            "photo": "iVBORwA=",
            "subjects": ["art", "math"],
        },
        {
            "id": 2,
            "name": "王小明 \u2028 line-separator and 🎓",
            "hired_on": None,
            "salary": None,
            "photo": None,
            "subjects": [],
        },
    ]
    assert list(iter_table(buffer, "cases")) == [
        {"id": 10, "opened_at": "2024-09-03T08:15:00-05:00", "note": "a\nb"},
        {"id": 11, "opened_at": "2024-12-31T23:59:59+00:00"},
        {"id": 12, "opened_at": None, "note": ""},
    ]
    assert list(iter_table(buffer, "visits")) == []


def test_layout_is_one_jsonl_entry_per_table_and_the_manifest_last() -> None:
    buffer, _ = _archive(
        tables=[("teachers", TEACHERS), ("cases", CASES)],
        files=[("evidence/a.txt", _Opener(b"a"))],
    )
    with zipfile.ZipFile(buffer) as zf:
        assert zf.namelist() == [
            "tables/teachers.jsonl",
            "tables/cases.jsonl",
            "files/evidence/a.txt",
            "manifest.json",
        ]
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in zf.infolist())
        raw = zf.read("tables/cases.jsonl").decode("utf-8")
    # One object per line, each line ending in "\n"; the note's newline stays escaped.
    assert raw.endswith("\n")
    lines = raw.split("\n")[:-1]
    assert len(lines) == 3
    assert json.loads(lines[0])["note"] == "a\nb"


def test_rows_may_be_any_mapping() -> None:
    class Row(dict):
        pass

    buffer, _ = _archive(tables=[("t", [MappingProxyType({"a": 1}), Row(b=2)])])
    assert list(iter_table(buffer, "t")) == [{"a": 1}, {"b": 2}]


def test_a_value_without_json_form_names_its_table_and_row() -> None:
    rows = [{"ok": 1}, {"bad": object()}]
    with pytest.raises(TypeError, match=r"table 'cases' row 1: .*object"):
        write_archive(io.BytesIO(), [("cases", rows)])


def test_an_interrupted_archive_has_no_manifest() -> None:
    def rows() -> Iterator[dict[str, int]]:
        yield {"id": 1}
        raise RuntimeError("database went away")

    buffer = io.BytesIO()
    with pytest.raises(RuntimeError):
        write_archive(buffer, [("t", rows())])
    buffer.seek(0)
    with pytest.raises(KeyError, match="incomplete"):
        read_manifest(buffer)


@pytest.mark.parametrize("key", ["tables", "files"])
def test_the_manifest_counts_cannot_be_overridden(key: str) -> None:
    target = io.BytesIO()
    with pytest.raises(ValueError, match=key):
        write_archive(target, [("t", [{"id": 1}])], manifest={key: "forged"})
    assert target.getvalue() == b""


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "a\\b", "x\x00"])
def test_unsafe_table_names_are_refused(name: str) -> None:
    target = io.BytesIO()
    with pytest.raises(ValueError, match="table name"):
        write_archive(target, [(name, [])])
    assert target.getvalue() == b""


def test_a_repeated_table_name_is_refused() -> None:
    target = io.BytesIO()
    with pytest.raises(ValueError, match="more than once"):
        write_archive(target, [("t", [{"a": 1}]), ("t", [{"a": 2}])])
    assert target.getvalue() == b""


# --- files ---------------------------------------------------------------------------


def test_files_are_copied_byte_for_byte_and_closed() -> None:
    big = os.urandom(300 * 1024)  # several copy chunks
    small = _Opener(b"minutes of the panel, 2024-09-03\n")
    large = _Opener(big)
    buffer, summary = _archive(
        tables=[("t", [])],
        files=[("minutes.txt", small), ("evidence/./2024//observation.bin", large)],
        manifest={"district": "springfield"},
    )

    assert summary.files == 2
    assert read_manifest(buffer)["files"] == 2
    with zipfile.ZipFile(buffer) as zf:
        assert zf.read("files/minutes.txt") == b"minutes of the panel, 2024-09-03\n"
        assert zf.read("files/evidence/2024/observation.bin") == big
        assert zf.testzip() is None
    assert [len(small.handles), len(large.handles)] == [1, 1]
    assert small.handles[0].closed and large.handles[0].closed


@pytest.mark.parametrize(
    "arcname",
    ["../etc/passwd", "/abs", "evidence/../../etc/passwd", "..\\windows\\win.ini", "C:/x", ""],
)
def test_traversal_arcnames_are_refused_before_anything_is_written(arcname: str) -> None:
    first, hostile = _Opener(b"fine"), _Opener(b"root:x:0:0")
    target = io.BytesIO()
    with pytest.raises(ValueError, match="unsafe file name"):
        write_archive(target, [("t", [{"id": 1}])], [("fine.txt", first), (arcname, hostile)])
    # Refused up front: not even the table or the good file was started.
    assert hostile.handles == []
    assert first.handles == []
    assert target.getvalue() == b""


def test_a_repeated_arcname_is_refused() -> None:
    target = io.BytesIO()
    with pytest.raises(ValueError, match="more than once"):
        write_archive(target, [], [("a/b.txt", _Opener(b"1")), ("a//b.txt", _Opener(b"2"))])
    assert target.getvalue() == b""


# --- targets -------------------------------------------------------------------------


def test_a_non_seekable_target_still_gives_a_valid_archive() -> None:
    target = _Unseekable()
    with pytest.raises(OSError):
        target.tell()

    summary = write_archive(
        target,
        [("teachers", iter(TEACHERS)), ("cases", iter(CASES))],
        [("minutes.txt", _Opener(b"minutes"))],
        manifest={"district": "springfield"},
    )

    assert summary.bytes_written is None
    assert summary.tables == {"teachers": 2, "cases": 3}
    data = io.BytesIO(target.inner.getvalue())
    with zipfile.ZipFile(data) as zf:
        assert zf.testzip() is None
        assert zf.read("files/minutes.txt") == b"minutes"
        # Streamed: sizes follow each entry in a data descriptor (general flag bit 3).
        assert all(info.flag_bits & 0x08 for info in zf.infolist())
    assert read_manifest(data)["tables"] == {"teachers": 2, "cases": 3}
    assert [row["id"] for row in iter_table(data, "cases")] == [10, 11, 12]


class _SaysUnseekable(_Unseekable):
    """Claims not to seek, yet its seek and tell would work: they must stay unused."""

    def __init__(self) -> None:
        super().__init__()
        self.probes: list[str] = []

    def seek(self, *args: Any) -> int:
        self.probes.append("seek")
        return self.inner.seek(*args)

    def tell(self) -> int:
        self.probes.append("tell")
        return self.inner.tell()


def test_a_target_that_says_it_cannot_seek_is_never_sought() -> None:
    target = _SaysUnseekable()
    summary = write_archive(target, [("cases", CASES)], [("a.txt", _Opener(b"a"))])

    assert target.probes == []
    assert summary.bytes_written is None
    data = io.BytesIO(target.inner.getvalue())
    with zipfile.ZipFile(data) as zf:
        assert zf.testzip() is None
        assert all(info.flag_bits & 0x08 for info in zf.infolist())


class _Trickle(_Unseekable):
    """A raw stream that takes at most 100 bytes per write, as sockets and pipes may."""

    def write(self, data: Any) -> int:
        return self.inner.write(bytes(data[:100]))


def test_short_writes_to_the_target_are_completed() -> None:
    target = _Trickle()
    write_archive(target, [("cases", CASES)], [("big.bin", _Opener(os.urandom(5000)))])
    data = io.BytesIO(target.inner.getvalue())
    with zipfile.ZipFile(data) as zf:
        assert zf.testzip() is None
    assert [row["id"] for row in iter_table(data, "cases")] == [10, 11, 12]


def test_bytes_written_counts_only_this_archive() -> None:
    target = io.BytesIO()
    target.write(b"already here")
    summary = write_archive(target, [("cases", CASES)])
    assert summary.bytes_written == len(target.getvalue()) - len(b"already here")
    assert summary.bytes_written > 0


# --- memory --------------------------------------------------------------------------


def _rows(count: int) -> Iterator[dict[str, Any]]:
    """Generated rows, never a list: the writer must not be able to lean on one."""
    start = date(2020, 1, 1)
    for i in range(count):
        yield {
            "id": i,
            "teacher": f"teacher-{i:07d}",
            "observed_on": start + timedelta(days=i % 1500),
            "score": Decimal(i % 400) / 100,
            "comment": f"observation {i} " + "x" * (i % 50),
        }


def _peak_while_writing(rows: int) -> int:
    sink = _NullSink()
    gc.collect()
    tracemalloc.reset_peak()
    summary = write_archive(sink, [("observations", _rows(rows))])
    _, peak = tracemalloc.get_traced_memory()
    assert summary.tables == {"observations": rows}
    assert sink.size > 0
    return peak


def test_memory_does_not_grow_with_the_number_of_rows() -> None:
    tracemalloc.start()
    try:
        _peak_while_writing(1_000)  # warm-up: imports, codecs and caches allocated once
        small = _peak_while_writing(10_000)
        large = _peak_while_writing(100_000)
    finally:
        tracemalloc.stop()
    allowed = max(small * 1.2, small + 2 * 1024 * 1024)
    assert large <= allowed, f"peak {large} B for 100k rows vs {small} B for 10k rows"


# --- progress ------------------------------------------------------------------------


def test_progress_reports_increasing_counts_and_each_final_count() -> None:
    calls: list[tuple[str, int]] = []
    write_archive(
        io.BytesIO(),
        [("a", _rows(2_500)), ("b", _rows(2_000)), ("c", _rows(0)), ("d", _rows(7))],
        progress=lambda table, rows: calls.append((table, rows)),
    )
    assert calls == [
        ("a", 1_000),
        ("a", 2_000),
        ("a", 2_500),
        ("b", 1_000),
        ("b", 2_000),
        ("c", 0),
        ("d", 7),
    ]


# --- lines written by their source ---------------------------------------------------


LINES = [b'{"id":1,"name":"Zo\xc3\xab"}\n{"id":2,"name":null}\n', b"", b'{"id":3}\n']


def test_finished_lines_go_in_as_they_are_and_are_counted() -> None:
    buffer, summary = _archive(
        tables=[("teachers", JsonLines(iter(LINES))), ("cases", CASES)], compresslevel=1
    )
    assert summary.tables == {"teachers": 3, "cases": 3}
    with zipfile.ZipFile(buffer) as zf:
        assert zf.read("tables/teachers.jsonl") == b"".join(LINES)
        assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    buffer.seek(0)
    assert list(iter_table(buffer, "teachers")) == [
        {"id": 1, "name": "Zoë"},
        {"id": 2, "name": None},
        {"id": 3},
    ]
    buffer.seek(0)
    assert read_manifest(buffer)["tables"] == {"teachers": 3, "cases": 3}


def test_a_chunk_that_ends_inside_a_line_fails_the_table() -> None:
    with pytest.raises(ValueError, match="'teachers': a chunk of lines ends inside a line"):
        write_archive(io.BytesIO(), [("teachers", JsonLines([b'{"id":1}\n{"id"', b":2}\n"]))])


def test_progress_for_finished_lines_is_told_at_chunk_ends() -> None:
    calls: list[tuple[str, int]] = []
    chunks = [b'{"id":1}\n' * 600, b'{"id":1}\n' * 600, b'{"id":1}\n' * 100, b'{"id":1}\n' * 700]
    write_archive(
        io.BytesIO(),
        [("a", JsonLines(chunks)), ("b", JsonLines([])), ("c", JsonLines([b'{"id":1}\n' * 1000]))],
        progress=lambda table, rows: calls.append((table, rows)),
    )
    assert calls == [("a", 1_200), ("a", 2_000), ("b", 0), ("c", 1_000)]


class _FullDisk(io.BytesIO):
    """A target that takes the headers and then refuses everything, like a full disk."""

    def write(self, data: Any) -> int:
        if self.tell() > 0:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_a_failed_write_of_finished_lines_stops_the_source_and_is_raised() -> None:
    pulled = []

    def chunks() -> Iterator[bytes]:
        for i in range(1_000):
            pulled.append(i)
            yield os.urandom(64 * 1024).hex().encode() + b"\n"

    with pytest.raises(OSError, match="No space left on device"):
        write_archive(_FullDisk(), [("t", JsonLines(chunks()))])
    # The reader stops soon after the compressor fails, rather than reading everything.
    assert len(pulled) < 100


def test_memory_stays_flat_for_finished_lines() -> None:
    line = json.dumps({"id": 1, "note": "x" * 200}).encode() + b"\n"

    def peak(chunks: int) -> int:
        gc.collect()
        tracemalloc.reset_peak()
        summary = write_archive(_NullSink(), [("t", JsonLines(line * 4000 for _ in range(chunks)))])
        assert summary.tables == {"t": 4000 * chunks}
        return tracemalloc.get_traced_memory()[1]

    tracemalloc.start()
    try:
        peak(2)
        small, large = peak(10), peak(100)
    finally:
        tracemalloc.stop()
    assert large <= max(small * 1.2, small + 2 * 1024 * 1024), (small, large)
