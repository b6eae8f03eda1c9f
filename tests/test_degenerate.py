"""The critical defect of issue 8 and its relatives: no vectors at the edges of float32 can make a
meaningless encoder score well, and every output a cast would silently change is refused.

Which outcome each case has: vectors of any finite non-zero scale (±1e-30, ×1e25, ±1e20 under a
dot product) are scored correctly, so a meaningless encoder lands at chance and a meaningful one
keeps its scores; float64 values outside float32's range and complex output are a one-line error
(exit 1) naming the model. The ranking kernel, as a last line of defence, ranks a non-finite
score below every finite one."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.encoders import check_embeddings
from benchmark.errors import XbenchError
from benchmark.metrics.average_precision import average_precision
from benchmark.metrics.ranking import rank_block
from benchmark.results.io import read_document, read_per_query
from benchmark.engine.search import DenseScorer
from tests import hostile_encoders
from tests.fake_http import LocalServer, answering

H = "tests.hostile_encoders:"


def run(tmp_path, synthetic, model, *extra, out="out"):
    args = ["run", "--model", model, "--task", str(synthetic.task), "--data-dir", str(synthetic.root),
            "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / out), "-q", *extra]
    return CliRunner().invoke(main, args)


def scores_of(tmp_path, synthetic, model, *extra, out="out"):
    """(result document, per-query frame) of a run that must succeed."""
    result = run(tmp_path, synthetic, model, *extra, out=out)
    assert result.exit_code == 0, result.output
    path = tmp_path / out / "synth.json"
    return read_document(path), read_per_query(path, read_document(path))


@pytest.fixture(scope="module")
def chance(tmp_path_factory, synthetic):
    """The per-query APs of a meaningless encoder at ordinary scale (±1), and the floor: those of
    the constant encoder (pessimistic ties put every relevant candidate last)."""
    tmp = tmp_path_factory.mktemp("chance")
    _, signs = scores_of(tmp, synthetic, H + "random_signs")
    floor, _ = scores_of(tmp, synthetic, "tests.encoders_for_tests:constant", out="floor")
    return signs, floor


@pytest.mark.parametrize("model", ["tiny_signs", "huge_signs"])
def test_meaningless_vectors_at_any_scale_score_at_chance(tmp_path, synthetic, chance, model):
    """±1e-30 and ×1e25 vectors have the directions of the ±1 ones: exactly the same APs, near the
    floor, far from the AP = 1.000 that NaN scores used to give."""
    signs, floor = chance
    doc, per_query = scores_of(tmp_path, synthetic, H + model)
    assert per_query.ap.tolist() == signs.ap.tolist()
    # pools of 25 candidates: chance is about 0.15 for one relevant; the constant encoder's floor 0.04
    for key in ("mono", "cross", "multi"):
        assert floor["scores"][key] <= doc["scores"][key] < 0.25, (key, doc["scores"], floor["scores"])
    assert (per_query.ap == 1.0).mean() < 0.05


@pytest.mark.parametrize("model, exact", [("TinyCountsExact", True), ("HugeCountsExact", True), ("TinyCounts", False), ("HugeCounts", False)])
def test_cosine_is_scale_invariant(tmp_path, synthetic, model, exact):
    """A meaningful encoder scaled by 2^-100 or 2^83 scores exactly as unscaled; by 1e-30 or 1e25
    (float32 rounding of the products) within rounding of the unscaled APs."""
    _, plain = scores_of(tmp_path, synthetic, H + "Counts", out="plain")
    _, scaled = scores_of(tmp_path, synthetic, H + model, out="scaled")
    if exact:
        assert scaled.equals(plain)
    else:
        assert np.abs(scaled.ap - plain.ap).max() < 0.05 and abs(scaled.ap.mean() - plain.ap.mean()) < 1e-3


def test_overflowing_dot_products_score_at_chance(tmp_path, synthetic, chance):
    """±1e20 with --no-normalize: float32 products would overflow; the scores are finite and rank
    exactly like the ±1 vectors' dot products (the same order as their cosines)."""
    signs, _ = chance
    doc, per_query = scores_of(tmp_path, synthetic, H + "OverflowingDot", "--no-normalize")
    assert not doc["model"]["normalized"]
    assert per_query.ap.tolist() == signs.ap.tolist()
    assert doc["scores"]["multi"] < 0.25


