"""Is a result what xbench produced on the canonical data? The leaderboard's gatekeeper.

Each check recomputes rather than trusts: aggregates from the per-setting values, per-setting
values from the per-query table (whose SHA-256 the JSON pins), the set of settings from the task
definition, the data checksums from the definition, and (when the canonical data is at hand) the
query ids of every setting from the data itself. The first failure is raised as one line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.engine.datafiles import DataUnavailable
from benchmark.engine.settings import protocol_settings
from benchmark.engine.task import load_task
from benchmark.engine.taskdef import TaskDefinition
from benchmark.engine.taskregistry import get_task
from benchmark.errors import XbenchError
from benchmark.metrics import metric_spec
from benchmark.metrics.aggregate import BIAS_METRICS, aggregates, defined_mean, headline_scores, kinds_of
from benchmark.engine.settings import Setting
from benchmark.results import TaskResult
from benchmark.results.schema import TaskDefinitionRecord

TOLERANCE = 1e-9


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def _agrees(recomputed: float | None, stated: float | None) -> bool:
    """An aggregate recomputes when both are absent (a kind or scope with no setting) or both close."""
    return recomputed is None and stated is None or recomputed is not None and stated is not None and _close(recomputed, stated)


def validate_result(path: Path, data_dir: Path | None = None, query_ids: bool = True) -> TaskResult:
    """Check one ``<task>.json`` (and its per-query table); return it or raise XbenchError.
    ``query_ids``: check every setting's query ids against the canonical data when it is at hand
    (a perturbed result is instead held to its clean result's, which were)."""
    result = TaskResult.from_file(path)
    where = str(path)

    def fail(message: str) -> None:
        raise XbenchError(f"{where}: {message}")

    try:
        definition = get_task(result.task)
    except XbenchError:
        fail(f"unknown task {result.task!r}")
    model = result.model
    if not model.name or not (model.fingerprint or model.revision) or not model.dimension:
        fail("model identity incomplete (name, fingerprint or revision, dimension)")
    if result.languages != definition.languages or not result.complete:
        fail(f"not a run of the full task (languages {list(result.languages)})")
    recorded = result.definition
    declared = {"pairing": definition.pairing, "pivot": definition.pivot, "symmetric": definition.symmetric,
                "groups": {name: list(members) for name, members in definition.groups.items()}}
    for key, value in declared.items():
        if recorded.get(key, TaskDefinitionRecord.model_fields[key].get_default(call_default_factory=True)) != value:
            fail(f"task_definition.{key} is {recorded.get(key)!r}, the task declares {value!r}")
    missing_metrics = [m for m in definition.metrics if m not in recorded["metrics"]]
    if missing_metrics:
        fail(f"task_definition.metrics lacks {missing_metrics[0]!r}, a metric of the task")
    if result.candidate_text != definition.candidate_text:
        fail(f"candidate_text {result.candidate_text!r}, the leaderboard uses {definition.candidate_text!r}")
    data = result.data
    if not data.official or data.modified_files:
        fail("made with modified data (unofficial)")
    if data.checksums != dict(definition.files):
        differing = sorted(set(definition.files.items()) ^ set(data.checksums.items()))
        fail(f"data checksums differ from the task's canonical ones ({differing[0][0] if differing else '?'})")

    keys = {s.setting for s in result.settings}  # the schema refuses a setting twice
    expected = set(protocol_settings(definition.settings, definition.languages, definition.pivot))
    missing = expected - keys
    if missing:
        fail(f"{len(missing)} setting(s) missing, e.g. {sorted(missing)[0].label}")
    extra = keys - expected
    if extra:
        fail(f"unexpected setting {sorted(extra)[0].label}")

    canonical = _canonical_query_ids(definition, data_dir) if query_ids else None
    if canonical is not None:  # before the per-query table is read: its size is then the canonical one
        for s in result.settings:
            if s.n_queries != len(canonical.get(s.setting, ())):
                fail(f"setting {s.setting.label}: n_queries {s.n_queries}, the canonical data has {len(canonical.get(s.setting, ()))} queries")
    check_recomputes(result, where)
    if canonical is not None:
        for s in result.settings:
            if set(result.rows(s.setting).query_id) != canonical.get(s.setting):
                fail(f"setting {s.setting.label}: query ids differ from the canonical data")
    return result


def _canonical_query_ids(definition: TaskDefinition, data_dir: Path | None) -> dict[Setting, set[str]] | None:
    """With the canonical data at hand, the query ids of every setting of the protocol; None
    without a local copy (the data checksums still tie the result to the canonical data)."""
    try:
        task = load_task(definition, data_dir, download=False, check=False)
    except DataUnavailable:
        return None
    return {plan.setting: {task.index.query_ids[r] for r in plan.query_rows} for plan in task.plans}


def check_recomputes(result: TaskResult, where: str) -> None:
    """Every number a result states must follow from the one below it: each setting's mAP, cutoff
    metrics, rank distance and bias measures (those it carries) from its per-query rows, the
    headline scores from the settings. What ``submit`` and ``verify`` both need before they trust
    a file's aggregates. (Types and ranges are the schema's: a result that reached here has them.)"""

    def fail(message: str) -> None:
        raise XbenchError(f"{where}: {message}")

    for s in result.settings:
        label = f"setting {s.setting.label}"
        rows = result.rows(s.setting)
        if len(rows) != s.n_queries:
            fail(f"{label}: n_queries {s.n_queries} but {len(rows)} per-query rows")
        if not _close(float(rows.ap.to_numpy(np.float64).mean()), s.map):
            fail(f"{label}: map {s.map} does not recompute from the per-query AP ({rows.ap.mean()})")
        for spec in (*map(metric_spec, result.row_metrics), *map(metric_spec, BIAS_METRICS)):
            if not spec.applies_to(s.setting.kind) or spec.column not in rows.columns:  # bias measures: absent from old results
                continue
            values = rows[spec.column].to_numpy(np.float64)
            if not _agrees(defined_mean(values) if spec.partial else float(values.mean()), s.values.get(spec.name)):
                fail(f"{label}: {spec.name} does not recompute from the per-query values")
    records = [{**s.setting.fields(), **s.values} for s in result.settings]
    for name, value in headline_scores(records).items():
        stated = result.score(name)
        if not _agrees(value, stated):
            fail(f"scores.{name} does not recompute from the settings (stated {stated!r}, recomputed {value})")
    stated_aggregates = result.aggregates
    if stated_aggregates is None:
        return  # a result written before aggregates were recorded
    definition = result.definition
    recomputed = aggregates(records, definition["metrics"], kinds_of(records), definition.get("pivot"), definition.get("groups", {}))
    if list(stated_aggregates) != list(recomputed):
        fail(f"aggregates: scopes {list(stated_aggregates)[:6]}, the task's are {list(recomputed)[:6]}")
    for scope, values in recomputed.items():
        for name, value in values.items():
            stated = stated_aggregates[scope].get(name)
            if not _agrees(value, stated):
                fail(f"aggregates.{scope}.{name} does not recompute from the settings (stated {stated!r}, recomputed {value})")
