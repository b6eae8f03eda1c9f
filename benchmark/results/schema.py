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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from benchmark.errors import XbenchError
from benchmark.metrics.bias import BIAS_MEASURES

PER_QUERY_SUFFIX = ".per_query.csv.gz"
SETTING_KINDS = ("mono", "cross", "multi")
# Columns every per-query table has, in the order xbench writes them; the task's cutoff metrics follow.
PER_QUERY_KEY_COLUMNS = ("kind", "query_lang", "corpus_lang", "query_id")
PER_QUERY_BASE_COLUMNS = (*PER_QUERY_KEY_COLUMNS, "ap", "n_relevant", "rank_distance")


def _fraction(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{value!r} out of range [0, 1]")
    return value


CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str) -> str:
    """Names end up in one-line messages, file names and views: no newlines or other controls."""
    if CONTROL_CHARS.search(value):
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


def _correlation(value: float) -> float:
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"{value!r} out of range [-1, 1]")
    return value


Fraction = Annotated[float, AfterValidator(_fraction)]
Correlation = Annotated[float, AfterValidator(_correlation)]
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
    pairing: Literal["all", "pivot"] = "all"
    pivot: Optional[Label] = None
    symmetric: bool = False
    groups: dict[Label, list[Label]] = Field(default_factory=dict)


class RoleRecord(_Record):
    role: Literal["query", "passage"]
    prompt: str


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


class BiasRecord(_Record):
    """The bias measures of the multilingual pool (absent from results written before them: then
    every one is absent, see :func:`bias_columns`)."""

    own_share: Optional[Fraction] = None
    english_share: Optional[Fraction] = None
    own_first: Optional[Fraction] = None
    rank_correlation: Optional[Correlation] = None


class ScoresRecord(BiasRecord):
    mono: Optional[Fraction]
    cross: Optional[Fraction]
    multi: Optional[Fraction]
    rank_distance: Optional[NonNegative]


class SettingRecord(BiasRecord):
    """One setting; its cutoff metrics (keys named by ``task_definition.metrics``) are checked by
    :func:`validate_document`, which knows their names."""

    kind: Literal["mono", "cross", "multi"]
    query_lang: Label
    corpus_lang: Label
    map: Fraction
    n_queries: PositiveCount
    rank_distance: Optional[NonNegative] = None
    accuracy: Optional[Fraction] = None


PERTURBATION_KEY = re.compile(r"[a-z][a-z0-9-]*(@[0-9][0-9.e+-]*)?")


class PerturbationRecord(_Record):
    """What a perturbed run perturbed its queries with (None in a clean run): the perturbation's
    name, version and level, the canonical ``key`` (``typo@0.05``) that the file name carries, the
    versions of the libraries its output depends on, and per query language how many queries it
    changed out of how many."""

    name: Label
    version: PositiveCount
    level: Optional[float] = None
    key: Annotated[str, Field(pattern=PERTURBATION_KEY.pattern)]
    libraries: dict[str, str] = Field(default_factory=dict)
    changed: dict[Label, Count]
    queries: dict[Label, Count]


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
    requested_metrics: list[Text] = Field(default_factory=list)
    roles: Optional[dict[Literal["queries", "candidates"], RoleRecord]] = None
    scores: ScoresRecord
    cutoff_scores: dict[Literal["mono", "cross", "multi"], dict[str, Optional[Fraction]]]
    aggregates: Optional[dict[Label, dict[str, Optional[Fraction]]]] = None
    settings: Annotated[list[SettingRecord], Field(min_length=1)]
    timings: dict[str, NonNegative]
    encoding: dict[str, Any]
    hardware: dict[str, Any]
    command: Optional[Command] = None
    perturbation: Optional[PerturbationRecord] = None
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


FIXED_METRICS = ("map", "rank_distance")  # every result has them: AP in ``ap``, rank distance on multi rows


def result_key(doc: dict[str, Any]) -> str:
    """The name of a result among its siblings, and the stem of its files: the task, or
    ``<task>~<perturbation key>`` for a perturbed run (so it never stands in for the clean one)."""
    perturbation = doc.get("perturbation")
    return doc["task"] if not perturbation else f"{doc['task']}~{perturbation['key']}"


def row_metrics(doc: dict[str, Any]) -> tuple[str, ...]:
    """The metrics every setting record and per-query row carries besides AP, rank distance and
    the bias measures (``accuracy``, ``ndcg@10``...), as named by the result's own task definition."""
    return tuple(m for m in doc["task_definition"]["metrics"] if m not in FIXED_METRICS and m not in BIAS_MEASURES)


def bias_columns(doc: dict[str, Any]) -> tuple[str, ...]:
    """The bias measures a result carries: every one when its headline ``scores`` name them (each
    multilingual setting then has them, and the per-query table their columns), none in a result
    written before they existed."""
    return BIAS_MEASURES if BIAS_MEASURES[0] in doc["scores"] else ()


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
    perturbation = doc.get("perturbation")
    if perturbation:
        level = perturbation.get("level")
        canonical = perturbation["name"] if level is None else f"{perturbation['name']}@{level!r}"
        if perturbation["key"] != canonical:
            return f"field perturbation.key: {perturbation['key']!r}, must be {canonical!r} (its name and level)"
    expected = f"{result_key(doc)}{PER_QUERY_SUFFIX}"
    if doc["per_query"]["file"] != expected:
        return f"field per_query.file: {doc['per_query']['file']!r}, must be {expected!r} (the per-query table beside the JSON)"
    problem = _bias_problem(doc)
    if problem:
        return problem
    settings = doc["settings"]
    seen = set()
    for i, s in enumerate(settings):
        key = (s["kind"], s["query_lang"], s["corpus_lang"])
        if key in seen:
            return f"field settings[{i}]: a setting appears twice ({s['kind']} {s['query_lang']}->{s['corpus_lang']})"
        seen.add(key)
        if (s["kind"] == "multi") != (s.get("rank_distance") is not None):
            return f"field settings[{i}].rank_distance: " + ("missing from a multi setting" if s["kind"] == "multi" else f"only multi settings have one, this is {s['kind']}")
        for name in row_metrics(doc):
            value = s.get(name)
            if type(value) not in (int, float):  # bool is a subclass of int: not accepted either
                return f"field settings[{i}].{name}: a number in [0, 1] is required (got {repr(value)[:60]})"
            if not 0.0 <= value <= 1.0:  # NaN fails this too (the JSON reader refuses it before)
                return f"field settings[{i}].{name}: {value!r} out of range [0, 1]"
    return None


def _bias_problem(doc: dict[str, Any]) -> str | None:
    """The bias measures all or none (a result written before them): in ``scores``, and then in
    exactly the multilingual settings (None where undefined), like the rank distance."""
    carried = bias_columns(doc)
    for name in BIAS_MEASURES:
        if (name in doc["scores"]) != bool(carried):
            return f"field scores.{name}: " + ("missing (a result has every bias measure or none)" if carried else
                                               f"{BIAS_MEASURES[0]} is missing, so no bias measure may be stated")
    for i, s in enumerate(doc["settings"]):
        for name in BIAS_MEASURES:
            if carried and s["kind"] == "multi" and name not in s:
                return f"field settings[{i}].{name}: missing from a multi setting"
            if name in s and (not carried or s["kind"] != "multi"):
                return f"field settings[{i}].{name}: " + (f"only multi settings have one, this is {s['kind']}" if carried
                                                          else "the result's scores state no bias measure")
    return None
