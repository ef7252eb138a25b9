"""API keys, cookies and tokens: held as ``SecretStr``, scrubbed from logs and payloads.

Every secret an engine resolves goes through :func:`resolve_secret` (or
:func:`register_secret` for tokens minted later, such as OAuth access tokens).
Registered values are replaced by ``***`` in:

* log records of ``httpx`` / ``httpcore`` (httpx logs every request URL at INFO,
  and SerpApi only accepts its key as a query parameter) and of our engine
  modules, via :data:`REDACTING_FILTER`;
* error messages and provider payloads we keep, via :func:`redact_text` and
  :func:`scrub`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from pydantic import SecretStr

from rir.errors import ConfigurationError
from rir.results.models import SearchResult

__all__ = [
    "REDACTING_FILTER",
    "SecretInput",
    "configured_env",
    "is_credential_param",
    "looks_like_placeholder",
    "protect_logger",
    "protected_logger",
    "redact_text",
    "register_secret",
    "resolve_secret",
    "scrub",
    "scrub_result",
]

SecretInput = str | SecretStr | None

_MASK = "***"
# Shorter values would redact ordinary words; real keys and tokens are far longer.
_MIN_SECRET_LENGTH = 8
_MAX_REMEMBERED = 256
_lock = threading.Lock()
_secrets: dict[str, None] = {}  # insertion-ordered set, oldest evicted first
_pattern: re.Pattern[str] | None = None
# Credentials that travel as query parameters, whatever their value. A name is judged by
# its words (:func:`is_credential_param`), so every spelling of one counts: api_key,
# apiKey, API-KEY, api%5Fkey, API_KEY[], clientSecret, oauth_token, X-Amz-Security-Token,
# AWSAccessKeyId, password2, also percent-encoded inside another URL (%3Ftoken%3D...).
# A name is percent-escapes or plain characters up to "=" (or "%3D" inside a nested URL).
_PARAM = re.compile(
    r"(?i)((?:^|[?&;\s\"'(,]|%3f|%26)"
    r"((?:(?!%3d|%26|%3f)%[0-9a-f]{2}|[^=&?;\s\"'(,%#])+)(?:=|%3d))"
    r"((?:(?!%26)[^&\s\"'#),])+)"
)
_CREDENTIAL_WORDS = frozenset({
    "key", "apikey", "token", "secret", "password", "passwd", "pwd", "pass", "passphrase",
    "sig", "signature", "auth", "authorization", "credential", "credentials", "jwt",
    "session", "sessionid", "sid", "bearer", "otp", "hmac", "cookie", "privatekey",
})
# Words that make a "*_token" a cursor, not a credential (page_token=..., next_token=...).
_CURSOR_WORDS = frozenset({"page", "next", "prev", "previous", "continuation", "cursor", "sync"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def is_credential_param(name: str) -> bool:
    """Whether a query parameter called ``name`` carries a credential, in any spelling:
    any case, camelCase, ``-``/``_``/``.`` separators, percent-encoded, with ``[]``."""
    text = unquote(unquote(name)).strip().strip("[]")
    # camelCase split (clientSecret) and not (toKen, ApiKEY): either spelling may name it
    words = [re.sub(r"\d+$", "", word) for spelling in (text, _CAMEL.sub("_", text))
             for word in re.split(r"[^a-z0-9]+", spelling.lower()) if word]
    if not words or (words[-1] == "token" and _CURSOR_WORDS.intersection(words)):
        return False
    return any(word in _CREDENTIAL_WORDS or word.endswith(("token", "secret", "password",
                                                            "apikey", "signature"))
               for word in words)


# Credentials in header-like text: "Authorization: Bearer x", "X-API-Key: x", a headers
# dict or list repr ('x-api-key': 'x', (b'x-api-key', b'x')), a bare "Bearer x".
_SECRET_HEADERS = re.compile(
    r"(?i)((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key|cookie|set-cookie)"
    r"((?:['\"]?\s*:|['\"]\s*,)\s*(?:b['\"]|['\"])?)[^'\"\r\n]+"
)
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{4,}")


def register_secret(value: str | SecretStr | None) -> None:
    """Remember ``value`` so that it is redacted from logs, messages and payloads."""
    global _pattern
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not raw or len(raw) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if raw in _secrets:
            return
        _secrets[raw] = None
        while len(_secrets) > _MAX_REMEMBERED:
            del _secrets[next(iter(_secrets))]
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial masks
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


_PLACEHOLDER_WORDS = frozenset({
    "changeme", "replaceme", "placeholder", "todo", "tbd", "none", "null", "undefined",
    "apikey", "yourapikey", "yourkey", "mykey", "key", "secret", "token", "optional",
})
_PLACEHOLDER = re.compile(
    r"^(?:<.*>|\$\{.*\}|\$[A-Za-z_]\w*|\{\{.*\}\}|%\w+%"  # <your key>, ${VAR}, $VAR, {{x}}
    r"|[xX*.\-_…]+"                                             # xxx, ****, ...
    r"|[A-Za-z]{1,4}[-_](?:[xX]+|\*+|\.+|…)"                    # sk-xxx, sk-..., pk_***
    r"|.*(?:\.\.\.|…))$"                                         # sk-proj-..., abc…
)


def looks_like_placeholder(value: str | None) -> bool:
    """Whether a key's value is unset or obviously not a key: empty, whitespace,
    ``<your key>``, ``YOUR_API_KEY``, ``sk-...``, ``xxx``, ``changeme``, ``${VAR}``, text
    with spaces. The one rule for every place that reads a key (engines, ``auto``,
    ``rir doctor``, ``rir serve``), so a copied placeholder never counts as configured."""
    raw = (value or "").strip()
    if not raw or any(ch.isspace() for ch in raw):
        return True
    folded = re.sub(r"[-_ ]", "", raw).lower()
    instruction = folded.startswith(("your", "insert", "enter", "paste", "replace", "put"))
    return (folded in _PLACEHOLDER_WORDS or bool(_PLACEHOLDER.match(raw))
            or (instruction and any(w in folded for w in ("key", "token", "secret"))))


def configured_env(name: str) -> str | None:
    """The value of environment variable ``name`` when it is configured: a key variable
    (``*_KEY``, ``*_TOKEN``, ``*_SECRET``) must hold a real-looking key; any other (a
    path such as ``GOOGLE_APPLICATION_CREDENTIALS``) must not be blank."""
    value = (os.environ.get(name) or "").strip()
    if name.upper().endswith(("_KEY", "_TOKEN", "_SECRET")):
        return None if looks_like_placeholder(value) else value
    return value or None


def resolve_secret(
    value: SecretInput, env_var: str | None, *, what: str, engine: str
) -> SecretStr | None:
    """The secret from the argument, else from ``env_var``; ``None`` when neither is set.

    Blank values count as unset, and so do placeholder keys and tokens
    (:func:`looks_like_placeholder`). The secret is registered for redaction.
    """
    if value is not None and not isinstance(value, (str, SecretStr)):
        raise ConfigurationError(
            f"{engine}: {what} must be a string or pydantic SecretStr, got "
            f"{type(value).__name__}."
        )
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if raw is None and env_var:
        raw = os.environ.get(env_var)
    raw = (raw or "").strip()
    if not raw or (what.endswith(("key", "token")) and looks_like_placeholder(raw)):
        return None  # cookies hold spaces by design: only keys and tokens are checked
    register_secret(raw)
    return SecretStr(raw)


_NESTED_URLS = 3  # a URL in a parameter of a URL in a parameter of a URL; deeper: masked


def _redact_params(text: str, depth: int = 0) -> str:
    """The values of credential parameters masked; other values searched for nested URLs
    (``?u=https%3A...%3Ftoken%3D...``), at most :data:`_NESTED_URLS` deep, so each
    character is read a bounded number of times whatever a client sends."""

    def replace(match: re.Match[str]) -> str:
        if is_credential_param(match.group(2)):
            return match.group(1) + _MASK
        if depth >= _NESTED_URLS:
            return match.group(1) + _MASK  # nested deeper than any real link: not read
        return match.group(1) + _redact_params(match.group(3), depth + 1)

    return _PARAM.sub(replace, text)


def redact_text(text: str, *, params: bool = True) -> str:
    """``text`` with every registered secret masked, and (``params=True``, for messages and
    logs) the values of credential-like query parameters (``api_key=``, ``token=``, ...)
    and of credential headers (``Authorization: Bearer ...``, ``X-API-Key: ...``)."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(_MASK, text)
    if not params:
        return text
    text = _redact_params(text)
    text = _SECRET_HEADERS.sub(lambda m: m.group(1) + m.group(2) + _MASK, text)
    return _BEARER.sub(lambda m: m.group(1) + m.group(2) + _MASK, text)


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value with registered secrets masked in every string.

    Query parameters are left alone here: result URLs legitimately carry ``token=`` or
    ``sig=`` (signed CDN links) and must keep working.
    """
    if isinstance(value, str):
        return redact_text(value, params=False)
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def scrub_result(result: SearchResult) -> SearchResult:
    """``result`` with registered secrets masked in every field (titles, URLs, payloads).

    A provider or proxy may echo a request (and so a key) back into its answer; nothing
    of it may reach the cache or a prompt.
    """
    if _pattern is None:
        return result
    dumped = result.model_dump(mode="python", exclude={"screenshot"})
    cleaned = scrub(dumped)
    if cleaned == dumped:
        return result
    return SearchResult.model_validate({**cleaned, "screenshot": result.screenshot})


class _RedactingFilter(logging.Filter):
    """Rewrites a record whose message or traceback holds a secret (the record is kept).

    String arguments are redacted one by one, so formatters that read ``record.args``
    (uvicorn's access log) keep working; a secret that only shows once the message is
    formatted collapses the record to its redacted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging's own handling
            return True
        if redact_text(message) != message:
            if isinstance(record.msg, str):
                record.msg = redact_text(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(redact_text(a) if isinstance(a, str) else a
                                    for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: redact_text(v) if isinstance(v, str) else v
                               for k, v in record.args.items()}
            try:
                still = record.getMessage()
            except (TypeError, ValueError):
                still = message
            if redact_text(still) != still:
                record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when it is set: the traceback is redacted once, here.
            record.exc_text = redact_text(_TRACEBACKS.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()
REDACTING_FILTER = _RedactingFilter()
# Loggers that see request URLs or headers. Filters only run on the logger that
# creates a record (not on ancestors it propagates to), so each is listed.
_THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "hpack",
    "google.auth",
    "google.auth.transport.requests",
    "urllib3.connectionpool",
)


def protect_logger(*names: str) -> None:
    """Attach the redacting filter to the named loggers (idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if REDACTING_FILTER not in logger.filters:
            logger.addFilter(REDACTING_FILTER)


def protected_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the redacting filter attached: the one line an engine
    module that may log secrets starts with."""
    protect_logger(name)
    return logging.getLogger(name)


def protect_loggers(names: Iterable[str] = _THIRD_PARTY_LOGGERS) -> None:
    protect_logger(*names)


protect_loggers()
