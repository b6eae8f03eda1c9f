"""What a leaderboard row shows, column by column: title, cell text, sort key, group.

Both views (Markdown and the HTML page) render these same columns, so a new field is added once.
Cell text is plain text made from any value; each view escapes it for itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .ranking import BOARD_TASKS, TATOEBA, TATOEBA_SCOPES

TASK_TITLES = {"xquad-r": "XQuAD-R", "mlqa-r": "MLQA-R", TATOEBA: "Tatoeba"}
TATOEBA_GROUP = "Tatoeba accuracy"  # the heading over the Tatoeba columns, one per scope
TIE_MARK = "≈"
SCORE_COLUMNS = (("mono", "Mono", 3), ("cross", "Cross", 3), ("multi", "Multi", 3), ("rank_distance", "RD", 1),
                 # the bias measures, beside the rank distance: shown, not ranked
                 ("own_share", "own@10", 3), ("english_share", "en@10", 3), ("own_first", "own 1st", 3), ("rank_correlation", "rank ρ", 3))
SELF_REPORTED = (  # said under the heading "The numbers are self-reported." in every view
    "`xbench submit` checks that a submission is consistent: every aggregate "
    "recomputes from the per-setting and per-query values, the per-query table matches its pinned SHA-256, and "
    "the data checksums and query ids are the canonical ones. A forgery that is consistent throughout passes "
    "those checks; only re-running the model can catch it, which `xbench verify SUBMISSION` does on a random "
    "sample of settings."
)
TATOEBA_TEXT = (  # said under the board in every view
    "Tatoeba accuracy (bitext retrieval, 112 languages paired with English, both directions): the share "
    "of sentences whose translation ranks first, as a macro mean over all 224 settings (all), over the 36 "
    "languages of XTREME (xtreme36) and over the 40 with fewer than 1000 sentence pairs (under1000). "
    "Tatoeba is shown, not ranked: it enters neither the average nor the order nor the tie tests, so "
    "adding it leaves every row where it was. An entry without a Tatoeba run shows \"-\" there."
)

BIAS_TEXT = (  # said under the board in every view
    "Language bias on the multilingual pool, per task, beside the rank distance (RD): own@10 and en@10, the share "
    "of a query's 10 best candidates in its own language and in English; own 1st, how often its own-language "
    "answer scores strictly above every other language's; rank ρ, the mean Spearman correlation between the full "
    "rankings of one question asked in two languages (1: the same ranking whatever the question's language). "
    "Each is a macro mean over query languages. own@10, en@10 and own 1st describe a preference and are neither "
    "better nor worse high; none of them is ranked. An entry submitted before they existed shows \"-\" there."
)


# ---- cell text: plain text from any value; each view escapes it ---------------------------------


def _text(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _fixed(value: Any, digits: int) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else _text(value)


def _params(value: Any) -> str:
    if not value:
        return "-"
    return f"{value / 1e6:.0f}M" if isinstance(value, (int, float)) and value >= 1e6 else _text(value)


def _rank(row: dict[str, Any]) -> str:
    return f"{TIE_MARK}{row['rank']}" if row["tied"] else str(row["rank"])


def _command(row: dict[str, Any]) -> str:
    return _text(row["command"] or f"xbench run --model {_text(row['model'])}")


@dataclass(frozen=True)
class Column:
    """One column of the board table, shared by the Markdown and the HTML view."""

    title: str
    text: Callable[[dict[str, Any]], str]  # what the cell shows, as plain text (each view escapes it)
    sort: Callable[[dict[str, Any]], Any]  # the page's sort value
    group: str = ""  # a heading spanning several columns (a task)
    css: str = ""


def _score_column(field: str, title: str, digits: int, group: str = "") -> Column:
    return Column(title, lambda r: _fixed(r[field], digits), lambda r: r[field], group)


def columns() -> list[Column]:
    """The board table's columns, in order; a new column (a new row field) is added here once."""
    cols = [
        Column("#", _rank, lambda r: r["rank"]),
        Column("model", lambda r: _text(r["model"]), lambda r: r["model"], css="name"),
        Column("dim", lambda r: _text(r["dimension"]), lambda r: r["dimension"]),
        Column("params", lambda r: _params(r["parameters"]), lambda r: r["parameters"] or 0),
    ]
    for task in BOARD_TASKS:
        cols += [_score_column(f"{task}.{k}", title, digits, TASK_TITLES.get(task, task)) for k, title, digits in SCORE_COLUMNS]
    cols.append(_score_column("overall", "avg mAP", 3))
    # after the average: Tatoeba is shown, not ranked ("-" for an entry without it)
    cols += [_score_column(f"{TATOEBA}.{scope}", scope, 3, TATOEBA_GROUP) for scope in TATOEBA_SCOPES]
    cols += [
        Column("date", lambda r: _text(r["date"]), lambda r: r["date"]),
        Column("xbench", lambda r: _text(r["xbench_version"]), lambda r: r["xbench_version"]),
        Column("verified", lambda r: _text(r["verified"]) if r["verified"] else "self-reported", lambda r: r["verified"] or "", css="note"),
    ]
    return cols
