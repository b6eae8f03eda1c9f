"""Data resolution: --data-dir, then $XBENCH_DATA (each one root or several, each also searched in the task's
data_folder), then the user cache filled by download."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from benchmark.engine.datafiles import DataUnavailable, resolve_data
from benchmark.errors import XbenchError
from benchmark.engine.taskdef import TaskDefinition, load_definition_file, parse_definition
from tests.conftest import LANGS
from tests.fake_http import LocalServer, files


@pytest.fixture()
def served(synthetic):
    """The synthetic data served over HTTP on 127.0.0.1 (the only network the tests use)."""
    with LocalServer(files(synthetic.root)) as server:
        yield server.url


def with_url(synthetic, tmp_path, url):
    text = synthetic.task.read_text().replace("[files]", f'[source]\nurl = "{url}/{{file}}"\n[files]')
    path = tmp_path / "synth.toml"
    path.write_text(text)
    return load_definition_file(path)


def test_explicit_dir_wins(synthetic, monkeypatch, tmp_path):
    monkeypatch.setenv("XBENCH_DATA", str(tmp_path / "elsewhere"))
    definition = load_definition_file(synthetic.task)
    resolved = resolve_data(definition, LANGS, synthetic.root)
    assert resolved.root == synthetic.root and resolved.official
    assert set(resolved.checksums) == {f"synth/{lang}.json" for lang in LANGS}


def test_environment_variable_is_next(synthetic, monkeypatch):
    monkeypatch.setenv("XBENCH_DATA", str(synthetic.root))
    assert resolve_data(load_definition_file(synthetic.task), ("en",), None).root == synthetic.root


def test_download_into_user_cache_then_reuse(synthetic, served, tmp_path, monkeypatch):
    monkeypatch.delenv("XBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    definition = with_url(synthetic, tmp_path, served)
    resolved = resolve_data(definition, LANGS, None)
    assert resolved.root == tmp_path / "xdg" / "xbench" / "data" and resolved.official
    for lang in LANGS:
        assert (resolved.root / f"synth/{lang}.json").read_bytes() == (synthetic.root / f"synth/{lang}.json").read_bytes()
    assert not list(resolved.root.rglob("*.tmp"))
    # second time: no network needed (a dead URL proves it)
    assert resolve_data(with_url(synthetic, tmp_path, "http://127.0.0.1:9"), LANGS, None).root == resolved.root


def test_offline_and_missing_is_one_clear_error(synthetic, tmp_path, monkeypatch):
    monkeypatch.delenv("XBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(XbenchError, match=r"cannot download http://127\.0\.0\.1:9/synth/\w+\.json"):
        resolve_data(with_url(synthetic, tmp_path, "http://127.0.0.1:9"), LANGS, None)
    assert not list((tmp_path / "xdg").rglob("*.json"))


def test_download_with_wrong_checksum_is_refused(synthetic, served, tmp_path, monkeypatch):
    monkeypatch.delenv("XBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    definition = with_url(synthetic, tmp_path, served)
    tampered = dict(definition.files)
    tampered["synth/en.json"] = "0" * 64
    from dataclasses import replace

    with pytest.raises(XbenchError, match="does not match its pinned SHA-256"):
        resolve_data(replace(definition, files=tampered), LANGS, None)
    assert not (tmp_path / "xdg" / "xbench" / "data" / "synth" / "en.json").exists()


def test_builtin_tasks_pin_the_shared_checksums():
    """The shipped definitions carry exactly the SHA256SUMS of ../shared/data/lareqa."""
    from benchmark.engine.taskregistry import available_tasks
    from tests.paths import SHARED_LAREQA

    if SHARED_LAREQA is None or not (SHARED_LAREQA / "SHA256SUMS").is_file():
        pytest.skip("shared LAReQA data not present")
    sums = dict(reversed(line.split()) for line in (SHARED_LAREQA / "SHA256SUMS").read_text().splitlines() if line.strip())
    tasks = available_tasks()
    pinned = {**tasks["xquad-r"].files, **tasks["mlqa-r"].files}
    assert pinned == {k: v for k, v in sums.items() if k.endswith(".json")}


def test_definition_errors_name_the_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nformat = "lareqa"\nlanguages = ["en"]\n[files]\n')
    with pytest.raises(XbenchError, match=r"bad\.toml: task definition lacks the field 'layout'"):
        load_definition_file(path)
    path.write_text('name = "x"\nformat = "lareqa"\nlanguages = ["en"]\nlayout = "{lang}.json"\nmetrics = ["ndcg@ten"]\n[files]\n')
    with pytest.raises(XbenchError, match="ndcg@ten"):
        load_definition_file(path)
    path.write_text("name = ")
    with pytest.raises(XbenchError, match="not valid TOML"):
        load_definition_file(path)


# --------------------------------------------------------------------------------------------------
# Several roots, the task's data_folder, and where the error says it looked (hand-built folders)
# --------------------------------------------------------------------------------------------------

CONTENT = {"en": b"english\n", "de": b"deutsch\n", "fr": b"francais\n"}


def tiny_task(**extra) -> TaskDefinition:
    """A definition whose three files lie at d/<lang>.txt below a root, or below root/<data_folder>."""
    raw = {"name": "tiny", "format": "lareqa", "languages": list(CONTENT), "layout": "d/{lang}.txt",
           "files": {f"d/{lang}.txt": hashlib.sha256(text).hexdigest() for lang, text in CONTENT.items()}, **extra}
    return parse_definition(raw, "tiny.toml")


def holding(root: Path, *langs: str) -> Path:
    """``root`` with d/<lang>.txt for ``langs`` (the pinned bytes)."""
    (root / "d").mkdir(parents=True)
    for lang in langs:
        (root / "d" / f"{lang}.txt").write_bytes(CONTENT[lang])
    return root


def roots(*paths: Path | str) -> str:
    return os.pathsep.join(str(p) for p in paths)


def test_several_roots_first_holding_every_file_wins(tmp_path, monkeypatch):
    first, second = holding(tmp_path / "a", *CONTENT), holding(tmp_path / "b", *CONTENT)
    monkeypatch.setenv("XBENCH_DATA", roots(first, second))
    assert resolve_data(tiny_task(), tuple(CONTENT)).root == first
    assert resolve_data(tiny_task(), tuple(CONTENT), roots(second, first)).root == second


def test_second_root_used_when_the_first_lacks_a_file(tmp_path, monkeypatch):
    first, second = holding(tmp_path / "a", "en"), holding(tmp_path / "b", *CONTENT)
    monkeypatch.setenv("XBENCH_DATA", roots(first, second))
    resolved = resolve_data(tiny_task(), ("en", "de"))
    assert resolved.root == second and set(resolved.checksums) == {"d/en.txt", "d/de.txt"} and resolved.official
    assert resolve_data(tiny_task(), ("en",)).root == first  # only the chosen languages' files count


def test_a_parent_serves_through_the_task_data_folder(tmp_path, monkeypatch):
    parent = tmp_path / "data"
    holding(parent / "lareqa", *CONTENT)
    monkeypatch.setenv("XBENCH_DATA", str(parent))
    assert resolve_data(tiny_task(data_folder="lareqa"), tuple(CONTENT)).root == parent / "lareqa"
    assert resolve_data(tiny_task(data_folder="lareqa"), ("en",), parent).root == parent / "lareqa"
    # the root itself comes before its folder; a task without data_folder looks only in the root
    holding(parent, "en")
    assert resolve_data(tiny_task(data_folder="lareqa"), ("en",)).root == parent
    with pytest.raises(DataUnavailable, match=re.escape(f"{parent / 'd' / 'de.txt'} not found")):
        resolve_data(tiny_task(), ("de",))


@pytest.mark.parametrize("how", ["env", "flag"])
def test_an_explicit_location_never_falls_back_to_a_download(synthetic, served, tmp_path, monkeypatch, how):
    """The URL works (the user-cache test above downloads from it), yet nothing is fetched."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    empty = tmp_path / "empty"
    empty.mkdir()
    if how == "env":
        monkeypatch.setenv("XBENCH_DATA", roots(empty, tmp_path / "missing"))
    else:
        monkeypatch.delenv("XBENCH_DATA", raising=False)
    with pytest.raises(DataUnavailable, match=re.escape(f"{empty / 'synth' / 'en.json'} not found")):
        resolve_data(with_url(synthetic, tmp_path, served), LANGS, None if how == "env" else empty)
    assert not (tmp_path / "xdg").exists()


