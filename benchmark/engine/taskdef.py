"""Declarative task definitions: what a task is, and the checking of a definition's fields.

A task is data, not code: one small TOML file (languages, where each language's files lie, their
SHA-256, the format reader, the pairing of languages, the candidate text, the metrics, language
groups). Which tasks exist is :mod:`.taskregistry`'s.
"""

from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from benchmark.errors import XbenchError

SETTING_KINDS = ("mono", "cross", "multi")
PAIRINGS = ("all", "pivot")  # every ordered pair of a parallel task, or every language with a pivot
CANDIDATE_TEXTS = ("sentence", "sentence+context")
DEFAULT_METRICS = ("map", "rank_distance", "ndcg@10", "recall@100", "mrr@10", "map@100")
PIVOT_METRICS = ("accuracy", "map", "ndcg@10", "recall@100", "mrr@10", "map@100")  # bitext: no pool, no rank distance


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
    pairing: str = "all"
    pivot: str | None = None
    symmetric: bool = False
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    data_folder: str = ""  # the folder below a data root that may hold the layout (a root serves several tasks)
    origin: str = ""

    def language_paths(self, lang: str) -> tuple[str, ...]:
        """The paths, relative to a data root, that hold ``lang``'s data: one file or folder for
        a parallel task; for a pivot task the two sides of the pair, ``lang``'s then the pivot's."""
        if self.pairing == "pivot":
            return tuple(self.layout.format(lang=lang, pivot=self.pivot, side=side) for side in (lang, self.pivot))
        return (self.layout.format(lang=lang),)

    def files_for(self, langs: tuple[str, ...] | list[str]) -> dict[str, str]:
        """The checksummed files that the languages ``langs`` read, relative path -> SHA-256."""
        wanted = {}
        for lang in langs:
            for prefix in self.language_paths(lang):
                matched = {f: s for f, s in self.files.items() if f == prefix or f.startswith(prefix.rstrip("/") + "/")}
                if not matched:
                    raise XbenchError(f"task {self.name}: no checksummed file for language {lang!r} under {prefix!r}")
                wanted.update(matched)
        return wanted


_FIELDS = ("name", "format", "languages", "layout", "data_folder", "files", "version", "description", "reference",
           "candidate_text", "settings", "metrics", "source", "pairing", "pivot", "symmetric", "groups")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a task name becomes a file name, a language code part of a path
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


_KIND_NAMES = {str: "string", list: "list", dict: "table", int: "integer", float: "number", bool: "boolean",
               (str, int, float): "string or number"}
_LAYOUT_EXAMPLES = {"all": '"xquad-r/{lang}.json"', "pivot": '"v1/tatoeba.{lang}-{pivot}.{side}"'}


