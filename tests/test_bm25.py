"""The BM25 baseline: tokenisation, scores equal to bm25s's own, and the same result files."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.retrievers.bm25 import BM25Scorer, tokenize
from benchmark.results.io import read_document
from benchmark.engine.settings import ALL, TaskIndex
from benchmark.engine.textsource import TextSource
from tests.paths import SHARED_LAREQA

bm25s = pytest.importorskip("bm25s")


def test_tokenize_words_and_bigrams():
    assert tokenize("Café naïve, CAFÉ!", "fr") == ["café", "naïve", "café"]
    assert tokenize("Что такое BM25?", "ru") == ["что", "такое", "bm25"]
    assert tokenize("北京大学", "zh") == ["北京", "京大", "大学"]
    assert tokenize("ภาษาไทย", "th") == ["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"]
    assert tokenize("हिन्दी भाषा", "hi") == ["हिन्दी", "भाषा"]  # combining marks stay inside words
    assert tokenize("中 文", "zh") == ["中", "文"]


def _index(texts_by_lang, queries_by_lang):
    langs = tuple(texts_by_lang)
    candidate_texts, offsets, counts = [], {}, {}
    for lang in langs:
        offsets[lang], counts[lang] = len(candidate_texts), len(texts_by_lang[lang])
        candidate_texts += texts_by_lang[lang]
    query_texts, query_langs = [], []
    for i, lang in enumerate(langs):
        query_texts += queries_by_lang[lang]
        query_langs += [i] * len(queries_by_lang[lang])
    return TaskIndex(langs, [f"q{i}" for i in range(len(query_texts))], query_texts, np.asarray(query_langs),
                     TextSource.from_texts(candidate_texts), offsets, counts)


def test_pool_scores_equal_bm25s_get_scores():
    docs = {"en": ["the cat sat on the mat", "a dog barked", "cats and dogs", "the the the"],
            "de": ["die katze", "der hund bellt", "katzen und hunde"]}
    queries = {"en": ["cat on mat", "dog"], "de": ["hund"]}
    index = _index(docs, queries)
    scorer = BM25Scorer(index, k1=1.5, b=0.75)
    for pool_lang in ("en", "de", ALL):
        pool = index.pool_of(pool_lang)
        ours = scorer.scores(np.arange(len(index.query_texts)), pool)
        retriever = bm25s.BM25(k1=1.5, b=0.75)
        retriever.index([tokenize(t, lang) for lang in index.languages for t in docs[lang]][pool], show_progress=False)
        for row, (text, lang) in enumerate(zip(index.query_texts, index.query_langs)):
            tokens = [t for t in tokenize(text, index.languages[lang]) if t in retriever.vocab_dict]
            expected = retriever.get_scores(tokens) if tokens else np.zeros(pool.stop - pool.start)
            np.testing.assert_allclose(ours[row], expected, rtol=1e-6, atol=1e-7)
    # IDF is the pool's own: "hund" weighs differently in the German pool and in the pool of all
    assert scorer.scores(np.array([2]), index.pool_of("de"))[0, 1] != scorer.scores(np.array([2]), index.pool_of(ALL))[0, 4 + 1]


def test_scores_of_any_row_selection_are_the_blocks_bits():
    docs = {"en": ["the cat sat on the mat", "a dog barked", "cats and dogs", "the the the"],
            "de": ["die katze", "der hund bellt", "katzen und hunde"]}
    queries = {"en": ["cat on mat", "dog", "the cat the dog"], "de": ["hund", "katze und hund"]}
    index = _index(docs, queries)
    scorer = BM25Scorer(index, k1=1.5, b=0.75)
    for pool in (index.pool_of("en"), index.pool_of(ALL)):
        whole = np.concatenate([scorer.block(np.array([r]), pool)(pool) for r in range(5)])
        for rows in (np.array([4, 0, 2]), np.arange(5)[::-1], np.array([3, 3])):
            assert scorer.scores(rows, pool).tobytes() == whole[rows].tobytes()
        # a shard of the pool keeps its columns of the pool's scores; pairs read the same bits
        shard = slice(pool.start + 1, pool.stop - 1)
        assert scorer.block(np.arange(5), shard)(pool).tobytes() == np.ascontiguousarray(whole[:, 1:-1]).tobytes()
        rows, cols = np.array([0, 4, 4, 2]), np.array([pool.start, pool.stop - 1, pool.start + 1, pool.start])
        assert scorer.pair_scores(rows, cols, pool).tolist() == whole[rows, cols - pool.start].tolist()


def test_bm25_run_on_synthetic(tmp_path, synthetic):
    result = CliRunner().invoke(main, ["run", "--model", "bm25", "--task", str(synthetic.task), "--data-dir", str(synthetic.root),
                                       "--cache-dir", str(tmp_path / "c"), "--output", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    doc = read_document(tmp_path / "o" / "synth.json")
    assert doc["model"]["kind"] == "lexical" and doc["model"]["dimension"] > 0
    assert len(doc["settings"]) == 3 + 6 + 3 and doc["scores"]["mono"] > doc["scores"]["cross"]
    assert doc["encoding"]["encoded"] == 0  # nothing embedded, nothing cached


@pytest.mark.skipif(SHARED_LAREQA is None, reason="../shared/data/lareqa not present")
def test_bm25_on_xquad_r_is_a_lexical_method(tmp_path):
    result = CliRunner().invoke(main, ["run", "--model", "bm25", "--task", "xquad-r", "--output", str(tmp_path), "-q", "--json"],
                                env={"XBENCH_DATA": str(SHARED_LAREQA)})
    assert result.exit_code == 0, result.output
    doc = read_document(tmp_path / "xquad-r.json")
    assert doc["scores"]["mono"] > 0.6 and doc["scores"]["mono"] > 5 * doc["scores"]["cross"]
    assert all(s["map"] > 0.5 for s in doc["settings"] if s["kind"] == "mono")