def test_the_error_is_one_line_naming_the_fullest_place_and_every_place_looked(tmp_path, monkeypatch):
    a, b = holding(tmp_path / "a", "en"), tmp_path / "b"
    holding(b / "lareqa", "en", "fr")
    monkeypatch.setenv("XBENCH_DATA", roots(a, b))
    with pytest.raises(DataUnavailable) as caught:
        resolve_data(tiny_task(data_folder="lareqa"), tuple(CONTENT))
    sep = os.pathsep
    assert str(caught.value) == (
        f"task tiny: {b / 'lareqa' / 'd' / 'de.txt'} not found "
        f"(looked in $XBENCH_DATA: {a}, {a / 'lareqa'}, {b}, {b / 'lareqa'}); "
        f"pass --data-dir DIR or set XBENCH_DATA=DIR (several separated by {sep!r}), where DIR or DIR/lareqa holds d/<lang>.txt"
    )
    # none holds any: the first place is named
    with pytest.raises(DataUnavailable, match=re.escape(f"task tiny: {tmp_path / 'x' / 'd' / 'en.txt'} not found (looked in --data-dir: {tmp_path / 'x'}, {tmp_path / 'y'});")):
        resolve_data(tiny_task(), tuple(CONTENT), roots(tmp_path / "x", tmp_path / "y"))


