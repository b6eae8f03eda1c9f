"""A plain Hugging Face transformers checkpoint (config + weights + tokenizer, as training loops
save them) pooled into sentence vectors: the attention-masked mean of the last hidden state, or
the [CLS] vector. This is what CI on training checkpoints needs before anyone has packaged the
model for sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from benchmark.errors import UsageError, XbenchError
from .base import EncoderOptions
from .identity import ModelIdentity
from .sentence_transformer import directory_fingerprint, parameter_count

POOLINGS = ("mean", "cls")


class TransformersEncoder:
    similarity = "cosine"

    def __init__(self, path: str, options: EncoderOptions) -> None:
        self.path = Path(path).expanduser().resolve()
        self.name = str(path)
        self.options = options
        self.pooling = options.pooling or "mean"
        if self.pooling not in POOLINGS:
            raise UsageError(f"--pooling: {self.pooling!r} is not one of {', '.join(POOLINGS)}")
        self.weights = directory_fingerprint(self.path)
        self._model = self._tokenizer = None

    @property
    def fingerprint(self) -> str:
        key = {"weights": self.weights, "pooling": self.pooling, "max_length": self.options.max_length, "kind": "transformers"}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()

    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, "transformers", self.fingerprint, self.similarity, weights_sha256=self.weights,
                             pooling=self.pooling, details={"max_length": self.options.max_length,
                                                            "parameters": parameter_count(self.path)})

    def _load(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))
            model = AutoModel.from_pretrained(str(self.path))
        except Exception as exc:
            raise XbenchError(f"model {self.name}: cannot load the checkpoint ({str(exc).splitlines()[0][:200]})") from None
        device = self.options.device
        if device is None:
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model = model.to(device).eval()

    def encode(self, texts: list[str], role: str) -> np.ndarray:
        import torch

        self._load()
        max_length = self.options.max_length or min(512, getattr(self._tokenizer, "model_max_length", 512) or 512)
        out = []
        for start in range(0, len(texts), self.options.batch_size):
            batch = self._tokenizer(texts[start : start + self.options.batch_size], padding=True, truncation=True,
                                    max_length=max_length, return_tensors="pt").to(self._model.device)
            with torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out.append(pooled.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)
