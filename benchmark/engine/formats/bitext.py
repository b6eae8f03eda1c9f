"""Reader for line-aligned bitext: two files per pair, line i of one the translation of line i of
the other (Tatoeba's ``tatoeba.<xx>-eng.<xx>`` / ``.eng``, or any layout a task definition sets).

PROTOCOL.md, "Tatoeba": a line is the file's text up to a "\\n", the newline stripped and nothing
else (so "\\r", "\\u2028" and trailing spaces stay part of the sentence); a final "\\n" does not
make an extra line. A query's id is its (pair, line number), the same on both sides, and its
relevant candidate is the aligned line of the other side. Should a side hold the same sentence
twice, every copy of the aligned sentence is relevant: identical texts score identically, and
the pessimistic tie rule would otherwise fail every such query whatever the model.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.engine.corpus import LanguageData
from benchmark.errors import XbenchError


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, split on "\\n" only; an empty file or a blank line is an error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise XbenchError(f"{path}: file not found (each pair needs both sides)") from None
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XbenchError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise XbenchError(f"{path}: empty (a side of a pair needs at least one line)")
    blank = next((i for i, line in enumerate(lines) if not line.strip()), None)
    if blank is not None:
        raise XbenchError(f"{path}: line {blank + 1} is blank (every line is a sentence to retrieve)")
    return lines


def _side(lang: str, pair: str, lines: list[str]) -> LanguageData:
    ids = [f"{pair}:{i + 1}" for i in range(len(lines))]
    copies: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        copies.setdefault(line, []).append(i)
    answers = {qid: tuple(copies[line]) for qid, line in zip(ids, lines)}
    return LanguageData(lang, ids, list(lines), list(lines), answers)


def read_bitext(paths: tuple[Path, Path], langs: tuple[str, str], candidate_text: str = "sentence") -> tuple[LanguageData, LanguageData]:
    """Read one pair's two sides (``langs[0]``'s file, then the pivot's) into one part each."""
    if candidate_text != "sentence":
        raise XbenchError(f"{paths[0]}: bitext has sentences only; candidate text {candidate_text!r} does not apply")
    own, pivot = (read_lines(path) for path in paths)
    if len(own) != len(pivot):
        raise XbenchError(f"{paths[0]}: {len(own)} lines, but {paths[1].name} has {len(pivot)} "
                          "(line i of one side is the translation of line i of the other)")
    pair = f"{langs[0]}-{langs[1]}"
    return _side(langs[0], pair, own), _side(langs[1], pair, pivot)


read_bitext.pairing = "pivot"  # type: ignore[attr-defined]
