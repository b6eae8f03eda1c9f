"""Typos: each letter of a query mistyped with a given probability, the way fingers slip.

Unit: the grapheme cluster (see :mod:`benchmark.perturb.graphemes`), not the code point, so a
Thai, Devanagari or Arabic query stays text its readers could have typed: a whole cluster is
inserted, deleted, replaced or swapped, never a lone vowel sign or a conjunct cut in half.

Each letter cluster (one holding a ``\\p{L}``), left to right, is edited with probability RATE by
one of four edits drawn uniformly:

- insert: a second cluster typed after it;
- delete: it is dropped (unless nothing else is left: a query never becomes empty);
- substitute: another cluster typed instead;
- swap: it trades places with the next cluster, whatever that is (``teh``, ``th equestion``);
  the moved cluster is not itself edited again. The last cluster of a text has none to swap with.

What is typed: for a cluster whose base letter (first code point after NFD) is an ASCII letter, a
QWERTY neighbour of that key, in the letter's case (an accent goes with the key it sat on). One
keyboard for every Latin-script language keeps the noise comparable across languages, at the cost
of German QWERTZ and French AZERTY. For every other letter (Cyrillic, Devanagari, Thai, Han,
Arabic, ``ß``) a letter cluster of the same query, drawn from its distinct letter clusters in order
of first appearance (for a substitution, another one than the cluster replaced): no keyboard
layout is assumed for scripts whose layouts differ by country and input method, and whole
clusters of the query are valid in its script by construction.

An edit whose result would merge with its new neighbours into a cluster that was not there
(``क्`` moved before a consonant) is not made. Randomness: :func:`stream_for` only, which
depends on the query id and not on the language, so the translations of a question on a parallel
task draw the same numbers (the same letter clusters, counted from the start, are hit).
"""

from __future__ import annotations

import unicodedata
from typing import Sequence

from benchmark.perturb import Perturbation
from benchmark.perturb.graphemes import clusters, fits, is_letter, regex_version
from benchmark.perturb.stream import Stream

# the letter keys touching each letter key on a staggered QWERTY board: left and right on its row,
# and the two it overlaps on the rows above and below (``d``: e r / s f / x c)
NEIGHBOURS: dict[str, str] = {
    "q": "aw", "w": "aeqs", "e": "drsw", "r": "deft", "t": "fgry", "y": "ghtu",
    "u": "hijy", "i": "jkou", "o": "iklp", "p": "lo",
    "a": "qswz", "s": "adewxz", "d": "cefrsx", "f": "cdgrtv", "g": "bfhtvy", "h": "bgjnuy",
    "j": "hikmnu", "k": "ijlmo", "l": "kop",
    "z": "asx", "x": "cdsz", "c": "dfvx", "v": "bcfg", "b": "ghnv", "n": "bhjm", "m": "jkn",
}

INSERT, DELETE, SUBSTITUTE, SWAP = range(4)


class Typo(Perturbation):
    name = "typo"
    version = 1
    description = "typos: each letter (grapheme cluster) inserted, deleted, substituted or swapped with probability LEVEL"
    default_level = 0.05
    levels = (0.0, 1.0)

    def apply(self, texts: Sequence[str], ids: Sequence[str], lang: str, level: float | None) -> list[str]:
        return self.edit_each(typo, texts, ids, level)

    def libraries(self) -> dict[str, str]:
        return {"unicodedata": unicodedata.unidata_version, **regex_version()}


def keyboard_key(cluster: str) -> str | None:
    """The QWERTY key a cluster was typed on (``É`` -> ``e``), or None off the Latin letter keys."""
    base = unicodedata.normalize("NFD", cluster)[0].lower()
    return base if base in NEIGHBOURS else None


def _typed_near(cluster: str, key: str, stream: Stream) -> str:
    """A neighbour of ``key``, uppercase when the cluster's base letter is."""
    near = stream.choice(list(NEIGHBOURS[key]))
    return near.upper() if unicodedata.normalize("NFD", cluster)[0].isupper() else near


def _edit(op: int, cluster: str, following: str | None, pool: list[str], stream: Stream) -> tuple[list[str], int] | None:
    """The clusters that replace ``cluster`` (and the following one for a swap), with how many
    input clusters they replace; None when the edit cannot be made."""
    key = keyboard_key(cluster)
    if op == INSERT:
        return [cluster, _typed_near(cluster, key, stream) if key else stream.choice(pool)], 1
    if op == DELETE:
        return [], 1
    if op == SUBSTITUTE:
        if key:
            return [_typed_near(cluster, key, stream)], 1
        others = [other for other in pool if other != cluster]
        return ([stream.choice(others)], 1) if others else None
    return ([following, cluster], 2) if following is not None else None


def typo(text: str, rate: float, stream: Stream) -> str:
    """``text`` with each letter cluster edited with probability ``rate`` (see the module)."""
    units = clusters(text)
    pool = list(dict.fromkeys(unit for unit in units if is_letter(unit)))
    out: list[str] = []
    i = 0
    while i < len(units):
        cluster = units[i]
        if not is_letter(cluster) or stream.uniform() >= rate:
            out.append(cluster)
            i += 1
            continue
        op = stream.below(4)
        following = units[i + 1] if i + 1 < len(units) else None
        edit = _edit(op, cluster, following, pool, stream)
        if edit is not None:
            new, used = edit
            if fits(out[-1:], new, units[i + used:i + used + 1]):
                out.extend(new)
                i += used
                continue
        out.append(cluster)
        i += 1
    return "".join(out)


TYPO = Typo()
