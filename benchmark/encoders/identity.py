"""Who a model is: the one record every kind of model (encoder or retriever) gives of itself.

A result file records it as ``model`` (before the run's own facts: dimension, prompts,
normalisation), the leaderboard shows and groups by it, and ``xbench verify`` loads a model again
only when its identity matches the recorded one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from benchmark.errors import XbenchError


class _Absent:
    """The value of a field that a kind of model does not record at all (``None`` is recorded, as null)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class ModelIdentity:
    """What a result records about the model that made it.

    ``fingerprint`` keys the embedding cache and must change whenever the model's outputs could;
    ``similarity`` is how it scores ("cosine", "dot", or "bm25"). The provenance fields
    (``revision``: a version or hub revision; ``endpoint``: an API's public URL;
    ``weights_sha256``, ``source_sha256``, ``declared_fingerprint``; ``pooling``) are recorded
    only by the kinds of model that have them: a field left ABSENT is not written, a None is
    written as null. ``details``: facts particular to one kind of model (max length, parameter
    count, BM25's k1 and b, ...), recorded after the rest in the order given.
    """

    name: str
    kind: str
    fingerprint: str
    similarity: str
    revision: str | None = ABSENT
    endpoint: str = ABSENT
    weights_sha256: str | None = ABSENT
    source_sha256: str = ABSENT
    declared_fingerprint: str | None = ABSENT
    pooling: str = ABSENT
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = [key for key in self.details if key in _ORDER]
        if clash:
            raise ValueError(f"model identity: detail {clash[0]!r} is a field of its own")

    @classmethod
    def of(cls, given: Any, model: str, similarity: str) -> "ModelIdentity":
        """What an encoder's ``identity()`` returned, as a record: a ModelIdentity as it is, or a
        plain mapping (what plugins written before this record return) with at least ``name`` and
        ``fingerprint``, its other keys kept (unknown ones as details). Anything else is an error
        naming the model."""
        if isinstance(given, ModelIdentity):
            return given
        if not isinstance(given, Mapping) or not all(isinstance(given.get(k), str) and given.get(k) for k in ("name", "fingerprint")):
            raise XbenchError(f"model {model}: identity() must return a ModelIdentity, or a mapping with a name and a fingerprint")
        own = {k: v for k, v in given.items() if k in _ORDER}
        details = {k: v for k, v in given.items() if k not in _ORDER}
        return cls(**{"kind": "plugin", "similarity": similarity, **own, "details": details})

    def to_dict(self) -> dict[str, Any]:
        """The record as a result file holds it: the fields in the order results have always had
        (so result files, and the identities on the board, stay byte for byte what they were)."""
        record = {key: getattr(self, key) for key in _ORDER if getattr(self, key) is not ABSENT}
        record.update(self.details)
        return record


# the order of the keys in a result's "model": provenance, then the fingerprint, then how it scores
_ORDER = ("name", "kind", "revision", "endpoint", "weights_sha256", "source_sha256", "declared_fingerprint", "fingerprint",
          "pooling", "similarity")
assert set(_ORDER) == {f.name for f in fields(ModelIdentity)} - {"details"}
