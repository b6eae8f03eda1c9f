"""A task's candidate texts as a stream of chunks, never as millions of Python strings at once.

A BEIR-style corpus can hold millions of passages per language: a list of them would hold
gigabytes of Python objects before anything is encoded. So candidates are a :class:`TextSource`:
its length, and its chunks in column order, each a :class:`TextChunk` (its global candidate
columns and a locator). A locator re-reads its chunk's texts anywhere, and is small and
picklable: a Ray actor is sent locators, never the corpus. Two kinds:

- :class:`InlineLocator`: the texts themselves, for the small tasks read whole (LAReQA, bitext);
- ``JsonlLocator`` (:mod:`.jsonlines`): a byte range of a JSON-lines file, re-parsed on demand.

A part's texts are cut every :data:`CHUNK_ROWS` texts and a chunk never crosses a part (a file),
whatever the memory budget or the engine: a chunk is also the unit of the embedding cache
(:mod:`.chunked`), so the same corpus always gives the same chunks and a re-run finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

CHUNK_ROWS = 16384


class Locator(Protocol):
    """Where one chunk's texts are: ``texts()`` reads them, in column order."""

    def texts(self) -> list[str]: ...


@dataclass(frozen=True)
class InlineLocator:
    """A chunk held in memory: the texts themselves (a tuple, so the locator is immutable)."""

    items: tuple[str, ...]

    def texts(self) -> list[str]:
        return list(self.items)


@dataclass(frozen=True)
class TextChunk:
    """One chunk: its candidate columns (global, contiguous) and where its texts are."""

    columns: slice
    locator: Locator


class TextSource:
    """Candidate texts in column order, as chunks. ``len()`` is known without reading a text.

    Built from pieces ``(rows, locator)``; :meth:`concat` joins sources (a task's parts, in part
    order) without reading or copying a text. Iterating yields the texts chunk by chunk, so only
    one chunk's strings are alive at a time (beyond what the caller keeps).
    """

    def __init__(self, pieces: Sequence[tuple[int, Locator]] = ()) -> None:
        self._pieces: tuple[tuple[int, Locator], ...] = tuple(pieces)
        self._len = sum(rows for rows, _ in self._pieces)

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> "TextSource":
        """An in-memory list of texts, cut every :data:`CHUNK_ROWS` like a file would be."""
        return cls([(len(texts[i : i + CHUNK_ROWS]), InlineLocator(tuple(texts[i : i + CHUNK_ROWS])))
                    for i in range(0, len(texts), CHUNK_ROWS)])

    @classmethod
    def concat(cls, sources: Sequence["TextSource"]) -> "TextSource":
        """The sources one after the other (their chunks unchanged: none crosses a source)."""
        return cls([piece for source in sources for piece in source._pieces])

    def __len__(self) -> int:
        return self._len

    def chunks(self) -> Iterator[TextChunk]:
        start = 0
        for rows, locator in self._pieces:
            yield TextChunk(slice(start, start + rows), locator)
            start += rows

    def __iter__(self) -> Iterator[str]:
        for chunk in self.chunks():
            yield from chunk.locator.texts()

    @property
    def in_memory(self) -> bool:
        """Whether every chunk is held in memory (a small task read whole): such texts are
        embedded with global deduplication (:func:`~benchmark.engine.embed.embed_texts`)."""
        return all(isinstance(locator, InlineLocator) for _, locator in self._pieces)

    def texts(self) -> list[str]:
        """Every text, as one list: for in-memory sources (and BM25, in-memory by nature)."""
        return list(self)

    def __repr__(self) -> str:
        return f"TextSource({self._len} texts in {len(self._pieces)} chunks)"
