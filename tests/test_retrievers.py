"""Two roles: an encoder turns texts into vectors; a retriever scores pools. BM25 is a retriever,
not an encoder; the dense retriever wraps any encoder. One identity record serves both."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from benchmark.encoders import EncoderOptions, ModelIdentity, RemoteEncoder
from benchmark.encoders.ngram_hash import NgramHashEncoder
from benchmark.encoders.openai_http import OpenAIEncoder
from benchmark.engine.cache import EmbeddingCache
from benchmark.engine.search import DenseScorer
from benchmark.engine.settings import TaskIndex
from benchmark.engine.textsource import TextSource
from benchmark.retrievers import DenseRetriever, Retriever, Workspace, load_model

SUBMISSIONS = Path(__file__).resolve().parents[1] / "leaderboard" / "submissions"
RUN_FACTS = ("dimension", "query_prompt", "passage_prompt", "normalized")  # what a run adds to the identity


def small_index() -> TaskIndex:
    candidates = ["the cat sat", "a dog barked", "die katze", "der hund"]
    queries = ["cat", "dog", "katze"]
    return TaskIndex(("en", "de"), ["q0", "q1", "q2"], queries, np.array([0, 0, 1]), TextSource.from_texts(candidates), {"en": 0, "de": 2}, {"en": 2, "de": 2})


def recorded_identity(folder: str) -> dict:
    model = json.loads((SUBMISSIONS / folder / "xquad-r.json").read_text())["model"]
    return {k: v for k, v in model.items() if k not in RUN_FACTS}


def test_bm25_is_a_retriever_not_an_encoder():
    pytest.importorskip("bm25s")
    bm25 = load_model("bm25")
    assert isinstance(bm25, Retriever) and not isinstance(bm25, DenseRetriever)
    assert not hasattr(bm25, "encode") and not bm25.uses_cache
    scorer = bm25.index(small_index(), Workspace(EmbeddingCache(Path("/nonexistent-never-written"))))
    # the vocabulary of the pool of all, the coordinates of its term vectors (bm25s adds "" to it)
    assert not scorer.cosine and scorer.dimension == len({"the", "cat", "sat", "a", "dog", "barked", "die", "katze", "der", "hund", ""})
    assert scorer.block(np.arange(3), slice(0, scorer.n_candidates))(slice(0, 4)).shape == (3, 4)


def test_bm25_identity_is_the_boards():
    pytest.importorskip("bm25s")
    recorded = recorded_identity("bm25__bm25s_0.3.16")
    if recorded["revision"] != f"bm25s {metadata.version('bm25s')}":
        pytest.skip("another bm25s version than the board's")
    assert json.dumps(load_model("bm25").identity().to_dict()) == json.dumps(recorded)


def test_the_dense_retriever_wraps_any_encoder(tmp_path):
    retriever = load_model("ngram-hash")
    assert isinstance(retriever, DenseRetriever) and isinstance(retriever.encoder, NgramHashEncoder) and retriever.uses_cache
    assert retriever.identity() == retriever.encoder.identity() and retriever.usage() == {}
    work = Workspace(EmbeddingCache(tmp_path / "cache"))
    scorer = retriever.index(small_index(), work)
    assert isinstance(scorer, DenseScorer) and scorer.cosine and scorer.dimension == 512
    assert (work.queries.unique, work.passages.unique, work.queries.encoded + work.passages.encoded) == (3, 4, 7)
    again = Workspace(EmbeddingCache(tmp_path / "cache"))
    retriever.index(small_index(), again)
    assert again.queries.encoded + again.passages.encoded == 0 and again.cache.stats.hits == 7
    assert json.dumps(retriever.identity().to_dict()) == json.dumps(recorded_identity("ngram-hash-3-512__0e42a98ee57c"))


def test_normalisation_is_the_options_or_the_similarity(tmp_path):
    dot = NgramHashEncoder(similarity="dot")
    work = Workspace(EmbeddingCache(tmp_path))
    assert not DenseRetriever(dot, EncoderOptions()).index(small_index(), work).cosine
    assert DenseRetriever(dot, EncoderOptions(normalize=True)).index(small_index(), work).cosine


class Metered(RemoteEncoder, NgramHashEncoder):
    flush_size = 2

    def usage(self) -> dict[str, int]:
        return {"api_requests": 3}


def test_usage_comes_through_the_declared_interface(tmp_path):
    retriever = DenseRetriever(Metered(), EncoderOptions())
    assert retriever.usage() == {"api_requests": 3}
    work = Workspace(EmbeddingCache(tmp_path))
    retriever.index(small_index(), work)
    assert len(list((tmp_path).rglob("*.npz"))) == 4  # flushes of flush_size = 2: queries 2 + 1, passages 2 + 2


def test_the_api_encoder_identity_is_the_boards():
    encoder = OpenAIEncoder("e5-{role}", EncoderOptions(api_base="http://127.0.0.1:8765/v1"))
    assert isinstance(encoder, RemoteEncoder) and set(encoder.usage()) == {"api_requests", "api_retries", "api_tokens"}
    assert json.dumps(encoder.identity().to_dict()) == json.dumps(recorded_identity("openai_e5-_role__ec20099ebdfd"))


def test_identity_records_present_nulls_and_leaves_out_absent_fields():
    bare = ModelIdentity("m", "builtin", "f" * 64, "cosine")
    assert bare.to_dict() == {"name": "m", "kind": "builtin", "fingerprint": "f" * 64, "similarity": "cosine"}
    hub = ModelIdentity("m", "sentence-transformers", "f", "cosine", revision="abc", weights_sha256=None, details={"max_length": None})
    assert list(hub.to_dict().items()) == [("name", "m"), ("kind", "sentence-transformers"), ("revision", "abc"),
                                           ("weights_sha256", None), ("fingerprint", "f"), ("similarity", "cosine"), ("max_length", None)]
    with pytest.raises(ValueError, match="'revision' is a field of its own"):
        ModelIdentity("m", "k", "f", "dot", details={"revision": "x"})


class _DictIdentity:
    """A plugin encoder written before ModelIdentity: its identity() is a plain dict."""

    name, similarity, fingerprint = "old-plugin", "dot", "f" * 8

    def __init__(self, identity):
        self._identity = identity

    def identity(self):
        return self._identity

    def encode(self, texts, role):
        return np.ones((len(texts), 2), dtype=np.float32)


def test_a_plain_mapping_identity_is_still_accepted():
    given = {"name": "old-plugin", "fingerprint": "f" * 8, "revision": "v1", "extra": 3}
    record = DenseRetriever(_DictIdentity(given), EncoderOptions()).identity().to_dict()
    assert record == {"name": "old-plugin", "kind": "plugin", "revision": "v1", "fingerprint": "f" * 8, "similarity": "dot", "extra": 3}


@pytest.mark.parametrize("given", [None, "x", {"name": "old-plugin"}, {"fingerprint": "f", "name": ""}])
def test_an_identity_without_name_or_fingerprint_is_refused_naming_the_model(given):
    from benchmark.errors import XbenchError

    with pytest.raises(XbenchError, match="^model old-plugin: identity\\(\\) must return a ModelIdentity"):
        DenseRetriever(_DictIdentity(given), EncoderOptions()).identity()
