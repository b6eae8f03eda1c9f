"""Independent reference implementation of the Tatoeba (pivot bitext) protocol (../shared/PROTOCOL.md).

Written for clarity, not speed, and deliberately independent of the production engine under
``benchmark/``: it reads the line-aligned files itself and calls the one embedding function it is
given, on both sides (a symmetric task encodes queries and candidates the same way).

Public entry point: :func:`reference_bitext`.

Definitions implemented here (PROTOCOL.md "Tatoeba", /work/i10/SPEC.md for names):

* Pair X-P (P = the pivot): two line-aligned files, ``layout.format(lang=X, pivot=P, side=X)`` and
  ``... side=P``. Lines = the text split on "\\n" only; a final "\\n" does not make an extra line.
* Query id of line i (1-based): ``"X-P:i"``, the same id on both sides.
* Settings, for each X in the given order: X->P (queries: the X lines, pool: that pair's P lines),
  then P->X (queries: that pair's P lines, pool: the X lines). There is nothing else: no mono, no
  pair between two non-pivot languages, no multilingual pool.
* Relevant candidate of a query: the aligned line of the other side (and any other line of that side
  with the identical text; Tatoeba has none).
* Scores: the dot product of the integer vectors (exact). Ranks are pessimistic: a non-relevant
  candidate with a score equal to a relevant one ranks ahead of it.
* Accuracy of a query: 1 when its best relevant candidate has rank 1, else 0. AP: mean over its
  relevant candidates of (relevant seen so far / rank), i.e. 1 / rank with one relevant.
  MRR@10: 1 / rank of the best relevant candidate when that rank is <= 10, else 0.
* A setting's value = mean over its queries. Aggregates ("all", "xx->P", "P->xx", each group) =
  macro means over the settings in scope; a group scopes the settings of its languages (both
  directions); a scope without settings is None.

Everything is computed with integers and :class:`fractions.Fraction`; floats only at the end.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

METRICS = ("accuracy", "map", "mrr@10")


def read_lines(path: Path) -> list[str]:
    """The lines of one side: split on "\\n" only, a final "\\n" is no extra line, no blank line."""
    text = Path(path).read_bytes().decode("utf-8")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines = lines[:-1]
    if not lines or any(line == "" for line in lines):
        raise ValueError(f"{path}: empty side or blank line")
    return lines


def integer_vectors(texts: list[str], embed: Callable[[list[str]], np.ndarray]) -> dict[str, list[int]]:
    """Embed each distinct text once; insist that every component is an integer (exact scores)."""
    unique = list(dict.fromkeys(texts))
    vectors = np.asarray(embed(unique), dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(unique):
        raise ValueError(f"embedding function returned shape {vectors.shape} for {len(unique)} texts")
    if not np.all(np.isfinite(vectors)) or not np.array_equal(vectors, np.round(vectors)):
        raise ValueError("the reference needs integer-valued vectors (exact dot products)")
    return {text: [int(x) for x in vectors[i]] for i, text in enumerate(unique)}


def dot(u: Sequence[int], v: Sequence[int]) -> int:
    """Exact integer dot product."""
    return sum(a * b for a, b in zip(u, v))


def pessimistic_ranks(scores: Sequence[int], relevant: set[int]) -> list[int]:
    """1-based ranks of the relevant candidates, best first.

    The k-th best relevant candidate r (k = 1, 2, ...) is preceded by the k - 1 relevant candidates
    listed before it (ties among relevant candidates do not change AP) and by every non-relevant
    candidate whose score is >= its score (pessimistic ties).
    """
    by_score = sorted(relevant, key=lambda c: -scores[c])
    ranks = []
    for k, r in enumerate(by_score, start=1):
        ahead = sum(1 for c in range(len(scores)) if c not in relevant and scores[c] >= scores[r])
        ranks.append(k + ahead)
    return ranks


def query_values(ranks: list[int]) -> dict[str, Fraction]:
    """Accuracy, AP and MRR@10 of one query, exactly, from its relevant ranks (best first)."""
    best = ranks[0]
    return {
        "accuracy": Fraction(1 if best == 1 else 0),
        "map": sum((Fraction(k, rank) for k, rank in enumerate(ranks, start=1)), Fraction(0)) / len(ranks),
        "mrr@10": Fraction(1, best) if best <= 10 else Fraction(0),
        "rank": best,
    }


def _setting(pair_id: str, queries: list[str], pool: list[str], vec: dict[str, list[int]]) -> dict:
    """Score one direction of one pair: query line i's relevant = pool line i (+ identical texts)."""
    per_query = {}
    for i, query in enumerate(queries):
        scores = [dot(vec[query], vec[candidate]) for candidate in pool]
        relevant = {j for j, candidate in enumerate(pool) if j == i or candidate == pool[i]}
        values = query_values(pessimistic_ranks(scores, relevant))
        # Diagnostic, so that tests can show the pessimistic rule was exercised: the non-relevant
        # candidates scored exactly like the best relevant one.
        best = max(scores[j] for j in relevant)
        values["tied"] = sum(1 for j, score in enumerate(scores) if j not in relevant and score == best)
        per_query[f"{pair_id}:{i + 1}"] = values
    exact = {m: sum((q[m] for q in per_query.values()), Fraction(0)) / len(per_query) for m in METRICS}
    return {"n_queries": len(per_query), "exact": exact, "per_query": per_query, **{m: float(v) for m, v in exact.items()}}


