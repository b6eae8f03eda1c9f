"""Romanisation: a non-Latin query written in Latin letters, as people type on a Latin keyboard.

Transliterator: ``anyascii`` (ISC licence, pure Python, one fixed table per code point, no
context). Its output is decided by its tables alone, so the release is pinned (setup.cfg) and
recorded with every result. The alternatives were worse for a benchmark: ICU's Any-Latin
(PyICU) is an sdist built against the system's libicu, whose version changes the output from
machine to machine; ``unidecode`` is GPL, which an Apache-2.0 harness cannot require.

What it transliterates: grapheme clusters whose base (first code point) belongs to no Latin,
Common or Inherited script, by Unicode's Script_Extensions. So Latin-script text is returned
unchanged (a Vietnamese or German query is not perturbed at all), as are digits, spaces and
ASCII punctuation; a combining mark goes with the cluster of its base (Cyrillic ``й`` in NFD is
romanised whole). Script_Extensions rather than Script because punctuation shared by a few
scripts is Common by Script but named by its extensions: the Devanagari danda ``।``, the Arabic
``؟`` and ``،``, the ideographic ``。`` are transliterated with their script's text, while
punctuation used everywhere (fullwidth ``？``, the em dash) stays as typed.

What anyascii gives, by table, letter by letter: Cyrillic ``Москва`` -> ``Moskva``; Han one
capitalised pinyin syllable per character without tones or spaces (``北京`` -> ``BeiJing``);
Devanagari without the inherent vowel (``नमस्ते`` -> ``nmste``) and the danda as a comma; Thai
in written order with tone marks dropped (``ไทย`` -> ``aithy``, the preposed vowel first).
"""

from __future__ import annotations

from importlib import metadata
from typing import Sequence

import regex
from anyascii import anyascii

from benchmark.perturb import Perturbation
from benchmark.perturb.graphemes import clusters, regex_version

# a cluster starting with one of these is left as it is
_KEPT = regex.compile(r"[\p{scx=Latin}\p{scx=Common}\p{scx=Inherited}]")


class Romanize(Perturbation):
    name = "romanize"
    version = 1
    description = "non-Latin scripts romanised with anyascii (Latin-script text unchanged)"

    def apply(self, texts: Sequence[str], ids: Sequence[str], lang: str, level: float | None) -> list[str]:
        return [romanize(text) for text in texts]

    def libraries(self) -> dict[str, str]:
        return {"anyascii": metadata.version("anyascii"), **regex_version()}


def romanize(text: str) -> str:
    """``text`` with each non-Latin, non-Common cluster replaced by its anyascii transliteration."""
    return "".join(cluster if _KEPT.match(cluster) else anyascii(cluster) for cluster in clusters(text))


ROMANIZE = Romanize()
