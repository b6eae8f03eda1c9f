"""``xbench verify``: re-run a random sample of a submission's settings and compare per-query AP.

Why it exists: every number in a result is self-reported. ``submit`` checks that the numbers are
consistent (aggregates recompute from per-query values, whose file the JSON pins by SHA-256), not
that they are true; a submitter who edits per-query AP and recomputes everything above it passes.
Only re-running the model can catch that, and re-running everything costs as much as the
submission did. So verify loads the model from its recorded identity (refusing when the model at
hand is not the one recorded), draws a few settings at random, re-evaluates them on one language
pair's data (a multilingual-pool setting needs every language of the result) and compares each
query's AP, and every other per-query value, with the submitted one.

The draw gives each setting a chance proportional to its weight in the board's average (a mono or
multi setting weighs as much as ten cross settings), so wherever a forger puts a given amount of
score, it is as likely to be drawn. Tatoeba, shown beside the average, is one more such stratum: its
224 settings together are drawn as often as one kind of a ranked task, each re-run on the language
paired with English (:func:`.rerun.rerun_languages`); so are the settings of all perturbed results
(``<task>~<perturbation>``) together, each re-run with its queries perturbed again by the recorded
perturbation (refused when this xbench has another version of it, or of a library it uses). The seed is random unless given, and always recorded: a seed
derived from the submission could be ground by a forger until the draw misses the forged settings;
a recorded seed still lets anyone repeat the exact check with ``--seed``.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import __version__
from benchmark.errors import XbenchError
from benchmark.metrics.bias import BIAS_MEASURES
from benchmark.fsutil import atomic_write_text
from benchmark.regression.compare import claims_to_be_result
from benchmark.results import RecordedModel, TaskResult
from benchmark.results.schema import PER_QUERY_KEY_COLUMNS, PER_QUERY_SUFFIX
from .rerun import Pick, VerifyOptions, rerun
from .validate import check_recomputes

TOLERANCE = 1e-4  # largest |difference| of a per-query value that still agrees (honest re-runs agree exactly)
SHOWN = 5  # query ids named per disagreeing setting
VERIFICATION_FILE = "verification.json"
SUBMISSION_FILE = "submission.json"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Submission:
    folder: Path
    tasks: dict[str, TaskResult]  # by result key (a task, or <task>~<perturbation>), sorted

    @property
    def on_board(self) -> bool:
        """A board's submission folder (``submit`` wrote submission.json into it)."""
        return (self.folder / SUBMISSION_FILE).is_file()

    @property
    def model(self) -> RecordedModel:
        return next(iter(self.tasks.values())).model


@dataclass
class SettingCheck:
    """The comparison of one sampled setting: each submitted per-query value against the re-run's."""

    pick: Pick
    compared: int
    max_abs_diff: dict[str, float]  # per value column ("ap" first); inf where one side is NaN
    differing: list[str] = field(default_factory=list)  # query ids with a value off by more than TOLERANCE
    missing: list[str] = field(default_factory=list)  # submitted queries the re-run does not have
    unexpected: list[str] = field(default_factory=list)  # re-run queries the submission lacks

    @property
    def agrees(self) -> bool:
        return not (self.differing or self.missing or self.unexpected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.pick.task, **self.pick.setting.fields(), "queries": self.compared, "max_abs_diff": _finite(self.max_abs_diff),
            "differing": len(self.differing), "missing": len(self.missing), "unexpected": len(self.unexpected),
            "examples": (self.differing + self.missing + self.unexpected)[:SHOWN], "agrees": self.agrees,
        }


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    """JSON has no infinity: a value that could not be compared (NaN on one side) becomes null."""
    return {k: v if math.isfinite(v) else None for k, v in values.items()}


def _fail(path: Path, message: str) -> XbenchError:
    return XbenchError(f"{path}: {message}")


def load_submission(folder: Path) -> Submission:
    """Every result in ``folder`` with its per-query table, checked for internal consistency."""
    folder = Path(folder)
    if not folder.is_dir():
        raise XbenchError(f"{folder}: not a folder (give a submission folder or an `xbench run` output folder)")
    tasks: dict[str, TaskResult] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name in (SUBMISSION_FILE, VERIFICATION_FILE) or not claims_to_be_result(path):
            continue
        result = TaskResult.from_file(path)
        if result.key in tasks:
            raise _fail(path, f"a second result {result.key!r}")
        tasks[result.key] = result
    if not tasks:
        raise XbenchError(f"{folder}: no result files (<task>.json with its {PER_QUERY_SUFFIX})")
    submission = Submission(folder, dict(sorted(tasks.items())))
    for task in submission.tasks.values():
        try:
            check_consistency(task)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _fail(task.path, f"malformed result ({type(exc).__name__}: {exc})") from None
    fingerprints = {t.model.fingerprint for t in submission.tasks.values()}
    if len(fingerprints) != 1:
        raise XbenchError(f"{folder}: the results come from different models (fingerprints differ)")
    return submission


def check_consistency(task: TaskResult) -> None:
    """The model's identity, then every aggregate from the per-query values (as ``submit`` checks
    them: :func:`validate.check_recomputes`).

    The re-run checks per-query values; this ties the numbers the board shows to them, so a file
    edited after ``submit`` cannot keep a verified mark with other headline numbers.
    """
    if not task.model.fingerprint:
        raise _fail(task.path, "field 'model' has no fingerprint: the model's identity is unknown")
    check_recomputes(task, str(task.path))


PERTURBED_STRATUM = ("~", "")  # every setting of every perturbed result: drawn together as often as one kind of a task


