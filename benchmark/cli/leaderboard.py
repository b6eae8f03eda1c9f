"""``xbench leaderboard``: rebuild the board's views, or print one."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("leaderboard")
@click.option("--board", type=click.Path(file_okay=False, path_type=Path), default=Path("leaderboard"), show_default=True, help="Leaderboard folder.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "csv", "json"]), default=None, help="Print this view on stdout instead of rebuilding the files.")
def leaderboard_command(board: Path, fmt: str | None) -> None:
    """Rebuild the leaderboard views (README.md, index.html), or print one.

    \b
    Examples:
      xbench leaderboard                    # rebuild leaderboard/README.md and index.html
      xbench leaderboard --format csv > board.csv
    """
    from benchmark.leaderboard.views import rebuild, render

    if fmt:
        click.echo(render(board, fmt), nl=False)
    else:
        click.echo(f"rebuilt {', '.join(str(v) for v in rebuild(board))}")
