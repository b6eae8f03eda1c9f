"""The one schema of a result file (``<task>.json``, schema_version 1) and of its per-query table.

A result is read from folders that other people hand in (``xbench submit``) or that CI fetches
(``xbench compare``, ``xbench check``), so nothing in it is trusted: every field is type-checked
here, every score range-checked, every per-query cell parsed and range-checked, and the per-query
file can only be the fixed name ``<task>.per_query.csv.gz`` next to the JSON. Types are strict (a
string is never a number, ``true`` never an integer); keys the schema does not know are allowed
(forward compatibility) except in ``per_query``, the one object that names a file. A failure is
one line naming the file and the field path, e.g. ``x.json: field settings[3].map: ...``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from benchmark.errors import XbenchError

PER_QUERY_SUFFIX = ".per_query.csv.gz"
SETTING_KINDS = ("mono", "cross", "multi")
# Columns every per-query table has, in the order xbench writes them; the task's cutoff metrics follow.
PER_QUERY_KEY_COLUMNS = ("kind", "query_lang", "corpus_lang", "query_id")
PER_QUERY_BASE_COLUMNS = (*PER_QUERY_KEY_COLUMNS, "ap", "n_relevant", "rank_distance")


def _fraction(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{value!r} out of range [0, 1]")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str) -> str:
    """Names end up in one-line messages, file names and views: no newlines or other controls."""
    if _CONTROL.search(value):
        raise ValueError(f"{value[:60]!r} contains a control character")
    return value


def _visible(value: str) -> str:
    """A name shown on the board must show something."""
    if not value.strip():
        raise ValueError("is blank")
    return value


def _plain_name(value: str) -> str:
    """A task name becomes a file name: no folder parts, nothing that walks out of the folder."""
    if value in (".", "..") or any(c in value for c in "/\\\0"):
        raise ValueError(f"{value!r} is not a plain name (it becomes a file name)")
    return value


Fraction = Annotated[float, AfterValidator(_fraction)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0, le=10**12)]  # a count beyond any data set is a forgery (and would fill messages)
PositiveCount = Annotated[int, Field(ge=1, le=10**12)]
Text = Annotated[str, Field(min_length=1)]
Label = Annotated[str, Field(min_length=1), AfterValidator(_printable)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Shown = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable), AfterValidator(_visible)]  # a board cell
Command = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_printable)]


class _Record(BaseModel):
    """Strict types, finite numbers only, unknown keys kept."""

    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False)


class TaskDefinitionRecord(_Record):
    name: Label
    version: str
    format: Text
    languages: list[Label]
    metrics: list[Text]


class ModelRecord(_Record):
    name: Shown
    kind: Optional[str] = None
    fingerprint: Optional[Shown] = None
    revision: Optional[Shown] = None
    weights_sha256: Optional[Shown] = None
    dimension: Optional[PositiveCount] = None
    parameters: Optional[Count] = None


class DataRecord(_Record):
    checksums: dict[str, Sha256]
    official: bool
    modified_files: list[str]


class SampleRecord(_Record):
    queries: PositiveCount
    seed: int


class ScoresRecord(_Record):
    mono: Optional[Fraction]
    cross: Optional[Fraction]
    multi: Optional[Fraction]
    rank_distance: Optional[NonNegative]


class SettingRecord(_Record):
    """One setting; its cutoff metrics (keys named by ``task_definition.metrics``) are checked by
    :func:`validate_document`, which knows their names."""

    kind: Literal["mono", "cross", "multi"]
    query_lang: Label
    corpus_lang: Label
    map: Fraction
    n_queries: PositiveCount
    rank_distance: Optional[NonNegative] = None


class PerQueryRecord(_Record):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)

    file: Text
    sha256: Sha256
    rows: PositiveCount


class ResultRecord(_Record):
    schema_version: Literal[1]
    xbench_version: Shown
    task: Annotated[Label, AfterValidator(_plain_name)]
    task_definition: TaskDefinitionRecord
    languages: Annotated[list[Label], Field(min_length=1)]
    complete: bool
    sample: Optional[SampleRecord] = None
    candidate_text: Label
    counts: dict[str, dict[str, Count]]
    model: ModelRecord
    data: DataRecord
    scores: ScoresRecord
    cutoff_scores: dict[Literal["mono", "cross", "multi"], dict[str, Optional[Fraction]]]
    settings: Annotated[list[SettingRecord], Field(min_length=1)]
    timings: dict[str, NonNegative]
    encoding: dict[str, Any]
    hardware: dict[str, Any]
    command: Optional[Command] = None
    per_query: PerQueryRecord


def field_path(loc: tuple) -> str:
    """``('settings', 3, 'map')`` -> ``settings[3].map``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (key)"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    message = first["msg"].removeprefix("Value error, ")
    shown = repr(first.get("input"))
    got = f" (got {shown[:60]}{'...' if len(shown) > 60 else ''})" if first["type"] not in ("missing", "value_error") else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"field {field_path(tuple(first['loc']))}: {message}{got}{more}"


