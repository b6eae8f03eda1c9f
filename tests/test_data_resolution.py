"""Data resolution: --data-dir, then $XBENCH_DATA, then the user cache filled by download."""

from __future__ import annotations

import pytest

from benchmark.engine.datafiles import resolve_data
from benchmark.errors import XbenchError
from benchmark.engine.taskdef import load_definition_file
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
    from benchmark.engine.taskdef import available_tasks
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
