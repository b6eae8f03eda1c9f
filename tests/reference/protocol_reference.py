"""Independent reference implementation of the LAReQA evaluation protocol (../shared/PROTOCOL.md).

Written for clarity, not speed, and deliberately independent of the production engine under
``benchmark/``: it only reads LAReQA JSON files and calls the two embedding functions it is given.

Public entry point: :func:`reference_scores`.

Definitions implemented here (see PROTOCOL.md):

* Candidates of a language: one per (paragraph, sentence position), text ``context[start:end]`` for
  each ``[start, end]`` pair of ``sentence_breaks``. Identical texts in two paragraphs are two
  candidates.
* Candidate text given to the encoder: the sentence alone (``"sentence"``) or the sentence, one space
  and the full paragraph context (``"sentence+context"``).
* Queries: every ``qas`` entry. Answer sentence: the sentence whose ``[start, end)`` holds
  ``answers[0].answer_start``. Relevant candidates of a question in its language: the candidates of
  the same paragraph whose *sentence* text equals the answer sentence's text. A question without an
  answer sentence is skipped everywhere.
* Settings: mono X->X, cross X->Y (X != Y, only queries whose id has an answer in Y), multi X->all.
* AP over the full ranking with pessimistic ties (a non-relevant candidate with a score equal to a
  relevant one ranks ahead of it); mAP = mean AP; rank distance = max rank - min rank of the
  relevant candidates in the multilingual ranking.
"""

from __future__ import annotations

import json

import numpy as np

CANDIDATE_TEXT_MODES = ("sentence", "sentence+context")


# --------------------------------------------------------------------------------------------------
# Reading one language file
# --------------------------------------------------------------------------------------------------


