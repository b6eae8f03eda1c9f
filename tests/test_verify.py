"""`xbench verify`: an honest run re-runs to the same per-query values, a consistently forged copy
(values edited, every aggregate recomputed, the per-query SHA-256 re-pinned) is caught and named,
a model whose identity does not match is refused, and the board marks verified rows.

ngram-hash on the synthetic tasks keeps every case to a second; one test uses the real board's
ngram-hash submission when the canonical data is present."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.metrics.aggregate import aggregates, headline_scores, kinds_of
from benchmark.results import TaskResult
from benchmark.leaderboard.verify import VERIFICATION_FILE, draw_sample, load_submission, verified_label
from tests.paths import REPO, SHARED_DATA, SHARED_LAREQA, SHARED_TATOEBA


def cli(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def context(synthetic, tmp_path_factory):
    """Where the synthetic data and a private embedding cache are, as verify options."""
    cache = tmp_path_factory.mktemp("verify-cache")
    return ["--task", synthetic.task, "--task", synthetic.partial_task, "--data-dir", synthetic.root, "--cache-dir", cache]


@pytest.fixture(scope="module")
def honest(synthetic, context, tmp_path_factory):
    """ngram-hash over both synthetic tasks, with options that change the numbers."""
    out = tmp_path_factory.mktemp("honest")
    result = cli("run", "--model", "ngram-hash", *context, "--query-prompt", "q: ", "--no-normalize",
                 "--candidate-text", "sentence+context", "--output", out, "-q")
    assert result.exit_code == 0, result.output
    return out


def verify(folder, context, *args):
    return cli("verify", folder, *context, *args)


def verify_json(folder, context, *args) -> tuple[int, dict]:
    result = verify(folder, context, "--json", "-q", *args)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip().startswith("{") else result.output


def rewrite(folder: Path, task: str, edit) -> None:
    """Apply ``edit(frame)`` to a task's per-query AP, then recompute every aggregate and re-pin the
    per-query SHA-256, as a forger would: the copy stays internally consistent."""
    path = folder / f"{task}.json"
    result = json.loads(path.read_text())
    frame = pd.read_csv(folder / result["per_query"]["file"], compression="gzip", dtype={"query_id": str}, keep_default_na=False, na_values=[""])
    edit(frame)
    for record in result["settings"]:
        rows = frame[(frame.kind == record["kind"]) & (frame.query_lang == record["query_lang"]) & (frame.corpus_lang == record["corpus_lang"])]
        record["map"] = float(rows.ap.mean())
        if record["kind"] == "multi":
            record["rank_distance"] = float(rows.rank_distance.mean())
    result["scores"] = {name: value for name, value in headline_scores(result["settings"]).items() if name in result["scores"]}  # the keys it had
    definition = result["task_definition"]
    result["aggregates"] = aggregates(result["settings"], definition["metrics"], kinds_of(result["settings"]),
                                      definition.get("pivot"), definition.get("groups", {}))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(frame.to_csv(index=False, lineterminator="\n").encode())
    (folder / result["per_query"]["file"]).write_bytes(buffer.getvalue())
    result["per_query"]["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    path.write_text(json.dumps(result))


def forge_setting(task: str, kind: str, query_lang: str, corpus_lang: str, n: int = 3):
    def edit(frame):
        rows = frame.index[(frame.kind == kind) & (frame.query_lang == query_lang) & (frame.corpus_lang == corpus_lang)][:n]
        frame.loc[rows, "ap"] = 1.0 - frame.loc[rows, "ap"] / 2  # better, and different whatever it was
    return edit


def edit_json(folder: Path, task: str, edit) -> None:
    path = folder / f"{task}.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def test_honest_run_verifies_with_its_options_reapplied(honest, context):
    code, doc = verify_json(honest, context, "--sample", "1000", "--seed", "5")
    assert code == 0, doc
    assert doc["result"] == "verified" and doc["seed"] == 5
    assert len(doc["settings"]) == doc["settings_total"] > 20  # a sample bigger than the settings checks them all
    assert doc["queries_compared"] > 100 and doc["max_abs_diff"]["ap"] <= 1e-4
    assert doc["recorded"] is None and not (honest / VERIFICATION_FILE).exists()  # not a board: nothing written


def test_default_seed_is_recorded_and_reproduces_the_draw(honest, context):
    code, first = verify_json(honest, context, "--sample", "2")
    assert code == 0, first
    code, again = verify_json(honest, context, "--sample", "2", "--seed", first["seed"])
    assert code == 0 and again["settings"] == first["settings"]


def test_draw_is_seeded_weighted_and_without_repeats(honest):
    submission = load_submission(honest)
    picks, total = draw_sample(submission, 6, seed=11)
    assert picks == draw_sample(submission, 6, seed=11)[0] and len(set(picks)) == 6 and total > 6
    # mono and multi settings each weigh as much in the average as all cross settings together
    kinds = [p.setting.kind for seed in range(200) for p in draw_sample(submission, 1, seed)[0]]
    assert kinds.count("cross") < 0.5 * len(kinds) and kinds.count("mono") > 0.2 * len(kinds)


def test_consistently_forged_copy_is_caught_and_named(honest, context, tmp_path):
    forged = tmp_path / "forged"
    shutil.copytree(honest, forged)
    rewrite(forged, "synth", forge_setting("synth", "mono", "de", "de"))
    load_submission(forged)  # consistent: every aggregate recomputes, the checksum matches
    result = verify(forged, context, "--sample", "1000", "--seed", "1")
    assert result.exit_code == 1, result.output
    verdict = result.output.strip().splitlines()[-1]
    assert verdict.startswith("DISAGREES: 1 setting(s): synth mono de->de: 3 differ")
    code, doc = verify_json(forged, context, "--sample", "1000", "--seed", "1")
    bad = [s for s in doc["settings"] if not s["agrees"]]
    assert code == 1 and doc["result"] == "disagrees" and len(bad) == 1 and bad[0]["max_abs_diff"]["ap"] > 1e-4
    assert len(bad[0]["examples"]) == 3


def test_forged_or_dropped_per_query_values_are_caught(honest, context, tmp_path):
    """The board shows rank distance too: a forged one must not pass as verified, nor a value
    column left out of the per-query file."""
    forged = tmp_path / "forged-rd"
    shutil.copytree(honest, forged)

    def edit(frame):
        rows = frame.index[(frame.kind == "multi") & (frame.query_lang == "en")][:2]
        frame.loc[rows, "rank_distance"] = 0.0

    rewrite(forged, "synth", edit)
    load_submission(forged)
    result = verify(forged, context, "--sample", "1000", "--seed", "1", "-q")
    assert result.exit_code == 1 and "DISAGREES: 1 setting(s): synth multi en->all: 2 differ" in result.output
    dropped = tmp_path / "dropped-rd"
    shutil.copytree(honest, dropped)
    rewrite(dropped, "synth", lambda frame: frame.pop("ndcg@10"))
    result = verify(dropped, context, "--sample", "1000", "--seed", "1", "-q")
    assert result.exit_code == 1 and "missing column 'ndcg@10'" in result.output  # refused on load, before any re-run


def test_inconsistent_aggregate_is_refused(honest, tmp_path, context):
    broken = tmp_path / "broken"
    shutil.copytree(honest, broken)
    edit_json(broken, "synthp", lambda doc: doc["scores"].update(mono=doc["scores"]["mono"] + 0.01))
    result = verify(broken, context, "--seed", "1")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "synthp.json: scores.mono does not recompute" in result.output


def board_copy(honest: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "board" / "submissions" / "ngram-hash-3-512__x"
    shutil.copytree(honest, folder)
    (folder / "submission.json").write_text(json.dumps({"key": folder.name, "model": "ngram-hash-3-512"}))
    return folder


def test_board_submission_records_verification_bound_to_its_files(honest, context, tmp_path):
    folder = board_copy(honest, tmp_path)
    result = verify(folder, context, "--sample", "2", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert f"recorded {folder / VERIFICATION_FILE}" in result.output
    doc = json.loads((folder / VERIFICATION_FILE).read_text())
    assert doc["result"] == "verified" and doc["seed"] == 3 and len(doc["settings"]) == 2 and doc["queries_compared"] > 0
    assert set(doc["per_query_sha256"]) == {"synth", "synthp"} and len(doc["date"]) == 10
    results = {t: TaskResult.from_file(folder / f"{t}.json") for t in ("synth", "synthp")}
    assert verified_label(folder, results) == f"{doc['date']}, 2/{doc['settings_total']} settings"
    # a later change to the numbers (re-pinned) voids the mark; so does a verification file out of shape
    rewrite(folder, "synth", forge_setting("synth", "mono", "en", "en"))
    results = {t: TaskResult.from_file(folder / f"{t}.json") for t in ("synth", "synthp")}
    assert verified_label(folder, results) is None
    (folder / VERIFICATION_FILE).write_text(json.dumps(dict(doc, date="<b>|")))
    assert verified_label(folder, results) is None


def test_disagreement_on_board_writes_nothing(honest, context, tmp_path):
    folder = board_copy(honest, tmp_path)
    rewrite(folder, "synth", forge_setting("synth", "mono", "fr", "fr"))
    assert verify(folder, context, "--sample", "1000", "--seed", "1", "-q").exit_code == 1
    assert not (folder / VERIFICATION_FILE).exists()


@pytest.mark.parametrize(
    "edit, why",
    [
        (lambda m: m.update(fingerprint="0" * 64), "its fingerprint"),
        (lambda m: m.update(name="no-such-model", fingerprint="0" * 64), "no-such-model"),
        (lambda m: m.update(kind="callable", name="os:getcwd"), "a Python callable is imported only when named with --model"),
        (lambda m: m.update(kind="openai-api", name="openai:e5", endpoint="http://127.0.0.1:9/v1/embeddings"), "needs --api-base"),
    ],
    ids=["fingerprint", "unknown", "callable", "api"],
)
def test_unmatched_model_identity_is_refused(honest, context, tmp_path, edit, why):
    copy = tmp_path / "copy"
    shutil.copytree(honest, copy)
    for task in ("synth", "synthp"):
        edit_json(copy, task, lambda doc: edit(doc["model"]))
        edit_json(copy, task, lambda doc: doc.pop("command"))
    result = verify(copy, context, "--seed", "1")
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("xbench: error: cannot load the model ") and why in result.output


def test_api_model_is_called_only_at_its_recorded_endpoint(honest, context, tmp_path):
    """No request is made: the identity is compared before anything is encoded."""
    copy = tmp_path / "api"
    shutil.copytree(honest, copy)
    for task in ("synth", "synthp"):
        edit_json(copy, task, lambda doc: doc["model"].update(kind="openai-api", name="openai:e5", endpoint="http://127.0.0.1:9/v1/embeddings"))
    result = verify(copy, context, "--seed", "1", "--api-base", "http://127.0.0.1:8/v1")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "its endpoint http://127.0.0.1:8/v1/embeddings differs from the recorded http://127.0.0.1:9/v1/embeddings" in result.output


def test_model_override_must_match_the_identity(honest, context):
    result = verify(honest, context, "--seed", "1", "--model", "tests.encoders_for_tests:ngram_counts")
    assert result.exit_code == 2 and "cannot load the model ngram-hash-3-512" in result.output and "fingerprint" in result.output
    assert verify(honest, context, "--seed", "1", "--model", "ngram-hash", "-q").exit_code == 0


def test_hostile_inputs_are_one_line_errors(honest, context, tmp_path):
    missing = tmp_path / "missing-per-query"
    shutil.copytree(honest, missing)
    (missing / "synth.per_query.csv.gz").unlink()
    garbled = tmp_path / "garbled"
    shutil.copytree(honest, garbled)
    edit_json(garbled, "synth", lambda doc: doc.update(settings=["mono"]))
    unrelated = tmp_path / "unrelated"
    shutil.copytree(honest, unrelated)
    (unrelated / "notes.json").write_text("[1, 2]")
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    cases = {
        missing: (1, "synth.per_query.csv.gz: cannot read"),
        garbled: (1, "synth.json: field settings[0]"),
        tmp_path / "empty": (1, "no result files"),
        tmp_path / "file": (2, "is a file"),
        tmp_path / "nowhere": (2, "does not exist"),
    }
    for folder, (code, message) in cases.items():
        result = verify(folder, context, "--seed", "1")
        assert result.exit_code == code and message in result.output, (folder, result.output)
        assert "Traceback" not in result.output
    assert verify(unrelated, context, "--seed", "1", "-q").exit_code == 0  # other JSON files are not results
    for args in (["--seed", "-1"], ["--sample", "0"], ["--seed", str(2**64)]):
        assert verify(honest, context, *args).exit_code == 2
    assert verify(honest, context, "--seed", str(2**63 - 1), "-q").exit_code == 0


def test_setting_in_a_language_the_task_lacks_is_refused(honest, context, tmp_path):
    """A consistent result with an invented language: named, never re-run as the whole task."""
    copy = tmp_path / "invented"
    shutil.copytree(honest, copy)
    def invent(doc):  # every value of the invented setting is 1.0, in its record and in its rows
        record = {k: (1.0 if "@" in k else v) for k, v in doc["settings"][0].items()}
        doc["settings"].append({**record, "query_lang": "xx", "corpus_lang": "xx", "map": 1.0, "n_queries": 2})
        doc["per_query"]["rows"] += 2

    edit_json(copy, "synth", invent)

    def add_rows(frame):
        rows = frame.iloc[:2].assign(kind="mono", query_lang="xx", corpus_lang="xx", ap=1.0, **{c: 1.0 for c in frame.columns if "@" in c})
        frame.loc[len(frame)], frame.loc[len(frame) + 1] = rows.iloc[0], rows.iloc[1]

    rewrite(copy, "synth", add_rows)
    load_submission(copy)
    result = verify(copy, context, "--sample", "1000", "--seed", "1")
    assert result.exit_code == 1 and "setting synth mono xx->xx names a language task synth does not have" in result.output


def test_unregistered_task_without_its_definition_is_usage(honest):
    result = cli("verify", honest, "--seed", "1")
    assert result.exit_code == 2 and "unknown task" in result.output


BOARD_NGRAM = REPO / "leaderboard" / "submissions" / "ngram-hash-3-512__0e42a98ee57c"


@pytest.mark.skipif(SHARED_LAREQA is None or SHARED_TATOEBA is None, reason="canonical data not present")
def test_real_board_submission_verifies_and_the_board_marks_it(tmp_path):
    board = tmp_path / "board"
    folder = board / "submissions" / BOARD_NGRAM.name
    shutil.copytree(BOARD_NGRAM, folder)
    # a seed whose two settings are language pairs (a pool setting would re-run every language)
    seed = next(s for s in range(100) if all(p.setting.kind != "multi" for p in draw_sample(load_submission(folder), 2, s)[0]))
    env = {"XBENCH_DATA": SHARED_DATA}  # the entry holds a Tatoeba run too
    result = cli("verify", folder, "--sample", 2, "--seed", seed, "--cache-dir", tmp_path / "cache", "-q", env=env)
    assert result.exit_code == 0, result.output
    doc = json.loads((folder / VERIFICATION_FILE).read_text())
    label = f"{doc['date']}, 2/{doc['settings_total']} settings"
    for fmt in ("md", "csv", "html"):
        view = cli("leaderboard", "--board", board, "--format", fmt, env=env).output
        assert label in view
    forged = tmp_path / "forged"
    shutil.copytree(BOARD_NGRAM, forged)
    picks = draw_sample(load_submission(forged), 2, seed)[0]
    rewrite(forged, picks[0].task, forge_setting(picks[0].task, *picks[0].setting.fields().values()))
    from benchmark.leaderboard.validate import validate_result

    validate_result(forged / f"{picks[0].task}.json", SHARED_LAREQA)  # the forgery passes submit's checks
    result = cli("verify", forged, "--sample", 2, "--seed", seed, "--cache-dir", tmp_path / "cache", "-q", env=env)
    assert result.exit_code == 1 and picks[0].label in result.output
