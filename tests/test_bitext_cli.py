"""A bitext task through ``xbench run``: bad files and bad definitions fail in one line naming the
file (and field), exit 1; a symmetric task encodes both sides as queries, with the query prompt,
and says so in its result (issue 10, "Bad input fails clearly", "Symmetric encoding is on record")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from tests import encoders_for_tests
from tests.fixtures.bitext_files import bitext_fields, bitext_task, sentences, write_pair, write_task_toml
from tests.test_no_traceback import assert_one_line_failure

SIZES = {"fra": 5, "kab": 3}


def run(tmp_path: Path, toml: Path, root: Path, *extra: str, model: str = "ngram-hash"):
    return CliRunner().invoke(main, ["run", "--model", model, "--task", str(toml), "--data-dir", str(root), "--cache-dir",
                                     str(tmp_path / "cache"), "--output", str(tmp_path / "out"), "-q", *extra])


def fails(result, code: int, *needles: str) -> str:
    """The run failed with ``code`` and one error line holding every needle."""
    line = assert_one_line_failure(result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.exit_code == code, line
    for needle in needles:
        assert needle in line, line
    return line


def repin(base: Path, root: Path, name: str = "broken") -> Path:
    """The task's TOML again, pinning the checksums of the files as they are now."""
    return write_task_toml(base / f"{name}.toml", root, bitext_fields(name, list(SIZES)))


def _own(content):
    """Break the fra side of the fra-eng pair: write ``content`` (lines or bytes) there."""
    def mutate(root: Path) -> None:
        write_pair(root, "fra", "eng", content, sentences("eng", SIZES["fra"]))
    return mutate


DATA_CASES = {
    # case: (mutate the data root, needles of the error line)
    "line-counts-differ": (_own(sentences("fra", 4)), ["par.fra-eng.fra", "4 lines", "par.fra-eng.eng has 5"]),
    "empty-side": (_own(b""), ["par.fra-eng.fra", "empty"]),
    "blank-line": (_own(["un", "", "trois", "quatre", "cinq"]), ["par.fra-eng.fra", "line 2 is blank"]),
    "spaces-only-line": (_own(["un", "deux", "   ", "quatre", "cinq"]), ["par.fra-eng.fra", "line 3 is blank"]),
    "not-utf8": (_own(b"un\n\xff\xfedeux\ntrois\nquatre\ncinq\n"), ["par.fra-eng.fra", "not UTF-8", "byte 3"]),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_bitext_file_is_one_line_naming_it(tmp_path, case):
    mutate, needles = DATA_CASES[case]
    _, root = bitext_task(tmp_path, "good", SIZES)
    mutate(root)
    fails(run(tmp_path, repin(tmp_path, root), root), 1, *needles)
    assert not (tmp_path / "out" / "broken.json").exists()


def test_missing_side_of_a_pair(tmp_path):
    """A side the TOML pins but the folder lacks: not found, and where xbench looked; a side the
    TOML does not pin at all: the task names the file it has no checksum for."""
    toml, root = bitext_task(tmp_path, "good", SIZES)
    (root / "bt" / "par.kab-eng.eng").unlink()
    fails(run(tmp_path, toml, root), 1, "par.kab-eng.eng not found", str(root))
    fails(run(tmp_path, repin(tmp_path, root), root), 1, "'bt/par.kab-eng.eng'", "no checksummed file", "'kab'")


def test_checksum_mismatch_names_the_file(tmp_path):
    toml, root = bitext_task(tmp_path, "good", SIZES)
    _own(sentences("fra", 4) + ["cinq modifié"])(root)
    fails(run(tmp_path, toml, root), 1, "par.fra-eng.fra", "SHA-256 differs", "--allow-modified-data")


DEFINITION_CASES = {
    # case: (fields changed, groups, needles)
    "group-unknown-language": ({}, {"g": ["fra", "xho"]}, ["field 'groups.g'", "'xho'", "not one of the task's languages"]),
    "pivot-among-languages": ({"languages": ["fra", "kab", "eng"]}, None, ["field 'pivot'", "'eng'", "not in 'languages'"]),
    "pivot-with-mono": ({"settings": ["mono", "cross"]}, None, ["field 'settings'", "'mono'", "no monolingual setting"]),
    "layout-without-side": ({"layout": "bt/par.{lang}-{pivot}"}, None, ["field 'layout'", "{side}"]),
    "layout-unknown-placeholder": ({"layout": "bt/{prefix}.{lang}-{pivot}.{side}"}, None, ["field 'layout'"]),
    "pivot-pairing-without-pivot": ({"pivot": ""}, None, ["field 'pivot'", "required with pairing"]),
    "pairing-unknown": ({"pairing": "star"}, None, ["field 'pairing'", "all, pivot"]),
    "symmetric-not-boolean": ({"symmetric": "yes"}, None, ["field 'symmetric'", "boolean"]),
}


@pytest.mark.parametrize("case", sorted(DEFINITION_CASES))
def test_bad_bitext_definition_is_one_line_naming_file_and_field(tmp_path, case):
    changes, groups, needles = DEFINITION_CASES[case]
    _, root = bitext_task(tmp_path, "good", SIZES)
    toml = write_task_toml(tmp_path / "bad.toml", root, bitext_fields("bad", list(SIZES), **changes), groups)
    fails(run(tmp_path, toml, root), 1, str(toml), *needles)


class Recorder:
    """A role-aware encoder (the BEIR/MTEB convention) that writes down every text it is given,
    with the method that got it: what a prompt-using model such as E5 would see."""

    similarity = "dot"
    seen: list[tuple[str, str]] = []

    def encode_queries(self, texts):
        Recorder.seen += [("queries", t) for t in texts]
        return encoders_for_tests.ngram_counts.encode(texts)

    def encode_corpus(self, texts):
        Recorder.seen += [("corpus", t) for t in texts]
        return encoders_for_tests.ngram_counts.encode(texts)


@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "asymmetric"])
def test_symmetric_task_encodes_both_sides_as_queries(tmp_path, monkeypatch, symmetric):
    monkeypatch.setattr(encoders_for_tests, "Recorder", Recorder, raising=False)
    monkeypatch.setattr(Recorder, "seen", [])
    toml, root = bitext_task(tmp_path, "sym", SIZES, symmetric=symmetric)
    result = run(tmp_path, toml, root, "--query-prompt", "query: ", "--passage-prompt", "passage: ",
                 model="tests.encoders_for_tests:Recorder")
    assert result.exit_code == 0, result.output
    texts = {lang: sentences(lang, n) for lang, n in SIZES.items()}
    every_line = {t for lines in texts.values() for t in lines} | {t for n in SIZES.values() for t in sentences("eng", n)}
    doc = json.loads((tmp_path / "out" / "sym.json").read_text())
    if symmetric:
        # every line is a query and a candidate: encoded once, as a query, with the query prompt
        assert sorted(Recorder.seen) == sorted(("queries", "query: " + t) for t in every_line)
        assert doc["roles"] == {"queries": {"role": "query", "prompt": "query: "}, "candidates": {"role": "query", "prompt": "query: "}}
    else:
        assert sorted(Recorder.seen) == sorted([("queries", "query: " + t) for t in every_line] + [("corpus", "passage: " + t) for t in every_line])
        assert doc["roles"] == {"queries": {"role": "query", "prompt": "query: "},
                                "candidates": {"role": "passage", "prompt": "passage: "}}
    assert doc["task_definition"]["symmetric"] is symmetric and doc["task_definition"]["pivot"] == "eng"
