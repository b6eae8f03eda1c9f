"""``xbench tasks``: the registered tasks and how many settings of each kind they have."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("tasks")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data root, to count queries and candidates.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tasks_command(data_dir: Path | None, as_json: bool) -> None:
    """List the registered tasks and their settings.

    \b
    Counts of settings come from the data when it can be found (--data-dir or $XBENCH_DATA),
    otherwise from the definition alone (every language pair assumed to share questions).

    \b
    Examples:
      xbench tasks
      xbench tasks --data-dir ../shared/data/lareqa --json
    """
    from benchmark.engine.catalog import task_counts, tasks_table
    from benchmark.engine.taskdef import available_tasks

    rows = [task_counts(definition, data_dir) for definition in available_tasks().values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(tasks_table(rows))
