"""Reading and writing result files, trusting nothing that is read.

``<task>.json`` is read whole but capped in size, as strict JSON (no key twice, finite numbers);
the per-query table beside it must match the SHA-256 the JSON pins and is decompressed only as
far as its declared row count allows. Files are written atomically: the per-query table first,
then the JSON that names its checksum. Only :class:`benchmark.results.TaskResult` calls these.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import stat
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import RESULT_SCHEMA_VERSION
from benchmark.errors import XbenchError
from benchmark.fsutil import atomic_write_bytes, atomic_write_text
from .schema import PER_QUERY_SUFFIX, result_key, validate_document
from .table import expected_rows, metric_columns, per_query_columns, typed_per_query

MAX_JSON_BYTES = 64 << 20  # the largest shipped result JSON is under 100 kB
# A per-query row written by xbench takes about 100 bytes (kind, two languages, a query id, seven
# numbers); 512 leave room for long query ids. The ceiling on rows (13x XQuAD-R's 157,080) keeps
# what a forged row count can make xbench decompress under 1 GiB.
PER_QUERY_ROW_BYTES = 512
PER_QUERY_HEADER_BYTES = 4096
MAX_PER_QUERY_ROWS = 2_000_000
GZIP_SLACK_BYTES = 1 << 20  # gzip may grow incompressible input slightly


def frame_to_csv_gz(frame: pd.DataFrame) -> bytes:
    """Deterministic bytes (gzip without a timestamp; floats written to round-trip exactly)."""
    text = frame.to_csv(index=False, lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise XbenchError(f"internal error: non-finite value {value} in a result")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_document(out_dir: Path, result: dict[str, Any], per_query: pd.DataFrame) -> tuple[Path, dict[str, Any]]:
    """Write the per-query table, then the JSON that names its checksum; returns the JSON's path
    and the document as written (with its ``per_query`` entry)."""
    out_dir = Path(out_dir)
    name = result_key(result)
    blob = frame_to_csv_gz(per_query)
    per_query_name = f"{name}{PER_QUERY_SUFFIX}"
    result = _clean(dict(result, per_query={"file": per_query_name, "sha256": hashlib.sha256(blob).hexdigest(), "rows": len(per_query)}))
    path = out_dir / f"{name}.json"
    validate_document(result, str(path))  # what xbench writes, xbench must read back
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(out_dir / per_query_name, blob)
    atomic_write_text(path, text)
    return path, result


def read_document(path: Path) -> dict[str, Any]:
    """Load a result JSON and validate it against the result schema (benchmark/result_schema.py):
    other schema versions, wrong types, out-of-range scores, non-finite numbers, duplicate keys
    and a per-query file other than ``<task>.per_query.csv.gz`` are refused in one line naming the
    file and the field. Returns the document as parsed (a plain dict, read by key elsewhere)."""
    result = read_json(path)
    version = result.get("schema_version") if isinstance(result, dict) else None
    if version != RESULT_SCHEMA_VERSION or type(version) is not int:
        raise XbenchError(f"{path}: schema_version {repr(version)[:40]}, expected {RESULT_SCHEMA_VERSION}")
    validate_document(result, str(path))
    return result


def read_json(path: Path, strict: bool = True) -> Any:
    """A JSON file of at most MAX_JSON_BYTES. Strictly (for reading results): UTF-8, finite
    numbers, no key twice; leniently (to tell what a file claims to be): whatever Python parses."""
    blob = _read_capped(Path(path), MAX_JSON_BYTES, "a result file")
    hooks: dict[str, Any] = dict(object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant, parse_float=_finite_float) if strict else {}
    try:
        return json.loads(blob.decode("utf-8"), **hooks)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise XbenchError(f"{path}: not a valid result file ({str(exc)[:200] or type(exc).__name__})") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON allows a key twice and Python keeps the last: two readers could see different values."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {twice[:60]!r} appears twice in one object")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of the range of a double")
    return value


def _read_capped(path: Path, cap: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``cap`` bytes. A FIFO, device or folder is refused
    (reading one could block or never end), and so is a symbolic link: a result folder handed in
    must not make xbench read (and echo parts of) files elsewhere."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        if path.is_symlink():
            raise XbenchError(f"{path}: is a symbolic link; {what} must be a regular file in the result folder")
        fd = os.open(path, flags)
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise XbenchError(f"{path}: not a regular file; {what} is expected")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            blob = fh.read(cap + 1)
    finally:
        os.close(fd)
    if len(blob) > cap:
        raise XbenchError(f"{path}: larger than {cap} bytes, too large for {what}")
    return blob


def per_query_cap(rows: int) -> int:
    """Most bytes a per-query table of ``rows`` rows may take once decompressed."""
    return PER_QUERY_HEADER_BYTES + PER_QUERY_ROW_BYTES * rows


def read_per_query(result_path: Path, result: dict[str, Any]) -> pd.DataFrame:
    """The per-query table beside a result JSON (already validated by :func:`read_document`): its
    SHA-256 must be the one the JSON pins, it is decompressed only up to the size its row count
    allows (a gzip bomb stops there), and every cell is type- and range-checked."""
    name = result["per_query"]["file"]
    if name != f"{result_key(result)}{PER_QUERY_SUFFIX}":  # read_document refuses it; a hand-made dict may not
        raise XbenchError(f"{result_path}: field per_query.file: {name!r}, must be {result_key(result)}{PER_QUERY_SUFFIX}")
    path = Path(result_path).parent / name
    rows = expected_rows(result, str(result_path))
    if rows > MAX_PER_QUERY_ROWS:
        raise XbenchError(f"{result_path}: field per_query.rows: {rows}, more than the {MAX_PER_QUERY_ROWS} rows xbench reads")
    cap = per_query_cap(rows)
    blob = _read_capped(path, cap + GZIP_SLACK_BYTES, "a per-query table")
    if hashlib.sha256(blob).hexdigest() != result["per_query"]["sha256"]:
        raise XbenchError(f"{path}: SHA-256 differs from the one recorded in {Path(result_path).name}")
    if blob[:2] != b"\x1f\x8b":
        raise XbenchError(f"{path}: not a gzip file")
    try:  # the usual case, fast: the CSV parser reads the metric columns as numbers
        return typed_per_query(_parse_table(blob, cap, rows, path, per_query_columns(result), metric_columns(result)), result, str(path))
    except _OverBounds:
        raise
    except XbenchError:  # something is wrong: read every cell as text, to name the bad one as written
        return typed_per_query(_parse_table(blob, cap, rows, path, per_query_columns(result), ()), result, str(path))


def _parse_table(blob: bytes, cap: int, rows: int, path: Path, columns: tuple[str, ...], numbers: tuple[str, ...]) -> pd.DataFrame:
    """The CSV in a gzip blob, decompressed through the bounds of :class:`_CappedGunzip`; the
    ``numbers`` columns as float64, the other ``columns`` as text (any column not named there is
    refused by the caller)."""
    stream = io.BufferedReader(_CappedGunzip(blob, cap, rows, path))
    try:
        dtype = {column: np.float64 if column in numbers else str for column in columns}
        return pd.read_csv(stream, dtype=dtype, keep_default_na=False, na_filter=False, encoding="utf-8", engine="c")
    except UnicodeDecodeError as exc:
        raise XbenchError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise XbenchError(f"{path}: corrupt gzip data ({exc})") from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise XbenchError(f"{path}: not a valid per-query table ({str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__})") from None


class _OverBounds(XbenchError):
    """A per-query table larger than its row count allows (reading it again would not help)."""


class _CappedGunzip(io.RawIOBase):
    """The decompressed bytes of a gzip blob as a stream that the CSV parser reads chunk by chunk,
    failing as soon as they exceed ``cap`` bytes, ``rows`` + 1 lines, or PER_QUERY_HEADER_BYTES in
    one line: a gzip bomb, of one endless line or of millions of short rows, costs no more than an
    honest table of ``rows`` rows."""

    def __init__(self, blob: bytes, cap: int, rows: int, path: Path) -> None:
        self._gz = gzip.GzipFile(fileobj=io.BytesIO(blob), mode="rb")
        self._cap, self._rows, self._path = cap, rows, path
        self._size = self._lines = self._line = 0  # bytes so far, complete lines, bytes in the open line

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._gz.readinto(memoryview(buffer)[: self._cap + 1 - self._size])  # never past cap + 1
        self._size += count
        ends = np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8, count=count) == 10)
        longest = max(self._line + int(ends[0]), int(np.diff(ends).max(initial=0))) if len(ends) else self._line + count
        self._line = count - 1 - int(ends[-1]) if len(ends) else self._line + count
        self._lines += len(ends)
        if longest > PER_QUERY_HEADER_BYTES or self._line > PER_QUERY_HEADER_BYTES:
            raise _OverBounds(f"{self._path}: a line longer than {PER_QUERY_HEADER_BYTES} bytes")
        if self._lines > self._rows + 1:
            raise _OverBounds(f"{self._path}: more lines than a header and the {self._rows} rows per_query.rows gives")
        if self._size > self._cap:
            raise _OverBounds(f"{self._path}: decompresses to more than {self._cap} bytes, too many for {self._rows} rows")
        return count
