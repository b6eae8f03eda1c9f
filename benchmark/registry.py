"""One registry for every kind of named thing xbench looks up: tasks, data formats, models, metrics.

Each kind has one declaration. Its built-ins are declared once, in code, as lazy ``"module:attr"``
targets (imported only when asked for) or as objects; other packages add plugins under an
entry-point group (``xbench.tasks``, ``xbench.formats``, ``xbench.encoders``). Three rules hold
for every kind:

- a built-in wins over a plugin of the same name, so a name in a result always means xbench's own;
- an unknown name fails as "unknown KIND 'name'; available: a, b, c";
- a plugin that fails to load is reported by name (a warning naming its entry point and the
  error) and never takes the built-ins or the other plugins down; only asking for it by name
  raises its failure. A built-in that fails to load is xbench's own bug and is raised as is.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Generic, Mapping, TypeVar, Union

from benchmark.errors import XbenchError

T = TypeVar("T")
log = logging.getLogger("xbench.registry")

# how built-ins are declared: a mapping of name to target, or a function giving one (read when asked)
Builtins = Union[Mapping[str, Any], Callable[[], Mapping[str, Any]]]


@dataclass(frozen=True)
class Entry:
    """One declared name: where it comes from, and what to load for it."""

    name: str
    target: Any  # "module:attr" or an object (built-ins); an importlib.metadata.EntryPoint (plugins)
    origin: str  # how messages name it: "entry point NAME (VALUE)" for a plugin

    @property
    def plugin(self) -> bool:
        return isinstance(self.target, metadata.EntryPoint)


def import_target(target: str) -> Any:
    """The object a ``"package.module:attr.path"`` names."""
    module_name, _, attr_path = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in filter(None, attr_path.split(".")):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """The named things of one kind: built-ins declared in code, then plugins from ``group``.

    ``make(obj, origin)`` turns what a target loads into the registered thing (tasks accept a
    definition, a table, a TOML path or a function giving one) and may raise an XbenchError naming
    ``origin``. ``named``, when given, names a loaded thing by itself rather than by its entry (a
    task is called what its definition says): then every entry is loaded to learn the names.
    ``unknown`` is the error an unknown name raises: UsageError where names come from the user.
    """

    def __init__(
        self,
        kind: str,
        group: str | None = None,
        builtins: Builtins = {},  # noqa: B006 -- read, never mutated
        *,
        make: Callable[[Any, str], T] | None = None,
        named: Callable[[T], str] | None = None,
        unknown: type[XbenchError] = XbenchError,
    ) -> None:
        self.kind, self.group = kind, group
        self._builtins, self._make, self._named, self._unknown = builtins, make, named, unknown
        self._warned: set[str] = set()

    def entries(self) -> dict[str, Entry]:
        """Every declared entry by name, built-ins first; a plugin named like a built-in is dropped."""
        builtins = self._builtins() if callable(self._builtins) else self._builtins
        found = {name: Entry(name, target, f"built-in {self.kind} {name}") for name, target in builtins.items()}
        for ep in metadata.entry_points(group=self.group) if self.group else ():
            found.setdefault(ep.name, Entry(ep.name, ep, f"entry point {ep.name} ({ep.value})"))
        return found

    def names(self) -> list[str]:
        """Every name that can be asked for (without loading anything, unless things name themselves)."""
        return list(self.load_all()) if self._named else list(self.entries())

    def get(self, name: str) -> T:
        """The thing registered as ``name``; a broken plugin asked for by name raises its failure."""
        if self._named is None:
            entries = self.entries()
            if name not in entries:
                raise self._unknown(self.unknown_message(name, list(entries)))
            return self.load(entries[name])
        loaded, broken = self._load_all()
        if name in loaded:
            return loaded[name]
        if name in broken:
            raise broken[name]
        raise self._unknown(self.unknown_message(name, list(loaded)))

    def load_all(self) -> dict[str, T]:
        """Every thing that loads, by name; each broken plugin is warned about and left out."""
        return self._load_all()[0]

    def unknown_message(self, name: str, available: list[str]) -> str:
        return f"unknown {self.kind} {name!r}; available: {', '.join(available) or '(none)'}"

    def load(self, entry: Entry) -> T:
        """Load one entry. A plugin's failure, whatever it raises (SystemExit too, Ctrl-C aside),
        becomes an XbenchError naming its entry point."""
        if not entry.plugin:
            obj = import_target(entry.target) if isinstance(entry.target, str) else entry.target
            return self._make(obj, entry.origin) if self._make else obj
        try:
            obj = entry.target.load()
            return self._make(obj, entry.origin) if self._make else obj
        except (XbenchError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 -- plugin code may raise anything
            raise XbenchError(f"{entry.origin}: cannot load ({type(exc).__name__}: {exc})") from None

    def _load_all(self) -> tuple[dict[str, T], dict[str, XbenchError]]:
        loaded: dict[str, T] = {}
        broken: dict[str, XbenchError] = {}
        for name, entry in self.entries().items():
            try:
                thing = self.load(entry)
            except XbenchError as exc:
                if not entry.plugin:
                    raise
                broken[name] = exc
                self._warn(f"{self.kind} plugin left out: {exc}")
                continue
            loaded.setdefault(self._named(thing) if self._named else name, thing)
        return loaded, broken

    def _warn(self, message: str) -> None:
        """Say it once per process: a command may look things up more than once."""
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s", message)
