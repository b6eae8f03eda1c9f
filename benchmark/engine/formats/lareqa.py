"""Reader for LAReQA's JSON (SQuAD v1.1 plus ``sentences`` and ``sentence_breaks``).

PROTOCOL.md, "Building the retrieval task": one candidate per (paragraph, sentence position), the
answer sentence is the one whose [start, end) holds ``answers[0].answer_start``, and the relevant
candidates are that paragraph's sentences with the answer sentence's text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmark.engine.corpus import LanguageData
from benchmark.errors import XbenchError


def _field(obj: Any, key: str, kind: type | tuple[type, ...], where: str, path: Path) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise XbenchError(f"{path}: {where}: missing field {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise XbenchError(f"{path}: {where}.{key}: expected {names}, got {type(value).__name__}")
    return value


def load_json(path: Path) -> Any:
    """Parse a JSON file, turning every way it can be broken into a one-line error naming it."""
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        raise XbenchError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise XbenchError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise XbenchError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None


def read_lareqa(path: Path, lang: str, candidate_text: str = "sentence") -> LanguageData:
    """Read one language's LAReQA file into queries, candidates and answers."""
    doc = load_json(path)
    articles = _field(doc, "data", list, "top level", path)
    query_ids: list[str] = []
    query_texts: list[str] = []
    candidate_texts: list[str] = []
    answers: dict[str, tuple[int, ...]] = {}
    skipped = 0
    for a, article in enumerate(articles):
        for p, par in enumerate(_field(article, "paragraphs", list, f"data[{a}]", path)):
            where = f"data[{a}].paragraphs[{p}]"
            context = _field(par, "context", str, where, path)
            breaks = _field(par, "sentence_breaks", list, where, path)
            sentences = []
            for b, pair in enumerate(breaks):
                if (
                    not isinstance(pair, list)
                    or len(pair) != 2
                    or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
                    or not 0 <= pair[0] <= pair[1] <= len(context)
                ):
                    raise XbenchError(f"{path}: {where}.sentence_breaks[{b}]: expected [start, end] within the context")
                sentences.append(context[pair[0] : pair[1]])
            first = len(candidate_texts)
            for sentence in sentences:
                candidate_texts.append(sentence if candidate_text == "sentence" else f"{sentence} {context}")
            for q, qa in enumerate(_field(par, "qas", list, where, path)):
                qwhere = f"{where}.qas[{q}]"
                qid = _field(qa, "id", str, qwhere, path)
                question = _field(qa, "question", str, qwhere, path)
                given = _field(qa, "answers", list, qwhere, path)
                if not given:
                    raise XbenchError(f"{path}: {qwhere}.answers: empty")
                start = _field(given[0], "answer_start", int, f"{qwhere}.answers[0]", path)
                hit = next((s for s, (lo, hi) in enumerate(breaks) if lo <= start < hi), None)
                if hit is None:
                    skipped += 1  # PROTOCOL.md: a question with no answer sentence is skipped
                    continue
                if qid in answers:
                    raise XbenchError(f"{path}: {qwhere}.id: duplicate question id {qid!r}")
                answers[qid] = tuple(first + s for s, text in enumerate(sentences) if text == sentences[hit])
                query_ids.append(qid)
                query_texts.append(question)
    return LanguageData(lang, query_ids, query_texts, candidate_texts, answers, skipped)
