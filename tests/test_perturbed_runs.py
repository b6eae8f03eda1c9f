"""`xbench run --perturb`: a perturbed run is a normal result under its own key, its candidates come
from the embedding cache, and it is the same bytes every time.

The perturbation functions themselves are tested in test_perturb*.py; here a test-only one
(upper-casing, registered for the test) keeps the run plumbing independent of them.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import benchmark.perturb as perturb
from benchmark.cli import main
from benchmark.results import TaskResult


class Upper(perturb.Perturbation):
    name, version, description = "upper", 3, "upper-case every query"

    def apply(self, texts, ids, lang, level):
        return [t.upper() for t in texts]


class Shout(perturb.Perturbation):
    name, version, description, default_level = "shout", 1, "append '!' level*10 times to every other query", 0.1

    def apply(self, texts, ids, lang, level):
        return [t + "!" * round(level * 10) if i % 2 else t for i, t in enumerate(texts)]


@pytest.fixture(autouse=True)
def test_perturbations(monkeypatch):
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"upper": Upper(), "shout": Shout()})
    monkeypatch.setitem(perturb.SUITES, "tiny", ("upper", "shout@0.2"))


def xbench(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture()
def run_args(tmp_path, synthetic):
    def args(out: str, *extra: str) -> list[str]:
        return ["run", "--model", "ngram-hash", "--task", str(synthetic.task), "--data-dir", str(synthetic.root),
                "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / out), "-q", *extra]
    return args


def reproducible(path) -> dict:
    """The document without what says when and how fast it ran: the wall-clock timings, and the
    cache counters (a second run finds in the cache what the first encoded)."""
    doc = json.loads(path.read_text())
    return {k: v for k, v in doc.items() if k not in ("timings", "encoding")}


def test_perturbed_run_writes_its_own_result_beside_the_clean_one(tmp_path, run_args, synthetic):
    result = xbench(*run_args("out", "--perturb", "upper", "--perturb", "shout@0.3"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["synth.json", "synth.per_query.csv.gz", "synth~shout@0.3.json", "synth~shout@0.3.per_query.csv.gz",
                     "synth~upper.json", "synth~upper.per_query.csv.gz"]
    clean = TaskResult.from_dir(tmp_path / "out", "synth")
    upper = TaskResult.from_dir(tmp_path / "out", "synth~upper")
    shout = TaskResult.from_dir(tmp_path / "out", "synth~shout@0.3")
    assert clean.perturbation is None and clean.key == "synth"
    assert upper.key == "synth~upper" and upper.task == "synth"
    counts = {lang: len(part.query_ids) for lang, part in synthetic.data.parts.items()} if hasattr(synthetic, "data") else None
    record = upper.perturbation
    assert (record["name"], record["version"], record["level"], record["key"]) == ("upper", 3, None, "upper")
    assert set(record["queries"]) == {"en", "de", "fr"} and all(n > 0 for n in record["queries"].values())
    assert counts is None or record["queries"] == counts
    assert 0 < record["changed"]["en"] <= record["queries"]["en"]
    half = shout.perturbation
    assert half["level"] == 0.3 and half["key"] == "shout@0.3"
    assert all(half["changed"][lang] == half["queries"][lang] // 2 for lang in half["queries"])
    # the same settings, scored on other queries; the command reproduces the perturbed result
    assert [s.setting for s in upper.settings] == [s.setting for s in clean.settings]
    assert upper.command.endswith("--perturb upper") and "--perturb" not in (clean.command or "")


def test_perturbed_run_encodes_only_its_queries(tmp_path, run_args):
    assert xbench(*run_args("out", "--perturb", "upper")).exit_code == 0
    clean = TaskResult.from_dir(tmp_path / "out", "synth").encoding
    upper = TaskResult.from_dir(tmp_path / "out", "synth~upper").encoding
    assert clean["encoded_candidates"] == clean["unique_candidate_texts"] > 0
    assert upper["encoded_candidates"] == 0  # every candidate from the cache
    assert 0 < upper["encoded_queries"] <= upper["unique_query_texts"]
    assert upper["encoded"] == upper["encoded_queries"]


def test_same_perturbation_twice_is_the_same_bytes(tmp_path, run_args):
    for out in ("a", "b"):
        assert xbench(*run_args(out, "--suite", "tiny")).exit_code == 0
    for key in ("synth", "synth~upper", "synth~shout@0.2"):
        a, b = tmp_path / "a", tmp_path / "b"
        assert (a / f"{key}.per_query.csv.gz").read_bytes() == (b / f"{key}.per_query.csv.gz").read_bytes()
        assert reproducible(a / f"{key}.json") == reproducible(b / f"{key}.json")
    # and the clean result of a perturbed run is the plain run's
    assert xbench(*run_args("plain")).exit_code == 0
    assert (tmp_path / "plain" / "synth.per_query.csv.gz").read_bytes() == (tmp_path / "a" / "synth.per_query.csv.gz").read_bytes()


@pytest.mark.parametrize("args, message", [
    (("--perturb", "nope"), "--perturb: unknown perturbation 'nope'; available: upper, shout"),
    (("--perturb", "upper@0.1"), "--perturb: perturbation upper takes no level"),
    (("--perturb", "shout@x"), "--perturb: 'shout@x': the level must be a number"),
    (("--perturb", "shout@1.5"), "--perturb: 'shout@1.5': the level of shout must be in [0.0, 1.0]"),
    (("--perturb", "shout@nan"), "must be in [0.0, 1.0]"),
    (("--suite", "nope"), "--suite: unknown suite 'nope'; available: robustness, tiny"),
])
def test_bad_perturbations_are_usage_errors_before_anything_runs(tmp_path, run_args, args, message):
    result = xbench(*run_args("out", *args))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


class Neighbour(perturb.Perturbation):
    """Appends the text of the next query id (in sorted order) of the same part: like the
    distractor, a function of the whole part, not of the query alone."""

    name, version, description = "neighbour", 1, "append the next question"

    def apply(self, texts, ids, lang, level):
        order = sorted(ids)
        text_of = dict(zip(ids, texts))
        return [f"{t} {text_of[order[(order.index(q) + 1) % len(order)]]}" for t, q in zip(texts, ids)]


def test_a_sampled_run_perturbs_the_whole_part_first(synthetic, tmp_path, monkeypatch):
    """A query's noisy text must not depend on which other queries were sampled: the part is
    perturbed whole, then sampled, so each sampled query's AP is the full run's."""
    from benchmark.encoders import EncoderOptions
    from benchmark.engine.runner import RunConfig, evaluate_variants
    from benchmark.engine.taskdef import load_definition_file
    from benchmark.perturb import PerturbationSpec
    from benchmark.retrievers import load_model

    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {**perturb.PERTURBATIONS._builtins, "neighbour": Neighbour()})
    definition, model = load_definition_file(synthetic.task), load_model("ngram-hash")
    spec = PerturbationSpec("neighbour", None)
    base = RunConfig(data_dir=synthetic.root, cache_dir=tmp_path / "cache", perturbations=(spec,))
    _, whole = evaluate_variants(definition, model, EncoderOptions(), base)
    _, part = evaluate_variants(definition, model, EncoderOptions(), RunConfig(**{**base.__dict__, "sample": 2, "seed": 1}))
    keys = ["kind", "query_lang", "corpus_lang", "query_id"]
    merged = part.per_query.merge(whole.per_query, on=keys, suffixes=("_sample", "_full"))
    assert len(merged) == len(part.per_query) > 0
    assert (merged.ap_sample == merged.ap_full).all()
    assert sum(part.perturbation["queries"].values()) == (part.per_query.kind == "multi").sum()  # the sampled queries
