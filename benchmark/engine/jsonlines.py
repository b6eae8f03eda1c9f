"""JSON-lines files read in chunks of lines: the bytes cut by numpy, each chunk parsed by Arrow.

A corpus of millions of lines is never split into millions of Python strings: the file is read in
binary blocks, newlines are found with numpy, and every :data:`~.textsource.CHUNK_ROWS` non-blank
lines make a chunk, a byte range parsed on its own with ``pyarrow.json.read_json``. When Arrow
refuses a chunk (a broken line, a lone surrogate escape, a field that is a number on one line and
a string on the next) the chunk is parsed again line by line with the standard library: that
either names the exact bad line or reads what Arrow could not, with the same texts Arrow would
give (values that are not strings are ``str()``-ed, missing or null ones are "").
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from benchmark.errors import XbenchError
from . import textsource

BLOCK_BYTES = 1 << 22  # bytes read at a time while cutting the file


@dataclass(frozen=True)
class LineChunk:
    """A run of lines: bytes [start, stop) of the file, its first line number (1-based), and how
    many non-blank lines (rows) it holds."""

    start: int
    stop: int
    first_line: int
    rows: int


def _non_blank(data: np.ndarray) -> np.ndarray:
    """Bytes other than JSON's whitespace (space, tab, CR, LF), compared rather than looked up."""
    return (data > 32) | ((data < 32) & (data != 9) & (data != 10) & (data != 13))


def line_chunks(path: Path, rows: int | None = None) -> Iterator[LineChunk]:
    """Cut ``path`` after every ``rows`` (default CHUNK_ROWS) non-blank lines; a last line
    without a newline counts. Blank lines belong to the chunk they fall in."""
    rows = rows or textsource.CHUNK_ROWS
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise XbenchError(f"{path}: file not found") from None
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        base, line, open_has = 0, 1, False  # file offset of the block; number of the current line
        start, first, count = 0, 1, 0  # the chunk being built
        while block := handle.read(BLOCK_BYTES):
            data = np.frombuffer(block, dtype=np.uint8)
            ends = np.flatnonzero(data == 10)
            starts = np.concatenate([[0], ends + 1])
            starts = starts[starts < len(data)]
            # per line (its newline included, which is blank): does it hold a non-blank byte?
            filled = np.logical_or.reduceat(_non_blank(data), starts)
            has = filled[: len(ends)].copy()
            if len(has):
                has[0] |= open_has
            total = count + np.cumsum(has)
            for k in np.flatnonzero(has & (total % rows == 0)):
                stop = base + int(ends[k]) + 1
                yield LineChunk(start, stop, first, rows)
                start, first = stop, line + int(k) + 1
            count = int(total[-1]) % rows if len(total) else count
            tail = bool(filled[len(ends)]) if len(filled) > len(ends) else False
            open_has = tail or (open_has and not len(ends))
            line += len(ends)
            base += len(block)
        if open_has:
            count += 1
        if count:
            yield LineChunk(start, base, first, count)


def read_chunk(path: Path, chunk: LineChunk) -> bytes:
    try:
        with open(path, "rb") as handle:
            handle.seek(chunk.start)
            return handle.read(chunk.stop - chunk.start)
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None


def parse_chunk(path: Path, data: bytes, chunk: LineChunk, fields: tuple[str, ...],
                optional: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The columns ``fields`` (each present on some line of the chunk, else an error) and
    ``optional`` ("" where absent) of a chunk's lines, as strings, one per non-blank line.
    Arrow's table is taken only if it has one row per non-blank line (it would read two objects
    on one line as two rows)."""
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1))
        names = [*fields, *(name for name in optional if name in table.column_names)]
        if table.num_rows == chunk.rows and all(name in table.column_names and (pa.types.is_string(table[name].type) or pa.types.is_null(table[name].type))
               for name in names):
            columns = {name: ["" if v is None else v for v in table[name].to_pylist()] for name in names}
            rows = table.num_rows
            return {**columns, **{name: [""] * rows for name in optional if name not in columns}}
    except (pa.ArrowInvalid, UnicodeDecodeError):
        pass
    return _parse_lines(path, data, chunk.first_line, fields, optional)


def _parse_lines(path: Path, data: bytes, first_line: int, fields: tuple[str, ...],
                 optional: tuple[str, ...]) -> dict[str, list[str]]:
    """The exact parse, line by line: what Arrow refused is read here, or its line is named."""
    columns: dict[str, list[str]] = {name: [] for name in (*fields, *optional)}
    seen: set[str] = set()
    lines = data.split(b"\n")
    for n, raw in enumerate(lines):
        if not raw.strip(b" \t\r"):
            continue
        where = f"{path}: line {first_line + n}"
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if n == len(lines) - 1:  # no newline after it: the file's last line, and it is broken
                raise XbenchError(f"{where}: the file ends in the middle of this line (truncated?)") from None
            if isinstance(exc, UnicodeDecodeError):
                raise XbenchError(f"{where}: not UTF-8 text (byte {exc.start})") from None
            raise XbenchError(f"{where}: not valid JSON ({exc.msg}: column {exc.colno})") from None
        if not isinstance(record, dict):
            raise XbenchError(f"{where}: not a JSON object")
        seen.update(record)
        for name, values in columns.items():
            value = record.get(name)
            values.append("" if value is None else value if isinstance(value, str) else str(value))
    for name in fields:
        if name not in seen:
            raise XbenchError(f"{path}: line {first_line}: missing field {name!r}")
    return columns


@dataclass(frozen=True)
class JsonlLocator:
    """One chunk of a BEIR ``corpus.jsonl``: re-read and re-parsed wherever it is asked for (a
    Ray actor included, whose working directory may not be the driver's: ``path`` is absolute),
    so the texts are those the reader counted. ``candidate_text``:
    "sentence" is the passage's text, else its title, a space and its text, stripped."""

    path: str
    byte_start: int
    byte_stop: int
    first_line: int
    candidate_text: str
    rows: int

    def texts(self) -> list[str]:
        chunk = LineChunk(self.byte_start, self.byte_stop, self.first_line, self.rows)
        columns = parse_chunk(Path(self.path), read_chunk(Path(self.path), chunk), chunk, ("text",), ("title",))
        if len(columns["text"]) != self.rows:
            raise XbenchError(f"{self.path}: changed while being read (lines from {self.first_line} "
                              f"hold {len(columns['text'])} records, not {self.rows})")
        if self.candidate_text == "sentence":
            return columns["text"]
        return [f"{title} {text}".strip() for title, text in zip(columns["title"], columns["text"])]
