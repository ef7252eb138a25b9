"""What ``rir serve`` runs with: one frozen settings object, checked before anything binds."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from rir.errors import ConfigurationError
from rir.inputs.policy import InputPolicy

__all__ = ["API_KEY_ENV", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "ServeConfig",
           "api_key_from_env"]

API_KEY_ENV = "RIR_API_KEY"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000


def api_key_from_env() -> str | None:
    """The server's API key from ``$RIR_API_KEY`` (never argv: argv shows in ``ps``)."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    return key or None


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
        for name in ("max_bytes", "max_pixels", "port"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be 1 or more, got {getattr(self, name)}.")
        for name in ("fetch_timeout_s", "search_timeout_s"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive, got {getattr(self, name)}.")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigurationError(f"concurrency must be 1 or more, got {self.concurrency}.")
        if self.max_queue < 0 or self.rate_limit_per_minute < 0:
            raise ConfigurationError("max_queue and rate_limit_per_minute must be 0 or more.")
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
    def max_body_bytes(self) -> int:
        """The largest request body: a base64 data URI of ``max_bytes`` plus the JSON around it."""
        return self.max_bytes * 4 // 3 + 64 * 1024

    def is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return self.host == "localhost"

    def check_bind(self) -> None:
        """Refuse to listen beyond this machine without an API key."""
        if not self.is_loopback() and not self.api_key:
            raise ConfigurationError(
                f"Refusing to serve on {self.host} without an API key: anyone who can reach it "
                f"could search with your engines' keys. Set {API_KEY_ENV} (clients send it as "
                "'Authorization: Bearer KEY' or 'X-API-Key: KEY'), or bind to 127.0.0.1."
            )

    def allowed_hosts(self) -> list[str]:
        """Host header values accepted (DNS-rebinding guard), from ``host`` and ``port``."""
        names = {self.host}
        if self.is_loopback():
            names |= {"127.0.0.1", "localhost", "[::1]"}
        if self.host in ("0.0.0.0", "::"):  # every interface: the name clients use is unknown
            return ["*"]
        hosts = set()
        for name in names:
            shown = f"[{name}]" if ":" in name and not name.startswith("[") else name
            hosts |= {shown, f"{shown}:{self.port}"}
        return sorted(hosts)
