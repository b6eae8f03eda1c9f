"""Format readers: a task definition names one, and the engine never looks inside the files itself.

A reader is registered under the entry-point group ``xbench.formats`` (xbench declares ``lareqa``,
``beir`` and ``bitext`` here, in :data:`FORMATS`), so a new format plugs in from another package
without touching the engine. It reads the data of one language of a task:

- for a parallel task (``pairing = "all"``): ``read(path, lang, candidate_text) -> LanguageData``;
- for a pivot task, a reader marked ``pairing = "pivot"`` (an attribute of the function):
  ``read((path, pivot_path), (lang, pivot), candidate_text) -> (LanguageData, LanguageData)``,
  the pair's two sides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from benchmark.engine.corpus import LanguageData, TaskData, parts_of
from benchmark.engine.datafiles import ResolvedData
from benchmark.engine.taskdef import TaskDefinition
from benchmark.errors import XbenchError
from benchmark.registry import Registry

Reader = Callable[..., "LanguageData | tuple[LanguageData, LanguageData]"]

FORMATS: Registry[Reader] = Registry("data format", "xbench.formats", {
    "beir": "benchmark.engine.formats.beir:read_beir",
    "bitext": "benchmark.engine.formats.bitext:read_bitext",
    "lareqa": "benchmark.engine.formats.lareqa:read_lareqa",
})


def load_task_data(definition: TaskDefinition, langs: tuple[str, ...], data: ResolvedData, candidate_text: str) -> TaskData:
    """Read every language of ``langs`` with the definition's reader, into the task's parts."""
    reader = FORMATS.get(definition.format)
    pairing = getattr(reader, "pairing", "all")
    if pairing != definition.pairing:
        raise XbenchError(f"{definition.origin or definition.name}: format {definition.format!r} reads data paired "
                          f"{pairing!r}, but the task declares pairing = {definition.pairing!r}")
    task = TaskData(languages=tuple(langs))
    for lang in langs:
        paths = tuple(data.root / rel for rel in definition.language_paths(lang))
        if definition.pivot is None:
            parts = (reader(paths[0], lang, candidate_text),)
        else:
            parts = reader(paths, (lang, definition.pivot), candidate_text)
        for name, part in zip(parts_of(lang, definition.pivot), parts):
            part.part = name
            task.parts[name] = part
    return task