def draw_sample(submission: Submission, size: int, seed: int) -> tuple[list[Pick], int]:
    """``size`` settings of all results, drawn without replacement by board weight; also the total.
    A stratum is a task's kind; the perturbed results (shown beside the board, never ranked) are
    one more stratum all together, as Tatoeba's 224 settings are one."""
    universe = [Pick(name, s.setting) for name, t in submission.tasks.items() for s in t.settings]
    perturbed = {name for name, t in submission.tasks.items() if t.perturbation}
    strata = [PERTURBED_STRATUM if p.task in perturbed else (p.task, p.setting.kind) for p in universe]
    sizes = Counter(strata)
    weights = np.array([1.0 / sizes[stratum] for stratum in strata])
    chosen = np.random.default_rng(seed).choice(len(universe), size=min(size, len(universe)), replace=False, p=weights / weights.sum())
    return [universe[i] for i in sorted(chosen.tolist())], len(universe)


def new_seed() -> int:
    return secrets.randbelow(2**32)


def compare_setting(pick: Pick, submitted: pd.DataFrame, fresh: pd.DataFrame, sampled_run: bool) -> SettingCheck:
    """Query by query: every per-query value the re-run has (AP, rank distance, bias measures,
    cutoff metrics, relevant count) within TOLERANCE, and the same queries (a sampled run may hold
    fewer). The board shows rank distance too, so a forged or dropped one must not pass as
    verified. A submission written before the bias measures has no columns of them (its schema
    says so): those are not compared."""
    older = [c for c in BIAS_MEASURES if c not in submitted.columns]
    columns = [c for c in fresh.columns if c not in PER_QUERY_KEY_COLUMNS and c not in older and pd.api.types.is_numeric_dtype(fresh[c])]
    columns.sort(key=lambda c: c != "ap")
    mine = submitted.set_index("query_id").reindex(columns=columns).apply(pd.to_numeric, errors="coerce").astype(np.float64)
    theirs = fresh.set_index("query_id")[columns].astype(np.float64)
    both = mine.index.intersection(theirs.index, sort=False)
    a, b = mine.loc[both], theirs.loc[both]
    diff = (a - b).abs().mask(a.isna() & b.isna(), 0.0).fillna(math.inf)
    worst = diff.max(axis=1) if columns else pd.Series(0.0, index=both)
    return SettingCheck(
        pick=pick,
        compared=len(both),
        max_abs_diff={c: float(diff[c].max()) if len(both) else 0.0 for c in columns},
        differing=[str(q) for q in worst[worst > TOLERANCE].sort_values(ascending=False, kind="stable").index],
        missing=[str(q) for q in mine.index.difference(theirs.index, sort=False)],
        unexpected=[] if sampled_run else [str(q) for q in theirs.index.difference(mine.index, sort=False)],
    )


@dataclass
class Verification:
    submission: Submission
    seed: int
    sample: int
    settings_total: int
    checks: list[SettingCheck]

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.checks)

    @property
    def max_abs_diff(self) -> dict[str, float]:
        """The largest difference of each per-query value over the sampled settings."""
        out: dict[str, float] = {}
        for check in self.checks:
            for column, value in check.max_abs_diff.items():
                out[column] = max(out.get(column, 0.0), value)
        return out

    def to_dict(self) -> dict[str, Any]:
        model = self.submission.model
        return {
            "result": "verified" if self.agrees else "disagrees",
            "submission": str(self.submission.folder),
            "model": {"name": model.name, "fingerprint": model.fingerprint},
            "xbench_version": __version__,
            "seed": self.seed,
            "sample": self.sample,
            "settings_total": self.settings_total,
            "tolerance": TOLERANCE,
            "queries_compared": sum(c.compared for c in self.checks),
            "max_abs_diff": _finite(self.max_abs_diff),
            "settings": [c.to_dict() for c in self.checks],
        }


def verify(folder: Path, options: VerifyOptions, log=lambda message: None) -> Verification:
    """Load the submission in ``folder``, re-run a seeded sample of its settings and compare."""
    submission = load_submission(folder)
    seed = options.seed if options.seed is not None else new_seed()
    picks, total = draw_sample(submission, options.sample, seed)
    checks = []
    for name, task in submission.tasks.items():
        mine = [p for p in picks if p.task == name]
        if not mine:
            continue
        fresh = rerun(task, mine, options, log)
        for pick in mine:
            checks.append(compare_setting(pick, task.rows(pick.setting), fresh.rows(pick.setting), task.sampled))
    return Verification(submission, seed, options.sample, total, checks)


def record(verification: Verification, today: str | None = None) -> Path:
    """Write ``verification.json`` into a board submission that agreed; returns its path.

    It pins each task's per-query SHA-256, so the board counts it only for the files it checked.
    """
    if not verification.agrees or not verification.submission.on_board:
        raise ValueError("only an agreeing verification of a board submission is recorded")
    doc = verification.to_dict()
    doc.pop("submission")
    doc["date"] = today or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    doc["per_query_sha256"] = {name: t.per_query_sha256 for name, t in verification.submission.tasks.items()}
    path = verification.submission.folder / VERIFICATION_FILE
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    return path


def verified_label(folder: Path, results: dict[str, TaskResult]) -> str | None:
    """The board's mark for a submission: "<date>, <n>/<total> settings" when a recorded
    verification covers exactly its current per-query files; None (self-reported) otherwise."""
    try:
        doc = json.loads((Path(folder) / VERIFICATION_FILE).read_text(encoding="utf-8"))
        pinned = {name: r.per_query_sha256 for name, r in results.items()}
        date, checked, total = doc["date"], len(doc["settings"]), doc["settings_total"]
        if doc["result"] != "verified" or doc["per_query_sha256"] != pinned or not isinstance(total, int) or not _DATE.fullmatch(str(date)):
            return None
        return f"{date}, {checked}/{total} settings"
    except (OSError, ValueError, KeyError, TypeError):
        return None
