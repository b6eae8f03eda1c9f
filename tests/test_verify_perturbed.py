"""`xbench verify` re-runs sampled settings of perturbed results with their recorded perturbation:
an honest run verifies, a forged perturbed AP is caught and named, a perturbation this xbench has
at another version is refused (nothing checked), and the perturbed results together are one
stratum of the draw."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import benchmark.perturb as perturb
from benchmark.cli import main
from benchmark.leaderboard.verify import draw_sample, load_submission
from tests.test_verify import forge_setting, rewrite
from tests.perturbations_for_tests import Reverse


class Shout(perturb.Perturbation):
    name, version, description, default_level = "shout", 1, "append '!' level*10 times", 0.1

    def apply(self, texts, ids, lang, level):
        return [t + "!" * round(level * 10) for t in texts]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture()
def run(tmp_path, synthetic, monkeypatch):
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"reverse": Reverse(), "shout": Shout()})
    context = ["--task", synthetic.task, "--data-dir", synthetic.root, "--cache-dir", tmp_path / "cache"]
    result = cli("run", "--model", "ngram-hash", *context, "--output", tmp_path / "out", "-q", "--perturb", "reverse", "--perturb", "shout@0.3")
    assert result.exit_code == 0, result.output
    return tmp_path / "out", context


def verify_json(folder, context, *args):
    result = cli("verify", folder, *context, "--json", "-q", *args)
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else result.output


def test_every_setting_of_the_perturbed_results_reruns_to_the_same_values(run):
    folder, context = run
    code, report = verify_json(folder, context, "--sample", "1000", "--seed", "1")
    assert code == 0, report
    checked = {s["task"] for s in report["settings"]}
    assert checked == {"synth", "synth~reverse", "synth~shout@0.3"}
    assert report["settings_total"] == 3 * 12 and all(s["agrees"] for s in report["settings"])


def test_a_forged_perturbed_ap_is_caught_and_named(run):
    folder, context = run
    rewrite(folder, "synth~reverse", forge_setting("synth", "mono", "de", "de"))
    code, report = verify_json(folder, context, "--sample", "1000", "--seed", "1")
    assert code == 1
    bad = [s for s in report["settings"] if not s["agrees"]]
    assert [(s["task"], s["kind"], s["query_lang"]) for s in bad] == [("synth~reverse", "mono", "de")]
    assert "DISAGREES: 1 setting(s): synth~reverse mono de->de" in cli("verify", folder, *context, "--sample", "1000", "--seed", "1", "-q").output


def test_another_version_of_the_perturbation_is_refused(run, monkeypatch):
    folder, context = run
    monkeypatch.setattr(perturb.PERTURBATIONS, "_builtins", {"reverse": Reverse(version=2), "shout": Shout()})
    result = cli("verify", folder, *context, "--sample", "1000", "-q")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"cannot verify {folder / 'synth~reverse.json'}: perturbation reverse is version 2 here, the result's is 1" in result.output


def test_the_perturbed_results_are_one_stratum_of_the_draw(run):
    folder, _ = run
    submission = load_submission(folder)
    # strata: synth's mono, cross and multi, and the two perturbed results together: each drawn a quarter of the time
    drawn = [draw_sample(submission, 1, seed)[0][0] for seed in range(2000)]
    share = sum("~" in pick.task for pick in drawn) / len(drawn)
    assert share == pytest.approx(0.25, abs=0.04)
    mono = sum(pick.task == "synth" and pick.setting.kind == "mono" for pick in drawn) / len(drawn)
    assert mono == pytest.approx(0.25, abs=0.04)
