"""Diacritics and case removed: the query as typed on a keyboard without dead keys, in lowercase.

Per grapheme cluster: NFD splits a precomposed letter into its base and combining marks, the
nonspacing marks (general category Mn) are dropped and what is left recomposed (NFC); then the
whole text is lowercased. ``Tiếng Việt`` -> ``tieng viet``, ``Ελληνικά`` -> ``ελληνικα``,
``ёлка`` -> ``елка``.

Marks are dropped only where they are optional diacritics that people really leave out when they
type: on bases of the Latin, Greek, Cyrillic, Arabic (harakat) and Hebrew (niqqud) scripts
(a base belongs to a script when its Script_Extensions names it, so Arabic marks on a tatweel
go too), and only the marks of those scripts or of none (Inherited: the generic accents): a
Devanagari virama after a Latin letter stays, or dropping it would cut a cluster in two. In Devanagari, Thai and the other Brahmic scripts the vowel signs, viramas and tone
marks are the spelling, not decoration: without its Mn signs ``हिन्दी`` loses its virama
(``हिनदी``) and Thai ``ต้อง`` its tone mark (``ตอง``): misspellings no typist of those languages
produces by leaving accents out. Those clusters are kept as typed, not even renormalised:
NFC would rewrite the Devanagari nukta letters U+0958..U+095F (composition exclusions) as base +
nukta, the same text to a reader but another code-point sequence to a tokenizer, and would
count about one Hindi question in eight of XQuAD-R as perturbed for nothing.

Consequences worth knowing: Russian ``й`` is ``и`` + breve under NFD, so it becomes ``и``
(Russians do not drop it, but the rule is the one of the issue, applied to Cyrillic uniformly);
letters whose stroke is part of the letter and has no decomposition stay (``đ``, ``ł``, ``ø``,
``ß``). Lowercasing is ``str.lower`` on the whole text (``Σ`` at a word's end becomes ``ς``), so
it follows Python's Unicode database, recorded with the result; Latin words in a Thai or Chinese
question are lowercased too.
"""

from __future__ import annotations

import unicodedata
from typing import Sequence

import regex

from benchmark.perturb import Perturbation
from benchmark.perturb.graphemes import clusters, regex_version

_SCRIPTS = r"\p{scx=Latin}\p{scx=Greek}\p{scx=Cyrillic}\p{scx=Arabic}\p{scx=Hebrew}"
# bases whose nonspacing marks are optional diacritics, and the marks that are: their own or
# generic (Inherited) ones, never a Devanagari virama that happens to follow a Latin letter
_DIACRITIC_BASE = regex.compile(f"[{_SCRIPTS}]")
_DIACRITIC_MARK = regex.compile(f"[{_SCRIPTS}\\p{{scx=Inherited}}]")


class NoDiacritics(Perturbation):
    name = "nodiacritics"
    version = 1
    description = "diacritics and case removed (NFD, Latin/Greek/Cyrillic/Arabic/Hebrew marks dropped, lowercase)"

    def apply(self, texts: Sequence[str], ids: Sequence[str], lang: str, level: float | None) -> list[str]:
        return [strip_diacritics(text) for text in texts]

    def libraries(self) -> dict[str, str]:
        return {"unicodedata": unicodedata.unidata_version, **regex_version()}


def strip_diacritics(text: str) -> str:
    """``text`` without the optional diacritics of its clusters, lowercased (see the module)."""
    parts = []
    for cluster in clusters(text):
        if _DIACRITIC_BASE.match(cluster):
            decomposed = unicodedata.normalize("NFD", cluster)
            bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn" or not _DIACRITIC_MARK.match(ch))
            cluster = unicodedata.normalize("NFC", bare)
        parts.append(cluster)
    return "".join(parts).lower()


NODIACRITICS = NoDiacritics()
