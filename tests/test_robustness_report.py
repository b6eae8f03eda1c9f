"""`xbench robustness`: each perturbed result against its clean result, with hand-computed drops,
relative drops and Holm-adjusted p-values; refusals of results that are not one run; and an
end-to-end run on the synthetic task with test-only perturbations."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from scipy.stats import ttest_rel

import benchmark.perturb as perturb
from benchmark.cli import main
from benchmark.results import TaskResult
from benchmark.results.io import write_document
from tests.fixtures.tiny_result import tiny_result

UPPER = {"name": "upper", "version": 1, "changed": {"en": 3, "de": 0}}  # only the English queries changed
CLEAN = {("mono", "en", "en"): [1.0, 0.5, 0.5], ("mono", "de", "de"): [1.0, 1.0, 1.0], ("cross", "en", "de"): [0.5, 0.5, 0.5],
         ("cross", "de", "en"): [0.25, 0.25, 0.25], ("multi", "en", "all"): [0.8, 0.6, 0.4], ("multi", "de", "all"): [0.5, 0.5, 0.5]}
# the English queries lose; the German ones, unchanged, keep every AP
PERTURBED = {**CLEAN, ("mono", "en", "en"): [0.5, 0.25, 0.25], ("cross", "en", "de"): [0.25, 0.5, 0.25], ("multi", "en", "all"): [0.4, 0.3, 0.2]}


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_pair(folder, edit=None):
    """A clean tiny result and its 'upper' run; ``edit`` changes the perturbed document."""
    folder.mkdir(parents=True, exist_ok=True)
    write_document(folder, *tiny_result(0, CLEAN))
    doc, frame = tiny_result(0, PERTURBED, UPPER)
    if edit:
        edit(doc)
    write_document(folder, doc, frame)
    return folder


def holm_by_hand(p: list[float]) -> list[float]:
    """Holm's step-down adjustment written out: the i-th smallest p times (m - i), never below the
    adjusted p before it, at most 1."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    adjusted, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def test_drops_relative_drops_and_holm_by_hand(tmp_path):
    folder = write_pair(tmp_path / "run")
    result = cli("robustness", folder, "--json", "-")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = {(r["scope"], r["query_lang"]): r for r in report["rows"]}
    assert list(rows) == [("mono", None), ("cross", None), ("multi", None), ("mono", "en"), ("mono", "de"), ("cross", "en"),
                          ("cross", "de"), ("multi", "en"), ("multi", "de")]
    expected = {  # (clean mAP, perturbed mAP): macro means over the row's settings
        ("mono", None): ((2 / 3 + 1) / 2, (1 / 3 + 1) / 2), ("cross", None): ((0.5 + 0.25) / 2, (1 / 3 + 0.25) / 2),
        ("multi", None): ((0.6 + 0.5) / 2, (0.3 + 0.5) / 2), ("mono", "en"): (2 / 3, 1 / 3), ("mono", "de"): (1.0, 1.0),
        ("cross", "en"): (0.5, 1 / 3), ("cross", "de"): (0.25, 0.25), ("multi", "en"): (0.6, 0.3), ("multi", "de"): (0.5, 0.5),
    }
    for key, (clean, perturbed) in expected.items():
        row = rows[key]
        assert row["clean_map"] == pytest.approx(clean) and row["perturbed_map"] == pytest.approx(perturbed)
        assert row["drop"] == pytest.approx(clean - perturbed)
        assert row["relative_drop"] == pytest.approx((clean - perturbed) / clean)
        assert row["n"] == (6 if key[1] is None else 3)
    assert rows["mono", "en"]["relative_drop"] == pytest.approx(0.5) and rows["mono", None]["relative_drop"] == pytest.approx(0.2)
    # raw p: a paired t-test on the pooled per-query AP (scipy's, independent of ranx's)
    pooled = lambda kind: [v for (k, q, c), aps in CLEAN.items() if k == kind for v in aps]  # noqa: E731
    pooled_b = lambda kind: [v for (k, q, c), aps in PERTURBED.items() if k == kind for v in aps]  # noqa: E731
    for kind in ("mono", "cross", "multi"):
        assert rows[kind, None]["p"] == pytest.approx(ttest_rel(pooled(kind), pooled_b(kind)).pvalue)
    assert rows["mono", "en"]["p"] == pytest.approx(ttest_rel(CLEAN["mono", "en", "en"], PERTURBED["mono", "en", "en"]).pvalue)
    assert all(rows[kind, "de"]["p"] == 1.0 for kind in ("mono", "cross", "multi"))  # unchanged queries: the same AP
    holm = holm_by_hand([r["p"] for r in report["rows"]])
    assert [r["p_holm"] for r in report["rows"]] == pytest.approx(holm)
    # the share of changed queries: of the row's query languages
    assert (rows["mono", None]["changed"], rows["mono", None]["queries"]) == (3, 6)
    assert rows["mono", "en"]["changed_share"] == 1.0 and rows["mono", "de"]["changed_share"] == 0.0
    assert report["pairs"][0]["perturbation"]["key"] == "upper" and report["correction"] == "holm"