def cutoff_metrics(doc: dict[str, Any]) -> tuple[str, ...]:
    """The task's cutoff metrics (``ndcg@10``...), as named by the result's own task definition."""
    return tuple(m for m in doc["task_definition"]["metrics"] if "@" in m)


def validate_document(doc: Any, where: str) -> None:
    """Raise XbenchError (one line, naming ``where`` and the field) unless ``doc`` is a valid result."""
    if not isinstance(doc, dict):
        raise XbenchError(f"{where}: not a result file (a JSON object is expected, got {type(doc).__name__})")
    try:
        ResultRecord.model_validate(doc)
    except ValidationError as exc:
        raise XbenchError(f"{where}: {_first_error(exc)}") from None
    problem = _cross_field_problem(doc)
    if problem:
        raise XbenchError(f"{where}: {problem}")


def _cross_field_problem(doc: dict[str, Any]) -> str | None:
    """What the field types cannot say: the per-query file name, cutoff metrics, rank distance
    exactly on the multilingual settings, no setting twice. (``per_query.rows`` is matched with
    the settings' n_queries when the table is read, after ``xbench submit`` has named any missing
    or extra setting.)"""
    expected = f"{doc['task']}{PER_QUERY_SUFFIX}"
    if doc["per_query"]["file"] != expected:
        return f"field per_query.file: {doc['per_query']['file']!r}, must be {expected!r} (the per-query table beside the JSON)"
    settings = doc["settings"]
    seen = set()
    for i, s in enumerate(settings):
        key = (s["kind"], s["query_lang"], s["corpus_lang"])
        if key in seen:
            return f"field settings[{i}]: a setting appears twice ({s['kind']} {s['query_lang']}->{s['corpus_lang']})"
        seen.add(key)
        if (s["kind"] == "multi") != (s.get("rank_distance") is not None):
            return f"field settings[{i}].rank_distance: " + ("missing from a multi setting" if s["kind"] == "multi" else f"only multi settings have one, this is {s['kind']}")
        for name in cutoff_metrics(doc):
            value = s.get(name)
            if type(value) not in (int, float):  # bool is a subclass of int: not accepted either
                return f"field settings[{i}].{name}: a number in [0, 1] is required (got {repr(value)[:60]})"
            if not 0.0 <= value <= 1.0:  # NaN fails this too (the JSON reader refuses it before)
                return f"field settings[{i}].{name}: {value!r} out of range [0, 1]"
    return None


# ---- per-query table -------------------------------------------------------------------------

_COUNT = re.compile(r"[1-9][0-9]{0,8}")


def per_query_columns(doc: dict[str, Any]) -> tuple[str, ...]:
    return (*PER_QUERY_BASE_COLUMNS, *cutoff_metrics(doc))


def metric_columns(doc: dict[str, Any]) -> tuple[str, ...]:
    """The per-query columns that hold a value in [0, 1] on every row."""
    return ("ap", *cutoff_metrics(doc))


def expected_rows(doc: dict[str, Any], where: str) -> int:
    """The rows the per-query table must hold: per_query.rows, which must be the settings' sum."""
    total = sum(s["n_queries"] for s in doc["settings"])
    if doc["per_query"]["rows"] != total:
        raise XbenchError(f"{where}: field per_query.rows: {doc['per_query']['rows']}, but the settings' n_queries sum to {total}")
    return total


def check_header(columns: list[str], doc: dict[str, Any], where: str) -> None:
    """The table has exactly the columns of its task (a column named twice reaches here renamed
    by pandas, ``ap.1``, and is refused as unexpected)."""
    expected = per_query_columns(doc)
    for name in columns:
        if name not in expected:
            raise XbenchError(f"{where}: unexpected column {name[:60]!r} (expected {', '.join(expected)})")
    missing = [c for c in expected if c not in columns]
    if missing:
        raise XbenchError(f"{where}: missing column {missing[0]!r}")


