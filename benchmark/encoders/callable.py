"""Any Python code as an encoder: ``package.module:attr``.

``attr`` may be a function ``f(texts) -> (n, d)``, an object with ``encode(texts)``, or one with
``encode_queries(texts)`` / ``encode_corpus(texts)`` (the BEIR / MTEB convention); a class is
instantiated with no arguments first. Optional attributes: ``similarity`` ("cosine" or "dot") and
``xbench_fingerprint`` (a string that changes when the outputs do; without it the fingerprint is the
module's source, so editing the code invalidates cached embeddings).

User code is not trusted to fail politely: anything it raises while importing, instantiating or
encoding (``SystemExit`` and other ``BaseException`` subclasses included, Ctrl-C excepted) becomes
an error naming the model, so ``sys.exit(0)`` inside an encoder can never pass for a finished run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import os
import sys
from typing import Any, Iterator

from benchmark.errors import UsageError, XbenchError
from .base import SIMILARITIES, EncoderOptions
from .identity import ModelIdentity


@contextlib.contextmanager
def user_code(what: str, passthrough: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Run user code; anything it raises but Ctrl-C and ``passthrough`` becomes ``what (reason)``."""
    try:
        yield
    except (XbenchError, KeyboardInterrupt, *passthrough):
        raise
    except BaseException as exc:  # noqa: BLE001 -- the point: user code may raise anything, SystemExit too
        raise XbenchError(f"{what} ({_reason(exc)})") from None


def _reason(exc: BaseException, limit: int = 300) -> str:
    """What went wrong, at most ``limit`` characters (``sys.exit(texts)`` would print every text)."""
    try:
        text = f"it called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ or __repr__ fails
        text = type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def import_attr(spec: str) -> Any:
    module_name, _, attr_path = spec.partition(":")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # "importable from the current directory"
    try:
        with user_code(f"--model {spec}: importing {module_name!r} failed", passthrough=(ImportError,)):
            obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--model {spec}: cannot import module {module_name!r} ({exc})") from None
    for part in attr_path.split("."):
        try:
            with user_code(f"--model {spec}: reading {attr_path!r} failed", passthrough=(AttributeError,)):
                obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"--model {spec}: module {module_name!r} has no attribute {attr_path!r}") from None
    return obj


class CallableEncoder:
    def __init__(self, spec: str, options: EncoderOptions) -> None:
        self.name, self.options = spec, options
        target = import_attr(spec)
        with user_code(f"model {spec}: cannot instantiate"):
            if inspect.isclass(target):
                target = target()
        with user_code(f"model {spec}: cannot read its attributes"):
            self._describe(spec, target)

    def _describe(self, spec: str, target: Any) -> None:
        """Pick the encode functions, similarity and fingerprint parts off ``target``."""
        if callable(getattr(target, "encode_queries", None)) and callable(getattr(target, "encode_corpus", None)):
            self._by_role = {"query": target.encode_queries, "passage": target.encode_corpus}
        elif callable(getattr(target, "encode", None)):
            self._by_role = {"query": target.encode, "passage": target.encode}
        elif callable(target):
            self._by_role = {"query": target, "passage": target}
        else:
            raise UsageError(f"--model {spec}: {type(target).__name__} is neither callable nor has encode()")
        similarity = getattr(target, "similarity", None) or getattr(target, "similarity_fn_name", None) or "cosine"
        if not isinstance(similarity, str) or similarity not in SIMILARITIES:
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

    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, "callable", self.fingerprint, self.similarity, source_sha256=self._source_sha,
                             declared_fingerprint=self._declared or None)

    def encode(self, texts: list[str], role: str) -> Any:
        with user_code(f"model {self.name}: encoding failed"):
            return self._by_role[role](texts)
