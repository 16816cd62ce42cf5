"""Reading an uploaded CSV file: one reader for every import, so each refuses the same things.

The file must be UTF-8 text (a byte-order mark is fine); lines may end in CRLF, LF or CR
alone. Every value is checked for what the database could not store (a NUL, bytes that
are not UTF-8, more characters than its column holds) and named by line and column,
``rows[3].school``, the header being line 1. A line the csv module cannot read (a value
over its field limit, a quote never closed) is named by its line, ``rows[3]``, and stops
the reading: what follows it cannot be trusted. Nothing here writes; the importer checks
its own rules on the rows that can be stored and raises every error at once.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy.orm import QueryableAttribute

from app.services.errors import ValidationFailed

#: The largest file read (requests are capped lower by MAX_CONTENT_LENGTH; this bounds
#: the command line), and the most rows one import takes.
MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000

_SAVE_AS = 'save it as "CSV UTF-8" and import it again.'
#: Undecodable bytes are kept as lone surrogates U+DC80..U+DCFF ("surrogateescape"), so
#: each can be named in the value that holds it instead of only by its offset in the file.
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]  # every header column; "" where the line ends early


@dataclass(frozen=True)
class Table:
    """The rows whose every value can be stored, and the errors of the others."""

    rows: list[Row]
    errors: dict[str, list[str]]


def decoded(data: bytes) -> TextIO:
    """An uploaded file as text; bytes that are not UTF-8 are refused later, by value."""
    if len(data) > MAX_BYTES:
        too_big = f"The file is larger than {MAX_BYTES:,} bytes; split it and import each part."
        raise ValidationFailed({"file": [too_big]})
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        utf_16 = f'The file is saved as UTF-16 ("Unicode text"): {_SAVE_AS}'
        raise ValidationFailed({"file": [utf_16]})
    return io.StringIO(data.decode("utf-8-sig", "surrogateescape"), newline="")


def read(
    stream: TextIO, columns: Sequence[str], stored_in: Mapping[str, QueryableAttribute]
) -> Table:
    """The rows of a CSV file that has at least ``columns``; ``stored_in`` maps a column to
    the model attribute its values go into, whose length (``String(n)``) bounds them."""
    # newline="" lets the csv module see every line ending, and CRs inside quoted values.
    reader = csv.reader(io.StringIO(stream.read(), newline=""), strict=True)
    header = _header(reader, columns)
    limits = {c: n for c, attribute in stored_in.items() if (n := _length(attribute))}
    rows: list[Row] = []
    errors: dict[str, list[str]] = {}
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors[f"rows[{line}]"] = [_unreadable(exc)]
            raise ValidationFailed(_with_advice(errors)) from exc
        if not record:  # a blank line
            continue
        count += 1
        if count > MAX_ROWS:
            raise ValidationFailed({"file": [f"At most {MAX_ROWS} rows per file."]})
        problems = _row_problems(record, header, limits)
        if problems:
            errors.update({f"rows[{line}]{key}": messages for key, messages in problems.items()})
        else:
            values = dict.fromkeys(header, "") | dict(zip(header, record, strict=False))
            rows.append(Row(line, values))
    return Table(rows, _with_advice(errors))


def _header(reader, columns: Sequence[str]) -> list[str]:
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise ValidationFailed({"file": [f"The header (line 1) {_unreadable(exc)}."]}) from exc
    problems = [
        f"The header (line 1), column {number}: {problem}"
        for number, name in enumerate(header, start=1)
        if (problem := _value_problem(name, None))
    ]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems += [f"Column {name} appears twice." for name in repeated]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(f"Missing column: {', '.join(missing)}.")
    if problems:
        raise ValidationFailed(_with_advice({"file": problems}))
    return header


def _row_problems(
    record: list[str], header: list[str], limits: Mapping[str, int]
) -> dict[str, list[str]]:
    """By ``.column`` (or ``""`` for the row as a whole): what of this line cannot be stored."""
    if any(value.strip() for value in record[len(header) :]):
        return {
            "": [
                f"has {len(record)} values but the header has {len(header)} columns (put a "
                'value holding a comma in double quotes: "Adams, North")'
            ]
        }
    return {
        f".{name}": [problem]
        for name, value in zip(header, record, strict=False)
        if (problem := _value_problem(value, limits.get(name)))
    }


def _value_problem(value: str, limit: int | None) -> str | None:
    if "\x00" in value:
        return "contains a NUL character, which text cannot hold"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        if code in _ESCAPED_BYTES:
            return f"is not UTF-8 text (byte 0x{code - 0xDC00:02X} cannot be read)"
        return "is not valid Unicode text"
    length = len(value.strip())  # importers store values stripped
    if limit is not None and length > limit:
        return f"is {length} characters long; at most {limit} fit"
    return None


def _unreadable(exc: csv.Error) -> str:
    message = str(exc)
    if message.startswith("field larger than field limit"):
        return (
            f"has a value longer than {csv.field_size_limit():,} characters, more than any "
            "column holds"
        )
    if message == "unexpected end of data":
        return 'has a quoted value that is never closed (a " is missing)'
    if "expected after" in message:
        return (
            "has a quote in the middle of a value: put the whole value in double quotes and "
            'double each quote inside it ("")'
        )
    return f"cannot be read as CSV ({message})"


def _with_advice(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Say once, for the file, what to do when some of its bytes are not UTF-8."""
    if any("is not UTF-8 text" in m for messages in errors.values() for m in messages):
        errors.setdefault("file", []).append(f"The file is not UTF-8 text: {_SAVE_AS}")
    return errors


def _length(attribute: QueryableAttribute) -> int | None:
    """The most characters a model column holds (``String(200)``: 200; ``Text``: None)."""
    return getattr(attribute.type, "length", None)
