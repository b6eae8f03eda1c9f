"""Self-checks of the independent Tatoeba reference (tests/reference/tatoeba_reference.py).

Two hand-made pairs of three lines with hand-computed accuracy, AP and aggregates (a real tie that
the pessimistic rule resolves to accuracy 0), a constant encoder, the line-splitting rule, and the
pessimistic ranks against the LAReQA reference's independent lexsort ranks.
"""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from tests.paths import SHARED_TATOEBA
from tests.reference.protocol_reference import relevant_ranks
from tests.reference.tatoeba_reference import pessimistic_ranks, read_lines, reference_bitext

LAYOUT = "{lang}-{pivot}.{side}"

# Hand-built integer vectors. Pair aaa-eng and pair bbb-eng, three aligned lines each.
VECTORS = {
    "a1": [1, 0, 0], "a2": [0, 1, 0], "a3": [0, 0, 1],
    "e1": [1, 0, 0], "e2": [1, 1, 0], "e3": [1, 0, 1],   # eng side of aaa-eng
    "b1": [2, 0, 0], "b2": [0, 1, 0], "b3": [0, 0, 3],
    "f1": [1, 0, 0], "f2": [0, 1, 0], "f3": [2, 0, 1],   # eng side of bbb-eng
}
LINES = {("aaa", "aaa"): "a1 a2 a3", ("aaa", "eng"): "e1 e2 e3", ("bbb", "bbb"): "b1 b2 b3", ("bbb", "eng"): "f1 f2 f3"}

# Hand computation (R = relevant, ranks 1-based, pessimistic ties):
# aaa->eng  a1: e1 1 R, e2 1, e3 1  -> two non-relevant tie with R: rank 3, acc 0, AP 1/3
#           a2: e2 1 R, others 0    -> rank 1        a3: e3 1 R, others 0 -> rank 1
#           acc 2/3, AP (1/3 + 1 + 1)/3 = 7/9
# eng->aaa  e1: a1 1 R, others 0    -> rank 1
#           e2: a1 1, a2 1 R        -> tie: rank 2, acc 0, AP 1/2
#           e3: a1 1, a3 1 R        -> tie: rank 2, acc 0, AP 1/2
#           acc 1/3, AP (1 + 1/2 + 1/2)/3 = 2/3
# bbb->eng  b1: f1 2 R, f2 0, f3 4  -> strictly below f3: rank 2, AP 1/2
#           b2: f2 1 R -> rank 1     b3: f3 3 R -> rank 1       acc 2/3, AP 5/6
# eng->bbb  f1: b1 2 R -> rank 1     f2: b2 1 R -> rank 1
#           f3: b1 4, b2 0, b3 3 R  -> rank 2, AP 1/2           acc 2/3, AP 5/6
# all:      acc (2/3 + 1/3 + 2/3 + 2/3)/4 = 7/12   AP (7/9 + 2/3 + 5/6 + 5/6)/4 = 7/9
# xx->eng:  acc (2/3 + 2/3)/2 = 2/3                AP (7/9 + 5/6)/2 = 29/36
# eng->xx:  acc (1/3 + 2/3)/2 = 1/2                AP (2/3 + 5/6)/2 = 3/4
# group a = [aaa]: acc (2/3 + 1/3)/2 = 1/2          AP (7/9 + 2/3)/2 = 13/18
# All ranks are <= 10, so MRR@10 = AP everywhere.
EXPECTED_QUERIES = {
    ("aaa", "eng"): {"aaa-eng:1": (0, F(1, 3)), "aaa-eng:2": (1, F(1)), "aaa-eng:3": (1, F(1))},
    ("eng", "aaa"): {"aaa-eng:1": (1, F(1)), "aaa-eng:2": (0, F(1, 2)), "aaa-eng:3": (0, F(1, 2))},
    ("bbb", "eng"): {"bbb-eng:1": (0, F(1, 2)), "bbb-eng:2": (1, F(1)), "bbb-eng:3": (1, F(1))},
    ("eng", "bbb"): {"bbb-eng:1": (1, F(1)), "bbb-eng:2": (1, F(1)), "bbb-eng:3": (0, F(1, 2))},
}
EXPECTED_SETTINGS = {
    ("aaa", "eng"): (F(2, 3), F(7, 9)),
    ("eng", "aaa"): (F(1, 3), F(2, 3)),
    ("bbb", "eng"): (F(2, 3), F(5, 6)),
    ("eng", "bbb"): (F(2, 3), F(5, 6)),
}
EXPECTED_AGGREGATES = {
    "all": (F(7, 12), F(7, 9)),
    "xx->eng": (F(2, 3), F(29, 36)),
    "eng->xx": (F(1, 2), F(3, 4)),
    "a": (F(1, 2), F(13, 18)),
    "ab": (F(7, 12), F(7, 9)),
}


