"""Declarative task definitions and the task registry.

A task is data, not code: one small TOML file (languages, where each language's files lie, their
SHA-256, the format reader, the candidate text, the metrics). The built-in ones live in the
repository's ``tasks/`` folder and ship inside the package; another package adds its own through
the entry-point group ``xbench.tasks`` (an entry point may name a TOML path, a dict or a
:class:`TaskDefinition`), and a path to a TOML file works wherever a task name does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import UsageError, XbenchError

SETTING_KINDS = ("mono", "cross", "multi")
CANDIDATE_TEXTS = ("sentence", "sentence+context")
DEFAULT_METRICS = ("map", "rank_distance", "ndcg@10", "recall@100", "mrr@10", "map@100")


@dataclass(frozen=True)
class TaskDefinition:
    """Everything needed to build a task's settings from files, and nothing that runs."""

    name: str
    format: str
    languages: tuple[str, ...]
    layout: str
    files: Mapping[str, str]
    version: str = "1.0"
    description: str = ""
    reference: str = ""
    candidate_text: str = "sentence"
    settings: tuple[str, ...] = SETTING_KINDS
    metrics: tuple[str, ...] = DEFAULT_METRICS
    source: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""

    def language_path(self, lang: str) -> str:
        """The path, relative to a data root, that holds ``lang``'s data (a file or a folder)."""
        return self.layout.format(lang=lang)

    def files_for(self, langs: tuple[str, ...] | list[str]) -> dict[str, str]:
        """The checksummed files that the languages ``langs`` read, relative path -> SHA-256."""
        wanted = {}
        for lang in langs:
            prefix = self.language_path(lang)
            matched = {f: s for f, s in self.files.items() if f == prefix or f.startswith(prefix.rstrip("/") + "/")}
            if not matched:
                raise XbenchError(f"task {self.name}: no checksummed file for language {lang!r} under {prefix!r}")
            wanted.update(matched)
        return wanted

    @property
    def cutoff_metrics(self) -> tuple[str, ...]:
        return tuple(m for m in self.metrics if "@" in m)

    @property
    def depth(self) -> int:
        """How deep the top-k list must go to serve every cutoff metric."""
        return max((int(m.split("@")[1]) for m in self.cutoff_metrics), default=0)


def parse_definition(raw: Mapping[str, Any], origin: str) -> TaskDefinition:
    """Check a definition's fields and build it; every complaint names ``origin`` and the field."""

    def need(key: str, kind: type) -> Any:
        if key not in raw:
            raise XbenchError(f"{origin}: task definition lacks the field {key!r}")
        value = raw[key]
        if not isinstance(value, kind):
            raise XbenchError(f"{origin}: field {key!r} should be a {kind.__name__}")
        return value

    name = need("name", str)
    languages = tuple(need("languages", list))
    if not languages or len(set(languages)) != len(languages) or not all(isinstance(x, str) for x in languages):
        raise XbenchError(f"{origin}: field 'languages' must list distinct language codes")
    layout = need("layout", str)
    if "{lang}" not in layout:
        raise XbenchError(f"{origin}: field 'layout' must contain '{{lang}}'")
    files = dict(need("files", dict))
    settings = tuple(raw.get("settings", SETTING_KINDS))
    if not set(settings) <= set(SETTING_KINDS):
        raise XbenchError(f"{origin}: field 'settings' may hold only {', '.join(SETTING_KINDS)}")
    candidate_text = raw.get("candidate_text", "sentence")
    if candidate_text not in CANDIDATE_TEXTS:
        raise XbenchError(f"{origin}: field 'candidate_text' must be one of {', '.join(CANDIDATE_TEXTS)}")
    metrics = tuple(raw.get("metrics", DEFAULT_METRICS))
    from .metrics import check_metric_names  # local: metrics imports nothing from here

    try:
        check_metric_names(metrics)
    except ValueError as exc:
        raise XbenchError(f"{origin}: field 'metrics': {exc}") from None
    return TaskDefinition(
        name=name,
        format=need("format", str),
        languages=languages,
        layout=layout,
        files=files,
        version=str(raw.get("version", "1.0")),
        description=str(raw.get("description", "")),
        reference=str(raw.get("reference", "")),
        candidate_text=candidate_text,
        settings=settings,
        metrics=metrics,
        source=dict(raw.get("source", {})),
        origin=origin,
    )


def load_definition_file(path: Path) -> TaskDefinition:
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read task definition ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise XbenchError(f"{path}: not valid TOML ({exc})") from None
    return parse_definition(raw, str(path))


def _builtin_definitions() -> dict[str, TaskDefinition]:
    found = {}
    for entry in resources.files("benchmark.task_definitions").iterdir():
        if entry.name.endswith(".toml"):
            with resources.as_file(entry) as path:
                definition = load_definition_file(path)
            found[definition.name] = definition
    return found


def _plugin_definitions() -> dict[str, TaskDefinition]:
    found = {}
    for ep in metadata.entry_points(group="xbench.tasks"):
        origin = f"entry point {ep.name} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not take the built-in tasks down with it
            raise XbenchError(f"{origin}: cannot load ({exc})") from None
        if callable(obj) and not isinstance(obj, TaskDefinition):
            obj = obj()
        if isinstance(obj, TaskDefinition):
            definition = obj
        elif isinstance(obj, Mapping):
            definition = parse_definition(obj, origin)
        else:
            definition = load_definition_file(Path(str(obj)))
        found[definition.name] = definition
    return found


def available_tasks() -> dict[str, TaskDefinition]:
    """Every task xbench knows, by name: built-in first, then plugins (which may not shadow them)."""
    tasks = _builtin_definitions()
    for name, definition in _plugin_definitions().items():
        tasks.setdefault(name, definition)
    return dict(sorted(tasks.items()))


def get_task(name_or_path: str) -> TaskDefinition:
    """A task by registered name, or from a TOML file when given a path."""
    if name_or_path.endswith(".toml") or Path(name_or_path).is_file():
        return load_definition_file(Path(name_or_path))
    tasks = available_tasks()
    if name_or_path not in tasks:
        raise UsageError(f"unknown task {name_or_path!r}; known tasks: {', '.join(tasks)}")
    return tasks[name_or_path]
