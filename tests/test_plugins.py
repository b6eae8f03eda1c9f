"""Tasks, formats and encoders plug in from another installed package through entry points."""

from __future__ import annotations

import sys
import textwrap

import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.engine.taskregistry import available_tasks
from benchmark.retrievers import load_model


@pytest.fixture()
def plugin_package(tmp_path, synthetic, monkeypatch):
    """A minimal installed distribution (a .dist-info with entry_points.txt) on sys.path."""
    site = tmp_path / "site"
    pkg = site / "xbench_plugin_demo"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(
        f"""
        import numpy as np
        from pathlib import Path

        from benchmark.encoders import ModelIdentity

        TASK = Path({str(synthetic.task)!r})

        def task_definition():
            return str(TASK)

        class Encoder:
            name = "demo-encoder"
            similarity = "cosine"
            fingerprint = "demo-v1"

            def __init__(self, options=None):
                self.options = options

            def identity(self):
                return ModelIdentity(self.name, "plugin", self.fingerprint, self.similarity)

            def encode(self, texts, role):
                return np.asarray([[len(t) + 1.0, 1.0, 2.0] for t in texts], dtype=np.float32)

        def read_same_as_lareqa(path, lang, candidate_text):
            from benchmark.engine.formats.lareqa import read_lareqa
            return read_lareqa(path, lang, candidate_text)
        """))
    info = site / "xbench_plugin_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xbench-plugin-demo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(
        """
        [xbench.tasks]
        demo-task = xbench_plugin_demo:task_definition
        [xbench.encoders]
        demo-encoder = xbench_plugin_demo:Encoder
        [xbench.formats]
        demo-format = xbench_plugin_demo:read_same_as_lareqa
        """))
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("xbench_plugin_demo", None)


def test_task_plugin_is_listed(plugin_package):
    assert "synth" in available_tasks()  # the entry point returned the path of a definition


def test_encoder_plugin_runs(plugin_package, synthetic, tmp_path):
    retriever = load_model("demo-encoder")
    assert retriever.name == "demo-encoder"
    result = CliRunner().invoke(main, ["run", "--model", "demo-encoder", "--task", "synth", "--data-dir", str(synthetic.root),
                                       "--cache-dir", str(tmp_path / "c"), "--output", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "synth.json").is_file()


def test_format_plugin_is_used(plugin_package, synthetic, tmp_path):
    text = synthetic.task.read_text().replace('format = "lareqa"', 'format = "demo-format"').replace('name = "synth"', 'name = "viaplugin"')
    task = tmp_path / "viaplugin.toml"
    task.write_text(text)
    result = CliRunner().invoke(main, ["run", "--model", "ngram-hash", "--task", str(task), "--data-dir", str(synthetic.root),
                                       "--cache-dir", str(tmp_path / "c"), "--output", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "viaplugin.json").is_file()


def test_builtin_tasks_and_counts_from_definition():
    tasks = available_tasks()
    assert tasks["xquad-r"].languages == ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
    assert tasks["mlqa-r"].languages == ("ar", "de", "en", "es", "hi", "vi", "zh")
    result = CliRunner().invoke(main, ["tasks", "--json", "--data-dir", "/nonexistent"])
    assert result.exit_code == 0
    import json

    rows = {r["task"]: r for r in json.loads(result.output)}
    assert (rows["xquad-r"]["mono"], rows["xquad-r"]["cross"], rows["xquad-r"]["multi"]) == (11, 110, 11)
    assert (rows["mlqa-r"]["mono"], rows["mlqa-r"]["cross"], rows["mlqa-r"]["multi"]) == (7, 42, 7)
    assert rows["mlqa-r"]["settings"] == 56 and rows["mlqa-r"]["pairing"] == "all" and not rows["mlqa-r"]["symmetric"]
