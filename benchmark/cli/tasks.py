"""``xbench tasks``: the registered tasks, how they pair their languages, their groups, and how
many settings of each kind they have; ``xbench tasks NAME`` shows one in full."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


@click.command("tasks")
@click.argument("names", nargs=-1)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Data root(s), several separated by {os.pathsep!r}, to count queries and candidates (else $XBENCH_DATA).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (full language lists and groups).")
def tasks_command(names: tuple[str, ...], data_dir: Path | None, as_json: bool) -> None:
    """List the registered tasks, or show the named ones (a name or a definition file) in full.

    \b
    Per task: pairing (all ordered pairs, or each language with a pivot), symmetric (candidates
    encoded like queries), the number of languages and of each group's languages, settings per
    kind and in all, queries and candidates. Counts come from the data when it can be found
    (--data-dir or $XBENCH_DATA), otherwise from the definition alone (every language pair
    assumed to share questions). NAME lists every language and every group's members.

    \b
    Examples:
      xbench tasks
      xbench tasks tatoeba
      xbench tasks --data-dir ../shared/data --json
    """
    from benchmark.engine.catalog import task_counts, task_details, tasks_table
    from benchmark.engine.taskregistry import available_tasks, get_task

    definitions = [get_task(name) for name in names] if names else list(available_tasks().values())
    rows = [task_counts(definition, data_dir) for definition in definitions]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif names:
        click.echo("\n\n".join(task_details(definition, row) for definition, row in zip(definitions, rows)))
    else:
        click.echo(tasks_table(rows))
