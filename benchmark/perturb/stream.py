"""The randomness of a perturbation: a stream of numbers fixed forever by (perturbation, version,
level, query id).

Python's ``random`` and numpy's generators promise a stream per seed only within a version (and
``random.Random.choice``/``randrange`` have changed between Python releases); a benchmark's
noisy queries must be the same on every machine and every year. So the stream is SHA-256 in
counter mode: block i is sha256(seed || i), each 64-bit word gives a uniform float with 53 bits.
"""

from __future__ import annotations

import hashlib
import struct


class Stream:
    """Uniform numbers derived from one seed string."""

    def __init__(self, seed: str) -> None:
        self._seed = hashlib.sha256(seed.encode("utf-8")).digest()
        self._block = 0
        self._words: list[int] = []

    def _word(self) -> int:
        if not self._words:
            digest = hashlib.sha256(self._seed + struct.pack(">Q", self._block)).digest()
            self._block += 1
            self._words = list(struct.unpack(">4Q", digest))[::-1]
        return self._words.pop()

    def uniform(self) -> float:
        """A float in [0, 1) with 53 random bits."""
        return (self._word() >> 11) / float(1 << 53)

    def below(self, n: int) -> int:
        """An integer in [0, n), unbiased (rejection of the top remainder)."""
        if n <= 0:
            raise ValueError("below(n) needs n >= 1")
        limit = (1 << 64) - (1 << 64) % n
        while True:
            word = self._word()
            if word < limit:
                return word % n

    def choice(self, items: list):
        return items[self.below(len(items))]


def stream_for(name: str, version: int, level: float | None, query_id: str) -> Stream:
    """The stream of one query under one perturbation at one level."""
    return Stream(f"xbench-perturb\x1f{name}\x1f{version}\x1f{level!r}\x1f{query_id}")
