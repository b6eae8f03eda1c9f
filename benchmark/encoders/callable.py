"""Any Python code as an encoder: ``package.module:attr``.

``attr`` may be a function ``f(texts) -> (n, d)``, an object with ``encode(texts)``, or one with
``encode_queries(texts)`` / ``encode_corpus(texts)`` (the BEIR / MTEB convention); a class is
instantiated with no arguments first. Optional attributes: ``similarity`` ("cosine" or "dot") and
``xbench_fingerprint`` (a string that changes when the outputs do; without it the fingerprint is the
module's source, so editing the code invalidates cached embeddings).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import sys
from typing import Any

from ..errors import UsageError, XbenchError
from .base import SIMILARITIES, EncoderOptions


def import_attr(spec: str) -> Any:
    module_name, _, attr_path = spec.partition(":")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # "importable from the current directory"
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--model {spec}: cannot import module {module_name!r} ({exc})") from None
    except Exception as exc:
        raise XbenchError(f"--model {spec}: importing {module_name!r} failed ({type(exc).__name__}: {exc})") from None
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"--model {spec}: module {module_name!r} has no attribute {attr_path!r}")
        obj = getattr(obj, part)
    return obj


class CallableEncoder:
    def __init__(self, spec: str, options: EncoderOptions) -> None:
        self.name, self.options = spec, options
        target = import_attr(spec)
        if inspect.isclass(target):
            try:
                target = target()
            except Exception as exc:
                raise XbenchError(f"model {spec}: cannot instantiate ({type(exc).__name__}: {exc})") from None
        if callable(getattr(target, "encode_queries", None)) and callable(getattr(target, "encode_corpus", None)):
            self._by_role = {"query": target.encode_queries, "passage": target.encode_corpus}
        elif callable(getattr(target, "encode", None)):
            self._by_role = {"query": target.encode, "passage": target.encode}
        elif callable(target):
            self._by_role = {"query": target, "passage": target}
        else:
            raise UsageError(f"--model {spec}: {type(target).__name__} is neither callable nor has encode()")
        similarity = getattr(target, "similarity", None) or getattr(target, "similarity_fn_name", None) or "cosine"
        if similarity not in SIMILARITIES:
            raise XbenchError(f"model {spec}: similarity {similarity!r} is not one of {', '.join(SIMILARITIES)}")
        self.similarity = similarity
        module = sys.modules[spec.partition(":")[0]]
        try:
            source = inspect.getsource(module).encode()
        except (OSError, TypeError):
            source = b""
        self._source_sha = hashlib.sha256(source).hexdigest()
        self._declared = str(getattr(target, "xbench_fingerprint", ""))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.name}\0{self._source_sha}\0{self._declared}".encode()).hexdigest()

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "callable",
            "source_sha256": self._source_sha,
            "declared_fingerprint": self._declared or None,
            "fingerprint": self.fingerprint,
            "similarity": self.similarity,
        }

    def encode(self, texts: list[str], role: str) -> Any:
        try:
            return self._by_role[role](texts)
        except XbenchError:
            raise
        except Exception as exc:
            raise XbenchError(f"model {self.name}: encoding failed ({type(exc).__name__}: {exc})") from None
