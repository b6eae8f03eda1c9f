"""Reading the board: each submission folder as a ranked :class:`~.ranking.Entry`.

A board is read by ``xbench leaderboard`` and by every submit (the views are rendered with the
new submission among the old ones), so a folder is refused, naming its file and field, whenever
the views could not show it: a result of another task than its name, no dimension, a headline
score (or a Tatoeba accuracy the board shows) missing, task results of different models, a
``submission.json`` out of shape. A folder without ``tatoeba.json`` is an entry without Tatoeba.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

from benchmark.errors import XbenchError
from benchmark.fsutil import safe_name
from benchmark.results import RecordedModel, TaskResult
from .ranking import BOARD_TASKS, SCORE_NAMES, SHOWN_TASKS, TATOEBA, TATOEBA_SCOPES, Entry, rank
from .perturbed import check_perturbed, perturbed_keys
from .verify import verified_label

MAX_TEXT = 200  # longest model name, revision, version or date a board row shows
MAX_COMMAND = 2000  # longest reproduce command


def revision_of(model: RecordedModel) -> str:
    return str(model.revision or model.weights_sha256 or model.fingerprint or "unknown")


def submission_key(model: RecordedModel) -> str:
    return f"{safe_name(model.name)}__{safe_name(revision_of(model), 12)}"


# ---- the fields the views rely on: refused by name, never rendered wrong ----------------------

IDENTITY = ("name", "revision", "weights_sha256", "fingerprint", "parameters")  # equal in every task (dimension is not: BM25's vocabulary)


def _fail(path: Path, name: str, problem: str) -> NoReturn:
    raise XbenchError(f"{path}: {name} {problem}")


def _shown(value: Any) -> str:
    """An offending value, short and on one line, for an error message."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _check_text(path: Path, name: str, value: Any, limit: int = MAX_TEXT, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        _fail(path, name, f"must be a non-empty string, not {_shown(value)}")
    if len(value) > limit:
        _fail(path, name, f"is {len(value)} characters long (at most {limit})")


def check_board_fields(result: TaskResult, path: Path, task: str) -> None:
    """What the board needs beyond a valid result file (whose field types the one schema,
    ``result_schema``, has already checked on load): the file holds the task its name says, a
    dimension to show, every headline score to rank by (a ranked task), every accuracy the
    Tatoeba columns and per-language view show (Tatoeba)."""
    if result.task != task:
        _fail(path, "task", f"is {_shown(result.task)}, expected {task!r}")
    if not result.complete:  # before the aggregates: a run of some languages lacks those of the groups it left out
        shown = ", ".join(result.languages[:6]) + (", ..." if len(result.languages) > 6 else "")
        _fail(path, "complete", f"is false: a run of some languages ({shown}) or a sample; the board takes full runs")
    if result.model.dimension is None:
        _fail(path, "model.dimension", "is missing (the board shows it)")
    if task == TATOEBA:
        if result.pivot is None:
            _fail(path, "task_definition.pivot", "is missing (the board shows each language against the pivot)")
        for scope in TATOEBA_SCOPES:
            if result.aggregate(scope, "accuracy") is None:
                _fail(path, f"aggregates.{scope}.accuracy", "is missing (the board shows it)")
        if "accuracy" not in result.row_metrics:  # with it, the schema holds every setting to have one
            _fail(path, "task_definition.metrics", "lacks 'accuracy' (the board shows each setting's)")
        return
    for name in SCORE_NAMES:
        if result.score(name) is None:
            _fail(path, f"scores.{name}", "is missing (the board ranks by it)")


def check_same_model(results: dict[str, TaskResult], where: Path) -> None:
    first, *others = ({k: getattr(r.model, k) for k in IDENTITY} for r in results.values())
    for other in others:
        differing = [k for k in IDENTITY if other[k] != first[k]]
        if differing:
            raise XbenchError(f"{where}: the task results come from different models (model.{differing[0]} differs)")


def read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise XbenchError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        _fail(path, "contents", f"must be an object, not {_shown(meta)}")
    for name in ("submitted", "xbench_version"):
        _check_text(path, name, meta.get(name))
    _check_text(path, "command", meta.get("command"), MAX_COMMAND, optional=True)
    return meta


def entry_tasks(folder: Path) -> tuple[str, ...]:
    """The tasks of a submission (or of a run's output folder): every ranked task, and each shown
    task whose ``<task>.json`` is there."""
    return BOARD_TASKS + tuple(task for task in SHOWN_TASKS if os.path.lexists(Path(folder) / f"{task}.json"))


def load_entry(folder: Path, key: str | None = None) -> Entry:
    """One submission folder as a board entry; refuses, naming the file and field, what the views cannot show."""
    folder = Path(folder)
    meta = read_meta(folder / "submission.json")
    results = {}
    for task in entry_tasks(folder):
        results[task] = TaskResult.from_dir(folder, task)
        check_board_fields(results[task], results[task].path, task)
        results[task].per_query  # read and checked now: a corrupt table fails loading, naming its file
    perturbed = {}
    for name in perturbed_keys(folder):  # shown by their scores only: their tables were checked by submit
        perturbed[name] = TaskResult.from_dir(folder, name)
        check_board_fields(perturbed[name], perturbed[name].path, name.partition("~")[0])
        check_perturbed(perturbed[name], results, queries=False)
    check_same_model({**results, **perturbed}, folder)
    return Entry(key or folder.name, meta, results, verified_label(folder, {**results, **perturbed}), perturbed)


def load_entries(board: Path, exclude: str | None = None) -> list[Entry]:
    """Every current submission (but ``exclude``, a key about to be replaced), best overall first."""
    root = Path(board) / "submissions"
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != exclude) if root.is_dir() else []
    return rank([load_entry(folder) for folder in folders])
