"""Candidate texts as chunks (benchmark/engine/textsource.py) and JSON-lines files cut into line
chunks and parsed (benchmark/engine/jsonlines.py): where the cuts fall, what a chunk re-reads,
and the one-line errors that name a broken line."""

from __future__ import annotations

import pickle

import pytest

from benchmark.engine import textsource
from benchmark.engine.jsonlines import JsonlLocator, LineChunk, line_chunks, parse_chunk, read_chunk
from benchmark.engine.textsource import InlineLocator, TextChunk, TextSource
from benchmark.errors import XbenchError


def test_a_list_is_cut_every_chunk_rows_and_parts_never_share_a_chunk(monkeypatch):
    monkeypatch.setattr(textsource, "CHUNK_ROWS", 3)
    first = TextSource.from_texts([f"a{i}" for i in range(7)])
    second = TextSource.from_texts(["b0", "b1"])
    joined = TextSource.concat([first, second])
    assert len(first) == 7 and len(joined) == 9 and joined.in_memory
    assert list(joined.chunks()) == [
        TextChunk(slice(0, 3), InlineLocator(("a0", "a1", "a2"))),
        TextChunk(slice(3, 6), InlineLocator(("a3", "a4", "a5"))),
        TextChunk(slice(6, 7), InlineLocator(("a6",))),
        TextChunk(slice(7, 9), InlineLocator(("b0", "b1"))),  # a new part starts a new chunk
    ]
    assert joined.texts() == list(joined) == [*(f"a{i}" for i in range(7)), "b0", "b1"]
    assert len(TextSource.from_texts([])) == 0 and list(TextSource.from_texts([]).chunks()) == []


def test_lines_are_cut_after_every_n_non_blank_lines(tmp_path):
    path = tmp_path / "f.jsonl"
    #        line 1    2     3      4    5     6  (no final newline)
    data = b'{"a":1}\n\n{"a":2}\n  \r\n{"a":3}\n{"a":4}'
    path.write_bytes(data)
    cut = list(line_chunks(path, rows=2))
    # chunk 1 ends after line 3 (the second non-blank line), chunk 2 runs to the end of the file
    assert cut == [LineChunk(0, 17, 1, 2), LineChunk(17, len(data), 4, 2)]
    assert read_chunk(path, cut[1]) == b'  \r\n{"a":3}\n{"a":4}'
    assert list(line_chunks(path, rows=10)) == [LineChunk(0, len(data), 1, 4)]
    (tmp_path / "blank.jsonl").write_bytes(b"\n \n")
    assert list(line_chunks(tmp_path / "blank.jsonl", rows=2)) == []


def test_cuts_do_not_depend_on_the_read_block(tmp_path, monkeypatch):
    from benchmark.engine import jsonlines

    path = tmp_path / "f.jsonl"
    path.write_bytes(b"".join(b'{"a":%d}\n' % i + (b"\n" if i % 3 == 0 else b"") for i in range(40)))
    whole = list(line_chunks(path, rows=7))
    for block in (1, 2, 5, 13):
        monkeypatch.setattr(jsonlines, "BLOCK_BYTES", block)
        assert list(line_chunks(path, rows=7)) == whole
    assert [c.rows for c in whole] == [7, 7, 7, 7, 7, 5]


def corpus(tmp_path, lines: list[str]):
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_locator_re_reads_its_chunk_and_pickles(tmp_path):
    path = corpus(tmp_path, ['{"_id": "d1", "title": "T1", "text": "one"}', "",
                             '{"_id": "d2", "text": "two"}',
                             '{"_id": "d3", "title": null, "text": "three"}'])
    chunk = list(line_chunks(path, rows=2))[1]
    assert (chunk.first_line, chunk.rows) == (4, 1)
    sentence = JsonlLocator(str(path), chunk.start, chunk.stop, chunk.first_line, "sentence", chunk.rows)
    assert sentence.texts() == ["three"]
    whole = next(line_chunks(path, rows=5))
    both = JsonlLocator(str(path), whole.start, whole.stop, whole.first_line, "sentence+context", whole.rows)
    assert both.texts() == ["T1 one", "two", "three"]  # no title, or a null one: the text alone
    assert pickle.loads(pickle.dumps(both)).texts() == both.texts()


def test_what_arrow_refuses_is_read_line_by_line_with_the_same_texts(tmp_path):
    """A lone surrogate escape and an id that is a number on one line and a string on the next."""
    path = corpus(tmp_path, ['{"_id": 7, "text": "x\\ud800y"}', '{"_id": "b", "text": 3}'])
    chunk = next(line_chunks(path, rows=5))
    columns = parse_chunk(path, read_chunk(path, chunk), chunk, ("_id", "text"))
    assert columns == {"_id": ["7", "b"], "text": ["x\ud800y", "3"]}


@pytest.mark.parametrize("lines, line, message", [
    (['{"_id": "a", "text": "x"}', '', '{"_id": "b", "text": "y'], 3, r"not valid JSON \(Unterminated string"),
    (['{"_id": "a", "text": "x"}', '[1, 2]'], 2, "not a JSON object"),
    (['{"_id": "a", "text": "x"} {"_id": "b", "text": "y"}'], 1, r"not valid JSON \(Extra data"),
    (['{"_id": "a"}', '{"_id": "b"}'], 1, "missing field 'text'"),
])
def test_a_broken_line_is_named(tmp_path, lines, line, message):
    path = corpus(tmp_path, lines)
    chunk = next(line_chunks(path, rows=5))
    with pytest.raises(XbenchError, match=rf"^{path}: line {line}: {message}") as raised:
        parse_chunk(path, read_chunk(path, chunk), chunk, ("_id", "text"))
    assert "\n" not in str(raised.value)


def test_a_file_truncated_mid_line_is_named_at_its_last_line(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b'{"_id": "a", "text": "x"}\n{"_id": "b", "text": "y"}\n{"_id": "c", "te')
    chunks = list(line_chunks(path, rows=2))
    assert [c.rows for c in chunks] == [2, 1]
    with pytest.raises(XbenchError, match=rf"^{path}: line 3: the file ends in the middle of this line \(truncated\?\)$"):
        parse_chunk(path, read_chunk(path, chunks[1]), chunks[1], ("_id", "text"))
    # cut inside a multi-byte character: still a truncated line, not "not UTF-8"
    path.write_bytes('{"_id": "a", "text": "x"}\n{"_id": "b", "text": "ä'.encode()[:-1])
    (chunk,) = line_chunks(path, rows=5)
    with pytest.raises(XbenchError, match=r"line 2: the file ends in the middle of this line"):
        parse_chunk(path, read_chunk(path, chunk), chunk, ("_id", "text"))
    # a broken line followed by a newline is named for what it is
    path.write_bytes(b'{"_id": "a", "te\n{"_id": "b", "text": "y"}\n')
    (chunk,) = line_chunks(path, rows=5)
    with pytest.raises(XbenchError, match=r"line 1: not valid JSON"):
        parse_chunk(path, read_chunk(path, chunk), chunk, ("_id", "text"))


def test_a_file_changed_since_it_was_cut_is_refused(tmp_path):
    path = corpus(tmp_path, ['{"_id": "a", "text": "x"}', '{"_id": "b", "text": "y"}'])
    chunk = next(line_chunks(path, rows=5))
    locator = JsonlLocator(str(path), chunk.start, chunk.stop, chunk.first_line, "sentence", chunk.rows)
    path.write_text('{"text":"x"}\n' * 4)  # the same 52 bytes now hold four records
    with pytest.raises(XbenchError, match="changed while being read"):
        locator.texts()
