"""Test-only perturbations, registered by the tests that need them (monkeypatching the registry):
they keep the run, check and verify plumbing independent of the real perturbation functions."""

from __future__ import annotations

import benchmark.perturb as perturb


class Reverse(perturb.Perturbation):
    name, description = "reverse", "write every query backwards"

    def __init__(self, version: int = 1):
        self.version = version

    def apply(self, texts, ids, lang, level):
        return [t[::-1] for t in texts]
