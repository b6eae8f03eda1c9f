"""Does the GPU search path give the same bits as the CPU path? (run where torch sees a GPU)

DenseScorer computes scores exactly (integer coordinates in float64, see benchmark/engine/search.py),
so a CUDA float64 product must give bit-identical scores to numpy's. This script checks that on
random, tied and extreme vectors, for cosine and inner products, several memory budgets and spans.
Usage: python benchmarks/gpu_exact.py   (exit 0 and "GPU == CPU" when identical)
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from benchmark.engine.search import DenseScorer


def blocks(scorer: DenseScorer, rows: tuple[int, int], budget: int, columns: slice) -> np.ndarray:
    parts = [view(columns)[:, :] for _, _, view in scorer.blocks(rows, budget, columns)]
    return np.concatenate(parts)


def main() -> int:
    if not torch.cuda.is_available():
        print("no GPU visible to torch: nothing to compare")
        return 1
    rng = np.random.default_rng(0)
    cases = {
        "random": (rng.standard_normal((700, 384)).astype(np.float32), rng.standard_normal((5000, 384)).astype(np.float32)),
        "integer counts": (rng.integers(0, 4, (300, 512)).astype(np.float32), rng.integers(0, 4, (2000, 512)).astype(np.float32)),
        "tiny and huge": ((rng.standard_normal((200, 64)) * 1e-30).astype(np.float32), (rng.standard_normal((900, 64)) * 1e25).astype(np.float32)),
    }
    cases["integer counts"][1][:50] = cases["integer counts"][1][50:100]  # exact ties
    checked = 0
    for name, (queries, candidates) in cases.items():
        for cosine in (False, True):
            gpu = DenseScorer(queries, candidates, name, cosine=cosine)
            cpu = DenseScorer(queries, candidates, name, cosine=cosine)
            cpu.device = None
            assert gpu.device is not None, "torch sees a GPU but the scorer did not take it"
            n, m = len(queries), len(candidates)
            for budget in (1 << 16, 1 << 22, 1 << 28):
                for columns in (slice(0, m), slice(m // 3, m // 2)):
                    a, b = blocks(gpu, (0, n), budget, columns), blocks(cpu, (0, n), budget, columns)
                    if a.tobytes() != b.tobytes():
                        print(f"DIFFERENT: {name} cosine={cosine} budget={budget} columns={columns}: "
                              f"{int((a != b).sum())} of {a.size} scores differ")
                        return 1
                    checked += a.size
    print(f"GPU == CPU: {checked:,} scores bit-identical ({torch.cuda.get_device_name(0)}, torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
