"""Grapheme clusters: the unit every character-level perturbation edits.

A code point is not a character a reader sees: a Thai consonant with its vowel and tone marks
(``มื``), a Devanagari conjunct with its matra (``त्रि``), a Latin letter with a combining accent
are each several code points and one user-perceived character. Deleting, moving or inserting
code points would leave orphaned marks and broken conjuncts, text no keyboard produces. So the
perturbations cut text into extended grapheme clusters (``regex``'s ``\\X``, which follows UAX #29
including the Indic conjunct rule) and only ever drop, repeat or move whole clusters.

Moving whole clusters is not quite enough: a cluster boundary depends on its neighbours
(a Devanagari ``क्`` ending a word joins a following consonant into a conjunct; two regional
indicators pair up; a text-initial combining mark attaches to whatever comes to stand before it).
:func:`fits` is the check every edit passes before it is made: the new neighbours must
still cluster into exactly the units that were put side by side, so no edit ever creates a
cluster that was not there (or splits one that was).
"""

from __future__ import annotations

from typing import Sequence

import regex

_CLUSTER = regex.compile(r"\X")
_LETTER = regex.compile(r"\p{L}")
_SPACE = regex.compile(r"\s")
_PUNCT = regex.compile(r"\p{P}")


def clusters(text: str) -> list[str]:
    """The extended grapheme clusters of ``text``, in order (their concatenation is ``text``)."""
    return _CLUSTER.findall(text)


def is_letter(cluster: str) -> bool:
    """A cluster holding a letter (``\\p{L}``): what a typo edits (``त्रि``, ``มื``, ``é``)."""
    return _LETTER.search(cluster) is not None


def is_space(cluster: str) -> bool:
    """A cluster that starts with white space (a space, a tab, ``\\r\\n``)."""
    return _SPACE.match(cluster) is not None


def is_punctuation(cluster: str) -> bool:
    """A cluster that starts with punctuation (``\\p{P}``: ``?``, ``।``, ``。``, ``؟``)."""
    return _PUNCT.match(cluster) is not None


def stays_apart(units: Sequence[str]) -> bool:
    """Whether ``units`` (each one cluster), written side by side, cluster back into exactly
    themselves: an edit that passes this for its new neighbours merges and splits nothing."""
    return clusters("".join(units)) == list(units)


def fits(before: list[str], new: list[str], after: list[str]) -> bool:
    """Whether an edit may write ``new`` between ``before`` (the last cluster written, if any) and
    ``after`` (the next input cluster, if any): the text does not become empty, and nothing merges."""
    return bool(new or before or after) and stays_apart(before + new + after)


def regex_version() -> dict[str, str]:
    """The ``regex`` release, whose Unicode tables decide where clusters end."""
    return {"regex": regex.__version__}
