"""benchmarks/scale_measure.py: the memory sampler sees a child's memory, result comparison ignores
exactly the run facts, the summary's ratios are right, and a tiny local measurement runs."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from tests.paths import REPO, SHARED_LAREQA

sys.path.insert(0, str(REPO / "benchmarks"))  # the benchmark scripts are not a package
import scale  # noqa: E402
import scale_measure  # noqa: E402


def test_measured_counts_the_child_not_the_harness():
    ballast = bytearray(300 * 2**20)  # this process (pytest) grows by 300 MiB: none of it is the child's
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = scale_measure.measured([sys.executable, "-c", "import time; time.sleep(0.6)"], {})
    assert "error" not in small and small["wall_s"] >= 0.6 and 0 < small["peak_rss_mib"] < 60
    # a child whose child holds 200 MiB for 1.5 s: the sampled tree sees the grandchild while it lives
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import time; b = bytearray(200 * 2**20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(1.5)'])")
    row = scale_measure.measured([sys.executable, "-c", code], {})
    assert 200 <= row["tree_peak_pss_mib"] < 260 and 200 <= row["peak_rss_mib"] < 260
    del ballast
    failed = scale_measure.measured([sys.executable, "-c", "import sys; print('bad thing', file=sys.stderr); sys.exit(3)"], {})
    assert failed["error"] == "bad thing"


def write_result(folder: Path, doc: dict, table: bytes) -> None:
    folder.mkdir(parents=True)
    (folder / "scale.json").write_text(json.dumps(doc))
    (folder / "scale.per_query.csv.gz").write_bytes(gzip.compress(table))


def test_same_result_ignores_run_facts_only(tmp_path):
    base = {"task": "scale", "scores": {"map": 0.5}, "timings": {"total": 1.0}, "hardware": {"cpus": 2}}
    write_result(tmp_path / "a", base, b"q,ap\n1,0.5\n")
    write_result(tmp_path / "b", dict(base, timings={"total": 9.0}, hardware={"cpus": 16}), b"q,ap\n1,0.5\n")
    write_result(tmp_path / "c", dict(base, scores={"map": 0.25}), b"q,ap\n1,0.25\n")
    assert scale_measure.same_result(tmp_path / "a", tmp_path / "b", "scale") == "yes"
    assert scale_measure.same_result(tmp_path / "a", tmp_path / "c", "scale") == "differs: scores, per_query table"


def test_report_ratios():
    rows = [
        {"passages": 250_000, "queries": 350, "model": "m", "engine": "local", "workers": 1, "wall_s": 35.0, "peak_rss_mib": 800.0},
        {"passages": 250_000, "queries": 350, "model": "m", "engine": "ray", "workers": 2, "wall_s": 70.0, "peak_rss_mib": 900.0},
        {"passages": 4_000_000, "queries": 350, "model": "m", "engine": "local", "workers": 1, "wall_s": 560.0, "peak_rss_mib": 1000.0},
    ]
    text = scale_measure.report(rows)
    assert "local peak RSS 1000.0 / 800.0 MiB = 1.25x while the corpus grew 16x" in text
    # 35 s / (250,000 x 350 / 1e6 = 87.5 million pairs) = 0.4 s; 560 / 1400 = 0.4 s
    assert text.count("0.400 s per million (passage x query) pairs") == 2
    assert "ray / local wall at 250,000 passages: 2.00" in text


@pytest.mark.skipif(SHARED_LAREQA is None, reason="real LAReQA data (xquad-r) not present")
def test_a_tiny_local_measurement(tmp_path, capsys):
    out = tmp_path / "rows.json"
    assert scale.main(["measure", "--sizes", "1400,700", "--queries-per-language", "3", "--engines", "local",
                       "--work", str(tmp_path / "work"), "--data-dir", str(SHARED_LAREQA), "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["passages"], r["engine"], r["queries"]) for r in rows] == [(700, "local", 21), (1400, "local", 21)]
    assert all(r["wall_s"] > r["total"] > 0 and r["peak_rss_mib"] > 0 and "error" not in r for r in rows)
    assert "local peak RSS" in capsys.readouterr().out
