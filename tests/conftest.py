"""Shared test fixtures: synthetic LAReQA/BEIR tasks with their definitions, and a tiny model.

Everything is built offline in temporary folders; the user's caches are never touched.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.lareqa_synthetic import collect_texts, write_beir_benchmark, write_lareqa_benchmark
from tests.fixtures.tiny_model import build_tiny_model

LANGS = ("en", "de", "fr")


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache(tmp_path_factory):
    """platformdirs honours XDG_CACHE_HOME: keep every user-cache write inside the test run."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ.pop("XBENCH_CACHE", None)
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


def write_task_definition(path: Path, name: str, data_root: Path, layout: str, langs, fmt: str = "lareqa", **extra) -> Path:
    """A TOML task definition whose checksums are those of the files now under ``data_root``."""
    files = {}
    for lang in langs:
        target = data_root / layout.format(lang=lang)
        members = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        for member in members:
            files[member.relative_to(data_root).as_posix()] = hashlib.sha256(member.read_bytes()).hexdigest()
    lines = [
        f'name = "{name}"',
        f'format = "{fmt}"',
        "languages = [" + ", ".join(f'"{lang}"' for lang in langs) + "]",
        f'layout = "{layout}"',
    ]
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in extra.items()]
    lines.append("[files]")
    lines += [f'"{rel}" = "{digest}"' for rel, digest in files.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Synthetic:
    root: Path  # data root
    task: Path  # full-coverage LAReQA task definition (XQuAD-like)
    partial_task: Path  # MLQA-like partial coverage
    beir_task: Path
    expected: dict
    expected_partial: dict
    expected_beir: dict


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Synthetic:
    base = tmp_path_factory.mktemp("synthetic")
    root = base / "data"
    expected = write_lareqa_benchmark(root / "synth", langs=LANGS)
    expected_partial = write_lareqa_benchmark(root / "synthp", langs=LANGS, partial=True, seed=1)
    expected_beir = write_beir_benchmark(root / "beir", langs=("en", "de"))
    return Synthetic(
        root=root,
        task=write_task_definition(base / "tasks" / "synth.toml", "synth", root, "synth/{lang}.json", LANGS),
        partial_task=write_task_definition(base / "tasks" / "synthp.toml", "synthp", root, "synthp/{lang}.json", LANGS),
        beir_task=write_task_definition(base / "tasks" / "synbeir.toml", "synbeir", root, "beir/{lang}", ("en", "de"), fmt="beir"),
        expected=expected,
        expected_partial=expected_partial,
        expected_beir=expected_beir,
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, synthetic) -> Path:
    texts = collect_texts(synthetic.root / "synth") + collect_texts(synthetic.root / "synthp") + collect_texts(synthetic.root / "beir")
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model", texts, dim=32, seed=0)
