"""Self-checks of the independent protocol reference (tests/reference/protocol_reference.py).

Tiny hand-made LAReQA files with hand-computed AP values, a constant encoder, an independent
brute-force check of the pessimistic ranks, and (when the real data is present) the real counts.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.reference.protocol_reference import average_precision, reference_scores, relevant_ranks

# --------------------------------------------------------------------------------------------------
# Tiny fixture
# --------------------------------------------------------------------------------------------------
#
# en  P1 "Cats purr. Dogs bark. Cats purr."   candidates e0 "Cats purr.", e1 "Dogs bark.", e2 "Cats purr."
#         q1 (answer "purr" in sentence 0) -> relevant e0 AND e2 (two identical sentences)
#         q2 (answer "bark")               -> relevant e1
#     P2 "Dogs bark. Birds sing."           candidates e3 "Dogs bark." (same text as e1, other
#                                           paragraph: a separate, NON-relevant candidate for q2),
#                                           e4 "Birds sing."
#         q3 (answer "sing")               -> relevant e4
# de  P1 "Katzen schnurren. Hunde bellen."  d0, d1; q1 -> d0, q2 -> d1
#     P2 "Vögel singen."                    d2; no question (q3 is missing from de)
# fr  P1 "Les chats ronronnent. Les chiens aboient."  f0, f1; q1 -> f0 (q2 missing from fr)
#     P2 "Les oiseaux chantent."            f2; q3 -> f2


def _paragraph(sentences, qas):
    """Build a LAReQA paragraph; qas = [(id, question, answer_text, sentence_index)]."""
    context = " ".join(sentences)
    breaks = []
    pos = 0
    for s in sentences:
        breaks.append([pos, pos + len(s)])
        pos += len(s) + 1
    out_qas = []
    for qid, question, answer, sentence_index in qas:
        start = breaks[sentence_index][0] + sentences[sentence_index].index(answer)
        assert context[start : start + len(answer)] == answer
        out_qas.append({"id": qid, "question": question, "answers": [{"answer_start": start, "text": answer}]})
    return {"context": context, "qas": out_qas, "sentences": list(sentences), "sentence_breaks": breaks}


FIXTURE = {
    "en": [
        _paragraph(
            ["Cats purr.", "Dogs bark.", "Cats purr."],
            [("q1", "What do cats do?", "purr", 0), ("q2", "What do dogs do?", "bark", 1)],
        ),
        _paragraph(["Dogs bark.", "Birds sing."], [("q3", "What do birds do?", "sing", 1)]),
    ],
    "de": [
        _paragraph(
            ["Katzen schnurren.", "Hunde bellen."],
            [("q1", "Was machen Katzen?", "schnurren", 0), ("q2", "Was machen Hunde?", "bellen", 1)],
        ),
        _paragraph(["Vögel singen."], []),
    ],
    "fr": [
        _paragraph(
            ["Les chats ronronnent.", "Les chiens aboient."],
            [("q1", "Que font les chats ?", "ronronnent", 0)],
        ),
        _paragraph(["Les oiseaux chantent."], [("q3", "Que font les oiseaux ?", "chantent", 0)]),
    ],
}


def _write(tmp_path, langs):
    files = {}
    for lang in langs:
        path = tmp_path / f"{lang}.json"
        doc = {"version": "1.1", "data": [{"title": "t", "paragraphs": FIXTURE[lang]}]}
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        files[lang] = str(path)
    return files


# Hand-built embedding: each query is a one-hot vector, so score(query k, passage) = passage[k].
QUERY_VECTORS = {
    "What do cats do?": [1, 0, 0, 0, 0],  # column 0
    "What do dogs do?": [0, 1, 0, 0, 0],  # column 1
    "What do birds do?": [0, 0, 1, 0, 0],  # column 2
    "Was machen Katzen?": [0, 0, 0, 1, 0],  # column 3
    "Was machen Hunde?": [0, 0, 0, 0, 1],  # column 4
}
#                         en q1  en q2  en q3  de q1  de q2
PASSAGE_VECTORS = {
    "Cats purr.":         [0.90, 0.20, 0.50, 0.75, 0.90],
    "Dogs bark.":         [0.50, 0.90, 0.30, 0.70, 0.50],
    "Birds sing.":        [0.95, 0.30, 0.10, 0.00, 0.40],
    "Katzen schnurren.":  [0.80, 0.10, 0.90, 0.70, 0.60],
    "Hunde bellen.":      [0.10, 0.90, 0.90, 0.80, 0.60],
    "Vögel singen.":      [0.00, 0.95, 0.90, 0.60, 0.20],
}


def _lookup(table, calls=None):
    def embed(texts):
        if calls is not None:
            calls.append(list(texts))
        return np.array([table[t] for t in texts], dtype=np.float32)

    return embed


# Hand computation, en + de (ranks are 1-based; "R" = relevant; pessimistic ties):
#
# en q1 (col 0), mono en: e4 .95 | e0 .9 R, e2 .9 R | e1 .5, e3 .5
#     ranks 2,3 -> AP = (1/2 + 2/3)/2 = 7/12
# en q2 (col 1), mono en: e1 .9 R ties with e3 .9 (same text, other paragraph, NOT relevant)
#     pessimistic: e3 rank 1, e1 rank 2 -> AP = 1/2   (optimistic would give 1.0)
# en q3 (col 2), mono en: e0 .5, e2 .5, e1 .3, e3 .3, e4 .1 R -> rank 5 -> AP = 1/5
#     mono en mAP = (7/12 + 1/2 + 1/5)/3 = 77/180
# de q1 (col 3), mono de: d1 .8 | d0 .7 R | d2 .6 -> rank 2 -> AP = 1/2
# de q2 (col 4), mono de: d1 .6 R ties with d0 .6 (not relevant) -> d0 1, d1 2 -> AP = 1/2
#     mono de mAP = 1/2
#
# cross en->de (q3 has no answer in de -> 2 queries):
#     q1: d0 .8 R, d1 .1, d2 0   -> rank 1 -> AP 1
#     q2: d2 .95, d1 .9 R, d0 .1 -> rank 2 -> AP 1/2        mAP = 3/4
# cross de->en:
#     q1: e0 .75 R, e2 .75 R, e1/e3 .7, e4 0 -> ranks 1,2 -> AP 1
#     q2: e0/e2 .9, then .5 tie: e3 (not relevant) 3, e1 R 4, e4 .4 -> AP 1/4      mAP = 5/8
#
# multi en (pool = e0..e4, d0..d2):
#     q1: e4 .95 (1), e0 .9 R (2), e2 .9 R (3), d0 .8 R (4), ...  relevant e0,e2,d0
#         AP = (1/2 + 2/3 + 3/4)/3 = 23/36; rank distance 4-2 = 2
#     q2: d2 .95 (1); .9 tie: e3 not relevant (2), e1 R & d1 R (3,4); ...
#         AP = (1/3 + 2/4)/2 = 5/12; rank distance 1
#     q3: d0,d1,d2 .9 (1-3), e0,e2 .5 (4,5), e1,e3 .3 (6,7), e4 .1 R (8) -> only e4 (q3 not in de)
#         AP = 1/8; rank distance 0
#     mAP = (23/36 + 5/12 + 1/8)/3 = 85/216; mean rank distance = 1
# multi de (relevant q1: d0,e0,e2; q2: d1,e1):
#     q1: d1 .8 (1), e0 .75 R (2), e2 .75 R (3); .7 tie: e1, e3 (4,5) before d0 R (6); d2 .6, e4 0
#         AP = (1/2 + 2/3 + 3/6)/3 = 5/9; rank distance 6-2 = 4
#     q2: e0,e2 .9 (1,2); .6 tie: d0 (3) before d1 R (4); .5 tie: e3 (5) before e1 R (6); e4, d2
#         AP = (1/4 + 2/6)/2 = 7/24; rank distance 6-4 = 2
#     mAP = (5/9 + 7/24)/2 = 61/144; mean rank distance = 3
#
# macro: mono = (77/180 + 1/2)/2 = 167/360; cross = (3/4 + 5/8)/2 = 11/16
#        multi = (85/216 + 61/144)/2 = 353/864; rank distance = (1 + 3)/2 = 2

F = Fraction


def _f(x):
    return float(x)


EXPECTED_AP = {
    ("mono", "en", "en"): {"q1": F(7, 12), "q2": F(1, 2), "q3": F(1, 5)},
    ("mono", "de", "de"): {"q1": F(1, 2), "q2": F(1, 2)},
    ("cross", "en", "de"): {"q1": F(1), "q2": F(1, 2)},
    ("cross", "de", "en"): {"q1": F(1), "q2": F(1, 4)},
    ("multi", "en", "all"): {"q1": F(23, 36), "q2": F(5, 12), "q3": F(1, 8)},
    ("multi", "de", "all"): {"q1": F(5, 9), "q2": F(7, 24)},
}


def _check_hand_values(result):
    assert set(result["settings"]) == set(EXPECTED_AP)
    for key, expected in EXPECTED_AP.items():
        setting = result["settings"][key]
        assert setting["n_queries"] == len(expected), key
        assert set(setting["ap"]) == set(expected), key
        for qid, ap in expected.items():
            assert setting["ap"][qid] == pytest.approx(_f(ap), abs=1e-12), (key, qid)
        assert setting["map"] == pytest.approx(_f(sum(expected.values()) / len(expected)), abs=1e-12), key
    assert result["settings"][("mono", "en", "en")]["map"] == pytest.approx(77 / 180)
    assert result["settings"][("multi", "en", "all")]["rank_distance"] == pytest.approx(1.0)
    assert result["settings"][("multi", "de", "all")]["rank_distance"] == pytest.approx(3.0)
    assert "rank_distance" not in result["settings"][("mono", "en", "en")]
    assert result["mono"] == pytest.approx(167 / 360)
    assert result["cross"] == pytest.approx(11 / 16)
    assert result["multi"] == pytest.approx(353 / 864)
    assert result["rank_distance"] == pytest.approx(2.0)
    # "Dogs bark." in two paragraphs stays two candidates; the two "Cats purr." in one paragraph too.
    assert result["n_candidates"] == {"en": 5, "de": 3}
    assert result["n_queries"] == {"en": 3, "de": 2}


def test_hand_computed_values(tmp_path):
    files = _write(tmp_path, ["en", "de"])
    q_calls, p_calls = [], []
    result = reference_scores(files, _lookup(QUERY_VECTORS, q_calls), _lookup(PASSAGE_VECTORS, p_calls))
    _check_hand_values(result)
    assert result["candidate_text"] == "sentence"
    # each distinct text embedded exactly once
    assert sorted(t for call in p_calls for t in call) == sorted(PASSAGE_VECTORS)
    assert sorted(t for call in q_calls for t in call) == sorted(QUERY_VECTORS)


def test_sentence_plus_context(tmp_path):
    """Candidate text = sentence + ' ' + paragraph; relevance still decided on the sentence text."""
    files = _write(tmp_path, ["en", "de"])
    seen = []
    by_sentence = {}
    for lang in ("en", "de"):
        for p in FIXTURE[lang]:
            for s in p["sentences"]:
                by_sentence[s + " " + p["context"]] = PASSAGE_VECTORS[s]

    def embed_passages(texts):
        seen.extend(texts)
        return np.array([by_sentence[t] for t in texts], dtype=np.float32)

    result = reference_scores(files, _lookup(QUERY_VECTORS), embed_passages, candidate_text="sentence+context")
    # Same vectors per sentence -> exactly the hand values above.
    _check_hand_values(result)
    assert result["candidate_text"] == "sentence+context"
    assert "Cats purr. Cats purr. Dogs bark. Cats purr." in seen
    assert "Dogs bark. Dogs bark. Birds sing." in seen  # the P2 copy of "Dogs bark."
    assert "Dogs bark. Cats purr. Dogs bark. Cats purr." in seen
    assert len(seen) == len(set(seen)) == 7  # 8 candidates, e0/e2 share one text


def test_bad_candidate_text(tmp_path):
    files = _write(tmp_path, ["en"])
    with pytest.raises(ValueError):
        reference_scores(files, _lookup(QUERY_VECTORS), _lookup(PASSAGE_VECTORS), candidate_text="context")


def test_three_languages_structure(tmp_path):
    """Settings exist only where queries exist; ids missing from a language drop out of cross pairs."""
    files = _write(tmp_path, ["en", "de", "fr"])
    rng = np.random.default_rng(1)

    def embed(texts):
        return rng.standard_normal((len(texts), 8))

    result = reference_scores(files, embed, embed)
    n = {k: s["n_queries"] for k, s in result["settings"].items()}
    assert n == {
        ("mono", "en", "en"): 3, ("mono", "de", "de"): 2, ("mono", "fr", "fr"): 2,
        ("cross", "en", "de"): 2, ("cross", "en", "fr"): 2,   # q3 not in de, q2 not in fr
        ("cross", "de", "en"): 2, ("cross", "de", "fr"): 1,   # only q1
        ("cross", "fr", "en"): 2, ("cross", "fr", "de"): 1,   # only q1
        ("multi", "en", "all"): 3, ("multi", "de", "all"): 2, ("multi", "fr", "all"): 2,
    }
    assert set(result["settings"][("cross", "de", "fr")]["ap"]) == {"q1"}
    assert set(result["settings"][("cross", "fr", "de")]["ap"]) == {"q1"}
    assert result["n_candidates"] == {"en": 5, "de": 3, "fr": 3}
    assert result["n_queries"] == {"en": 3, "de": 2, "fr": 2}
    for setting in result["settings"].values():
        assert all(0.0 < ap <= 1.0 for ap in setting["ap"].values())


def _pessimistic_ap(pool, k):
    """AP when all scores tie: the k relevant are ranked last, at n-k+1..n."""
    return sum(F(j, pool - k + j) for j in range(1, k + 1)) / k


def test_constant_encoder_is_at_the_bottom(tmp_path):
    files = _write(tmp_path, ["en", "de", "fr"])

    def const(texts):
        return np.full((len(texts), 4), 0.5, dtype=np.float32)

    result = reference_scores(files, const, const)
    s = result["settings"]
    # en mono: pool 5; q1 has 2 relevant at ranks 4,5 -> (1/4 + 2/5)/2; q2, q3 one relevant at rank 5.
    assert s[("mono", "en", "en")]["ap"]["q1"] == pytest.approx(_f(F(1, 2) * (F(1, 4) + F(2, 5))))
    assert s[("mono", "en", "en")]["ap"]["q2"] == pytest.approx(1 / 5)
    assert s[("mono", "en", "en")]["ap"]["q3"] == pytest.approx(1 / 5)
    # multi: pool 11; q1 relevant e0, e2, d0, f0 (4) -> ranks 8..11; rank distance 3
    assert s[("multi", "en", "all")]["ap"]["q1"] == pytest.approx(_f(_pessimistic_ap(11, 4)))
    assert s[("multi", "de", "all")]["ap"]["q2"] == pytest.approx(_f(_pessimistic_ap(11, 2)))  # e1, d1
    assert s[("multi", "fr", "all")]["ap"]["q3"] == pytest.approx(_f(_pessimistic_ap(11, 2)))  # e4, f2
    for setting in s.values():
        assert all(ap < 1.0 for ap in setting["ap"].values())
        assert setting["map"] < 0.5
    for key in [("multi", "en", "all"), ("multi", "de", "all"), ("multi", "fr", "all")]:
        assert s[key]["rank_distance"] > 0
    assert result["mono"] < 0.5 and result["cross"] < 0.7 and result["multi"] < 0.4


def test_ranks_match_brute_force_definition():
    """lexsort ranks == rank by counting: 1 + #higher + #non-relevant tied + #relevant tied earlier."""
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 4, size=(50, 30)).astype(np.float64)  # many ties
    relevant = rng.random((50, 30)) < 0.2
    relevant[:, 0] = True
    got = relevant_ranks(scores, relevant)
    for row in range(scores.shape[0]):
        s, r = scores[row], relevant[row]
        expected = []
        rel_idx = np.flatnonzero(r)
        for pos, j in enumerate(rel_idx):
            higher = np.sum(s > s[j])
            tied_nonrel = np.sum((s == s[j]) & ~r)
            tied_rel_before = np.sum(s[rel_idx[:pos]] == s[j])
            expected.append(1 + higher + tied_nonrel + tied_rel_before)
        # relevant tied among themselves may come in any order; compare the sets of ranks
        assert sorted(got[row].tolist()) == sorted(expected)
    assert average_precision(np.array([1, 2, 3])) == 1.0
    assert average_precision(np.array([2, 3])) == pytest.approx(7 / 12)


# --------------------------------------------------------------------------------------------------
# Real data (skipped when absent)
# --------------------------------------------------------------------------------------------------


def _lareqa_dir():
    candidates = []
    env = os.environ.get("XBENCH_DATA")
    if env:
        candidates += [Path(env) / "lareqa", Path(env)]  # the data folder, or lareqa itself
    candidates.append(Path(__file__).resolve().parents[3] / "shared/data/lareqa")
    for c in candidates:
        if (c / "xquad-r").is_dir() and (c / "mlqa-r").is_dir():
            return c
    return None


LAREQA = _lareqa_dir()


def _files(task):
    return {p.stem: str(p) for p in sorted((LAREQA / task).glob("*.json"))}

# The real-data counts are checked in tests/test_real_data.py, against this reference's output.