@pytest.mark.parametrize("model, needle", [("float64_huge", "overflows float32"), ("float64_tiny", "underflows float32"), ("complex_output", "complex")])
def test_values_a_cast_would_change_are_refused(tmp_path, synthetic, model, needle):
    result = run(tmp_path, synthetic, H + model)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("xbench: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert H + model in lines[0] and needle in lines[0], lines[0]


def test_check_embeddings_edges():
    assert check_embeddings("m", np.full((1, 4), 3e38), 1, None).dtype == np.float32  # within float32
    assert check_embeddings("m", np.full((1, 4), 1e-45), 1, None).any()  # rounds to the smallest subnormal
    for value, needle in ((3.5e38, "overflows"), (1e-46, "underflows"), (-1e300, "overflows")):
        with pytest.raises(XbenchError, match=needle):
            check_embeddings("m", np.array([[1.0, value]]), 1, None)
    with pytest.raises(XbenchError, match="model m: returned complex"):
        check_embeddings("m", [[1 + 0j, 2]], 1, None)
    torch = pytest.importorskip("torch")
    with pytest.raises(XbenchError, match="complex"):
        check_embeddings("m", torch.ones((1, 3), dtype=torch.complex64), 1, None)
    half = check_embeddings("m", torch.ones((2, 3), dtype=torch.bfloat16), 2, None)
    assert half.dtype == np.float32 and half.tolist() == [[1.0] * 3] * 2


def test_dense_scorer_refuses_non_finite_vectors():
    good = np.ones((2, 3), dtype=np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        broken = good.copy()
        broken[1, 2] = bad
        with pytest.raises(XbenchError, match="model m: query vectors contain NaN or inf"):
            DenseScorer(broken, good, "m")
        with pytest.raises(XbenchError, match="model m: passage vectors contain NaN or inf"):
            DenseScorer(good, broken, "m")
    with pytest.raises(XbenchError, match="model m: an all-zero passage vector"):
        DenseScorer(good, np.zeros((2, 3), dtype=np.float32), "m", cosine=True)


# ---- the ranking kernel's last line of defence: non-finite = worst, hand-computed ----------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_scores_rank_last(dtype):
    def ranks(scores, relevant):
        return rank_block(np.asarray([scores], dtype=dtype), np.asarray([relevant]), 0)[0][0].tolist()

    nan, inf = np.nan, np.inf
    assert ranks([0.1, nan, 0.3, 0.2], [1]) == [4]  # a NaN relevant: below every finite score
    assert ranks([nan, nan, nan, nan, nan], [2]) == [5]  # all NaN: the bottom of the pool
    assert ranks([nan, nan, nan, nan, nan], [0, 4]) == [4, 5]
    assert ranks([0.5, inf, 0.1], [1]) == [3]  # +inf is not a win
    assert ranks([0.5, -inf, nan, 0.1], [1]) == [4]  # -inf ties with NaN: pessimistically last
    assert ranks([nan, 0.2, inf, 0.1], [1]) == [1]  # non-finite non-relevant ones never help them
    assert ranks([nan, 0.2, -inf, 0.1, 0.9], [3, 0]) == [3, 5]
    assert average_precision(np.asarray([ranks([nan] * 10, [4])]))[0] == pytest.approx(0.1)


def test_top_k_is_not_fooled_by_nan():
    scores = np.array([[np.nan, 0.3, np.inf, 0.9, np.nan, 0.5, -np.inf, 0.1]], dtype=np.float32)
    ranks, cols, top = rank_block(scores, np.array([[0]]), 5)
    assert ranks.tolist() == [[8]]
    # best finite first, then the non-finite ones (reported as -inf), non-relevant before relevant
    assert cols.tolist() == [[3, 5, 1, 7, 2]] and top[0, :4].tolist() == pytest.approx([0.9, 0.5, 0.3, 0.1])
    assert top[0, 4] == -np.inf
    _, cols, _ = rank_block(np.full((1, 6), np.nan, dtype=np.float64), np.array([[0, 3]]), 6)
    assert cols.tolist() == [[1, 2, 4, 5, 0, 3]]


# ---- an embedding API that answers with ±1e-30 vectors --------------------------------------------


def tiny_vectors(request):
    """An OpenAI-compatible /v1/embeddings answer: every text gets a ±1e-30 vector."""
    texts = request.json_body()["input"]
    vectors = hostile_encoders.tiny_signs(texts).astype(np.float64)
    data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
    request.send_json({"data": data, "usage": {"prompt_tokens": 1, "total_tokens": 1}})


def test_http_endpoint_with_tiny_vectors_scores_at_chance(tmp_path, synthetic, chance, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    signs, _ = chance
    with LocalServer(answering(tiny_vectors)) as server:
        doc, per_query = scores_of(tmp_path, synthetic, "openai:tiny", "--api-base", f"{server.url}/v1")
    assert per_query.ap.tolist() == signs.ap.tolist()
    assert doc["scores"]["multi"] < 0.25 and doc["scores"]["mono"] < 0.25
