"""Turning ``--model`` into an encoder.

``--model`` is looked up in this order: ``openai:NAME`` for an OpenAI-compatible embedding API
(:mod:`.openai_http`), a name registered under the entry-point group
``xbench.encoders`` (a factory called as ``factory(options=EncoderOptions)``), then
``package.module:attr`` (:mod:`.callable`), then a local directory holding a plain transformers
checkpoint (no ``modules.json``: :mod:`.transformers_checkpoint`, pooled by ``--pooling``), then a
sentence-transformers hub name or local directory (:mod:`.sentence_transformer`).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from .base import Encoder, EncoderOptions, check_embeddings
from .callable import CallableEncoder, user_code
from .sentence_transformer import SentenceTransformerEncoder

__all__ = ["Encoder", "EncoderOptions", "check_embeddings", "load_encoder", "registered_encoders"]

_CALLABLE_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def registered_encoders() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group="xbench.encoders")}


def load_encoder(spec: str, options: EncoderOptions | None = None) -> Encoder:
    options = options or EncoderOptions()
    if spec.startswith("openai:"):
        from .openai_http import OpenAIEncoder

        return OpenAIEncoder(spec[len("openai:"):], options)
    registry = registered_encoders()
    if spec in registry:
        with user_code(f"model {spec}: registered encoder failed to load"):  # SystemExit too
            factory = registry[spec].load()
            return factory(options=options)
    if _CALLABLE_SPEC.fullmatch(spec) and not Path(spec).exists():
        return CallableEncoder(spec, options)
    local = Path(spec).expanduser()
    if local.is_dir() and not (local / "modules.json").is_file() and (local / "config.json").is_file():
        from .transformers_checkpoint import TransformersEncoder

        return TransformersEncoder(spec, options)
    return SentenceTransformerEncoder(spec, options)
