"""Result files: one versioned JSON per task plus its per-query table, written atomically.

``<task>.json`` holds the identity of everything that made the numbers (xbench version, task
definition, data checksums, model identity, candidate text) and the numbers themselves at three
levels: headline scores, per setting, and (in ``<task>.per_query.csv.gz``, checksummed from the
JSON) per query, so that later comparisons can run paired significance tests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import RESULT_SCHEMA_VERSION, __version__
from .errors import XbenchError
from .fsutil import atomic_write_bytes, atomic_write_text
from .metrics.aggregate import headline_scores, macro_mean
from .scoring import SettingScores

PER_QUERY_SUFFIX = ".per_query.csv.gz"


def setting_records(scores: list[SettingScores]) -> list[dict[str, Any]]:
    records = []
    for s in scores:
        record: dict[str, Any] = {**s.setting.fields(), "map": s.map, "n_queries": len(s.query_ids)}
        if s.rank_distance is not None:
            record["rank_distance"] = float(s.rank_distance.mean()) if len(s.rank_distance) else 0.0
        for name, values in s.cutoff.items():
            record[name] = float(values.mean()) if len(values) else 0.0
        records.append(record)
    return records


def cutoff_aggregates(records: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, dict[str, float | None]]:
    """Macro means of each cutoff metric by setting kind, the way mAP is aggregated."""
    return {
        kind: {name: macro_mean(r[name] for r in records if r["kind"] == kind) for name in names}
        for kind in ("mono", "cross", "multi")
        if any(r["kind"] == kind for r in records)
    }


def per_query_frame(scores: list[SettingScores]) -> pd.DataFrame:
    frames = []
    for s in scores:
        columns: dict[str, Any] = {
            **s.setting.fields(),
            "query_id": s.query_ids,
            "ap": s.ap,
            "n_relevant": s.n_relevant,
            "rank_distance": s.rank_distance if s.rank_distance is not None else np.nan,
        }
        columns.update(s.cutoff)
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def setting_rows(per_query: pd.DataFrame, record: dict[str, Any]) -> pd.DataFrame:
    """The per-query rows of one setting record."""
    mask = (per_query.kind == record["kind"]) & (per_query.query_lang == record["query_lang"]) & (per_query.corpus_lang == record["corpus_lang"])
    return per_query[mask]


def frame_to_csv_gz(frame: pd.DataFrame) -> bytes:
    """Deterministic bytes (gzip without a timestamp; floats written to round-trip exactly)."""
    text = frame.to_csv(index=False, lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def hardware() -> dict[str, Any]:
    import os

    import faiss

    from .search import device_name

    info = {
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": getattr(faiss, "__version__", None),
        "search_device": device_name(),
    }
    try:
        import sys

        if "torch" in sys.modules:
            torch = sys.modules["torch"]
            info["torch"] = torch.__version__
            info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:
        pass
    return info


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise XbenchError(f"internal error: non-finite value {value} in a result")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def build_result(
    *,
    definition: Any,
    languages: tuple[str, ...],
    model: dict[str, Any],
    data: Any,
    candidate_text: str,
    scores: list[SettingScores],
    timings: dict[str, float],
    encoding: dict[str, Any],
    counts: dict[str, dict[str, int]],
    sample: dict[str, int] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    records = setting_records(scores)
    result = {
        "schema_version": RESULT_SCHEMA_VERSION,
        "xbench_version": __version__,
        "task": definition.name,
        "task_definition": {
            "name": definition.name,
            "version": definition.version,
            "format": definition.format,
            "languages": list(definition.languages),
            "metrics": list(definition.metrics),
        },
        "languages": list(languages),
        "complete": tuple(languages) == tuple(definition.languages) and not sample,
        "sample": sample,
        "candidate_text": candidate_text,
        "counts": counts,
        "model": model,
        "data": {"checksums": data.checksums, "official": data.official, "modified_files": list(data.modified)},
        "scores": headline_scores(records),
        "cutoff_scores": cutoff_aggregates(records, definition.cutoff_metrics),
        "settings": records,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "encoding": encoding,
        "hardware": hardware(),
    }
    return result, per_query_frame(scores)


def write_result(out_dir: Path, result: dict[str, Any], per_query: pd.DataFrame) -> Path:
    """Write the per-query table, then the JSON that names its checksum; returns the JSON path."""
    out_dir = Path(out_dir)
    name = result["task"]
    blob = frame_to_csv_gz(per_query)
    per_query_name = f"{name}{PER_QUERY_SUFFIX}"
    result = dict(result, per_query={"file": per_query_name, "sha256": hashlib.sha256(blob).hexdigest(), "rows": len(per_query)})
    text = json.dumps(_clean(result), indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(out_dir / per_query_name, blob)
    path = out_dir / f"{name}.json"
    atomic_write_text(path, text)
    return path


def read_result(path: Path) -> dict[str, Any]:
    """Load a result JSON, refusing other schema versions."""
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise XbenchError(f"{path}: not a valid result file ({exc})") from None
    if not isinstance(result, dict) or result.get("schema_version") != RESULT_SCHEMA_VERSION:
        raise XbenchError(f"{path}: schema_version {result.get('schema_version') if isinstance(result, dict) else None!r}, expected {RESULT_SCHEMA_VERSION}")
    return result


def read_per_query(result_path: Path, result: dict[str, Any]) -> pd.DataFrame:
    """The per-query table next to a result JSON, after checking it is the one the JSON names."""
    path = Path(result_path).parent / result["per_query"]["file"]
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise XbenchError(f"{path}: cannot read ({exc.strerror})") from None
    if hashlib.sha256(blob).hexdigest() != result["per_query"]["sha256"]:
        raise XbenchError(f"{path}: SHA-256 differs from the one recorded in {Path(result_path).name}")
    return pd.read_csv(io.BytesIO(blob), compression="gzip", dtype={"query_id": str}, keep_default_na=False, na_values=[""])