def _placeholders(template: str) -> set[str]:
    """The ``{fields}`` of a format string as written (``{lang!r}`` stays whole); {""} if it is malformed."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:  # a lone "{" or "}"
        return {""}
    return {name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") for _, name, spec, conv in fields if name is not None}


def _relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts and "\\" not in path


def parse_definition(raw: Mapping[str, Any], origin: str) -> TaskDefinition:
    """Check every field's type and value and build the definition; each complaint names ``origin``
    and the field, so a hand-written TOML fails at load time rather than halfway through a run."""

    def fail(key: str, message: str) -> XbenchError:
        return XbenchError(f"{origin}: field {key!r} {message}")

    def need(key: str, kind: type) -> Any:
        if key not in raw:
            raise XbenchError(f"{origin}: task definition lacks the field {key!r}")
        return get(key, kind, None)

    def get(key: str, kind: type, default: Any) -> Any:
        value = raw.get(key, default)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise fail(key, f"should be a {_KIND_NAMES[kind]}, not {_KIND_NAMES.get(type(value), type(value).__name__)}")
        return value

    def strings(key: str, default: Any) -> tuple[str, ...]:
        value = get(key, list, default)
        if not all(isinstance(x, str) for x in value):
            raise fail(key, "should list strings")
        if len(set(value)) != len(value):
            raise fail(key, "lists a value twice")
        return tuple(value)

    if not isinstance(raw, Mapping):
        raise XbenchError(f"{origin}: a task definition is a table of fields, not {type(raw).__name__}")
    unknown = [key for key in raw if key not in _FIELDS]
    if unknown:
        raise XbenchError(f"{origin}: unknown field {unknown[0]!r} (fields: {', '.join(_FIELDS)})")
    name = need("name", str)
    if not _NAME.fullmatch(name):
        raise fail("name", "must be letters, digits, '.', '_' or '-' (it names the result file)")
    fmt = need("format", str)
    if not fmt:
        raise fail("format", "is empty")
    need("languages", list)
    languages = strings("languages", None)
    if not languages:
        raise fail("languages", "must list at least one language code")
    bad = next((lang for lang in languages if not _NAME.fullmatch(lang) or lang == "all"), None)
    if bad is not None:
        raise fail("languages", f"holds {bad!r}: a code is letters, digits, '.', '_' or '-', and 'all' is reserved")
    pairing = get("pairing", str, "all")
    if pairing not in PAIRINGS:
        raise fail("pairing", f"must be one of {', '.join(PAIRINGS)}")
    pivot = get("pivot", str, "") or None
    if (pivot is None) != (pairing == "all"):
        raise fail("pivot", "names the language every other is paired with; it is required with pairing = \"pivot\" and only then")
    if pivot is not None and (not _NAME.fullmatch(pivot) or pivot in languages):
        raise fail("pivot", f"{pivot!r} must be a language code that is not in 'languages' (the languages paired with it)")
    layout = need("layout", str)
    placeholders = _placeholders(layout)
    allowed = [{"lang"}] if pairing == "all" else [{"lang", "side"}, {"lang", "side", "pivot"}]
    if placeholders not in allowed:
        needs = "{lang} and no other placeholder" if pairing == "all" else "{lang} and {side} (and optionally {pivot}), nothing else"
        raise fail("layout", f"must contain {needs}, e.g. {_LAYOUT_EXAMPLES[pairing]}")
    if not _relative(layout.format(lang="x", side="x", pivot="x")):
        raise fail("layout", "must be a relative path inside the data root (no leading '/', no '..')")
    data_folder = get("data_folder", str, "")
    if "data_folder" in raw and not _NAME.fullmatch(data_folder):
        raise fail("data_folder", "must be one folder name: letters, digits, '.', '_' or '-' (no '/', no '..')")
    files = need("files", dict)
    for rel, digest in files.items():
        if not _relative(rel):
            raise fail("files", f"holds {rel!r}: paths are relative to the data root (no leading '/', no '..')")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise fail("files", f"holds {rel!r} = {digest!r}: expected a SHA-256 (64 hex digits)")
    kinds = SETTING_KINDS if pairing == "all" else ("cross",)  # pivot pairs are not parallel with each other
    settings = strings("settings", list(kinds))
    if not settings or not set(settings) <= set(kinds):
        held = f"holds {next(x for x in settings if x not in kinds)!r}; it " if settings else ""
        why = "" if pairing == "all" else " (a pivot task has no monolingual setting and no multilingual pool)"
        raise fail("settings", f"{held}must list one or more of {', '.join(kinds)}{why}")
    symmetric = get("symmetric", bool, False)
    groups = _groups(get("groups", dict, {}), languages, fail)
    candidate_text = get("candidate_text", str, "sentence")
    if candidate_text not in CANDIDATE_TEXTS:
        raise fail("candidate_text", f"must be one of {', '.join(CANDIDATE_TEXTS)}")
    metrics = strings("metrics", list(DEFAULT_METRICS if pairing == "all" else PIVOT_METRICS))
    from benchmark.metrics import check_metric_names  # local: metrics imports nothing from here

    try:
        check_metric_names(metrics)
    except XbenchError as exc:
        raise XbenchError(f"{origin}: field 'metrics': {exc}") from None
    version = get("version", (str, int, float), "1.0")
    source = get("source", dict, {})
    if not all(isinstance(v, str) for v in source.values()):
        raise fail("source", "should map names to strings")
    if "url" in source and _placeholders(source["url"]) != {"file"}:
        raise fail("source.url", "must contain {file} and no other placeholder")
    return TaskDefinition(
        name=name,
        format=fmt,
        languages=languages,
        layout=layout,
        files={rel: digest.lower() for rel, digest in files.items()},
        version=str(version),
        description=get("description", str, ""),
        reference=get("reference", str, ""),
        candidate_text=candidate_text,
        settings=settings,
        metrics=metrics,
        source=dict(source),
        pairing=pairing,
        pivot=pivot,
        symmetric=symmetric,
        groups=groups,
        data_folder=data_folder,
        origin=origin,
    )


def _groups(raw: Mapping[str, Any], languages: tuple[str, ...], fail: Callable[[str, str], XbenchError]) -> dict[str, tuple[str, ...]]:
    """Named language groups, each a non-empty list of the task's languages (kept in task order,
    so that a group's aggregate does not depend on how the TOML lists it)."""
    groups = {}
    for name, members in raw.items():
        if not _NAME.fullmatch(name) or name in ("all", *SETTING_KINDS):
            raise fail(f"groups.{name}", "is not a usable group name (letters, digits, '.', '_' or '-'; not a setting kind or 'all')")
        if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
            raise fail(f"groups.{name}", "should list one or more language codes")
        if len(set(members)) != len(members):
            raise fail(f"groups.{name}", "lists a language twice")
        stray = next((m for m in members if m not in languages), None)
        if stray is not None:
            raise fail(f"groups.{name}", f"holds {stray!r}, which is not one of the task's languages")
        groups[name] = tuple(lang for lang in languages if lang in members)
    return groups


def load_definition_file(path: Path) -> TaskDefinition:
    try:
        if Path(path).exists() and not Path(path).is_file():  # a folder, a FIFO (would block), a device
            raise XbenchError(f"{path}: not a regular file, cannot be a task definition")
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read task definition ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise XbenchError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise XbenchError(f"{path}: not valid TOML ({exc})") from None
    except (ValueError, RecursionError) as exc:  # a NUL in the path; arrays nested too deep
        raise XbenchError(f"{path}: cannot read task definition ({type(exc).__name__})") from None
    return parse_definition(raw, str(path))
