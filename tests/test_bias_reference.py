"""An independent computation of PROTOCOL.md "Language bias beyond rank distance" against xbench,
on the real XQuAD-R and MLQA-R files (skipped without them).

Written from the protocol's text alone: the task files are read by the protocol reference's reader
(tests/reference), the full pool score matrix is an integer product of an integer encoder's vectors
(tests.encoders_for_tests:word_counts, 12 hashed word buckets, dot product: ties everywhere), and
each measure is a plain loop over queries with numpy and scipy:

- own share@10 / English share@10: the 10 best candidates by score, a tie broken by pool order (the
  task's language order, then file order) -- a stable sort of the negated scores;
- own-language first: 1 when the best own-language relevant score is strictly greater than the best
  other-language relevant score, 0 otherwise, undefined without both;
- mean rank correlation: scipy's Spearman (average ranks) between the full rankings of the same
  question in two languages, a constant ranking counting 0; per query the mean over the other
  languages holding the question, undefined when none does;
- per query language the mean over its queries (those where defined), the task value the macro mean
  over query languages.

xbench runs on three or four languages and a sample of question ids (with all their translations;
the pools stay whole), chosen so that MLQA-R's partial coverage leaves questions held by one of the
chosen languages only. Agreement: 1e-9 for the shares and own-language first, 1e-6 for the rank
correlation, per query, per query language and for the task.
"""

from __future__ import annotations

import tomllib
import warnings

import numpy as np
import pytest
from scipy.stats import spearmanr

from benchmark.encoders import EncoderOptions
from benchmark.engine.runner import RunConfig, evaluate_task
from benchmark.engine.taskregistry import get_task
from benchmark.retrievers import load_model
from tests.encoders_for_tests import word_counts
from tests.paths import REPO, SHARED_LAREQA
from tests.reference.protocol_reference import _load_language

pytestmark = pytest.mark.skipif(SHARED_LAREQA is None, reason="../shared/data/lareqa not present")

MODEL = "tests.encoders_for_tests:word_counts"
RUNS = {"xquad-r": (("ar", "de", "en", "zh"), 120), "mlqa-r": (("de", "en", "hi", "zh"), 160)}
MEASURES = ("own_share", "english_share", "own_first", "rank_correlation")


def reference(task: str, langs: tuple[str, ...], ids: set[str]) -> dict:
    """Per (language, question id) of the sampled questions, each measure; from the files alone."""
    order = [lang for lang in tomllib.loads((REPO / "tasks" / f"{task}.toml").read_text())["languages"] if lang in langs]
    files = {lang: _load_language(str(SHARED_LAREQA / task / f"{lang}.json"), "sentence") for lang in order}
    pool_texts, pool_langs, answers = [], [], {}
    for lang in order:  # the pool: languages in task order, each in file order
        offset = len(pool_texts)
        pool_texts += [c["text"] for c in files[lang]["candidates"]]
        pool_langs += [lang] * len(files[lang]["candidates"])
        for qid, query in files[lang]["queries"].items():
            answers.setdefault(qid, []).extend(offset + i for i in query["relevant"])
    pool_langs = np.array(pool_langs)
    rows = [(lang, qid) for lang in order for qid in files[lang]["queries"] if qid in ids]
    queries = word_counts.encode([files[lang]["queries"][qid]["question"] for lang, qid in rows]).astype(np.int64)
    scores = queries @ word_counts.encode(pool_texts).astype(np.int64).T  # exact integers
    out = {}
    for i, (lang, qid) in enumerate(rows):
        top = np.argsort(-scores[i], kind="stable")[:10]
        relevant = np.array(answers[qid])
        own, other = relevant[pool_langs[relevant] == lang], relevant[pool_langs[relevant] != lang]
        out[(lang, qid)] = {
            "own_share": float(np.mean(pool_langs[top] == lang)),
            "english_share": float(np.mean(pool_langs[top] == "en")),
            "own_first": float(scores[i, own].max() > scores[i, other].max()) if len(own) and len(other) else np.nan,
            "tie_at_10": bool(scores[i][top[-1]] == np.sort(scores[i])[::-1][10]),
            "own_tie": bool(len(own) and len(other) and scores[i, own].max() == scores[i, other].max()),
        }
    for lang, qid in rows:
        others = [j for j, (b, q) in enumerate(rows) if q == qid and b != lang]
        mine = rows.index((lang, qid))
        rhos = []
        for j in others:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a constant ranking: scipy warns and answers NaN
                rho = spearmanr(scores[mine], scores[j]).statistic
            rhos.append(0.0 if np.isnan(rho) else float(rho))
        out[(lang, qid)]["rank_correlation"] = float(np.mean(rhos)) if rhos else np.nan
    return out


@pytest.fixture(scope="module", params=sorted(RUNS))
def both(request, tmp_path_factory):
    task = request.param
    langs, sample = RUNS[task]
    options = EncoderOptions()
    config = RunConfig(langs=langs, data_dir=SHARED_LAREQA, cache_dir=tmp_path_factory.mktemp(task), sample=sample, seed=3)
    result = evaluate_task(get_task(task), load_model(MODEL, options), options, config)
    multi = result.per_query[result.per_query.kind == "multi"]
    return task, result, multi, reference(task, langs, set(multi.query_id))


def test_the_sample_has_ties_and_questions_of_one_language(both):
    task, _, multi, ref = both
    assert sum(r["tie_at_10"] for r in ref.values()) >= 20  # the 10th place's score is also the 11th's
    assert sum(r["own_tie"] for r in ref.values()) >= 5  # an own-language answer tied with another language's
    alone = [key for key, r in ref.items() if np.isnan(r["rank_correlation"])]
    assert (len(alone) > 10) == (task == "mlqa-r")  # MLQA-R: questions held by one of the chosen languages
    assert all(np.isnan(ref[key]["own_first"]) for key in alone)
    assert len(multi) == len(ref)


def test_every_query_agrees(both):
    _, _, multi, ref = both
    for row in multi.itertuples(index=False):
        expected = ref[(row.query_lang, row.query_id)]
        for name in MEASURES:
            ours, theirs = getattr(row, name), expected[name]
            assert np.isnan(ours) == np.isnan(theirs), (row.query_lang, row.query_id, name)
            if not np.isnan(theirs):
                assert abs(ours - theirs) <= (1e-6 if name == "rank_correlation" else 1e-9), (row.query_lang, row.query_id, name, ours, theirs)


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else None


def test_per_language_and_task_values_agree(both):
    _, result, _, ref = both
    langs = sorted({lang for lang, _ in ref})
    for name in MEASURES:
        tolerance = 1e-6 if name == "rank_correlation" else 1e-9
        per_language = {lang: _mean([r[name] for (q, _), r in ref.items() if q == lang]) for lang in langs}
        for s in result.settings:
            if s.setting.kind == "multi":
                assert s.values[name] == pytest.approx(per_language[s.setting.query_lang], abs=tolerance), (name, s.setting.label)
        task_value = _mean([v for v in per_language.values() if v is not None])
        assert result.score(name) == pytest.approx(task_value, abs=tolerance), name
