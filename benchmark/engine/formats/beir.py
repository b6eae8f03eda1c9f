"""Reader for BEIR-style folders, as MIRACL ships them: one folder per language holding
``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``, ``text``) and
``qrels/<split>.tsv`` (``query-id``, ``corpus-id``, ``score``; a score above 0 is relevant).

Query ids shared across language folders mark translations, which is what gives a BEIR-style task
cross-lingual and multilingual settings; with no shared ids it has monolingual ones only.
``candidate_text="sentence+context"`` puts the title before the passage text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark.engine.corpus import LanguageData
from benchmark.errors import XbenchError

QRELS_PREFERENCE = ("test.tsv", "dev.tsv", "train.tsv")


def _jsonl(path: Path, fields: tuple[str, ...]) -> dict[str, list]:
    """Read a JSON-lines file column-wise with ``datasets`` (arrow-backed, fine for large corpora)."""
    import datasets

    datasets.disable_progress_bars()
    if not path.is_file():
        raise XbenchError(f"{path}: file not found")
    try:
        table = datasets.Dataset.from_json(str(path), keep_in_memory=True)
    except Exception as exc:  # datasets wraps parse errors in several exception types
        raise XbenchError(f"{path}: not valid JSON lines ({str(exc).splitlines()[0][:200]})") from None
    for name in fields:
        if name not in table.column_names:
            raise XbenchError(f"{path}: missing field {name!r}")
    return {name: [("" if v is None else str(v)) for v in table[name]] for name in fields}


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


def read_beir(path: Path, lang: str, candidate_text: str = "sentence") -> LanguageData:
    """Read one language folder; queries without a relevant passage are skipped."""
    corpus = _jsonl(path / "corpus.jsonl", ("_id", "title", "text"))
    queries = _jsonl(path / "queries.jsonl", ("_id", "text"))
    doc_index = {doc_id: i for i, doc_id in enumerate(corpus["_id"])}
    if len(doc_index) != len(corpus["_id"]):
        raise XbenchError(f"{path / 'corpus.jsonl'}: duplicate _id")
    if candidate_text == "sentence":
        texts = corpus["text"]
    else:
        texts = [f"{title} {text}".strip() for title, text in zip(corpus["title"], corpus["text"])]
    relevant: dict[str, list[int]] = {}
    qrels = _qrels(path)
    for qid, doc_id in zip(qrels["query-id"], qrels["corpus-id"]):
        if doc_id not in doc_index:
            raise XbenchError(f"{path / 'qrels'}: corpus-id {doc_id!r} is not in corpus.jsonl")
        relevant.setdefault(qid, []).append(doc_index[doc_id])
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
    return LanguageData(lang, query_ids, query_texts, list(corpus["_id"]), list(texts), answers, skipped)