def typed_per_query(raw: pd.DataFrame, doc: dict[str, Any], where: str) -> pd.DataFrame:
    """The per-query table (cells read as text, the metric columns possibly as float64) checked
    cell by cell against the result ``doc``; returns it typed: keys as text, ``n_relevant``
    int64, metrics float64, and ``rank_distance`` NaN on the rows that have none (mono, cross)."""
    check_header(list(raw.columns), doc, where)
    text = [c for c in raw.columns if raw[c].dtype != np.float64]
    raw = raw.fillna(dict.fromkeys(text, ""))  # a short row leaves NaN in its missing cells: treat them as empty
    if len(raw) != doc["per_query"]["rows"]:
        raise XbenchError(f"{where}: {len(raw)} rows, but per_query.rows is {doc['per_query']['rows']}")

    def refuse(column: str, bad: np.ndarray, why: str) -> None:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise XbenchError(f"{where}: line {i + 2}, column {column}: {str(raw[column].iloc[i])[:60]!r} {why}")

    refuse("kind", ~raw.kind.isin(SETTING_KINDS).to_numpy(), f"is not one of {', '.join(SETTING_KINDS)}")
    for column in PER_QUERY_KEY_COLUMNS[1:]:
        refuse(column, (raw[column] == "").to_numpy(), "is empty")
        refuse(column, raw[column].str.contains(_CONTROL).to_numpy(dtype=bool), "contains a control character")
    frame = raw[list(PER_QUERY_KEY_COLUMNS)].copy()
    multi = (raw.kind == "multi").to_numpy()
    for column in metric_columns(doc):
        values = _numbers(raw[column])
        refuse(column, ~np.isfinite(values), "is not a finite number")
        refuse(column, (values < 0) | (values > 1), "is out of range [0, 1]")
        frame[column] = values
    refuse("n_relevant", ~raw.n_relevant.str.fullmatch(_COUNT).to_numpy(dtype=bool), "is not a positive integer")
    frame["n_relevant"] = raw.n_relevant.astype(np.int64)
    distance = _numbers(raw.rank_distance)
    refuse("rank_distance", multi & ~(np.isfinite(distance) & (distance >= 0)), "is not a finite number >= 0 (a multi row needs one)")
    refuse("rank_distance", ~multi & (raw.rank_distance != "").to_numpy(), "should be empty (only multi rows have a rank distance)")
    frame["rank_distance"] = np.where(multi, distance, np.nan)
    _check_settings(frame, doc, where)
    return frame[list(raw.columns)]


def _numbers(column: pd.Series) -> np.ndarray:
    """Text cells as float64; anything that is not a number (empty, words) becomes NaN. A column
    the CSV parser already read as numbers is taken as it is."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return pd.to_numeric(column.where(column != "", None), errors="coerce").to_numpy(dtype=np.float64)


def _check_settings(frame: pd.DataFrame, doc: dict[str, Any], where: str) -> None:
    """Every row belongs to a setting of the JSON, each setting has its n_queries rows, and no
    query appears twice in a setting (paired comparisons join on these keys)."""
    duplicated = frame.duplicated(list(PER_QUERY_KEY_COLUMNS)).to_numpy()
    if duplicated.any():
        row = frame.iloc[int(np.flatnonzero(duplicated)[0])]
        raise XbenchError(f"{where}: query {row.query_id!r} appears twice in setting {row.kind} {row.query_lang}->{row.corpus_lang}")
    sizes = frame.groupby(list(PER_QUERY_KEY_COLUMNS[:3]), sort=False).size().to_dict()
    for i, s in enumerate(doc["settings"]):
        key = (s["kind"], s["query_lang"], s["corpus_lang"])
        found = sizes.pop(key, 0)
        if found != s["n_queries"]:
            raise XbenchError(f"{where}: setting {key[0]} {key[1]}->{key[2]} has {found} rows, but settings[{i}].n_queries is {s['n_queries']}")
    if sizes:
        kind, q, c = next(iter(sizes))
        raise XbenchError(f"{where}: rows of setting {kind} {q}->{c}, which the JSON's settings do not list")

