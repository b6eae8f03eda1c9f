"""The task registry: the built-in task definitions and those of plugins, by name.

The built-in ones live in the repository's ``tasks/`` folder and ship inside the package;
another package adds its own through the entry-point group ``xbench.tasks`` (an entry point may
name a TOML path, a dict or a :class:`~.taskdef.TaskDefinition`, or a function giving one), and a
path to a TOML file works wherever a task name does. A plugin that fails to load is warned about
and left out (:mod:`benchmark.registry`).
"""

from __future__ import annotations

from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping

from benchmark.errors import UsageError
from benchmark.registry import Registry
from .taskdef import TaskDefinition, load_definition_file, parse_definition


def _builtin_definitions() -> dict[str, Callable[[], TaskDefinition]]:
    """The TOML files shipped in ``benchmark.task_definitions``, each read when first asked for."""
    return {entry.name[: -len(".toml")]: partial(_load_resource, entry)
            for entry in sorted(resources.files("benchmark.task_definitions").iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".toml")}


def _load_resource(entry: Any) -> TaskDefinition:
    with resources.as_file(entry) as path:
        return load_definition_file(path)


def _as_definition(obj: Any, origin: str) -> TaskDefinition:
    """What a task entry gives (a definition, a table, a TOML path, or a function giving one) as a definition."""
    if callable(obj) and not isinstance(obj, TaskDefinition):
        obj = obj()
    if isinstance(obj, TaskDefinition):
        return obj
    if isinstance(obj, Mapping):
        return parse_definition(obj, origin)
    return load_definition_file(Path(str(obj)))


TASKS: Registry[TaskDefinition] = Registry("task", "xbench.tasks", _builtin_definitions, make=_as_definition,
                                           named=lambda definition: definition.name, unknown=UsageError)


def available_tasks() -> dict[str, TaskDefinition]:
    """Every task xbench knows, by name: built-in first, then plugins (which may not shadow them);
    a plugin that fails to load is warned about and left out."""
    return dict(sorted(TASKS.load_all().items()))


def get_task(name_or_path: str) -> TaskDefinition:
    """A task by registered name, or from a TOML file when given a path."""
    if name_or_path.endswith(".toml") or Path(name_or_path).is_file():
        return load_definition_file(Path(name_or_path))
    return TASKS.get(name_or_path)
