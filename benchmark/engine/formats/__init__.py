"""Format readers: a task definition names one, and the engine never looks inside the files itself.

A reader is a function ``read(path, lang, candidate_text) -> LanguageData`` registered under the
entry-point group ``xbench.formats`` (xbench declares ``lareqa`` and ``beir`` here, in
:data:`FORMATS`), so a new format plugs in from another package without touching the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from benchmark.engine.corpus import LanguageData, TaskData
from benchmark.engine.datafiles import ResolvedData
from benchmark.engine.taskdef import TaskDefinition
from benchmark.registry import Registry

Reader = Callable[[Path, str, str], LanguageData]

FORMATS: Registry[Reader] = Registry("data format", "xbench.formats", {
    "beir": "benchmark.engine.formats.beir:read_beir",
    "lareqa": "benchmark.engine.formats.lareqa:read_lareqa",
})


def load_task_data(definition: TaskDefinition, langs: tuple[str, ...], data: ResolvedData, candidate_text: str) -> TaskData:
    """Read every language of ``langs`` with the definition's reader."""
    reader = FORMATS.get(definition.format)
    task = TaskData(languages=tuple(langs))
    for lang in langs:
        task.by_lang[lang] = reader(data.root / definition.language_path(lang), lang, candidate_text)
    return task
