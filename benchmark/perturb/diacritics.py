"""Diacritics and case removed: the query as typed on a keyboard without dead keys, in lowercase.

NFD splits every precomposed letter into its base and combining marks; the nonspacing marks
(general category Mn) are then dropped, the text lowercased and recomposed (NFC). ``Tiếng Việt``
-> ``tieng viet``, ``Ελληνικά`` -> ``ελληνικα``, ``ёлка`` -> ``елка``.

Marks are dropped only where they are optional diacritics that people really leave out when they
type: on bases of the Latin, Greek, Cyrillic, Arabic (harakat) and Hebrew (niqqud) scripts
(a base belongs to a script when its Script_Extensions names it, so Arabic marks on a tatweel
go too). In Devanagari, Thai and the other Brahmic scripts the vowel signs, viramas and tone
marks are the spelling, not decoration: without its Mn signs ``हिन्दी`` loses its virama
(``हिनदी``) and Thai ``ต้อง`` its tone mark (``ตอง``): misspellings no typist of those languages
produces by leaving accents out. Those clusters are kept whole.

Consequences worth knowing: Russian ``й`` is ``и`` + breve under NFD, so it becomes ``и``
(Russians do not drop it, but the rule is the one of the issue, applied to Cyrillic uniformly);
letters whose stroke is part of the letter and has no decomposition stay (``đ``, ``ł``, ``ø``,
``ß``); Devanagari nukta letters U+0958..U+095F are NFC composition exclusions, so they come back
as base + nukta (the same text, canonically). Lowercasing is ``str.lower`` (``Σ`` at a word's end
becomes ``ς``), so it follows Python's Unicode database, recorded with the result.
"""

from __future__ import annotations

import unicodedata
from typing import Sequence

import regex

from benchmark.perturb import Perturbation
from benchmark.perturb.graphemes import clusters, regex_version

# bases whose nonspacing marks are optional diacritics
_DIACRITIC_BASE = regex.compile(r"[\p{scx=Latin}\p{scx=Greek}\p{scx=Cyrillic}\p{scx=Arabic}\p{scx=Hebrew}]")


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
    for cluster in clusters(unicodedata.normalize("NFD", text)):
        if _DIACRITIC_BASE.match(cluster):
            cluster = "".join(ch for ch in cluster if unicodedata.category(ch) != "Mn")
        parts.append(cluster)
    return unicodedata.normalize("NFC", "".join(parts).lower())


NODIACRITICS = NoDiacritics()
