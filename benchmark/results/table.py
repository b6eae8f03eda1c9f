"""The one schema of a per-query table (``<task>.per_query.csv.gz``), checked cell by cell.

Its columns are the setting's fields, the query id, AP, the relevant count, the rank distance
and the bias measures (multilingual rows only; no bias columns in a result written before them),
then accuracy (when the task has it, 0 or 1) and the cutoff metrics; every cell is parsed and
range-checked against the result JSON beside it, and every row must belong to one of its settings.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import XbenchError
from benchmark.metrics import metric_spec
from .schema import CONTROL_CHARS, PER_QUERY_BASE_COLUMNS, PER_QUERY_KEY_COLUMNS, SETTING_KINDS, bias_columns, row_metrics

_COUNT = re.compile(r"[1-9][0-9]{0,8}")


def per_query_columns(doc: dict[str, Any]) -> tuple[str, ...]:
    return (*PER_QUERY_BASE_COLUMNS, *bias_columns(doc), *row_metrics(doc))


def metric_columns(doc: dict[str, Any]) -> tuple[str, ...]:
    """The per-query columns that hold a value in [0, 1] on every row."""
    return ("ap", *row_metrics(doc))


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
    int64, metrics float64, and ``rank_distance`` and the bias measures NaN on the rows that have
    none (mono, cross; and a multilingual query a partial measure says nothing about)."""
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
        refuse(column, raw[column].str.contains(CONTROL_CHARS).to_numpy(dtype=bool), "contains a control character")
    frame = raw[list(PER_QUERY_KEY_COLUMNS)].copy()
    multi = (raw.kind == "multi").to_numpy()
    for column in metric_columns(doc):
        values = _numbers(raw[column])
        refuse(column, ~np.isfinite(values), "is not a finite number")
        refuse(column, (values < 0) | (values > 1), "is out of range [0, 1]")
        if column != "ap" and metric_spec(column).outcome == "binary":
            refuse(column, (values != 0) & (values != 1), "is not 0 or 1")
        frame[column] = values
    refuse("n_relevant", ~raw.n_relevant.str.fullmatch(_COUNT).to_numpy(dtype=bool), "is not a positive integer")
    frame["n_relevant"] = raw.n_relevant.astype(np.int64)
    distance = _numbers(raw.rank_distance)
    refuse("rank_distance", multi & ~(np.isfinite(distance) & (distance >= 0)), "is not a finite number >= 0 (a multi row needs one)")
    refuse("rank_distance", ~multi & (raw.rank_distance != "").to_numpy(), "should be empty (only multi rows have a rank distance)")
    frame["rank_distance"] = np.where(multi, distance, np.nan)
    for column in bias_columns(doc):
        frame[column] = _bias_column(raw, column, multi, refuse)
    _check_settings(frame, doc, where)
    return frame[list(raw.columns)]


def _bias_column(raw: pd.DataFrame, column: str, multi: np.ndarray, refuse) -> np.ndarray:
    """A bias measure's cells: empty off the multilingual pool; on it a number within the
    measure's bounds, or empty where the measure is partial (undefined for that query)."""
    spec = metric_spec(column)
    lo, hi = spec.bounds
    values, empty = _numbers(raw[column]), (raw[column] == "").to_numpy()
    refuse(column, ~multi & ~empty, "should be empty (only multi rows have one)")
    needed = "" if spec.partial else " (a multi row needs one)"
    refuse(column, multi & ~np.isfinite(values) & (~empty | (not spec.partial)), f"is not a finite number{needed}")
    refuse(column, multi & ((values < lo) | (values > hi)), f"is out of range [{lo:g}, {hi:g}]")
    if spec.outcome == "binary":
        refuse(column, multi & np.isfinite(values) & (values != 0) & (values != 1), "is not 0 or 1")
    return np.where(multi, values, np.nan)


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

