"""The typed result of one task: the only code that reads or writes ``<task>.json`` and its
per-query table.

Everything downstream (compare, check, the leaderboard, verify, the views) asks a
:class:`TaskResult` for what it needs by attribute (``result.model.name``,
``result.setting(key).map``, ``result.rows(key)``); none of it knows the document's keys. The
document itself is kept as written, so that a result read and written again is the same bytes, and
schema version 1 files (every submission on the board) are read as they are.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from benchmark.engine.settings import Setting
from benchmark.errors import XbenchError
from .io import read_document, read_per_query, write_document
from .schema import result_key, row_metrics


@dataclass(frozen=True)
class SettingResult:
    """One setting's numbers as the result states them: mAP, the cutoff metrics and (on the
    multilingual pool) the rank distance and the bias measures (None where undefined; absent from
    a result written before them), each a mean over the setting's queries."""

    setting: Setting
    n_queries: int
    values: Mapping[str, float]

    @property
    def map(self) -> float:
        return self.values["map"]


@dataclass(frozen=True)
class RecordedModel:
    """Who made the numbers, as recorded: the fields every kind of model has, plus the whole
    record (``identity``) that verify compares with a freshly loaded model's."""

    name: str
    kind: str | None
    fingerprint: str | None
    revision: str | None
    weights_sha256: str | None
    dimension: int | None
    parameters: int | None
    identity: Mapping[str, Any]

    def get(self, field: str, default: Any = None) -> Any:
        """A field only some kinds of model record (prompts, pooling, max_length...)."""
        return self.identity.get(field, default)


@dataclass(frozen=True)
class RecordedData:
    checksums: Mapping[str, str]
    official: bool
    modified_files: tuple[str, ...]


# what a result says of the run that made it rather than of the numbers: which xbench, how long,
# what was encoded or read from the cache, on what hardware and (for Ray) on which nodes. Everything
# else is a function of model, data and options: equal for any engine, workers, shard size, budget
RUN_FACTS = ("xbench_version", "timings", "encoding", "hardware")


