"""The collection half of the scale benchmark (``python benchmarks/scale.py generate``): see scale.py."""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from benchmark.engine.corpus import LanguageData  # noqa: E402
from benchmark.engine.datafiles import resolve_data  # noqa: E402
from benchmark.engine.formats.lareqa import read_lareqa  # noqa: E402
from benchmark.engine.taskregistry import get_task  # noqa: E402
from benchmark.errors import UsageError, XbenchError  # noqa: E402
from benchmark.fsutil import atomic_open  # noqa: E402

LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")  # MLQA-R's, all present in XQuAD-R
SOURCE_TASK = "xquad-r"  # fully parallel: every question id in every language
UNSPACED_TOKEN_CHARS = 12  # mean characters per whitespace token above which a language is cut by characters
BATCH_LINES = 8192


class Draws:
    """Uniform 64-bit integers from SHA-256(seed, purpose, counter): the same for the same key on
    any machine and Python, independent of call order (each counter is its own block)."""

    def __init__(self, seed: int, purpose: str) -> None:
        self._prefix = hashlib.sha256(f"xbench-scale\0{seed}\0{purpose}\0".encode())

    def block(self, *counter: int) -> tuple[int, int, int, int]:
        h = self._prefix.copy()
        h.update(struct.pack(f"<{len(counter)}Q", *counter))
        return struct.unpack("<4Q", h.digest())


@dataclass
class Source:
    """One language's XQuAD-R data and what distractors are cut from."""

    data: LanguageData
    tokens: list[list[str]]  # per usable source sentence (2 or more tokens)
    joiner: str  # " " for languages written with spaces, "" for those cut by characters
    real: frozenset[str]  # every real sentence text: a distractor must be none of them


def load_sources(langs: tuple[str, ...], data_dir: Path | None) -> dict[str, Source]:
    """Read the languages from XQuAD-R, found and checksum-verified exactly as ``xbench run`` would."""
    definition = get_task(SOURCE_TASK)
    unknown = [lang for lang in langs if lang not in definition.languages]
    if unknown:
        raise UsageError(f"--languages: {unknown[0]!r} is not an XQuAD-R language ({', '.join(definition.languages)})")
    files = resolve_data(definition, langs, data_dir, download=False)
    sources = {}
    for lang in langs:
        data = read_lareqa(files.root / definition.layout.format(lang=lang), lang)
        texts = data.candidate_texts.texts()
        words = sum(len(t.split()) for t in texts)
        spaced = words and sum(len(t) for t in texts) / words <= UNSPACED_TOKEN_CHARS
        tokens = [t.split() if spaced else list(t) for t in texts]
        tokens = [t for t in tokens if len(t) >= 2]
        sources[lang] = Source(data, tokens, " " if spaced else "", frozenset(texts))
    return sources


def choose_queries(sources: dict[str, Source], per_language: int) -> list[str]:
    """The first ``per_language`` question ids (first language's file order) present in every language."""
    langs = list(sources)
    common = set.intersection(*(set(sources[lang].data.query_ids) for lang in langs))
    ordered = [qid for qid in sources[langs[0]].data.query_ids if qid in common]
    if per_language > len(ordered):
        raise UsageError(f"--queries-per-language {per_language}: XQuAD-R has {len(ordered)} questions in every chosen language")
    return ordered[:per_language]


def distractor(source: Source, draws: Draws, n: int) -> str:
    """Distractor ``n``: a prefix of one source sentence + a suffix of another, never a real sentence."""
    count = len(source.tokens)
    for attempt in range(1000):
        x0, x1, x2, x3 = draws.block(n, attempt)
        a, b = source.tokens[x0 % count], source.tokens[x1 % count]
        cut_a, cut_b = len(a) // 4, len(b) // 4  # cut in the middle half: the length of a real sentence
        text = source.joiner.join(a[: cut_a + 1 + x2 % (len(a) - 2 * cut_a)] + b[cut_b + x3 % (len(b) - 2 * cut_b):])
        if text not in source.real:
            return text
    raise XbenchError(f"no distractor {n} found that differs from every real sentence (source data too small)")


class HashingWriter:
    """Writes lines in batches to a file (atomically) while computing its SHA-256."""

    def __init__(self, fh) -> None:
        self.fh, self.digest, self.lines = fh, hashlib.sha256(), []

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= BATCH_LINES:
            self.flush()

    def flush(self) -> None:
        data = "".join(self.lines).encode("utf-8")
        self.digest.update(data)
        self.fh.write(data)
        self.lines = []


def write_lines(path: Path, lines) -> str:
    """Write an iterable of lines; return the file's SHA-256."""
    with atomic_open(path, "wb") as fh:
        writer = HashingWriter(fh)
        for line in lines:
            writer.add(line)
        writer.flush()
    return writer.digest.hexdigest()


