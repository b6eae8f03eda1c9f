"""`xbench verify` on a pivot task: it draws Tatoeba-shaped settings (X->pivot, pivot->X), re-runs
each on the language paired with the pivot, with the task's symmetric roles and the recorded
prompts, and catches a copy whose per-query values were moved around (every mean kept, so only the
re-run can tell). A synthetic bitext task keeps it to seconds; one test re-runs real Tatoeba
settings when the data is present."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests.fixtures.bitext_files import bitext_fields, write_pair, write_task_toml
from tests.paths import SHARED_DATA, SHARED_TATOEBA

LANGS = ("aa", "bb", "cc")
PIVOT = "pv"
WORDS = ["river", "stone", "green", "light", "house", "bread", "quiet", "north", "table", "winter", "salt", "cloud"]


def cli(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def write_bitext_task(base: Path) -> tuple[Path, Path]:
    """Three pairs of 12 lines; a language writes each of the pivot's words backwards or with its
    own suffix, so character n-grams find some translations and miss others. Returns (data, TOML)."""
    rng = random.Random(0)
    data = base / "data"
    for lang in LANGS:
        pivot_lines = [" ".join(rng.sample(WORDS, 3)) for _ in range(12)]
        lang_lines = [" ".join(w[::-1] if rng.random() < 0.6 else w + lang for w in line.split()) for line in pivot_lines]
        write_pair(data, lang, PIVOT, lang_lines, pivot_lines)
    return data, write_task_toml(base / "synpivot.toml", data, bitext_fields("synpivot", LANGS, PIVOT), {"small": ["aa"]})


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    base = tmp_path_factory.mktemp("synpivot")
    data, toml = write_bitext_task(base)
    return ["--task", toml, "--data-dir", data, "--cache-dir", base / "cache"]


@pytest.fixture(scope="module")
def honest(context, tmp_path_factory):
    """ngram-hash with a query prompt and a different passage prompt: a symmetric task embeds the
    candidates with the query's, so a re-run that took the passage prompt would disagree."""
    out = tmp_path_factory.mktemp("honest-pivot")
    result = cli("run", "--model", "ngram-hash", *context, "--query-prompt", "q: ", "--passage-prompt", "passage: ", "--output", out, "-q")
    assert result.exit_code == 0, result.output
    return out


def verify_json(folder: Path, *args, env=None) -> tuple[int, dict | str]:
    result = cli("verify", folder, *args, "--json", "-q", env=env)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip().startswith("{") else result.output


def shuffle_within_settings(folder: Path, task: str) -> None:
    """Swap the per-query values of a right and a wrong query in every setting that has both: each
    setting's means, and so every aggregate, stay as they were, and the SHA-256 is re-pinned."""
    path = folder / f"{task}.json"
    doc = json.loads(path.read_text())
    file = folder / doc["per_query"]["file"]
    frame = pd.read_csv(file, compression="gzip", dtype={"query_id": str}, keep_default_na=False, na_values=[""])
    values = [c for c in frame.columns if c not in ("kind", "query_lang", "corpus_lang", "query_id")]
    swapped = 0
    for _, rows in frame.groupby(["query_lang", "corpus_lang"], sort=False):
        right, wrong = rows.index[rows.accuracy == 1], rows.index[rows.accuracy == 0]
        if len(right) and len(wrong):
            frame.loc[[right[0], wrong[0]], values] = frame.loc[[wrong[0], right[0]], values].to_numpy()
            swapped += 1
    assert swapped == len(doc["settings"]), "every setting needs a right and a wrong query for this forgery"
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(frame.to_csv(index=False, lineterminator="\n").encode())
    file.write_bytes(buffer.getvalue())
    doc["per_query"]["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    path.write_text(json.dumps(doc))


def test_the_run_records_symmetric_roles(honest):
    doc = json.loads((honest / "synpivot.json").read_text())
    assert doc["roles"] == {"queries": {"role": "query", "prompt": "q: "}, "candidates": {"role": "query", "prompt": "q: "}}
    assert len(doc["settings"]) == 6 and 0 < doc["aggregates"]["all"]["accuracy"] < 1


def test_an_honest_pivot_run_verifies_setting_by_setting(honest, context):
    code, doc = verify_json(honest, *context, "--sample", "1000", "--seed", "2")
    assert code == 0, doc
    assert doc["result"] == "verified" and doc["settings_total"] == len(doc["settings"]) == 6
    assert {(s["query_lang"], s["corpus_lang"]) for s in doc["settings"]} == {
        pair for lang in LANGS for pair in ((lang, PIVOT), (PIVOT, lang))}
    assert doc["queries_compared"] == 6 * 12 and doc["max_abs_diff"]["accuracy"] == 0.0


def test_a_consistent_forgery_of_a_pivot_run_disagrees(honest, context, tmp_path):
    forged = tmp_path / "forged"
    shutil.copytree(honest, forged)
    shuffle_within_settings(forged, "synpivot")
    code, doc = verify_json(forged, *context, "--sample", "1", "--seed", "4")
    assert code == 1, doc
    (bad,) = doc["settings"]
    assert not bad["agrees"] and bad["differing"] == 2 and doc["max_abs_diff"]["accuracy"] == 1.0


@pytest.mark.skipif(SHARED_TATOEBA is None, reason="../shared/data/tatoeba not present")
def test_real_tatoeba_settings_re_run(tmp_path):
    env = {"XBENCH_DATA": SHARED_DATA}
    out, cache = tmp_path / "run", tmp_path / "cache"
    result = cli("run", "--model", "ngram-hash", "--task", "tatoeba", "--langs", "kab,ber", "--cache-dir", cache, "--output", out, "-q", env=env)
    assert result.exit_code == 0, result.output
    code, doc = verify_json(out, "--sample", "2", "--seed", "0", "--cache-dir", cache, env=env)
    assert code == 0 and doc["result"] == "verified" and doc["settings_total"] == 4, doc
    assert all("eng" in (s["query_lang"], s["corpus_lang"]) for s in doc["settings"]) and doc["queries_compared"] > 100