class TaskResult:
    """A task's result: headline scores, per-setting values, per-query table, and the identity of
    everything that made them (xbench version, task definition, data checksums, model)."""

    def __init__(self, document: dict[str, Any], per_query: pd.DataFrame | None, path: Path | None = None) -> None:
        self._doc = document
        self._per_query = per_query
        self._row_positions: dict[tuple[str, str, str], Any] | None = None
        self.path = path
        self.settings = tuple(
            SettingResult(Setting.of(s), s["n_queries"], {k: v for k, v in s.items() if k not in (*Setting.FIELDS, "n_queries")})
            for s in document["settings"]
        )
        self._by_key = {s.setting: s for s in self.settings}

    # ---- reading and writing ---------------------------------------------------------------

    @classmethod
    def from_file(cls, path: Path) -> "TaskResult":
        """A result JSON, checked against the one schema (:mod:`benchmark.results.schema`); any
        fault is one line naming the file and field. Its per-query table is read (and checked)
        when first asked for, so a forged row count can be refused before anything is
        decompressed, and a leaderboard that only shows scores never reads the tables."""
        return cls(read_document(Path(path)), None, Path(path))

    @classmethod
    def from_dir(cls, folder: Path, key: str) -> "TaskResult":
        """The result called ``key`` in ``folder``: a task name, or ``<task>~<perturbation>``."""
        return cls.from_file(Path(folder) / f"{key}.json")

    def to_dir(self, folder: Path) -> Path:
        """Write ``<task>.per_query.csv.gz``, then ``<task>.json`` naming its SHA-256 (each
        atomically); returns the JSON's path. What is written is validated as a reader would."""
        self.path, self._doc = write_document(Path(folder), self._doc, self.per_query)
        return self.path

    @property
    def per_query(self) -> pd.DataFrame:
        """One row per (setting, query): the setting's fields, the query id, AP, n_relevant, rank
        distance and the bias measures (multi rows) and the cutoff metrics."""
        if self._per_query is None:
            if self.path is None:
                raise XbenchError(f"result of {self.task}: no per-query table")
            self._per_query = read_per_query(self.path, self._doc)
        return self._per_query

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the document (for JSON output and tests)."""
        return copy.deepcopy(self._doc)

    def reproducible(self) -> dict[str, Any]:
        """The document without its RUN_FACTS: what two runs of the same inputs agree on exactly."""
        return {k: v for k, v in self.to_dict().items() if k not in RUN_FACTS}

    def with_command(self, command: str) -> "TaskResult":
        """The same result, recording the ``xbench run`` line that reproduces it."""
        return TaskResult(dict(self._doc, command=command), self.per_query, self.path)

    # ---- identity ----------------------------------------------------------------------------

    @property
    def task(self) -> str:
        return self._doc["task"]

    @property
    def key(self) -> str:
        """The result's name among its siblings and its files' stem: the task, or
        ``<task>~<perturbation key>`` for a perturbed run. Whatever pairs results (compare,
        check, the board) pairs them by this, so a perturbed run never stands in for a clean one."""
        return result_key(self._doc)

    @property
    def perturbation(self) -> Mapping[str, Any] | None:
        """How the queries were perturbed (name, version, level, key, libraries, and per query
        language the queries ``changed`` out of ``queries``); None for a clean run."""
        stated = self._doc.get("perturbation")
        return copy.deepcopy(stated) if stated else None

    @property
    def task_version(self) -> str:
        return self._doc["task_definition"]["version"]

    @property
    def definition(self) -> Mapping[str, Any]:
        """The task definition as the result records it (name, version, metrics computed,
        pairing, pivot, symmetric, groups; the last four absent from older results)."""
        return copy.deepcopy(self._doc["task_definition"])

    @property
    def pivot(self) -> str | None:
        return self._doc.get("task_definition", {}).get("pivot")

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(members) for name, members in self._doc.get("task_definition", {}).get("groups", {}).items()}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._doc["languages"])

    @property
    def complete(self) -> bool:
        return bool(self._doc["complete"])

    @property
    def sampled(self) -> bool:
        return bool(self._doc.get("sample"))

    @property
    def sample(self) -> Mapping[str, Any] | None:
        """The query sample of a fast run (``queries``, ``seed``); None for a full run."""
        stated = self._doc.get("sample")
        return dict(stated) if stated else None

    @property
    def candidate_text(self) -> str:
        return self._doc["candidate_text"]

    @property
    def command(self) -> str | None:
        return self._doc.get("command")

    @property
    def xbench_version(self) -> str:
        return self._doc["xbench_version"]

    @property
    def encoding(self) -> Mapping[str, Any]:
        """What encoding cost: unique texts, cache hits, and an API's request counts."""
        return self._doc["encoding"]

    @property
    def candidate_counts(self) -> dict[str, int]:
        """Candidates per part (a parallel task's part is a language), as the run counted them."""
        return dict(self._doc.get("counts", {}).get("candidates", {}))

    @property
    def per_query_sha256(self) -> str | None:
        return (self._doc.get("per_query") or {}).get("sha256")

    @property
    def model(self) -> RecordedModel:
        m = self._doc["model"]
        return RecordedModel(m.get("name"), m.get("kind"), m.get("fingerprint"), m.get("revision"), m.get("weights_sha256"),
                             m.get("dimension"), m.get("parameters"), copy.deepcopy(m))

    @property
    def data(self) -> RecordedData:
        d = self._doc["data"]
        return RecordedData(dict(d["checksums"]), bool(d["official"]), tuple(d["modified_files"]))

    # ---- numbers -----------------------------------------------------------------------------

    @property
    def row_metrics(self) -> tuple[str, ...]:
        """The metrics each setting and per-query row has besides AP and rank distance
        (``accuracy``, ``ndcg@10``...), as named by the result's own definition."""
        return row_metrics(self._doc)

    @property
    def scores(self) -> dict[str, float | None]:
        """The headline scores: Mono, Cross, Multi mAP, the rank distance and the bias measures
        (the last absent from a result written before them)."""
        return dict(self._doc["scores"])

    def score(self, name: str) -> float | None:
        return self._doc["scores"].get(name)

    @property
    def aggregates(self) -> dict[str, dict[str, float | None]] | None:
        """Each metric's macro mean per scope (kinds, directions, language groups); None in a
        result written before they were recorded."""
        stated = self._doc.get("aggregates")
        return None if stated is None else {scope: dict(values) for scope, values in stated.items()}

    def aggregate(self, scope: str, metric: str) -> float | None:
        return ((self._doc.get("aggregates") or {}).get(scope) or {}).get(metric)

    def has(self, key: Setting) -> bool:
        return key in self._by_key

    def setting(self, key: Setting) -> SettingResult:
        try:
            return self._by_key[key]
        except KeyError:
            raise XbenchError(f"{self.path or self.task}: no setting {key.label}") from None

    def rows(self, key: Setting) -> pd.DataFrame:
        """The per-query rows of one setting, in table order. The table is grouped once: a
        boolean mask per setting costs seconds over Tatoeba's 224 settings and 200k rows."""
        frame = self.per_query
        if self._row_positions is None:
            self._row_positions = frame.groupby(list(Setting.FIELDS), sort=False, dropna=False).indices if len(frame) else {}
        return frame.iloc[self._row_positions.get((key.kind, key.query_lang, key.corpus_lang), [])]