def _write(root: Path, lines: dict) -> Path:
    for (lang, side), words in lines.items():
        (root / LAYOUT.format(lang=lang, pivot="eng", side=side)).write_text("\n".join(words.split()) + "\n", encoding="utf-8")
    return root


def _lookup(texts):
    return np.array([VECTORS[t] for t in texts], dtype=np.float32)


def test_hand_computed_values(tmp_path):
    ref = reference_bitext(_write(tmp_path, LINES), LAYOUT, ["aaa", "bbb"], "eng", {"a": ["aaa"], "ab": ["aaa", "bbb"]}, _lookup)
    assert ref["order"] == [("aaa", "eng"), ("eng", "aaa"), ("bbb", "eng"), ("eng", "bbb")]
    assert ref["lines"] == {"aaa-eng.aaa": 3, "aaa-eng.eng": 3, "bbb-eng.bbb": 3, "bbb-eng.eng": 3}
    for key, queries in EXPECTED_QUERIES.items():
        setting = ref["settings"][key]
        assert setting["kind"] == "cross" and setting["n_queries"] == 3
        assert {q: (v["accuracy"], v["map"]) for q, v in setting["per_query"].items()} == queries, key
        assert all(v["mrr@10"] == v["map"] for v in setting["per_query"].values())
        accuracy, ap = EXPECTED_SETTINGS[key]
        assert setting["exact"]["accuracy"] == accuracy and setting["exact"]["map"] == ap, key
        assert setting["accuracy"] == float(accuracy) and setting["map"] == float(ap)
    for scope, (accuracy, ap) in EXPECTED_AGGREGATES.items():
        assert ref["aggregates"][scope] == {"accuracy": float(accuracy), "map": float(ap), "mrr@10": float(ap)}, scope
    assert list(ref["aggregates"]) == ["all", "xx->eng", "eng->xx", "a", "ab"]
    # the diagnostic: a1 ties with two non-relevant lines; b1 is strictly below f3 (no tie)
    assert ref["settings"][("aaa", "eng")]["per_query"]["aaa-eng:1"]["tied"] == 2
    assert ref["settings"][("bbb", "eng")]["per_query"]["bbb-eng:1"]["tied"] == 0


def test_a_group_without_languages_is_none(tmp_path):
    ref = reference_bitext(_write(tmp_path, LINES), LAYOUT, ["bbb"], "eng", {"a": ["aaa"]}, _lookup)
    assert ref["aggregates"]["a"] == {"accuracy": None, "map": None, "mrr@10": None}
    assert ref["aggregates"]["all"]["map"] == float((F(5, 6) + F(5, 6)) / 2)


def test_constant_encoder_scores_accuracy_zero_and_ap_one_over_n(tmp_path):
    """Every score ties, so every relevant line ranks last: accuracy 0, AP = 1/n (n = pair size)."""
    lines = {("aaa", "aaa"): "x1 x2 x3", ("aaa", "eng"): "y1 y2 y3", ("bbb", "bbb"): "u1 u2 u3 u4 u5", ("bbb", "eng"): "v1 v2 v3 v4 v5"}

    def constant(texts):
        return np.ones((len(texts), 4), dtype=np.float32)

    ref = reference_bitext(_write(tmp_path, lines), LAYOUT, ["aaa", "bbb"], "eng", {"b": ["bbb"]}, constant)
    for (q, c), setting in ref["settings"].items():
        n = 3 if "aaa" in (q, c) else 5
        assert all(v["rank"] == n and v["accuracy"] == 0 and v["map"] == F(1, n) for v in setting["per_query"].values())
        assert setting["accuracy"] == 0.0 and setting["map"] == float(F(1, n))
    assert ref["aggregates"]["all"] == {"accuracy": 0.0, "map": float(F(4, 15)), "mrr@10": float(F(4, 15))}
    assert ref["aggregates"]["b"]["map"] == 0.2