def test_empty_entries_are_ignored(tmp_path, monkeypatch):
    a = holding(tmp_path / "a", *CONTENT)
    monkeypatch.setenv("XBENCH_DATA", f"{os.pathsep}{a}{os.pathsep}{os.pathsep}")
    assert resolve_data(tiny_task(), tuple(CONTENT)).root == a
    with pytest.raises(DataUnavailable, match=f"task tiny: --data-dir '{os.pathsep}{os.pathsep}' names no directory"):
        resolve_data(tiny_task(), tuple(CONTENT), os.pathsep * 2)


def test_separators_alone_in_the_environment_mean_the_user_cache(synthetic, served, tmp_path, monkeypatch):
    monkeypatch.setenv("XBENCH_DATA", os.pathsep)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data(with_url(synthetic, tmp_path, served), ("en",)).root == tmp_path / "xdg" / "xbench" / "data"


def test_a_root_that_is_a_file_holds_nothing(tmp_path, monkeypatch):
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder")
    a = holding(tmp_path / "a", *CONTENT)
    monkeypatch.setenv("XBENCH_DATA", roots(plain, a))
    assert resolve_data(tiny_task(data_folder="lareqa"), tuple(CONTENT)).root == a
    with pytest.raises(DataUnavailable, match=re.escape(f"{plain / 'd' / 'en.txt'} not found (looked in --data-dir: {plain});")):
        resolve_data(tiny_task(), ("en",), plain)


@pytest.mark.parametrize("folder", ["../x", "..", "a/b", "/abs", "", "-x", 3])
def test_data_folder_must_be_one_plain_folder_name(folder):
    with pytest.raises(XbenchError, match=r"tiny\.toml: field 'data_folder'"):
        tiny_task(data_folder=folder)


def test_builtin_lareqa_tasks_are_served_by_the_shared_parent():
    from benchmark.engine.taskregistry import available_tasks
    from tests.paths import SHARED_LAREQA

    tasks = available_tasks()
    assert tasks["xquad-r"].data_folder == tasks["mlqa-r"].data_folder == "lareqa"
    if SHARED_LAREQA is None or SHARED_LAREQA.name != "lareqa":
        pytest.skip("shared LAReQA data not present as .../lareqa")
    for name in ("xquad-r", "mlqa-r"):
        assert resolve_data(tasks[name], ("en",), SHARED_LAREQA.parent).root == SHARED_LAREQA
