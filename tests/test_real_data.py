"""The engine on the real XQuAD-R and MLQA-R files against an independent implementation of
PROTOCOL.md (tests/reference), for an encoder given as module:attr. Skipped without the data."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.results.io import read_per_query
from tests.encoders_for_tests import ngram_counts
from tests.paths import SHARED_LAREQA
from tests.reference.protocol_reference import reference_scores

pytestmark = pytest.mark.skipif(SHARED_LAREQA is None, reason="../shared/data/lareqa not present")

EXPECTED = {
    "xquad-r": {"langs": 11, "candidates": 13014, "mono": 11, "cross": 110, "multi": 11},
    "mlqa-r": {"langs": 7, "candidates": 20534, "mono": 7, "cross": 42, "multi": 7},
}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def both(request, tmp_path_factory):
    task = request.param
    tmp = tmp_path_factory.mktemp(task)
    result = CliRunner().invoke(
        main,
        ["run", "--model", "tests.encoders_for_tests:ngram_counts", "--task", task, "--cache-dir", str(tmp / "cache"),
         "--output", str(tmp / "out"), "--quiet"],
        env={"XBENCH_DATA": str(SHARED_LAREQA)},
    )
    assert result.exit_code == 0, result.output
    engine = json.loads((tmp / "out" / f"{task}.json").read_text())
    files = {p.stem: str(p) for p in sorted((SHARED_LAREQA / task).glob("*.json"))}
    reference = reference_scores(files, ngram_counts.encode, ngram_counts.encode)
    return task, engine, read_per_query(tmp / "out" / f"{task}.json", engine), reference


def test_counts(both):
    task, engine, _, reference = both
    expected = EXPECTED[task]
    kinds = [s["kind"] for s in engine["settings"]]
    assert (kinds.count("mono"), kinds.count("cross"), kinds.count("multi")) == (expected["mono"], expected["cross"], expected["multi"])
    assert engine["counts"]["candidates"] == reference["n_candidates"]
    assert engine["counts"]["queries"] == reference["n_queries"]
    assert sum(engine["counts"]["candidates"].values()) == expected["candidates"]
    assert len(engine["languages"]) == expected["langs"] and engine["complete"] and engine["data"]["official"]
    if task == "xquad-r":
        assert all(s["n_queries"] == 1190 for s in engine["settings"])
    else:
        assert min(reference["n_queries"].values()) == 500 and max(reference["n_queries"].values()) == 1148
    assert engine["model"]["kind"] == "callable" and engine["model"]["name"] == "tests.encoders_for_tests:ngram_counts"


def test_every_setting_matches_the_reference(both):
    _, engine, per_query, reference = both
    assert len(engine["settings"]) == len(reference["settings"])
    for s in engine["settings"]:
        ref = reference["settings"][(s["kind"], s["query_lang"], s["corpus_lang"])]
        assert s["n_queries"] == ref["n_queries"]
        assert s["map"] == pytest.approx(ref["map"], abs=1e-6)
        if s["kind"] == "multi":
            assert s["rank_distance"] == pytest.approx(ref["rank_distance"], abs=1e-6)
        rows = per_query[(per_query.kind == s["kind"]) & (per_query.query_lang == s["query_lang"]) & (per_query.corpus_lang == s["corpus_lang"])]
        ours = dict(zip(rows.query_id, rows.ap))
        assert ours.keys() == ref["ap"].keys()
        worst = max(abs(ours[q] - ref["ap"][q]) for q in ours)
        assert worst <= 1e-6, (s, worst)


def test_headline_scores_match_the_reference(both):
    _, engine, _, reference = both
    for key in ("mono", "cross", "multi", "rank_distance"):
        assert engine["scores"][key] == pytest.approx(reference[key], abs=1e-6)