def test_mrr_cutoff_and_identical_text_relevance(tmp_path):
    """Rank 11 gives MRR@10 0 but AP 1/11; another line with the relevant text is relevant too."""
    assert pessimistic_ranks([5] * 11, {0}) == [11]
    assert pessimistic_ranks([1, 3, 3, 2], {1, 3}) == [2, 3]  # the non-relevant 3 goes first
    assert pessimistic_ranks([2, 2, 2], {0, 1}) == [2, 3]
    lines = {("aaa", "aaa"): "p q s", ("aaa", "eng"): "r r t"}  # duplicate pivot line (SPEC rule)
    ref = reference_bitext(_write(tmp_path, lines), LAYOUT, ["aaa"], "eng", {}, lambda t: np.ones((len(t), 2)))
    # aaa->eng line 1 and line 2: relevant = both "r" lines, all tie: ranks 2, 3 -> AP (1/2 + 2/3)/2
    assert [v["map"] for v in ref["settings"][("aaa", "eng")]["per_query"].values()] == [F(7, 12), F(7, 12), F(1, 3)]
    assert [v["map"] for v in ref["settings"][("eng", "aaa")]["per_query"].values()] == [F(1, 3)] * 3


def test_lines_split_on_newline_only(tmp_path):
    (tmp_path / "a").write_bytes("x\ny\r\nz".encode())
    (tmp_path / "b").write_bytes("x\ny\n".encode())
    assert read_lines(tmp_path / "a") == ["x", "y\r", "z"]
    assert read_lines(tmp_path / "b") == ["x", "y"]
    for bad in (b"", b"x\n\ny\n", b"\n"):
        (tmp_path / "c").write_bytes(bad)
        with pytest.raises(ValueError):
            read_lines(tmp_path / "c")


def test_non_integer_vectors_are_refused(tmp_path):
    with pytest.raises(ValueError):
        reference_bitext(_write(tmp_path, LINES), LAYOUT, ["aaa"], "eng", {}, lambda texts: np.full((len(texts), 2), 0.5))


def test_ranks_agree_with_the_lareqa_reference():
    """Counting loop here == lexsort there, on integer scores with many ties."""
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(60, 25))
    relevant = rng.random((60, 25)) < 0.15
    relevant[:, 5] = True
    theirs = relevant_ranks(scores.astype(np.float64), relevant)
    for row in range(60):
        ours = pessimistic_ranks(scores[row].tolist(), set(np.flatnonzero(relevant[row]).tolist()))
        assert ours == theirs[row].tolist()


# --------------------------------------------------------------------------------------------------
# Real data (skipped when absent): what the reference assumes of it, and PROTOCOL.md's counts
# --------------------------------------------------------------------------------------------------


TATOEBA = SHARED_TATOEBA


@pytest.mark.skipif(TATOEBA is None, reason="../shared/data/tatoeba not present")
def test_real_tatoeba_has_112_aligned_pairs_40_under_1000_and_no_duplicate_line():
    names = sorted(p.name for p in (TATOEBA / "v1").glob("tatoeba.*-eng.*"))
    langs = sorted({name.split(".")[1].split("-")[0] for name in names})
    assert len(langs) == 112 and len(names) == 224
    sizes = {}
    for lang in langs:
        own = read_lines(TATOEBA / "v1" / f"tatoeba.{lang}-eng.{lang}")  # raises on a blank line
        eng = read_lines(TATOEBA / "v1" / f"tatoeba.{lang}-eng.eng")
        assert len(own) == len(eng), lang
        assert len(set(own)) == len(own) and len(set(eng)) == len(eng), lang  # so one relevant per query
        sizes[lang] = len(own)
    assert sum(1 for n in sizes.values() if n < 1000) == 40
