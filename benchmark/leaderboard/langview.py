"""The page's per-language view of Tatoeba: where each model falls off, over 112 languages.

One heatmap per direction (``xx->eng``: queries in the language, English candidates; ``eng->xx``:
the reverse), a row per model that has a Tatoeba run (in board order), a column per language.
Both tables order the languages alike, by the mean accuracy over the models shown and both
directions, best first: a row then reads as the model's fall-off curve, a dark patch to the left
of the others' is where it fails early, and one column is one language in both tables. 112 columns
leave no room for numbers, so a cell is a colour with its value, direction and groups in its
``title``; the language groups the task declares (``xtreme36``, ``under1000``) are marked in a row
each under the language codes. Everything a submission says is escaped (``html.escape``).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from benchmark.engine.settings import Setting
from benchmark.metrics.aggregate import direction_scopes as directions
from benchmark.results import TaskResult
from .ranking import TATOEBA, Entry

LEGEND_STEPS = 11  # swatches of the colour legend: 0.0, 0.1, ..., 1.0
MARK_COLOURS = 3  # the page's CSS colours group markers m0, m1, m2 (then again from m0)


def heat_background(value: float) -> str:
    """The page's one colour scale for a score in [0, 1]: red and light (0) to green and darker (1).
    Lightness falls with the hue, so the order survives red-green colour blindness and grey print."""
    return f"hsl({10 + 110 * value:.0f},65%,{80 - 25 * value:.0f}%)"


def accuracy(result: TaskResult, lang: str, direction: str) -> float | None:
    """The accuracy of one language in one direction (``xx->eng`` or ``eng->xx``), None if not run."""
    pivot = result.pivot
    key = Setting("cross", lang, pivot) if direction == directions(pivot)[0] else Setting("cross", pivot, lang)
    return result.setting(key).values.get("accuracy") if result.has(key) else None


def language_order(results: list[TaskResult]) -> list[str]:
    """Every language of the results, by mean accuracy over the results and both directions (best
    first; equal means by language code); a language without any value comes last."""
    langs = list(dict.fromkeys(lang for r in results for lang in r.languages))

    def key(lang: str) -> tuple[float, str]:
        values = [v for r in results for d in directions(r.pivot) if (v := accuracy(r, lang, d)) is not None]
        return (-float(np.mean(values)) if values else np.inf, lang)

    return sorted(langs, key=key)


def _groups_of(results: list[TaskResult]) -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    for r in results:
        for name, members in r.groups.items():
            groups.setdefault(name, frozenset(members))
    return groups


def _cell(value: float | None, lang: str, direction: str, tags: list[str]) -> str:
    """One language's cell: its colour, and ``kab xx->eng 0.123 (under1000)`` as its title."""
    groups = f" ({', '.join(tags)})" if tags else ""
    if value is None:
        return f"<td class='na' title='{html.escape(f'{lang} {direction} not run{groups}', quote=True)}'></td>"
    return f"<td style='background:{heat_background(value)}' title='{html.escape(f'{lang} {direction} {value:.3f}{groups}', quote=True)}'></td>"


def _table(shown: list[tuple[str, TaskResult]], order: list[str], direction: str, groups: dict[str, frozenset[str]]) -> str:
    """One direction: a header of vertical language codes, a marker row per group, a row per model."""
    tags = {lang: [g for g in groups if lang in groups[g]] for lang in order}
    heads = "".join(f"<th class='lang' title='{html.escape(' '.join([lang, *tags[lang]]), quote=True)}'><span>{html.escape(lang)}</span></th>"
                    for lang in order)
    marks = "".join(
        f"<tr class='mark'><th class='model'>{html.escape(name)}</th><td class='mean'></td>"
        + "".join(f"<td class='m{i % MARK_COLOURS}' title='{html.escape(f'{lang}: {name}', quote=True)}'></td>" if lang in members else "<td></td>"
                  for lang in order) + "</tr>"
        for i, (name, members) in enumerate(groups.items()))
    body = []
    for model, result in shown:
        mean = result.aggregate(direction, "accuracy")
        mean_cell = (f"<td class='mean' style='background:{heat_background(mean)}'>{mean:.2f}</td>" if isinstance(mean, (int, float))
                     else "<td class='mean na'>-</td>")
        cells = "".join(_cell(accuracy(result, lang, direction), lang, direction, tags[lang]) for lang in order)
        body.append(f"<tr><th class='model' title='{html.escape(model, quote=True)}'>{html.escape(model)}</th>{mean_cell}{cells}</tr>")
    return (f"<table class='langs'><thead><tr><th class='model'>{html.escape(direction)}</th><th class='mean'>mean</th>{heads}</tr>"
            f"{marks}</thead><tbody>{''.join(body)}</tbody></table>")


def _legend(groups: dict[str, frozenset[str]]) -> str:
    swatches = "".join(f"<span class='sw' style='background:{heat_background(i / (LEGEND_STEPS - 1))}'>{i / (LEGEND_STEPS - 1):.1f}</span>"
                       for i in range(LEGEND_STEPS))
    marks = "".join(f"<span class='key'><span class='m{i % MARK_COLOURS}'></span>{html.escape(name)} ({len(members)} languages)</span>"
                    for i, (name, members) in enumerate(groups.items()))
    return f"<div class='legend'><span>accuracy</span>{swatches}{marks}</div>"


def tatoeba_view(rows: list[dict[str, Any]], entries: list[Entry]) -> str:
    """The Tatoeba section of the page: a heatmap per direction over the entries that have a run."""
    by_key = {e.key: e for e in entries}
    shown = [(str(r["model"]), by_key[r["key"]].results[TATOEBA]) for r in rows if TATOEBA in by_key[r["key"]].results]
    head = "<h2 id='tatoeba'>Tatoeba per language</h2>"
    if not shown:
        return head + "<p class='lead'>No entry has a Tatoeba run yet.</p>"
    results = [r for _, r in shown]
    order, groups = language_order(results), _groups_of(results)
    pivot = results[0].pivot
    intro = (f"<p class='lead'>Accuracy per language in both directions, one row per model with a Tatoeba run (board order), the "
             f"{len(order)} languages ordered by their mean accuracy over these models and both directions, best first: where a "
             f"row turns red earlier than the others, that model falls off. <em>mean</em> is the macro mean over the direction's "
             f"settings. Hover a cell for its value. The marker rows flag the task's language groups.</p>")
    tables = "".join(f"<figure><figcaption>{html.escape(d)}: {'queries in the language, ' + html.escape(pivot) + ' candidates' if i == 0 else html.escape(pivot) + ' queries, candidates in the language'}</figcaption>"
                     f"<div class='scroll'>{_table(shown, order, d, groups)}</div></figure>" for i, d in enumerate(directions(pivot)))
    without = [str(r["model"]) for r in rows if TATOEBA not in by_key[r["key"]].results]
    missing = f"<p class='lead'>No Tatoeba run: {html.escape(', '.join(without))}.</p>" if without else ""
    return head + intro + _legend(groups) + tables + missing
