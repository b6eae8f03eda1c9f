"""Query perturbations: named, versioned, deterministic functions from a query to a noisy query.

A perturbation is asked for as ``NAME`` or ``NAME@LEVEL`` (``typo@0.05``); :func:`parse_perturbation`
turns that into a :class:`PerturbationSpec`, whose ``key`` is the canonical spelling a result
records and its file name carries (``xquad-r~typo@0.05.json``), so a perturbed result never
shares an identity with the clean one. Each perturbation's randomness is drawn from
:func:`benchmark.perturb.stream.stream_for` (perturbation, version, level, query id): every
model sees exactly the same noisy queries, and a run twice gives the same bytes. Only queries
are perturbed; candidates are never touched, so the embedding cache serves them.

:data:`SUITES` names the documented default sets (``xbench run --suite robustness``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from benchmark.errors import UsageError
from benchmark.registry import Registry
from .stream import Stream, stream_for


class Perturbation(ABC):
    """One kind of noise. ``version`` changes whenever its output for some input changes, so a
    result's recorded (name, version, level) always names the same noisy queries.
    ``default_level``: the level of the bare ``NAME`` (None: the perturbation has no level).
    ``levels``: (lowest, highest) allowed level, both inclusive."""

    name: str
    version: int
    description: str
    default_level: float | None = None
    levels: tuple[float, float] = (0.0, 1.0)

    @abstractmethod
    def apply(self, texts: Sequence[str], ids: Sequence[str], lang: str, level: float | None) -> list[str]:
        """The perturbed texts of one language's queries, in order (``ids`` seed them; a
        perturbation that needs the other queries, such as the distractor, sees them all)."""

    def edit_each(self, edit: Callable[[str, float, Stream], str], texts: Sequence[str], ids: Sequence[str],
                  level: float | None) -> list[str]:
        """Each text edited on its own at ``level`` (the default level when None), drawing from its
        query's stream: what a perturbation of single queries (typos, punctuation) does."""
        rate = self.default_level if level is None else level
        return [edit(text, rate, stream_for(self.name, self.version, rate, qid)) for text, qid in zip(texts, ids, strict=True)]

    def libraries(self) -> dict[str, str]:
        """The versions of whatever its output depends on beyond xbench (the Unicode database,
        a transliteration table): recorded with the result."""
        return {}


PERTURBATIONS: Registry[Perturbation] = Registry("perturbation", "xbench.perturbations", {
    "typo": "benchmark.perturb.typo:TYPO",
    "nodiacritics": "benchmark.perturb.diacritics:NODIACRITICS",
    "romanize": "benchmark.perturb.romanize:ROMANIZE",
    "punctuation": "benchmark.perturb.punctuation:PUNCTUATION",
    "distractor": "benchmark.perturb.distractor:DISTRACTOR",
}, unknown=UsageError)

# the documented default sets, each a tuple of specs in report order
SUITES: dict[str, tuple[str, ...]] = {
    "robustness": ("typo@0.05", "typo@0.1", "nodiacritics", "romanize", "punctuation@0.5", "distractor"),
}


@dataclass(frozen=True)
class PerturbationSpec:
    """A perturbation at a level: what a perturbed run is a run of."""

    name: str
    level: float | None

    @property
    def perturbation(self) -> Perturbation:
        return PERTURBATIONS.get(self.name)

    @property
    def version(self) -> int:
        return self.perturbation.version

    @property
    def key(self) -> str:
        """``typo@0.05`` (the shortest float spelling that reads back the same), or ``romanize``."""
        return self.name if self.level is None else f"{self.name}@{self.level!r}"

    def apply(self, texts: Sequence[str], ids: Sequence[str], lang: str) -> list[str]:
        out = self.perturbation.apply(texts, ids, lang, self.level)
        if len(out) != len(texts):
            raise AssertionError(f"perturbation {self.key} returned {len(out)} texts for {len(texts)}")
        return out

    def identity(self) -> dict[str, Any]:
        """What a result records of it (``changed`` and ``queries`` per language are added by the run)."""
        p = self.perturbation
        return {"name": self.name, "version": p.version, "level": self.level, "key": self.key, "libraries": p.libraries()}


def parse_perturbation(text: str, option: str = "--perturb") -> PerturbationSpec:
    """``NAME`` or ``NAME@LEVEL`` checked against the registry and the perturbation's levels;
    a bad one is a UsageError naming ``option``."""
    name, at, level_text = text.strip().partition("@")
    try:
        perturbation = PERTURBATIONS.get(name)
    except UsageError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if not at:
        return PerturbationSpec(name, perturbation.default_level)
    if perturbation.default_level is None:
        raise UsageError(f"{option}: perturbation {name} takes no level (got {text!r})")
    try:
        level = float(level_text)
    except ValueError:
        raise UsageError(f"{option}: {text!r}: the level must be a number, e.g. {name}@{perturbation.default_level!r}") from None
    low, high = perturbation.levels
    if not low <= level <= high:  # NaN fails too
        raise UsageError(f"{option}: {text!r}: the level of {name} must be in [{low!r}, {high!r}]")
    return PerturbationSpec(name, level + 0.0)  # -0.0 -> 0.0: one spelling per level


def against_installed(record: Mapping[str, Any], option: str) -> tuple[PerturbationSpec, tuple[str, Any, Any] | None]:
    """The spec a result's perturbation record names (parsed from its key, a bad one a UsageError
    naming ``option``), and the first thing in which this xbench's perturbation differs from the
    recorded one: ("version", recorded, installed) or (library, recorded, installed); None when a
    re-run would perturb the queries into the same texts."""
    spec = parse_perturbation(record["key"], option)
    here = spec.identity()
    if record["version"] != here["version"]:
        return spec, ("version", record["version"], here["version"])
    there, mine = record.get("libraries") or {}, here["libraries"]
    for name in sorted(set(there) | set(mine)):
        if there.get(name) != mine.get(name):
            return spec, (name, there.get(name), mine.get(name))
    return spec, None


def suite(name: str, option: str = "--suite") -> tuple[PerturbationSpec, ...]:
    """The specs of a named suite; an unknown one is a UsageError listing the suites."""
    if name not in SUITES:
        raise UsageError(f"{option}: unknown suite {name!r}; available: {', '.join(SUITES)}")
    return tuple(parse_perturbation(spec, option) for spec in SUITES[name])
