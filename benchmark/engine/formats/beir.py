"""Reader for BEIR-style folders, as MIRACL ships them: one folder per language holding
``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``, ``text``) and
``qrels/<split>.tsv`` (``query-id``, ``corpus-id``, ``score``; a score above 0 is relevant).

Query ids shared across language folders mark translations, which is what gives a BEIR-style task
cross-lingual and multilingual settings; with no shared ids it has monolingual ones only.
``candidate_text="sentence+context"`` puts the title before the passage text (a missing title
is "").

The corpus is streamed (:mod:`benchmark.engine.jsonlines`): it is read once here, chunk by chunk,
to count its passages, check their ids and find the columns of the passages the qrels name; its
candidates are a :class:`~benchmark.engine.textsource.TextSource` of chunk locators, re-read
when they are embedded. No list of every passage id or text is built: duplicate ids are found
from 64-bit hashes in numpy, and only hash collisions are checked on the strings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.engine.corpus import LanguageData
from benchmark.engine.jsonlines import JsonlLocator, line_chunks, parse_chunk, read_chunk
from benchmark.engine.textsource import TextSource
from benchmark.errors import XbenchError

QRELS_PREFERENCE = ("test.tsv", "dev.tsv", "train.tsv")


def _id_hashes(ids: list[str]) -> np.ndarray:
    return pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False)


def _jsonl(path: Path, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """A small JSON-lines file (the queries) read whole, with the corpus's parser and errors."""
    columns: dict[str, list[str]] = {name: [] for name in fields}
    for chunk in line_chunks(path):
        for name, values in parse_chunk(path, read_chunk(path, chunk), chunk, fields).items():
            columns[name] += values
    return columns


def _qrels(folder: Path) -> pd.DataFrame:
    qrels_dir = folder / "qrels"
    names = [n for n in QRELS_PREFERENCE if (qrels_dir / n).is_file()]
    if not names:
        raise XbenchError(f"{qrels_dir}: no {' / '.join(QRELS_PREFERENCE)} found")
    path = qrels_dir / names[0]
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise XbenchError(f"{path}: malformed TSV ({str(exc).splitlines()[0]})") from None
    for name in ("query-id", "corpus-id", "score"):
        if name not in frame.columns:
            raise XbenchError(f"{path}: missing column {name!r}")
    scores = pd.to_numeric(frame["score"], errors="coerce")
    if scores.isna().any():
        row = int(scores.isna().to_numpy().argmax()) + 2
        raise XbenchError(f"{path}: line {row}: field 'score' is not a number")
    return frame[scores > 0]


def scan_corpus(path: Path, candidate_text: str, wanted: set[str]) -> tuple[TextSource, dict[str, int]]:
    """One pass over ``corpus.jsonl``: its chunks as a TextSource, and the column of each id of
    ``wanted`` found in it. Refuses a broken line and a duplicate ``_id``, naming the line."""
    pieces, found, hashes, column = [], {}, [], 0
    for chunk in line_chunks(path):
        ids = parse_chunk(path, read_chunk(path, chunk), chunk, ("_id", "text"))["_id"]
        hashes.append(_id_hashes(ids))
        for row, doc_id in enumerate(ids):
            if doc_id in wanted:
                found.setdefault(doc_id, column + row)
        pieces.append((chunk.rows, JsonlLocator(str(path.absolute()), chunk.start, chunk.stop, chunk.first_line, candidate_text, chunk.rows)))
        column += chunk.rows
    _refuse_duplicates(path, np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64))
    return TextSource(pieces), found


def _refuse_duplicates(path: Path, hashes: np.ndarray) -> None:
    """Sort the ids' hashes; if two are equal, read the file again for the ids with those hashes
    only, and name the first true duplicate (a mere hash collision passes)."""
    ordered = np.sort(hashes)
    colliding = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not len(colliding):
        return
    first_seen: dict[str, int] = {}
    for chunk in line_chunks(path):
        data = read_chunk(path, chunk)
        ids = parse_chunk(path, data, chunk, ("_id",))["_id"]
        suspects = np.flatnonzero(np.isin(_id_hashes(ids), colliding))
        if not len(suspects):
            continue
        lines = [chunk.first_line + n for n, raw in enumerate(data.split(b"\n")) if raw.strip(b" \t\r")]
        for row in suspects:
            doc_id = ids[row]
            if doc_id in first_seen:
                raise XbenchError(f"{path}: line {lines[row]}: duplicate _id {doc_id!r} (first on line {first_seen[doc_id]})")
            first_seen[doc_id] = lines[row]


def read_beir(path: Path, lang: str, candidate_text: str = "sentence") -> LanguageData:
    """Read one language folder; queries without a relevant passage are skipped."""
    qrels = _qrels(path)
    candidates, doc_column = scan_corpus(path / "corpus.jsonl", candidate_text, set(qrels["corpus-id"]))
    queries = _jsonl(path / "queries.jsonl", ("_id", "text"))
    relevant: dict[str, list[int]] = {}
    for qid, doc_id in zip(qrels["query-id"], qrels["corpus-id"]):
        if doc_id not in doc_column:
            raise XbenchError(f"{path / 'qrels'}: corpus-id {doc_id!r} is not in corpus.jsonl")
        relevant.setdefault(qid, []).append(doc_column[doc_id])
    query_ids, query_texts, skipped = [], [], 0
    for qid, text in zip(queries["_id"], queries["text"]):
        if qid in relevant:
            query_ids.append(qid)
            query_texts.append(text)
        else:
            skipped += 1
    if len(set(query_ids)) != len(query_ids):
        raise XbenchError(f"{path / 'queries.jsonl'}: duplicate _id")
    answers = {qid: tuple(sorted(set(relevant[qid]))) for qid in query_ids}
    return LanguageData(lang, query_ids, query_texts, candidates, answers, skipped)
