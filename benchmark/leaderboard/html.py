"""The leaderboard's static page: the sortable table, tie marks, Tatoeba per language
(:mod:`.langview`), language bias per query language (:mod:`.biasview`),
robustness to perturbed queries (:mod:`.robustview`) and per-model heatmaps.

Every cell is escaped with ``html.escape``; the text of each cell comes from the same columns as
the Markdown view (:func:`benchmark.leaderboard.views.columns`).
"""

from __future__ import annotations

import html
import itertools
import re
from typing import Any

from benchmark import __version__
from benchmark.results import TaskResult
from .biasview import html_view as bias_view
from .columns import BIAS_TEXT, SELF_REPORTED, TASK_TITLES, TATOEBA_TEXT, TIE_MARK, Column, _command, _text, columns
from .langview import heat_background, tatoeba_view
from .perturbed import robustness_rows
from .robustview import robustness_view
from .ranking import BOARD_TASKS, TIE_ALPHA, Entry


def _heat(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "<td class='na'>-</td>"
    return f"<td style='background:{heat_background(value)}' title='{value:.4f}'>{value:.2f}</td>"


def _heatmap(result: TaskResult) -> str:
    langs = result.languages
    cell = {(s.setting.query_lang, s.setting.corpus_lang): s.map for s in result.settings}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in langs) + "<th>pool</th>"
    body = []
    for q in langs:
        cells = "".join(_heat(cell.get((q, c))) for c in langs) + _heat(cell.get((q, "all")))
        body.append(f"<tr><th>{html.escape(q)}</th>{cells}</tr>")
    title = TASK_TITLES.get(result.task, result.task)
    return (f"<figure><figcaption>{html.escape(title)}: query language (rows) × corpus language (columns), mAP</figcaption>"
            f"<table class='heat'><thead><tr><th>q \\ c</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></figure>")


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>xbench leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1600px; color: #222; padding: 0 1rem; }}
h1 {{ margin-bottom: .2rem; }} p.lead {{ color: #555; margin-top: 0; }}
table.board {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
table.board th, table.board td {{ padding: .35rem .4rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }}
table.board th {{ background: #f4f4f6; cursor: pointer; user-select: none; position: sticky; top: 0; }}
table.board th.sorted-asc::after {{ content: " ▲"; }} table.board th.sorted-desc::after {{ content: " ▼"; }}
table.board td.name, table.board th.name {{ text-align: left; }}
table.board td.note {{ white-space: normal; min-width: 8.5rem; }}
table.board tr.tied td:first-child {{ color: #a60; }}
table.board tr:hover td {{ background: #fafaff; }}
.group {{ text-align: center !important; cursor: default !important; }}
details {{ margin: 1rem 0; }} summary {{ cursor: pointer; font-weight: 600; }}
.heatmaps {{ display: flex; flex-wrap: wrap; gap: 2rem; }}
table.heat {{ border-collapse: collapse; font-size: .75rem; }}
table.heat td, table.heat th {{ width: 2.6rem; height: 1.6rem; text-align: center; border: 1px solid #fff; }}
table.heat td.na {{ background: #eee; }} figcaption {{ font-size: .85rem; margin-bottom: .3rem; color: #444; }}
code {{ background: #f4f4f6; padding: .1rem .3rem; }}
.scroll {{ overflow-x: auto; }} figure {{ margin: 1rem 0; }}
table.langs {{ border-collapse: collapse; table-layout: fixed; font-size: .7rem; }}
table.langs td {{ width: 10px; min-width: 10px; max-width: 10px; height: 13px; padding: 0; border: 1px solid #fff; }}
table.langs td.na {{ background: #eee; }}
table.langs th.lang {{ width: 10px; padding: 0 0 2px; font-weight: normal; vertical-align: bottom; color: #444; }}
table.langs th.lang span {{ writing-mode: vertical-rl; transform: rotate(180deg); font-family: ui-monospace, monospace; font-size: 9px; line-height: 10px; }}
table.langs th.model {{ width: 11rem; max-width: 11rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; text-align: left;
  font-weight: normal; padding: 0 .4rem 0 0; position: sticky; left: 0; background: #fff; }}
table.langs td.mean {{ width: 2.2rem; min-width: 2.2rem; max-width: 2.2rem; text-align: center; font-size: .65rem; }}
table.langs th.mean {{ font-weight: normal; font-size: .65rem; vertical-align: bottom; }}
table.langs tr.mark td, table.langs tr.mark th {{ height: 9px; font-size: 9px; line-height: 9px; color: #555; }}
table.langs tr.mark th.model {{ text-align: right; padding-right: .3rem; }}
.m0 {{ background: #3b6ea8; }} .m1 {{ background: #7b3f98; }} .m2 {{ background: #555; }}
.legend {{ display: flex; flex-wrap: wrap; align-items: center; gap: .25rem; font-size: .75rem; color: #444; margin: .4rem 0; }}
.legend .sw {{ display: inline-block; width: 2rem; text-align: center; font-size: .65rem; }}
table.robust {{ border-collapse: collapse; font-size: .85rem; }}
table.robust th, table.robust td {{ padding: .3rem .5rem; border: 1px solid #fff; text-align: center; white-space: nowrap; }}
table.robust th {{ background: #f4f4f6; }} table.robust td.name, table.robust th.name {{ text-align: left; background: #fff; }}
table.robust td.na {{ background: #eee; }}
table.bias {{ border-collapse: collapse; font-size: .75rem; }}
table.bias td, table.bias th {{ padding: .15rem .35rem; text-align: right; border: 1px solid #fff; white-space: nowrap; }}
table.bias th.model {{ text-align: left; font-weight: normal; max-width: 14rem; overflow: hidden; text-overflow: ellipsis; }}
table.bias td.na {{ background: #eee; text-align: center; }}
.legend .key {{ margin-left: 1rem; }} .legend .key span {{ display: inline-block; width: 10px; height: 9px; margin-right: .3rem; }}
</style>
</head>
<body>
<h1>xbench leaderboard</h1>
<p class="lead">Multilingual answer-sentence retrieval (LAReQA XQuAD-R and MLQA-R): mAP over the full ranking in the
monolingual, cross-lingual and multilingual-pool settings, and rank distance (RD, lower = less language bias).
{mark} marks a row not significantly different from the row above (paired t-test on per-query AP, p &gt; {alpha}).
Click a column to sort.</p>
<p class="lead"><strong>The numbers are self-reported.</strong> {self_reported}</p>
<div class="scroll">
<table class="board" id="board">
<thead>
<tr>{group_heads}</tr>
<tr>{heads}</tr>
</thead>
<tbody>
{rows}
</tbody>
</table>
</div>
<p class="lead">{tatoeba_text}</p>
{tatoeba}
{bias}
{robustness}
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
        if (x === "" || y === "") return (x === "") - (y === "");  // no value (no Tatoeba run): last either way
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
                       details="\n".join(details), version=html.escape(__version__), self_reported=self_reported,
                       tatoeba_text=html.escape(TATOEBA_TEXT), tatoeba=tatoeba_view(rows, entries), bias=bias_view(rows, entries, BIAS_TEXT),
                       robustness=robustness_view(robustness_rows(entries)))
