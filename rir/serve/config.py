"""What ``rir serve`` runs with: one frozen settings object, checked before anything binds.

The API key setting is parsed in one place, :func:`parse_api_keys`, and the same
parse decides both whether the server requires a key and whether it may bind beyond
this machine: a value that is set but holds no usable key (only commas or spaces,
``"$A,$B"`` with both unset, a literal ``$NAME``, control characters) stops the
server instead of silently turning authentication off, and a non-loopback bind needs
every key to be strong (:data:`MIN_PUBLIC_KEY_CHARS` characters, of
:data:`MIN_PUBLIC_KEY_DISTINCT` different ones).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from rir.errors import ConfigurationError, check_number
from rir.inputs.policy import InputPolicy
from rir.urls import host_in_url

__all__ = ["API_KEY_ENV", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "MIN_PUBLIC_KEY_CHARS",
           "MIN_PUBLIC_KEY_DISTINCT", "ServeConfig", "api_key_from_env", "parse_api_keys",
           "weak_key_reason"]

API_KEY_ENV = "RIR_API_KEY"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000
#: A key guarding a server reachable from other machines: at least this long ...
MIN_PUBLIC_KEY_CHARS = 16
#: ... and made of at least this many different characters (no "aaaaaaaaaaaaaaaa").
MIN_PUBLIC_KEY_DISTINCT = 8
_GENERATE = "python -c \"import secrets; print(secrets.token_urlsafe(32))\""
# A key is sent in an HTTP header: printable ASCII without spaces, and not the remains of
# a shell or batch variable that did not expand ($NAME, ${NAME}, %NAME%).
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")
_UNEXPANDED = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_][A-Za-z0-9_]*%")


def api_key_from_env() -> str | None:
    """The server's API key setting, ``$RIR_API_KEY`` as set (never argv: argv shows in ``ps``).

    ``None`` when unset or empty; anything else is checked by :func:`parse_api_keys`.
    """
    return os.environ.get(API_KEY_ENV) or None


def parse_api_keys(value: str | None) -> tuple[str, ...]:
    """The keys of an API key setting: comma-separated, each stripped of surrounding spaces.

    ``None`` or ``""`` means no key (a loopback-only server without authentication).
    Any other value must hold at least one usable key, and every entry must be usable
    (printable ASCII without spaces, not an unexpanded ``$VARIABLE``); empty entries
    between commas are skipped. Raises ConfigurationError naming the entry by position
    (never its value) otherwise: a setting that was meant to protect the server never
    leaves it open.
    """
    if not value:
        return ()
    keys = []
    for number, entry in enumerate(value.split(","), start=1):
        key = entry.strip()
        if not key:
            continue
        if not _KEY_CHARS.fullmatch(key):
            raise ConfigurationError(
                f"{API_KEY_ENV} entry {number} holds spaces, control or non-ASCII characters, "
                f"which a client cannot send in a header; set printable keys, e.g. from: "
                f"{_GENERATE}")
        if _UNEXPANDED.fullmatch(key):
            raise ConfigurationError(
                f"{API_KEY_ENV} entry {number} is an unexpanded variable name, not a key; set "
                "the key itself (check the quoting of your shell or service file).")
        keys.append(key)
    if not keys:
        raise ConfigurationError(
            f"{API_KEY_ENV} is set but holds no key (only separators or spaces: did the "
            f"variables it was built from expand to nothing?). Set a key, e.g. from: {_GENERATE}; "
            f"or unset {API_KEY_ENV} to serve on 127.0.0.1 without one.")
    return tuple(dict.fromkeys(keys))


def weak_key_reason(key: str) -> str | None:
    """Why ``key`` is too weak to guard a server other machines can reach (None: strong)."""
    if len(key) < MIN_PUBLIC_KEY_CHARS:
        return f"shorter than {MIN_PUBLIC_KEY_CHARS} characters"
    if len(set(key)) < MIN_PUBLIC_KEY_DISTINCT:
        return f"made of fewer than {MIN_PUBLIC_KEY_DISTINCT} different characters"
    return None


@dataclass(frozen=True)
class ServeConfig:
    """Settings of one server (HTTP, stdio or both share them).

    ``engine``: the engine searches use when a request names none (``None``: ``local``
    with ``index``, else ``auto``). ``concurrency``: searches run at once per engine
    (``None``: sized to the engine); ``max_queue``: searches that may wait for a slot
    before the server answers 503. ``rate_limit_per_minute``: requests per API key (or
    per client address without a key); 0 turns it off.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    engine: str | None = None
    index: Path | None = None
    allow_write: bool = False
    allow_dirs: tuple[Path, ...] = ()
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    cors_origins: tuple[str, ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    fetch_timeout_s: float = 20.0
    search_timeout_s: float = 120.0
    concurrency: int | None = None
    max_queue: int = 256
    rate_limit_per_minute: int = 600
    cache: bool = True

    def __post_init__(self) -> None:
        check_number("port", self.port, integer=True, minimum=1, maximum=65535)
        for name in ("max_bytes", "max_pixels"):
            check_number(name, getattr(self, name), integer=True, minimum=1)
        for name in ("fetch_timeout_s", "search_timeout_s"):
            check_number(name, getattr(self, name), above=0)
        if self.concurrency is not None:
            check_number("concurrency", self.concurrency, integer=True, minimum=1)
        for name in ("max_queue", "rate_limit_per_minute"):
            check_number(name, getattr(self, name), integer=True, minimum=0)
        parse_api_keys(self.api_key)  # a bad key setting fails here, before anything binds
        if self.allow_write and self.index is None:
            raise ConfigurationError("allow_write adds add_to_index, which needs an index: "
                                     "pass --index PATH too.")

    @property
    def default_engine(self) -> str:
        return self.engine or ("local" if self.index is not None else "auto")

    @property
    def input_policy(self) -> InputPolicy:
        """What clients may send as an image: inputs come from remote clients and agents,
        so no local files except under ``allow_dirs``, and no private-network URLs."""
        return InputPolicy.untrusted(self.allow_dirs, max_bytes=self.max_bytes,
                                     max_pixels=self.max_pixels, timeout_s=self.fetch_timeout_s)

    @property
    def api_keys(self) -> tuple[str, ...]:
        """The keys clients may send (empty: no authentication, loopback only)."""
        return parse_api_keys(self.api_key)

    @property
    def max_body_bytes(self) -> int:
        """The largest request body: a base64 data URI of ``max_bytes`` plus the JSON around it."""
        return self.max_bytes * 4 // 3 + 64 * 1024

    def is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return self.host == "localhost"

    def check_bind(self) -> None:
        """Refuse to listen beyond this machine without strong API keys."""
        if self.is_loopback():
            return
        keys = self.api_keys
        if not keys:
            raise ConfigurationError(
                f"Refusing to serve on {host_in_url(self.host)} without an API key: anyone who "
                f"can reach it could search with your engines' keys. Set {API_KEY_ENV} (clients "
                "send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'), or bind to "
                "127.0.0.1."
            )
        for number, key in enumerate(keys, start=1):
            reason = weak_key_reason(key)
            if reason:
                raise ConfigurationError(
                    f"Refusing to serve on {host_in_url(self.host)}: {API_KEY_ENV} key {number} "
                    f"is {reason}, too weak for a server other machines can reach. Use keys of "
                    f"at least {MIN_PUBLIC_KEY_CHARS} random characters, e.g. from: {_GENERATE}")

    def allowed_hosts(self) -> list[str]:
        """Host header values accepted (DNS-rebinding guard), from ``host`` and ``port``."""
        names = {self.host}
        if self.is_loopback():
            names |= {"127.0.0.1", "localhost", "[::1]"}
        if self.host in ("0.0.0.0", "::"):  # every interface: the name clients use is unknown
            return ["*"]
        hosts = set()
        for name in names:
            shown = host_in_url(name)
            hosts |= {shown, f"{shown}:{self.port}"}
        return sorted(hosts)
