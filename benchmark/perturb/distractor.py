"""A distractor: another question of the same language appended to the query, as when a user
pastes two questions at once or a query carries an unrelated clause.

The other question is drawn by the query's stream from the sorted ids of the other queries of
the same part (never the query's own id) and appended after one space. Drawing from sorted ids,
not positions, makes the choice a function of the id set alone: on a parallel task (XQuAD-R,
whose languages hold the same question ids) every language's query gets the translation of the
same other question, so languages are compared on the same distraction. A part with a single
question has no other one to draw: its query is left unchanged. When ids repeat, the first
text of an id is the one appended.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Sequence

from benchmark.perturb import Perturbation
from benchmark.perturb.stream import stream_for


class Distractor(Perturbation):
    name = "distractor"
    version = 1
    description = "another question of the same language (chosen by query id) appended to the query"

    def apply(self, texts: Sequence[str], ids: Sequence[str], lang: str, level: float | None) -> list[str]:
        text_of: dict[str, str] = {}
        for qid, text in zip(ids, texts, strict=True):
            text_of.setdefault(qid, text)
        order = sorted(text_of)
        out = []
        for qid, text in zip(ids, texts):
            if len(order) < 2:
                out.append(text)
                continue
            # the k-th of the sorted ids other than qid, k uniform: qid's own place is skipped
            k = stream_for(self.name, self.version, None, qid).below(len(order) - 1)
            other = order[k + (k >= bisect_left(order, qid))]
            out.append(f"{text} {text_of[other]}")
        return out


DISTRACTOR = Distractor()
