"""The measuring half of the scale benchmark (``python benchmarks/scale.py measure``).

For each collection size, smallest first, on one machine in one benchmark run:
  1. generate the collection (benchmarks/scale.py generate; reused when its scale.toml says it was
     made with the same arguments: the bytes are a function of them and xbench checks the pinned
     checksums anyway);
  2. for each engine (local, ray), a fresh process runs ``xbench run`` on it with an EMPTY
     embedding cache (what a first evaluation costs: encoding included) and the same
     ``--memory-budget``.
Recorded per run: wall seconds; the driver's peak RSS (``ru_maxrss`` from wait4: what the
acceptance's "peak RSS" means for the local engine); the peak PSS of the driver's whole process
tree, sampled from /proc every 0.25 s (Linux; a local Ray instance's raylet and workers are the
driver's descendants; PSS, not RSS, so that shared pages such as Ray's object store count once);
the result's own split (load_data, encode, search, scoring, total); and for a Ray run whether its
result equals the local engine's at the same size (JSON without RUN_FACTS, per-query file bytes):
"yes", or the top-level keys that differ.
Summary lines: local peak RSS largest/smallest size against the size ratio (acceptance: < 1.5x for
16x), wall seconds per million (passage x query) pairs, and Ray wall / local wall per size.
An optional ``--slice-model`` (a real model) runs once per engine on a small ``--slice-size``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tabulate import tabulate

from benchmark.results.result import RUN_FACTS

SPLIT = ("load_data", "encode", "search", "scoring", "total")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc/<pid>/stat (field 4; the name in field 2 may hold spaces)."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # the process ended meanwhile
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _memory(pid: int) -> int:
    """Bytes of ``pid``: its PSS where smaps_rollup is readable, else its RSS; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_memory(root: int) -> int:
    """Bytes held now by ``root`` and all its descendants (PSS summed)."""
    children, todo, total = _children(), [root], 0
    while todo:
        pid = todo.pop()
        total += _memory(pid)
        todo.extend(children.get(pid, ()))
    return total


# The child is started by a bare Python that reports its peak RSS: a process's ru_maxrss counts the
# memory image it was forked from (the kernel carries the pre-exec high-water mark over exec), so
# forked straight from this harness (or pytest: hundreds of MiB) a small run would be charged the
# harness's RSS. The bare starter is ~10 MiB, below any xbench run. Its last stderr line is the peak.
STARTER = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:]); _, status, usage = os.wait4(p.pid, 0); "
           "print(f'\\nmaxrss_kib={usage.ru_maxrss}', file=sys.stderr); sys.exit(os.waitstatus_to_exitcode(status))")


