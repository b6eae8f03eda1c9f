"""The BEIR reader streams corpus.jsonl (benchmark/engine/formats/beir.py): qrels map to the right
columns across chunks, duplicate ids are found (and a mere hash collision is not one), a corpus
truncated mid-line stops `xbench run` with one line, and a streamed corpus scores exactly as the
same texts held in memory."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.engine import textsource
from benchmark.engine.formats import beir
from benchmark.engine.textsource import TextSource
from benchmark.errors import XbenchError
from tests.conftest import write_task_definition


def write_folder(folder: Path, docs: list[tuple[str, str, str]], queries: list[tuple[str, str]],
                 qrels: list[tuple[str, str]], blank_every: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (doc_id, title, text) in enumerate(docs):
        lines.append(json.dumps({"_id": doc_id, "title": title, "text": text}))
        if blank_every and i % blank_every == 0:
            lines.append("")
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries))
    (folder / "qrels").mkdir(exist_ok=True)
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in qrels))
    return folder


DOCS = [(f"d{i}", f"title {i}", f"passage {i}") for i in range(7)]


def test_qrels_map_to_columns_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(textsource, "CHUNK_ROWS", 3)
    folder = write_folder(tmp_path / "en", DOCS, [("q1", "first"), ("q2", "second"), ("q3", "unanswered")],
                          [("q1", "d5"), ("q1", "d0"), ("q2", "d6")], blank_every=2)
    data = beir.read_beir(folder, "en", "sentence+context")
    assert isinstance(data.candidate_texts, TextSource) and not data.candidate_texts.in_memory
    assert [c.columns for c in data.candidate_texts.chunks()] == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert data.candidate_texts.texts() == [f"title {i} passage {i}" for i in range(7)]
    assert data.answers == {"q1": (0, 5), "q2": (6,)} and data.query_ids == ["q1", "q2"] and data.skipped_queries == 1


def test_a_duplicate_id_names_both_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(textsource, "CHUNK_ROWS", 2)
    docs = [*DOCS[:5], ("d1", "again", "a copy")]
    folder = write_folder(tmp_path / "en", docs, [("q1", "x")], [("q1", "d0")])
    with pytest.raises(XbenchError, match=rf"^{folder / 'corpus.jsonl'}: line 6: duplicate _id 'd1' \(first on line 2\)$"):
        beir.read_beir(folder, "en")


def test_a_hash_collision_is_not_a_duplicate(tmp_path, monkeypatch):
    """Every id hashed to 0: all collide, none is a duplicate, so the corpus is read."""
    monkeypatch.setattr(textsource, "CHUNK_ROWS", 2)
    monkeypatch.setattr(beir, "_id_hashes", lambda ids: __import__("numpy").zeros(len(ids), dtype="uint64"))
    folder = write_folder(tmp_path / "en", DOCS, [("q1", "x")], [("q1", "d3")])
    assert beir.read_beir(folder, "en").answers == {"q1": (3,)}


def test_a_qrel_naming_no_passage_is_refused(tmp_path):
    folder = write_folder(tmp_path / "en", DOCS, [("q1", "x")], [("q1", "d99")])
    with pytest.raises(XbenchError, match=r"corpus-id 'd99' is not in corpus.jsonl"):
        beir.read_beir(folder, "en")


def copy_task(synthetic, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the synthetic BEIR data (en, de) and a task definition over it."""
    root = tmp_path / "data"
    shutil.copytree(synthetic.root / "beir", root / "beir")
    return root, write_task_definition(tmp_path / "synbeir.toml", "synbeir", root, "beir/{lang}", ("en", "de"), fmt="beir")


def xbench_run(task: Path, root: Path, out: Path, cache: Path, *extra: str):
    return CliRunner().invoke(main, ["run", "--model", "ngram-hash", "--task", str(task), "--data-dir", str(root),
                                     "--cache-dir", str(cache), "--output", str(out), "-q", *extra])


def test_a_corpus_truncated_mid_line_stops_the_run_with_one_line(synthetic, tmp_path):
    root, _ = copy_task(synthetic, tmp_path)
    corpus = root / "beir" / "de" / "corpus.jsonl"
    data = corpus.read_bytes()
    corpus.write_bytes(data[: data.rstrip(b"\n").rfind(b"}")])  # the last line loses its closing brace
    n_lines = data.count(b"\n")
    task = write_task_definition(tmp_path / "synbeir.toml", "synbeir", root, "beir/{lang}", ("en", "de"), fmt="beir")
    result = xbench_run(task, root, tmp_path / "out", tmp_path / "cache")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(rf"xbench: error: {re.escape(str(corpus))}: line {n_lines}: the file ends in the middle of this line \(truncated\?\)", lines[0])
    assert not (tmp_path / "out" / "synbeir.json").exists()


def deterministic(folder: Path) -> dict[str, object]:
    """Every file of a result folder, the JSON without what describes the run rather than the result."""
    files: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".json":
            doc = json.loads(path.read_text())
            files[path.name] = {k: v for k, v in doc.items() if k not in ("xbench_version", "timings", "encoding", "hardware")}
        elif path.is_file():
            files[path.name] = path.read_bytes()
    return files


def test_a_streamed_corpus_scores_as_the_same_texts_in_memory(synthetic, tmp_path, monkeypatch):
    monkeypatch.setattr(textsource, "CHUNK_ROWS", 5)
    root, task = copy_task(synthetic, tmp_path)
    streamed = xbench_run(task, root, tmp_path / "streamed", tmp_path / "cache-s")
    assert streamed.exit_code == 0, streamed.output
    assert len(list((tmp_path / "cache-s").rglob("chunk-*.npz"))) > 2  # the corpus went through chunks
    monkeypatch.setattr(TextSource, "in_memory", property(lambda self: True))
    held = xbench_run(task, root, tmp_path / "held", tmp_path / "cache-h")
    assert held.exit_code == 0, held.output
    assert not list((tmp_path / "cache-h").rglob("chunk-*.npz"))
    assert deterministic(tmp_path / "streamed") == deterministic(tmp_path / "held")
