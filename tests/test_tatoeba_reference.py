"""Issue 10 "Exact numbers": ``xbench run`` on synthetic bitext in Tatoeba's shape against the
independent reference of PROTOCOL.md's Tatoeba section (tests/reference/tatoeba_reference.py).

The encoder is integer hashed trigram counts with dot similarity, so every score is an exact integer
and ties are real: the engine and the reference must agree on every setting, every query and every
aggregate to 1e-9. A second task with another prefix and pivot shows that the format is generic.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests.encoders_for_tests import ngram_counts
from tests.fixtures.bitext_synthetic import make_pair, write_bitext_task
from tests.paths import SHARED_DATA, SHARED_TATOEBA
from tests.reference.tatoeba_reference import METRICS, read_lines, reference_bitext

MODEL = "tests.encoders_for_tests:ngram_counts"
TOL = 1e-9

# name -> (layout, pivot, {lang: (lines, case variants)}, groups)
TASKS = {
    "syntatoeba": (
        "v1/tatoeba.{lang}-{pivot}.{side}",
        "eng",
        {"fra": (30, 4), "rus": (12, 2), "ell": (9, 1), "cmn": (6, 0), "ara": (4, 0)},
        {"big": ["fra", "rus", "cmn"], "tail": ["ell", "ara"]},
    ),
    "mytest": (
        "corpus/mytest.{lang}-{pivot}.{side}",
        "deu",
        {"tur": (14, 2), "kor": (7, 0), "fra": (20, 3)},
        {"latin": ["tur", "fra"], "hangul": ["kor"]},
    ),
}


def _run(task: Path, data: Path, out: Path, *extra: str) -> dict:
    result = CliRunner().invoke(
        main,
        ["run", "--task", str(task), "--model", MODEL, "--data-dir", str(data), "--cache-dir", str(out.parent / "cache"),
         "--output", str(out), "--quiet", *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / f"{task.stem}.json").read_text())


@pytest.fixture(scope="module", params=sorted(TASKS))
def built(request, tmp_path_factory):
    """(name, toml, data root, layout, pivot, languages, groups) of one synthetic task."""
    name = request.param
    layout, pivot, sizes, groups = TASKS[name]
    base = tmp_path_factory.mktemp(name)
    pairs = {lang: make_pair(lang, pivot, n, seed=len(lang) * 7 + n, case_variants=k) for lang, (n, k) in sizes.items()}
    toml = write_bitext_task(base / "tasks" / f"{name}.toml", name, base / "data", layout, pivot, pairs, groups)
    return name, toml, base / "data", layout, pivot, list(sizes), groups


@pytest.fixture(scope="module")
def both(built, tmp_path_factory):
    name, toml, data, layout, pivot, langs, groups = built
    out = tmp_path_factory.mktemp(f"{name}-run") / "out"
    doc = _run(toml, data, out)
    per_query = pd.read_csv(out / f"{name}.per_query.csv.gz", dtype={"query_id": str, "kind": str, "query_lang": str, "corpus_lang": str},
                            keep_default_na=False)
    reference = reference_bitext(data, layout, langs, pivot, groups, ngram_counts.encode)
    return doc, per_query, reference, pivot, groups


def test_the_data_exercises_ties_and_scripts(both):
    """Guard against a vacuous comparison: varied values, and queries decided by a tie."""
    _, _, ref, pivot, _ = both
    queries = [(key, q) for key, s in ref["settings"].items() for q in s["per_query"].values()]
    decided_by_tie = [(key, q) for key, q in queries if q["tied"] > 0 and q["rank"] == 1 + q["tied"]]
    assert len(decided_by_tie) >= 5
    assert {key[0] == pivot for key, _ in decided_by_tie} == {True, False}  # both directions
    assert len({s["map"] for s in ref["settings"].values()}) >= 4
    assert any(0 < s["accuracy"] < 1 for s in ref["settings"].values())


def test_every_setting_matches_the_reference(both):
    doc, _, ref, pivot, _ = both
    got = [(s["query_lang"], s["corpus_lang"]) for s in doc["settings"]]
    assert got == ref["order"]  # X->pivot then pivot->X, per language in the task's order
    for s in doc["settings"]:
        r = ref["settings"][(s["query_lang"], s["corpus_lang"])]
        assert s["kind"] == "cross" and s["n_queries"] == r["n_queries"], s
        for metric in METRICS:
            assert s[metric] == pytest.approx(r[metric], abs=TOL), (s["query_lang"], s["corpus_lang"], metric, s[metric], r[metric])


def test_every_query_matches_the_reference(both):
    doc, per_query, ref, _, _ = both
    assert {"kind", "query_lang", "corpus_lang", "query_id", "ap", "accuracy", "mrr@10"} <= set(per_query.columns)
    assert len(per_query) == sum(s["n_queries"] for s in ref["settings"].values())
    for (q, c), r in ref["settings"].items():
        rows = per_query[(per_query.kind == "cross") & (per_query.query_lang == q) & (per_query.corpus_lang == c)]
        ours = rows.set_index("query_id")
        assert ours.index.is_unique and set(ours.index) == set(r["per_query"]), (q, c)
        for qid, values in r["per_query"].items():
            for column, metric in (("ap", "map"), ("accuracy", "accuracy"), ("mrr@10", "mrr@10")):
                got = ours.at[qid, column]
                assert got == pytest.approx(float(values[metric]), abs=TOL), (q, c, qid, column, got, float(values[metric]))


def test_every_aggregate_matches_the_reference(both):
    doc, _, ref, pivot, groups = both
    scopes = ["all", f"xx->{pivot}", f"{pivot}->xx", *groups]
    assert list(doc["aggregates"]) == scopes == list(ref["aggregates"])
    for scope in scopes:
        for metric in METRICS:
            ours, theirs = doc["aggregates"][scope][metric], ref["aggregates"][scope][metric]
            assert ours == pytest.approx(theirs, abs=TOL), (scope, metric, ours, theirs)
    assert doc["scores"]["cross"] == pytest.approx(ref["aggregates"]["all"]["map"], abs=TOL)


def test_the_result_records_the_task(both):
    doc, _, ref, pivot, groups = both
    definition = doc["task_definition"]
    assert (definition["pairing"], definition["pivot"], definition["symmetric"]) == ("pivot", pivot, True)
    assert definition["groups"] == groups
    assert doc["roles"]["queries"]["role"] == doc["roles"]["candidates"]["role"] == "query"
    assert doc["counts"]["queries"] == doc["counts"]["candidates"] == ref["lines"]


def test_a_language_subset_leaves_an_absent_group_null(tmp_path):
    """--langs keeps the settings of the chosen languages; a group with none of them is null."""
    layout, pivot, sizes, groups = TASKS["syntatoeba"]
    pairs = {lang: make_pair(lang, pivot, n, seed=len(lang) * 7 + n, case_variants=k) for lang, (n, k) in sizes.items()}
    toml = write_bitext_task(tmp_path / "tasks" / "syntatoeba.toml", "syntatoeba", tmp_path / "data", layout, pivot, pairs, groups)
    doc = _run(toml, tmp_path / "data", tmp_path / "out", "--langs", "fra,cmn")
    ref = reference_bitext(tmp_path / "data", layout, ["fra", "cmn"], pivot, groups, ngram_counts.encode)
    assert [(s["query_lang"], s["corpus_lang"]) for s in doc["settings"]] == ref["order"]
    assert doc["aggregates"]["tail"] == {metric: None for metric in doc["aggregates"]["tail"]}
    for scope in ("all", "xx->eng", "eng->xx", "big"):
        for metric in METRICS:
            assert doc["aggregates"][scope][metric] == pytest.approx(ref["aggregates"][scope][metric], abs=TOL), (scope, metric)


def test_a_single_cutoff_metric(tmp_path):
    """The metrics of the brief, accuracy, map and mrr@10 alone, agree with the reference too."""
    layout, pivot, sizes, groups = TASKS["syntatoeba"]
    pairs = {lang: make_pair(lang, pivot, n, seed=len(lang) * 7 + n, case_variants=k) for lang, (n, k) in sizes.items()}
    toml = write_bitext_task(tmp_path / "tasks" / "syntatoeba.toml", "syntatoeba", tmp_path / "data", layout, pivot, pairs,
                             groups, metrics=("accuracy", "map", "mrr@10"))
    doc = _run(toml, tmp_path / "data", tmp_path / "out")
    ref = reference_bitext(tmp_path / "data", layout, list(sizes), pivot, groups, ngram_counts.encode)
    for scope, values in ref["aggregates"].items():
        for metric in METRICS:
            assert doc["aggregates"][scope][metric] == pytest.approx(values[metric], abs=TOL), (scope, metric)


# PROTOCOL.md "Tatoeba": the 36 languages of XTREME's Tatoeba task; under1000 is counted from the files.
XTREME36 = ("afr ara ben bul cmn deu ell est eus fin fra heb hin hun ind ita jav jpn kat kaz kor mal mar nld pes por "
            "rus spa swh tam tel tgl tha tur urd vie").split()


@pytest.mark.skipif(SHARED_TATOEBA is None, reason="../shared/data/tatoeba not present")
def test_real_tatoeba_on_four_small_pairs(tmp_path):
    """The shipped task on the real files (two Latin, Ethiopic, Telugu; 104 to 234 lines), and its groups."""
    v1 = SHARED_TATOEBA / "v1"
    everyone = sorted({p.name.split(".")[1].split("-")[0] for p in v1.glob("tatoeba.*-eng.eng")})
    groups = {"xtreme36": XTREME36, "under1000": [x for x in everyone if len(read_lines(v1 / f"tatoeba.{x}-eng.eng")) < 1000]}
    langs = ["tzl", "ang", "amh", "tel"]
    result = CliRunner().invoke(main, ["run", "--task", "tatoeba", "--langs", ",".join(langs), "--model", MODEL, "--cache-dir",
                                       str(tmp_path / "cache"), "--output", str(tmp_path / "out"), "--quiet"],
                                env={"XBENCH_DATA": SHARED_DATA}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "tatoeba.json").read_text())
    assert {name: sorted(members) for name, members in doc["task_definition"]["groups"].items()} == \
        {name: sorted(members) for name, members in groups.items()}
    assert len(everyone) == 112 and len(groups["under1000"]) == 40
    # settings follow the task's language order (alphabetical in tasks/tatoeba.toml), not --langs's
    ref = reference_bitext(SHARED_TATOEBA, "v1/tatoeba.{lang}-{pivot}.{side}", sorted(langs), "eng", groups, ngram_counts.encode)
    assert [(s["query_lang"], s["corpus_lang"]) for s in doc["settings"]] == ref["order"]
    for s in doc["settings"]:
        r = ref["settings"][(s["query_lang"], s["corpus_lang"])]
        assert s["n_queries"] == r["n_queries"]
        for metric in METRICS:
            assert s[metric] == pytest.approx(r[metric], abs=TOL), (s["query_lang"], s["corpus_lang"], metric)
    assert list(doc["aggregates"]) == list(ref["aggregates"])
    for scope, values in ref["aggregates"].items():
        for metric in METRICS:
            assert doc["aggregates"][scope][metric] == pytest.approx(values[metric], abs=TOL), (scope, metric)
