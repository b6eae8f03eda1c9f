"""A fake HTTP server for tests: one place for the plumbing, so each test file keeps only its answers.

It listens on 127.0.0.1 only (the only network the tests use), on a free port unless told one,
serves from a daemon thread and logs nothing.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Request(BaseHTTPRequestHandler):
    """One request, with the helpers the fake servers answer with; quiet, so pytest output stays clean."""

    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def json_body(self) -> Any:
        """The request's JSON body (the client always sends Content-Length)."""
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def send(self, code: int, body: bytes, *headers: tuple[str, str], reason: str | None = None) -> None:
        """A whole response: status (with ``reason`` as its phrase if given), headers, Content-Length, body."""
        self.send_response(code, reason)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, payload: Any, code: int = 200) -> None:
        """``payload`` as an application/json response."""
        self.send(code, json.dumps(payload).encode(), ("Content-Type", "application/json"))


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def answering(respond: Callable[[Request], None], protocol: str = "HTTP/1.0") -> type[Request]:
    """A handler whose every POST is ``respond(request)``; ``protocol`` "HTTP/1.1" keeps connections open."""
    return type("Answering", (Request,), {"protocol_version": protocol, "do_POST": lambda self: respond(self)})


def files(directory: Path) -> Callable[..., BaseHTTPRequestHandler]:
    """A handler serving the files below ``directory`` on GET."""
    return functools.partial(_QuietFiles, directory=str(directory))


class LocalServer:
    """``handler`` (from ``answering`` or ``files``) served on 127.0.0.1 until ``close()`` or the end of a with block."""

    def __init__(self, handler: Callable[..., BaseHTTPRequestHandler], port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