def _load_language(path: str, candidate_text: str) -> dict:
    """Read one LAReQA JSON file.

    Returns a dict with
      candidates:     list of dicts {"sentence": str, "text": str (what the encoder sees)}
      queries:        dict id -> {"question": str, "relevant": list[int] (indices into candidates)}
                      in file order; questions without an answer sentence are left out.
    """
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)

    candidates = []
    queries = {}
    for article in doc["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]

            # The candidates of this paragraph, one per sentence position.
            paragraph_candidate_indices = []
            paragraph_sentences = []  # (start, end, sentence text), same order
            for start, end in paragraph["sentence_breaks"]:
                sentence = context[start:end]
                if candidate_text == "sentence":
                    text = sentence
                else:  # "sentence+context"
                    text = sentence + " " + context
                paragraph_candidate_indices.append(len(candidates))
                paragraph_sentences.append((start, end, sentence))
                candidates.append({"sentence": sentence, "text": text})

            # The questions of this paragraph.
            for qa in paragraph["qas"]:
                qid = qa["id"]
                if qid in queries:
                    raise ValueError(f"{path}: question id {qid!r} appears twice")
                if not qa["answers"]:
                    continue  # no answer at all: no answer sentence -> skipped
                answer_start = qa["answers"][0]["answer_start"]

                # The answer sentence: the first sentence whose [start, end) holds answer_start.
                answer_sentence = None
                for start, end, sentence in paragraph_sentences:
                    if start <= answer_start < end:
                        answer_sentence = sentence
                        break
                if answer_sentence is None:
                    continue  # skipped (PROTOCOL.md: "none in the shipped files")

                # Relevant: every candidate of this paragraph whose sentence text is the answer
                # sentence's text (compared on the sentence, never on the encoder text).
                relevant = [
                    cand_index
                    for cand_index, (_, _, sentence) in zip(paragraph_candidate_indices, paragraph_sentences)
                    if sentence == answer_sentence
                ]
                queries[qid] = {"question": qa["question"], "relevant": relevant}

    return {"candidates": candidates, "queries": queries}


# --------------------------------------------------------------------------------------------------
# Embedding (each distinct text once)
# --------------------------------------------------------------------------------------------------


def _embed_unique(texts: list[str], embed) -> dict[str, np.ndarray]:
    """Call ``embed`` once on the distinct texts (first-seen order); return text -> float64 vector."""
    unique = list(dict.fromkeys(texts))
    if not unique:
        return {}
    vectors = np.asarray(embed(unique), dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(unique):
        raise ValueError(f"embedding function returned shape {vectors.shape} for {len(unique)} texts")
    return {text: vectors[i] for i, text in enumerate(unique)}


# --------------------------------------------------------------------------------------------------
# Ranking and AP
# --------------------------------------------------------------------------------------------------


def relevant_ranks(scores: np.ndarray, relevant: np.ndarray) -> list[np.ndarray]:
    """For each row: the 1-based ranks of its relevant candidates, pessimistic ties.

    scores:   (n_queries, n_pool) float64
    relevant: (n_queries, n_pool) bool

    Each row is sorted by score descending and, among equal scores, non-relevant before relevant
    (np.lexsort sorts by the LAST key first: primary key = -score ascending, secondary key =
    relevant (False=0 before True=1)). Ties between two relevant or two non-relevant candidates do
    not change AP, so their order does not matter.
    """
    assert scores.shape == relevant.shape
    if not np.all(np.isfinite(scores)):
        raise ValueError("non-finite similarity scores")
    order = np.lexsort((relevant, -scores), axis=-1)
    relevant_in_rank_order = np.take_along_axis(relevant, order, axis=-1)
    return [np.flatnonzero(row) + 1 for row in relevant_in_rank_order]


def average_precision(ranks: np.ndarray) -> float:
    """AP from the sorted 1-based ranks of the relevant candidates (full ranking, no cutoff)."""
    ranks = np.sort(np.asarray(ranks))
    if len(ranks) == 0:
        raise ValueError("a query without relevant candidates has no AP")
    relevant_so_far = np.arange(1, len(ranks) + 1)
    return float(np.mean(relevant_so_far / ranks))


def _evaluate_setting(query_ids, query_vectors, pool_vectors, relevant_mask, block_rows=256):
    """AP and ranks of every query of one setting.

    query_vectors: (n_q, d); pool_vectors: (n_pool, d); relevant_mask: (n_q, n_pool) bool.
    Returns (ap: dict id -> float, ranks: dict id -> ndarray of relevant ranks).
    """
    ap = {}
    ranks = {}
    for begin in range(0, len(query_ids), block_rows):
        end = min(begin + block_rows, len(query_ids))
        scores = query_vectors[begin:end] @ pool_vectors.T  # plain dot product, float64
        block_ranks = relevant_ranks(scores, relevant_mask[begin:end])
        for qid, r in zip(query_ids[begin:end], block_ranks):
            ap[qid] = average_precision(r)
            ranks[qid] = r
    return ap, ranks


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


def reference_scores(files: dict[str, str], embed_queries, embed_passages, candidate_text: str = "sentence") -> dict:
    """Score one LAReQA task (all its languages) the way PROTOCOL.md defines it.

    files:          language code -> path of that language's LAReQA JSON file.
    embed_queries:  list[str] -> (n, d) array; embed_passages: list[str] -> (n, d) array.
                    Similarity = plain dot product of the returned vectors, in float64.
    candidate_text: "sentence" or "sentence+context".

    Returns
      {"settings": {(kind, query_lang, corpus_lang_or_"all"): {"map", "n_queries", "ap": {id: AP},
                                                              "rank_distance" (multi only)}},
       "mono": macro mean of mono mAPs, "cross": macro mean of cross mAPs,
       "multi": macro mean over query languages of multi mAP,
       "rank_distance": macro mean over query languages of mean rank distance,
       "n_candidates": {lang: int}, "n_queries": {lang: int}, "candidate_text": str}
    """
    if candidate_text not in CANDIDATE_TEXT_MODES:
        raise ValueError(f"candidate_text must be one of {CANDIDATE_TEXT_MODES}, got {candidate_text!r}")

    languages = list(files)
    data = {lang: _load_language(files[lang], candidate_text) for lang in languages}

    # ---- embeddings, each distinct text once ------------------------------------------------------
    passage_vector_of = _embed_unique(
        [c["text"] for lang in languages for c in data[lang]["candidates"]], embed_passages
    )
    query_vector_of = _embed_unique(
        [q["question"] for lang in languages for q in data[lang]["queries"].values()], embed_queries
    )

    # Candidate matrix per language, and the multilingual pool = all languages concatenated.
    dim = len(next(iter(passage_vector_of.values()))) if passage_vector_of else 0
    pool_vectors = {
        lang: np.array([passage_vector_of[c["text"]] for c in data[lang]["candidates"]], dtype=np.float64).reshape(-1, dim)
        for lang in languages
    }
    pool_offset = {}
    offset = 0
    for lang in languages:
        pool_offset[lang] = offset
        offset += len(data[lang]["candidates"])
    all_pool_size = offset
    all_pool_vectors = np.concatenate([pool_vectors[lang] for lang in languages], axis=0)

    settings = {}

    for query_lang in languages:
        queries = data[query_lang]["queries"]
        query_ids = list(queries)
        if not query_ids:
            continue  # a language without queries has no settings
        query_vectors = np.array([query_vector_of[queries[qid]["question"]] for qid in query_ids], dtype=np.float64)

        # ---- mono (corpus_lang == query_lang) and cross (corpus_lang != query_lang) ------------------
        for corpus_lang in languages:
            answers_in_corpus = data[corpus_lang]["queries"]
            keep = [i for i, qid in enumerate(query_ids) if qid in answers_in_corpus]
            if not keep:
                continue  # settings with zero queries do not exist
            ids = [query_ids[i] for i in keep]
            relevant_mask = np.zeros((len(ids), len(data[corpus_lang]["candidates"])), dtype=bool)
            for row, qid in enumerate(ids):
                relevant_mask[row, answers_in_corpus[qid]["relevant"]] = True
            ap, _ = _evaluate_setting(ids, query_vectors[keep], pool_vectors[corpus_lang], relevant_mask)
            kind = "mono" if corpus_lang == query_lang else "cross"
            settings[(kind, query_lang, corpus_lang)] = {
                "map": float(np.mean(list(ap.values()))),
                "n_queries": len(ids),
                "ap": ap,
            }

        # ---- multi: pool of all languages, relevant = union over languages ---------------------------
        relevant_mask = np.zeros((len(query_ids), all_pool_size), dtype=bool)
        for row, qid in enumerate(query_ids):
            for corpus_lang in languages:
                answer = data[corpus_lang]["queries"].get(qid)
                if answer is not None:
                    relevant_mask[row, [pool_offset[corpus_lang] + j for j in answer["relevant"]]] = True
        ap, ranks = _evaluate_setting(query_ids, query_vectors, all_pool_vectors, relevant_mask)
        rank_distance = {qid: float(np.max(r) - np.min(r)) for qid, r in ranks.items()}
        settings[("multi", query_lang, "all")] = {
            "map": float(np.mean(list(ap.values()))),
            "n_queries": len(query_ids),
            "rank_distance": float(np.mean(list(rank_distance.values()))),
            "ap": ap,
        }

    def macro(kind, field="map"):
        values = [s[field] for key, s in settings.items() if key[0] == kind]
        return float(np.mean(values)) if values else float("nan")

    return {
        "settings": settings,
        "mono": macro("mono"),
        "cross": macro("cross"),
        "multi": macro("multi"),  # one multi setting per query language -> macro over query languages
        "rank_distance": macro("multi", "rank_distance"),
        "n_candidates": {lang: len(data[lang]["candidates"]) for lang in languages},
        "n_queries": {lang: len(data[lang]["queries"]) for lang in languages},
        "candidate_text": candidate_text,
    }