def measured(cmd: list[str], env: dict[str, str]) -> dict[str, object]:
    """Run ``cmd``; wall seconds, peak RSS (the largest of the process and its reaped descendants),
    sampled peak PSS of its whole process tree, and the last line of its stderr if it failed."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", STARTER, *cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], tree_memory(proc.pid))
            if done.wait(0.25):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""  # drain: a full pipe would block the child
    code = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    lines = err.strip().splitlines()
    maxrss = int(lines.pop()[len("maxrss_kib="):]) if lines and lines[-1].startswith("maxrss_kib=") else 0
    row: dict[str, object] = {"wall_s": round(wall, 2), "peak_rss_mib": round(maxrss / 1024, 1),
                              "tree_peak_pss_mib": round(peak[0] / 2**20, 1)}
    if code != 0:
        row["error"] = next((line for line in reversed(lines) if line.strip()), f"exit status {code}")
    return row


def same_result(a: Path, b: Path, task: str) -> str:
    """"yes" when the two result folders agree on everything but RUN_FACTS; else what differs."""
    docs = [json.loads((folder / f"{task}.json").read_text()) for folder in (a, b)]
    keys = sorted(k for k in set(docs[0]) | set(docs[1]) if k not in RUN_FACTS and docs[0].get(k) != docs[1].get(k))
    tables = [gzip.decompress((folder / f"{task}.per_query.csv.gz").read_bytes()) for folder in (a, b)]
    if tables[0] != tables[1]:
        keys.append("per_query table")
    return "yes" if not keys else "differs: " + ", ".join(keys)


def xbench_command(task: Path, data: Path, model: str, out: Path, cache: Path, budget: int, engine: str,
                   workers: int, ray_address: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "benchmark", "run", "--task", str(task), "--data-dir", str(data), "--model", model,
           "--output", str(out), "--cache-dir", str(cache), "--memory-budget", str(budget), "--quiet"]
    if engine != "local":
        cmd += ["--engine", engine, "--workers", str(workers)] + (["--ray-address", ray_address] if ray_address else [])
    return cmd


def measure(sizes: list[int], queries: int, engines: list[str], workers: int, budget: int, model: str, work: Path,
            slice_model: str | None, slice_size: int, ray_address: str | None, generate) -> list[dict[str, object]]:
    """Every (size, engine) run, in order; ``generate(out, passages, queries)`` makes a collection."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    plan = [(size, model) for size in sorted(sizes)] + ([(slice_size, slice_model)] if slice_model else [])
    rows = []
    for size, run_model in plan:
        coll = work / f"scale-{size}-q{queries}" / "coll"
        wanted = f"--passages {size} --queries-per-language {queries} "
        toml = coll / "scale.toml"
        if not (toml.is_file() and wanted in toml.read_text(encoding="utf-8").splitlines()[0]):
            generated = generate(coll, size, queries)
            print(f"generated {size:,} passages in {generated['seconds']} s", flush=True)
        for engine in engines:
            out = work / "results" / f"{size}-{engine}-{Path(run_model).name}"
            cache = work / "caches" / f"{size}-{engine}-{time.time_ns()}"  # empty: a cold run
            row = {"passages": size, "model": run_model, "engine": engine,
                   "workers": workers if engine != "local" else 1}
            row.update(measured(xbench_command(toml, coll, run_model, out, cache, budget, engine, workers, ray_address), env))
            shutil.rmtree(cache, ignore_errors=True)  # 4M passages x 512 float32 = 8 GB of cache per run
            if "error" not in row:
                doc = json.loads((out / "scale.json").read_text())
                row["queries"] = sum(doc["counts"]["queries"].values())
                row.update(doc["timings"])
                local = work / "results" / f"{size}-local-{Path(run_model).name}"
                if engine != "local" and (local / "scale.json").is_file():
                    row["same_as_local"] = same_result(local, out, "scale")
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def report(rows: list[dict[str, object]]) -> str:
    """The table and the acceptance's summary lines."""
    columns = ["passages", "engine", "workers", "model", "wall_s", "peak_rss_mib", "tree_peak_pss_mib", *SPLIT, "same_as_local", "error"]
    present = [c for c in columns if any(c in row for row in rows)]
    lines = [tabulate([[row.get(c, "") for c in present] for row in rows], headers=present)]
    local = [row for row in rows if row["engine"] == "local" and "error" not in row and row["model"] == rows[0]["model"]]
    if len(local) >= 2:
        small, large = local[0], local[-1]
        lines.append(f"local peak RSS {large['peak_rss_mib']} / {small['peak_rss_mib']} MiB = "
                     f"{large['peak_rss_mib'] / small['peak_rss_mib']:.2f}x while the corpus grew "
                     f"{large['passages'] / small['passages']:.0f}x")
        for row in local:
            pairs = row["passages"] * row["queries"] / 1e6
            lines.append(f"  {row['passages']:>10,} passages: {row['wall_s'] / pairs:.3f} s per million (passage x query) pairs")
    for row in rows:
        twin = next((r for r in rows if r["engine"] == "local" and "error" not in r and r["passages"] == row["passages"] and r["model"] == row["model"]), None)
        if row["engine"] != "local" and twin and "error" not in row:
            lines.append(f"{row['engine']} / local wall at {row['passages']:,} passages: {row['wall_s'] / twin['wall_s']:.2f}")
    return "\n".join(lines)
