"""benchmarks/scale.py generate: the synthetic scale collection is deterministic, well-formed, and a
task xbench runs. Needs the real XQuAD-R data (skipped without it), except the error tests."""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from benchmark.cli import main as xbench
from benchmark.engine.formats.lareqa import read_lareqa
from benchmark.engine.task import load_task
from benchmark.engine.taskregistry import get_task
from tests.paths import REPO, SHARED_LAREQA

sys.path.insert(0, str(REPO / "benchmarks"))  # the benchmark scripts are not a package
import scale  # noqa: E402
import scale_collection  # noqa: E402

real = pytest.mark.skipif(SHARED_LAREQA is None, reason="real LAReQA data (xquad-r) not present")
LANGS = scale_collection.LANGUAGES


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def qrels(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "query-id\tcorpus-id\tscore"
    return [line.split("\t") for line in lines[1:]]


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


SIZES = {"subset": (700, 5), "distractors": (10503, 12)}


@pytest.fixture(scope="module", params=sorted(SIZES))
def collection(request, tmp_path_factory) -> tuple[Path, int, int]:
    """"subset": 100 passages a language, fewer than XQuAD-R's ~1,200 sentences (the answer
    sentences and the first others); "distractors": 1,501 in ar, de, es and 1,500 in the others
    (every real sentence plus distractors)."""
    if SHARED_LAREQA is None:
        pytest.skip("real LAReQA data (xquad-r) not present")
    passages, queries = SIZES[request.param]
    out = tmp_path_factory.mktemp("scale") / "coll"
    scale_collection.generate(out, passages, queries, seed=0, data_dir=SHARED_LAREQA)
    return out, passages, queries


def test_split_sizes_and_draws_are_fixed():
    assert scale_collection.split_sizes(10503, 7) == [1501, 1501, 1501, 1500, 1500, 1500, 1500]
    assert scale_collection.split_sizes(10, 3) == [4, 3, 3]
    digest = hashlib.sha256(b"xbench-scale\x000\x00distractor:en\x00" + struct.pack("<2Q", 5, 0)).digest()
    assert scale_collection.Draws(0, "distractor:en").block(5, 0) == struct.unpack("<4Q", digest)
    assert scale_collection.Draws(0, "distractor:en").block(5, 0) != scale_collection.Draws(1, "distractor:en").block(5, 0)
    assert scale_collection.Draws(0, "distractor:en").block(5, 0) != scale_collection.Draws(0, "distractor:de").block(5, 0)


@real
def test_same_arguments_same_bytes(collection, tmp_path):
    collection, passages, queries = collection
    again = tmp_path / "coll"  # same folder name: scale.toml's data_folder is the folder's name
    scale_collection.generate(again, passages, queries, seed=0, data_dir=SHARED_LAREQA)
    assert files_of(again) == files_of(collection)
    other = tmp_path / "seed1" / "coll"
    scale_collection.generate(other, passages, queries, seed=1, data_dir=SHARED_LAREQA)
    first, second = files_of(collection), files_of(other)
    assert first["en/queries.jsonl"] == second["en/queries.jsonl"] and first["en/qrels/test.tsv"] == second["en/qrels/test.tsv"]
    if passages > 7 * 1300:  # with distractors (the subset has none: the seed changes nothing)
        assert first["en/corpus.jsonl"] != second["en/corpus.jsonl"]  # the seed moves the distractors only
    else:
        assert {k: v for k, v in first.items() if k != "scale.toml"} == {k: v for k, v in second.items() if k != "scale.toml"}


@real
def test_counts_ids_and_parallel_queries(collection):
    collection, passages, n_queries = collection
    sizes = dict(zip(LANGS, scale_collection.split_sizes(passages, 7)))
    query_ids = None
    for lang in LANGS:
        corpus = jsonl(collection / lang / "corpus.jsonl")
        assert len(corpus) == sizes[lang]
        ids = [doc["_id"] for doc in corpus]
        assert len(set(ids)) == len(ids)
        assert all(set(doc) == {"_id", "title", "text"} and doc["text"] for doc in corpus)
        queries = jsonl(collection / lang / "queries.jsonl")
        assert len(queries) == n_queries
        if query_ids is None:
            query_ids = [q["_id"] for q in queries]
        assert [q["_id"] for q in queries] == query_ids  # the same ids, in the same order, everywhere
        pairs = qrels(collection / lang / "qrels" / "test.tsv")
        assert {qid for qid, _, _ in pairs} == set(query_ids)
        assert all(doc in set(ids) and doc.startswith(f"s{lang}-") and score == "1" for _, doc, score in pairs)


@real
def test_answers_are_xquad_answers_and_distractors_are_not(collection):
    collection, passages, _ = collection
    for lang in LANGS:
        data = read_lareqa(SHARED_LAREQA / "xquad-r" / f"{lang}.json", lang)
        texts = data.candidate_texts.texts()
        corpus = {doc["_id"]: doc["text"] for doc in jsonl(collection / lang / "corpus.jsonl")}
        for qid, doc, _ in qrels(collection / lang / "qrels" / "test.tsv"):
            i = int(doc.split("-")[1])
            assert i in data.answers[qid] and corpus[doc] == texts[i]
        real_texts = set(texts)
        distractors = [text for doc_id, text in corpus.items() if doc_id.startswith(f"d{lang}-")]
        assert not real_texts & set(distractors)
        assert len(distractors) == max(0, len(corpus) - len(texts))  # every real sentence first, if room
        assert len(distractors) + sum(doc_id.startswith(f"s{lang}-") for doc_id in corpus) == len(corpus)
        questions = dict(zip(data.query_ids, data.query_texts))
        assert all(q["text"] == questions[q["_id"]] for q in jsonl(collection / lang / "queries.jsonl"))
    if passages < 7 * 1300:
        return
    zh = [doc["text"] for doc in jsonl(collection / "zh" / "corpus.jsonl") if doc["_id"].startswith("dzh-")]
    assert sum(text.count(" ") for text in zh) < sum(map(len, zh)) / 20  # cut by characters: no spaces added


@real
def test_the_collection_runs_end_to_end(collection, tmp_path):
    collection, passages, queries = collection
    args = ["run", "--task", str(collection / "scale.toml"), "--data-dir", str(collection), "--model", "ngram-hash",
            "--output", str(tmp_path / "res"), "--cache-dir", str(tmp_path / "cache"), "-q"]
    result = CliRunner().invoke(xbench, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "res" / "scale.json").read_text())
    assert doc["counts"]["queries"] == {lang: queries for lang in LANGS}
    assert doc["counts"]["candidates"] == dict(zip(LANGS, scale_collection.split_sizes(passages, 7)))
    assert set(doc["aggregates"]) == {"mono", "cross", "multi"}
    assert doc["aggregates"]["mono"]["map"] > doc["aggregates"]["cross"]["map"] > 0  # ngram-hash: lexical
    assert doc["data"]["checksums"] == tomllib.loads((collection / "scale.toml").read_text())["files"]
    # data_folder: a root holding the collection's folder serves too (XBENCH_DATA=<out>/..)
    task = load_task(get_task(str(collection / "scale.toml")), collection.parent, download=False)
    assert task.files.root == collection and task.files.official


@real
def test_too_few_passages_and_bad_languages_are_usage_errors(tmp_path, capsys):
    assert scale.main(["generate", str(tmp_path / "a"), "--passages", "35", "--queries-per-language", "20",
                       "--data-dir", str(SHARED_LAREQA)]) == 2
    err = capsys.readouterr().err
    # 20 questions of XQuAD-R's first paragraphs share 8 answer sentences in ar
    assert err == "error: --passages: 5 passages per language cannot hold the 8 answer sentences of 20 queries in ar; ask for more passages or fewer queries\n"
    assert not (tmp_path / "a").exists()
    assert scale.main(["generate", str(tmp_path / "b"), "--passages", "100", "--languages", "en,xx",
                       "--data-dir", str(SHARED_LAREQA)]) == 2
    assert "--languages: 'xx' is not an XQuAD-R language" in capsys.readouterr().err


def test_missing_source_data_is_one_line_exit_1(tmp_path, capsys):
    assert scale.main(["generate", str(tmp_path / "out"), "--passages", "100", "--data-dir", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: task xquad-r: ") and "not found" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
