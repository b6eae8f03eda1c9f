"""Format readers: a task definition names one, and the engine never looks inside the files itself.

A reader is a function ``read(path, lang, candidate_text) -> LanguageData`` registered under the
entry-point group ``xbench.formats`` (xbench registers ``lareqa`` and ``beir`` itself), so a new
format plugs in from another package without touching the engine.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Callable

from benchmark.engine.corpus import LanguageData, TaskData
from benchmark.engine.datafiles import ResolvedData
from benchmark.errors import XbenchError
from benchmark.engine.taskdef import TaskDefinition

Reader = Callable[[Path, str, str], LanguageData]

_BUILTIN = {
    "lareqa": "benchmark.engine.formats.lareqa:read_lareqa",
    "beir": "benchmark.engine.formats.beir:read_beir",
}


def get_reader(name: str) -> Reader:
    """The reader registered as ``name`` (installed entry points first, then the built-ins)."""
    for ep in metadata.entry_points(group="xbench.formats"):
        if ep.name == name:
            return ep.load()
    if name in _BUILTIN:
        return metadata.EntryPoint(name, _BUILTIN[name], "xbench.formats").load()
    raise XbenchError(f"unknown data format {name!r}; known formats: {', '.join(sorted(_BUILTIN))}")


def load_task_data(definition: TaskDefinition, langs: tuple[str, ...], data: ResolvedData, candidate_text: str) -> TaskData:
    """Read every language of ``langs`` with the definition's reader."""
    reader = get_reader(definition.format)
    task = TaskData(languages=tuple(langs))
    for lang in langs:
        task.by_lang[lang] = reader(data.root / definition.language_path(lang), lang, candidate_text)
    return task