def _macro(settings: list[dict]) -> dict[str, float | None]:
    if not settings:
        return {m: None for m in METRICS}
    return {m: float(sum((s["exact"][m] for s in settings), Fraction(0)) / len(settings)) for m in METRICS}


def reference_bitext(
    root: Path,
    layout: str,
    languages: Sequence[str],
    pivot: str,
    groups: dict[str, Sequence[str]],
    embed: Callable[[list[str]], np.ndarray],
) -> dict:
    """Score a pivot-paired bitext task (Tatoeba's shape) the way PROTOCOL.md defines it.

    root/layout locate the files; ``embed``: list[str] -> (n, d) integer-valued array, used on both
    sides (symmetric). Returns
      {"settings": {(query_lang, corpus_lang): {"kind": "cross", "n_queries", "accuracy", "map",
                    "mrr@10", "exact": {metric: Fraction},
                    "per_query": {query_id: {"accuracy", "map", "mrr@10": Fraction, "rank": int,
                                              "tied": int (non-relevant scored like the best relevant)}}}},
       "order": [(query_lang, corpus_lang), ...] (X->P then P->X per language, in the given order),
       "aggregates": {scope: {metric: float or None}} for "all", "xx->P", "P->xx" and each group,
       "lines": {"X-P.X": int, "X-P.P": int}}
    """
    sides = {}
    for lang in languages:
        own = read_lines(Path(root) / layout.format(lang=lang, pivot=pivot, side=lang))
        piv = read_lines(Path(root) / layout.format(lang=lang, pivot=pivot, side=pivot))
        if len(own) != len(piv):
            raise ValueError(f"pair {lang}-{pivot}: {len(own)} vs {len(piv)} lines")
        sides[lang] = (own, piv)

    vec = integer_vectors([t for own, piv in sides.values() for t in own + piv], embed)

    settings, order = {}, []
    for lang in languages:
        own, piv = sides[lang]
        pair_id = f"{lang}-{pivot}"
        settings[(lang, pivot)] = {"kind": "cross", **_setting(pair_id, own, piv, vec)}
        settings[(pivot, lang)] = {"kind": "cross", **_setting(pair_id, piv, own, vec)}
        order += [(lang, pivot), (pivot, lang)]

    aggregates = {
        "all": _macro([settings[k] for k in order]),
        f"xx->{pivot}": _macro([settings[k] for k in order if k[0] != pivot]),
        f"{pivot}->xx": _macro([settings[k] for k in order if k[0] == pivot]),
    }
    for name, members in groups.items():
        aggregates[name] = _macro([settings[k] for k in order if (k[0] if k[0] != pivot else k[1]) in members])

    lines = {}
    for lang, (own, piv) in sides.items():
        lines[f"{lang}-{pivot}.{lang}"] = len(own)
        lines[f"{lang}-{pivot}.{pivot}"] = len(piv)
    return {"settings": settings, "order": order, "aggregates": aggregates, "lines": lines}