def test_table_shows_unchanged_languages_and_the_file_is_written(tmp_path):
    folder = write_pair(tmp_path / "run")
    result = cli("robustness", folder, "--json", tmp_path / "out" / "report.json")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    mono_de = next(line for line in lines if "| mono " in line and "| de " in line)
    assert "unchanged" in mono_de and "+0.0000" in mono_de
    mono_en = next(line for line in lines if "| mono " in line and "| en " in line)
    assert "0.6667" in mono_en and "0.3333" in mono_en and "+0.3333" in mono_en and "+50.0%" in mono_en and "100.0%" in mono_en
    assert json.loads((tmp_path / "out" / "report.json").read_text())["rows"][0]["scope"] == "mono"
    quiet = cli("robustness", folder, "--json", tmp_path / "again.json", "-q")
    assert quiet.exit_code == 0 and quiet.output == ""


def _fingerprint(doc):
    doc["model"]["fingerprint"] = "ef" * 32


def _version(doc):
    doc["task_definition"]["version"] = "2.0"


def _data(doc):
    doc["data"]["checksums"]["tiny/de.json"] = "2" * 64


def _languages(doc):
    doc["languages"] = ["en", "de", "fr"]


def _sample(doc):
    doc["sample"] = {"queries": 2, "seed": 0}


@pytest.mark.parametrize("edit, reason", [
    (_fingerprint, "different models (model.fingerprint: "),
    (_version, "different tasks (tiny 1.0 vs tiny 2.0)"),
    (_data, "different data (checksum of tiny/de.json)"),
    (_languages, "different languages (en,de vs en,de,fr)"),
    (_sample, "different query samples (None vs {'queries': 2, 'seed': 0})"),
])
def test_results_of_another_run_are_refused_naming_both_files(tmp_path, edit, reason):
    folder = write_pair(tmp_path / "run", edit)
    result = cli("robustness", folder)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert f"cannot pair {folder / 'tiny~upper.json'} with {folder / 'tiny.json'}: {reason}" in result.output


def test_a_perturbed_result_without_its_clean_one_is_refused(tmp_path):
    folder = write_pair(tmp_path / "run")
    (folder / "tiny.json").unlink()
    result = cli("robustness", folder)
    assert result.exit_code == 2 and f"{folder / 'tiny~upper.json'}: no clean result {folder / 'tiny.json'}" in result.output
    clean_only = tmp_path / "clean"
    clean_only.mkdir()
    write_document(clean_only, *tiny_result(0, CLEAN))
    result = cli("robustness", clean_only)
    assert result.exit_code == 2 and "no perturbed result" in result.output


# ---- end to end: xbench run --perturb on the synthetic task, then the report ----------------------


class Reverse(perturb.Perturbation):
    name, version, description = "reverse", 1, "write every query backwards (ngram-hash lower-cases: upper-casing would not tell)"

    def apply(self, texts, ids, lang, level):
        return [t[::-1] for t in texts]


class Same(perturb.Perturbation):
    name, version, description = "same", 1, "change nothing (as romanize does to Latin script)"

    def apply(self, texts, ids, lang, level):
        return list(texts)


@pytest.fixture()
def perturbed_run(tmp_path, synthetic, monkeypatch):
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"reverse": Reverse(), "same": Same()})
    out = tmp_path / "out"
    result = cli("run", "--model", "ngram-hash", "--task", synthetic.task, "--data-dir", synthetic.root, "--cache-dir", tmp_path / "cache",
                 "--output", out, "-q", "--perturb", "reverse", "--perturb", "same")
    assert result.exit_code == 0, result.output
    return out


def test_end_to_end_on_the_synthetic_task(perturbed_run):
    result = cli("robustness", perturbed_run, "--json", "-")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    clean = TaskResult.from_dir(perturbed_run, "synth")
    for key in ("synth~reverse", "synth~same"):
        perturbed = TaskResult.from_dir(perturbed_run, key)
        rows = [r for r in report["rows"] if r["perturbation"] == key.split("~")[1]]
        kinds = {r["scope"]: r for r in rows if r["query_lang"] is None}
        assert set(kinds) == {"mono", "cross", "multi"}
        for kind, row in kinds.items():  # the scope rows are the results' own headline scores
            assert row["clean_map"] == pytest.approx(clean.score(kind), abs=1e-12)
            assert row["perturbed_map"] == pytest.approx(perturbed.score(kind), abs=1e-12)
            assert row["n"] == sum(s.n_queries for s in clean.settings if s.setting.kind == kind)
        languages = {r["query_lang"] for r in rows if r["query_lang"]}
        assert languages == {"en", "de", "fr"}
    same = [r for r in report["rows"] if r["perturbation"] == "same"]
    assert all(r["drop"] == 0.0 and r["p"] == 1.0 and r["changed"] == 0 for r in same)
    reverse = [r for r in report["rows"] if r["perturbation"] == "reverse"]
    assert all(r["changed"] == r["queries"] > 0 for r in reverse)
    assert all(r["drop"] > 0.0 for r in reverse if r["scope"] == "mono")  # backwards, a query matches its own language's answer poorly
    table = cli("robustness", perturbed_run).output
    assert "unchanged" in table and "synth" in table
