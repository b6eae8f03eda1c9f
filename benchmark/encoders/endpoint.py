"""Where an embedding API lives, and keeping its secrets out of everything xbench writes or says.

Secrets stay secret: the key, credentials in the URL (``http://user:pass@host``) and query
parameters that look like credentials (``?api_key=...``) are sent to the server and nowhere else.
Results, the cache fingerprint and every message see only :attr:`Endpoint.public` (credentials
dropped or replaced by ``***``), and any text a server sends back is scrubbed of every secret
before it is shown, since servers echo requests in their error bodies. The CLI passes every
message it prints through :func:`redact` as a last line of defence.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

from benchmark.errors import UsageError

REDACTED = "***"
# query parameters whose values are credentials (api_key, access_token, sig, X-Amz-Signature, ...)
_SECRET_PARAM = re.compile(r"key|token|secret|passw|pwd|auth|sig|credential|session", re.IGNORECASE)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_BEARER = re.compile(r"(bearer|basic)\s+[^\s\"',;]+", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    """The embeddings URL twice: with its credentials (for requests only) and without (for all else)."""

    url: str
    public: str
    secrets: tuple[str, ...]


def parse_endpoint(base: str, source: str) -> Endpoint:
    """Check a base URL (``source`` names where it came from) and split off its credentials.

    Refused as bad usage: whitespace or control characters, a scheme other than http(s), no host,
    a bad port. The message never repeats the URL, since it may hold a password.
    """
    if any(ch.isspace() or not ch.isprintable() for ch in base):
        raise UsageError(f"{source}: the URL holds whitespace or control characters")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise UsageError(f"{source}: not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError(f"{source}: needs an http:// or https:// URL" + (f", not {parts.scheme}:" if parts.scheme else ""))
    if not parts.hostname:
        raise UsageError(f"{source}: the URL names no host")
    path = parts.path.rstrip("/") + "/embeddings"
    public, secrets = _public(parts._replace(path=path))
    return Endpoint(url=urlunsplit(parts._replace(path=path, fragment="")), public=public, secrets=secrets)


def public_url(url: str) -> str:
    """``url`` without credentials: no user or password, secret-looking query values as ``***``."""
    try:
        return _public(urlsplit(url))[0]
    except ValueError:
        return REDACTED


def _public(parts: SplitResult) -> tuple[str, tuple[str, ...]]:
    """(the URL with credentials dropped or replaced, the credentials taken out of it)."""
    userinfo, _, host = parts.netloc.rpartition("@")
    secrets = [form for s in userinfo.split(":", 1) if s for form in (s, unquote(s))]
    public_query, redacted = [], False
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAM.search(name) and value:
            secrets.append(value)
            value, redacted = REDACTED, True
        public_query.append((name, value))
    query = urlencode(public_query, safe="*") if redacted else parts.query
    return urlunsplit((parts.scheme, host, parts.path, query, "")), tuple(dict.fromkeys(secrets))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` on one printable line, with every secret (raw or URL-encoded) and bearer token replaced."""
    forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""), quote_plus(secret))}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def redact(text: str) -> str:
    """Any message about to be shown, scrubbed of ``$OPENAI_API_KEY`` and of credentials in URLs.

    The CLI passes every error through this as a last line of defence; the encoder itself never
    puts a secret in a message to begin with.
    """
    def public(match: re.Match) -> str:
        url = match.group(0).rstrip(".,;:)]}")
        return public_url(url) + match.group(0)[len(url):]

    text = _URL.sub(public, text)
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    return scrub(text, (key,) if key else ())