def corpus_lines(lang: str, source: Source, included: list[int], size: int, seed: int):
    """The corpus.jsonl lines: ``included`` real sentences spread evenly among ``size`` passages."""
    texts, draws, dumps = source.data.candidate_texts.texts(), Draws(seed, f"distractor:{lang}"), json.dumps
    real_at = {k * size // len(included): i for k, i in enumerate(included)}
    n = 0
    for position in range(size):
        i = real_at.get(position)
        if i is not None:
            doc_id, text = f"s{lang}-{i}", texts[i]
        else:
            doc_id, text = f"d{lang}-{n}", distractor(source, draws, n)
            n += 1
        yield dumps({"_id": doc_id, "title": "", "text": text}, ensure_ascii=False) + "\n"


def included_sentences(lang: str, source: Source, qids: list[str], size: int) -> list[int]:
    """The real sentences a corpus of ``size`` passages holds: the answers of ``qids``, then the
    others in order while there is room (every one, when ``size`` exceeds them)."""
    data = source.data
    relevant = sorted({i for qid in qids for i in data.answers[qid]})
    if size < len(relevant):
        raise UsageError(f"--passages: {size} passages per language cannot hold the {len(relevant)} answer sentences "
                         f"of {len(qids)} queries in {lang}; ask for more passages or fewer queries")
    chosen = set(relevant)
    rest = [i for i in range(len(data.candidate_texts)) if i not in chosen]
    return sorted(relevant + rest[: size - len(relevant)])


def write_language(out: Path, lang: str, source: Source, qids: list[str], included: list[int], size: int,
                   seed: int) -> dict[str, str]:
    """Write one language folder; return its files' SHA-256 (relative to ``out``)."""
    data = source.data
    question = dict(zip(data.query_ids, data.query_texts))
    folder = out / lang
    return {
        f"{lang}/corpus.jsonl": write_lines(folder / "corpus.jsonl", corpus_lines(lang, source, included, size, seed)),
        f"{lang}/queries.jsonl": write_lines(folder / "queries.jsonl", (
            json.dumps({"_id": qid, "text": question[qid]}, ensure_ascii=False) + "\n" for qid in qids)),
        f"{lang}/qrels/test.tsv": write_lines(folder / "qrels" / "test.tsv", ["query-id\tcorpus-id\tscore\n"] + [
            f"{qid}\ts{lang}-{i}\t1\n" for qid in qids for i in data.answers[qid]]),
    }


def definition_text(name: str, folder: str, langs: tuple[str, ...], files: dict[str, str], args: str) -> str:
    """scale.toml: a BEIR task over ``<data root>/<lang>``; data_folder lets a root's parent serve too."""
    q = json.dumps  # a JSON string of plain text is a TOML basic string
    lines = [
        f"# Generated by: python benchmarks/scale.py generate {args}",
        f"name = {q(name)}",
        'version = "1.0"',
        f"description = {q('Synthetic scale collection: XQuAD-R questions and answer sentences plus distractors (' + args + ')')}",
        'reference = "benchmarks/scale.py (xbench issue 12); XQuAD-R from LAReQA, Roy et al. 2020 (arXiv 2004.05484)"',
        'format = "beir"',
        "languages = [" + ", ".join(q(lang) for lang in langs) + "]",
        'layout = "{lang}"',
        *([f"data_folder = {q(folder)}"] if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", folder) else []),
        'candidate_text = "sentence"',
        'settings = ["mono", "cross", "multi"]',
        'metrics = ["map", "rank_distance", "ndcg@10", "recall@100", "mrr@10", "map@100"]',
        "",
        "[source]",
        'repository = "google-research-datasets/lareqa"',
        'license = "CC BY-SA 4.0 (XQuAD-R)"',
        "",
        "[files]",
        *(f"{q(rel)} = {q(digest)}" for rel, digest in files.items()),
    ]
    return "\n".join(lines) + "\n"


def split_sizes(total: int, n: int) -> list[int]:
    """``total`` split over ``n`` languages as evenly as possible, the first ones taking the remainder."""
    return [total // n + (1 if k < total % n else 0) for k in range(n)]


def generate(out: Path, passages: int, queries: int, seed: int = 0, langs: tuple[str, ...] = LANGUAGES,
             data_dir: Path | None = None, name: str = "scale") -> dict[str, object]:
    """Write the collection under ``out``; return what was written (sizes, seconds)."""
    start = time.perf_counter()
    sources = load_sources(langs, data_dir)
    qids = choose_queries(sources, queries)
    sizes = dict(zip(langs, split_sizes(passages, len(langs))))
    included = {lang: included_sentences(lang, sources[lang], qids, sizes[lang]) for lang in langs}  # refuse before writing
    files: dict[str, str] = {}
    for lang in langs:
        files.update(write_language(out, lang, sources[lang], qids, included[lang], sizes[lang], seed))
    args = f"--passages {passages} --queries-per-language {queries} --seed {seed} --languages {','.join(langs)}"
    (out / "scale.toml").write_text(definition_text(name, out.resolve().name, langs, files, args), encoding="utf-8")
    size_bytes = sum(os.path.getsize(out / rel) for rel in files)
    return {"out": str(out), "languages": len(langs), "passages": passages, "queries_per_language": len(qids),
            "bytes": size_bytes, "seconds": round(time.perf_counter() - start, 2)}
