"""The leaderboard: validated submissions on disk, ranked, with statistical ties marked.

Layout of a board folder::

    submissions/<model>__<revision>/   submission.json + each task's result JSON and per-query table
                                       (xquad-r and mlqa-r always, tatoeba when the run has it), and
                                       any perturbed runs of them (<task>~<perturbation>.json)
    history/<model>__<revision>/<n>/   earlier submissions replaced with --replace (never deleted)
    README.md, index.html              views, rebuilt from submissions/ alone (benchmark.board_views)

``submit`` is a transaction. The result files are copied to a private temporary folder and it is
that copy which is checked (field types the views rely on, then full validation) and rendered,
together with the submissions already on the board, into the new views. Only then, with the board
locked, is the copy renamed into ``submissions/`` and the views renamed over the old ones; when a
step of that swap fails the earlier steps are undone. A refused or failed submit therefore leaves
the board byte for byte as it was, and every board it leaves renders.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from benchmark.errors import XbenchError
from benchmark.fsutil import atomic_write_text, prepared_writes
from benchmark.results import RecordedModel, TaskResult
from benchmark.results.schema import PER_QUERY_SUFFIX
from .perturbed import check_perturbed, perturbed_keys
from .entries import check_board_fields, check_same_model, entry_tasks, load_entries, read_meta, revision_of, submission_key
from .ranking import BOARD_TASKS, SHOWN_TASKS, Entry, rank
from .validate import validate_result
from .verify import verified_label

Views = Callable[[list["Entry"]], dict[str, str]]  # ranked entries -> {file name in the board: text}

try:
    import fcntl
except ImportError:  # not POSIX: no advisory locks, concurrent submits there are the user's to avoid
    fcntl = None  # type: ignore[assignment]


# ---- submit: stage, check, render, swap ---------------------------------------------------------


COVERS = f"a submission covers {', '.join(BOARD_TASKS)}, and {', '.join(SHOWN_TASKS)} when the run has it"


def validate_submission(result_dir: Path, data_dir: Path | None = None) -> tuple[dict[str, TaskResult], dict[str, TaskResult]]:
    """Every task's result (each ranked task, and each shown task present), fully validated
    (per-query tables read), all of one model; and the perturbed results by key, each validated
    and held to be its clean result's run with perturbed queries (:func:`.perturbed.check_perturbed`).
    A Tatoeba or perturbed result present is held to the same checks as the ranked ones: a
    submission does not carry an unchecked result onto the board."""
    results = {}
    for task in entry_tasks(result_dir):
        path = Path(result_dir) / f"{task}.json"
        if not path.is_file():
            raise XbenchError(f"{result_dir}: no {task}.json ({COVERS})")
        results[task] = validate_result(path, data_dir)
    perturbed = {}
    for key in perturbed_keys(result_dir):  # their query ids are their clean result's, checked against the canonical data
        perturbed[key] = validate_result(Path(result_dir) / f"{key}.json", data_dir, query_ids=False)
        check_perturbed(perturbed[key], results)
    check_same_model({**results, **perturbed}, Path(result_dir))
    return results, perturbed


def _copy_regular(src: Path, dst: Path) -> None:
    """Copy ``src`` if it is a regular file (or a link to one): never a FIFO, device or folder."""
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except FileNotFoundError:
        raise XbenchError(f"{src.parent}: no {src.name} ({COVERS}, each with its per-query table)") from None
    except OSError as exc:
        raise XbenchError(f"{src}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise XbenchError(f"{src}: not a regular file")
    with os.fdopen(fd, "rb") as source:
        with open(dst, "wb") as out:
            shutil.copyfileobj(source, out)


def stage(result_dir: Path, staged: Path) -> None:
    """Copy a submission's files into the new folder ``staged``; check the fields the board relies
    on (before the full validation, so that those faults are named as the board's)."""
    staged.mkdir()
    for key in (*entry_tasks(result_dir), *perturbed_keys(result_dir)):
        for name in (f"{key}.json", f"{key}{PER_QUERY_SUFFIX}"):
            _copy_regular(Path(result_dir) / name, staged / name)
        path = staged / f"{key}.json"
        check_board_fields(TaskResult.from_file(path), path, key.partition("~")[0])


@contextlib.contextmanager
def _named_as(staged: Path, source: Path) -> Iterator[None]:
    """Errors about the private copy name the submitter's own files instead."""
    try:
        yield
    except XbenchError as exc:
        raise type(exc)(str(exc).replace(str(staged), str(source))) from None


@contextlib.contextmanager
def locked(board: Path) -> Iterator[None]:
    """Hold an exclusive lock on the board folder (made if absent): concurrent submits and rebuilds take turns."""
    try:
        board.mkdir(parents=True, exist_ok=True)
        fd = os.open(board, os.O_RDONLY) if fcntl else None
    except OSError as exc:
        raise XbenchError(f"{board}: cannot use as a board folder ({exc.strerror})") from None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _check_slot(target: Path, model: RecordedModel, replace: bool) -> None:
    """A key already taken is refused without --replace, and always when it holds another model."""
    if not target.exists():
        return
    name, revision = model.name, revision_of(model)
    held = read_meta(target / "submission.json")
    if (held.get("model"), held.get("revision")) != (name, revision):
        raise XbenchError(f"{target} holds {held.get('model')!r} (revision {str(held.get('revision'))[:12]}), "
                          f"not {name!r} (revision {revision[:12]}): two models whose names make the same key")
    if not replace:
        raise XbenchError(f"{name} (revision {revision[:12]}) is already on the board as {target.name}; use --replace to supersede it")


def _retire(target: Path) -> Path:
    """Move a replaced submission to the next free ``history/<key>/<n>``."""
    history = target.parent.parent / "history" / target.name
    history.mkdir(parents=True, exist_ok=True)
    slot = history / str(max((int(p.name) for p in history.iterdir() if p.name.isdigit()), default=0) + 1)
    os.rename(target, slot)
    return slot


def _remove_empty(*folders: Path) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _swap_in(board: Path, staged: Path, target: Path, texts: dict[str, str]) -> None:
    """Rename the staged submission into place and the new views over the old; undo all on failure."""
    incoming = target.parent / f".incoming-{uuid.uuid4().hex}"
    try:
        shutil.copytree(staged, incoming)
        with prepared_writes({board / name: text.encode("utf-8") for name, text in texts.items()}) as commit:
            retired = _retire(target) if target.exists() else None
            try:
                os.replace(incoming, target)
                try:
                    commit()
                except BaseException:
                    os.replace(target, incoming)
                    raise
            except BaseException:
                if retired is not None:
                    os.replace(retired, target)
                    _remove_empty(retired.parent, retired.parent.parent)
                raise
    except OSError as exc:
        raise XbenchError(f"{board}: cannot write the board ({exc}); it is unchanged") from None
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
        _remove_empty(target.parent)


def submit(result_dir: Path, board: Path, views: Views, replace: bool = False, data_dir: Path | None = None) -> Path:
    """Validate ``result_dir`` and add it to ``board`` with the views ``views`` renders; returns the submission folder.

    Everything that can fail happens on a private copy before the board is touched (see the module
    docstring), so a refused or failed submit leaves the board byte for byte as it was.
    """
    result_dir, board = Path(result_dir), Path(board)
    with tempfile.TemporaryDirectory(prefix="xbench-submit-") as tmp:
        staged = Path(tmp) / "submission"
        with _named_as(staged, result_dir):
            stage(result_dir, staged)
            results, perturbed = validate_submission(staged, data_dir)
            first = results[BOARD_TASKS[0]]
            model = first.model
            target = board / "submissions" / submission_key(model)
        meta = {
            "key": target.name,
            "model": model.name,
            "revision": revision_of(model),
            "submitted": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "xbench_version": first.xbench_version,
            "command": first.command,
        }
        atomic_write_text(staged / "submission.json", json.dumps(meta, indent=2) + "\n")
        with locked(board):
            _check_slot(target, model, replace)
            # the new entry from the results just validated: every check load_entry makes has been made
            entry = Entry(target.name, meta, results, verified_label(staged, {**results, **perturbed}), perturbed)
            entries = load_entries(board, exclude=target.name) + [entry]
            texts = views(rank(entries))
            _swap_in(board, staged, target, texts)
    return target
