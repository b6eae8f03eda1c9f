"""Punctuation and white-space noise: the question mark left off, two words run together, a
double space, as in queries typed in a hurry.

Sites, left to right over the grapheme clusters: each punctuation cluster (one starting with a
``\\p{P}``: ``?``, ``,``, ``।``, ``。``, ``؟``) and each maximal run of white-space clusters. With
probability RATE a punctuation cluster is deleted, and a white-space run is removed or doubled
(written twice), with equal odds. Symbols (``$``, ``+``) and letters are never touched, so the
words themselves are intact and only their separation changes. Thai and Chinese, written
without spaces between words, mostly lose punctuation only: that is how they are typed.

Whole clusters only, and no edit may make its new neighbours merge into a cluster that was not
there (a Devanagari ``क्`` before a space meeting the consonant after it): such an edit is not
made (see :mod:`benchmark.perturb.graphemes`). Randomness: :func:`stream_for` only.
"""

from __future__ import annotations

from typing import Sequence

from benchmark.perturb import Perturbation
from benchmark.perturb.graphemes import clusters, fits, is_punctuation, is_space, regex_version
from benchmark.perturb.stream import Stream


class Punctuation(Perturbation):
    name = "punctuation"
    version = 1
    description = "punctuation deleted and white-space runs removed or doubled, each with probability LEVEL"
    default_level = 0.5
    levels = (0.0, 1.0)

    def apply(self, texts: Sequence[str], ids: Sequence[str], lang: str, level: float | None) -> list[str]:
        return self.edit_each(punctuate, texts, ids, level)

    def libraries(self) -> dict[str, str]:
        return regex_version()


def punctuate(text: str, rate: float, stream: Stream) -> str:
    """``text`` with punctuation and white-space noise at ``rate`` (see the module)."""
    units = clusters(text)
    out: list[str] = []
    i = 0
    while i < len(units):
        end = i + 1
        if is_space(units[i]):
            while end < len(units) and is_space(units[end]):
                end += 1
        site = units[i:end]
        new = site
        if is_space(units[i]):
            if stream.uniform() < rate:
                new = [] if stream.below(2) == 0 else site + site
        elif is_punctuation(units[i]) and stream.uniform() < rate:
            new = []
        if new is not site and not fits(out[-1:], new, units[end:end + 1]):
            new = site
        out.extend(new)
        i = end
    return "".join(out)


PUNCTUATION = Punctuation()
