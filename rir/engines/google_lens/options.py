"""Validating the engine's options (they may arrive as strings from ``rir -o KEY=VALUE``)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rir.engines.google_lens.session import StorageOption
from rir.errors import ConfigurationError

__all__ = ["DEFAULT_BASE_URL", "MATCH_TYPES", "VIEW_UDM", "LensOptions"]

DEFAULT_BASE_URL = "https://lens.google.com"
_HL = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,4})?$")
_COUNTRY = re.compile(r"^[a-zA-Z]{2}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# match_type -> the Lens view (``udm``) it reads.
VIEW_UDM = {"all": "26", "visual": "44", "exact": "48", "products": "37"}
MATCH_TYPES = tuple(VIEW_UDM)
SCREENSHOT_MODES = ("off", "viewport", "full")


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {value!r}.")


def _number(name: str, value: Any, kind: type, minimum: float) -> Any:
    if isinstance(value, bool):  # True is not 1 (strings from the environment are parsed)
        raise ConfigurationError(f"{name} must be a number, got {value!r}.")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, got {value!r}.") from None
    if number < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum:g}, got {value!r}.")
    return number


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return text


def _is_local_host(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.endswith((".localhost", ".local", ".internal"))
    return address.is_loopback or address.is_private or address.is_link_local


def _hosts(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    hosts = frozenset(str(h).strip().lower() for h in items if str(h).strip())
    if not hosts:
        raise ConfigurationError("allowed_hosts must name at least one host.")
    return hosts


@dataclass(frozen=True)
class LensOptions:
    """The engine's validated settings."""

    hl: str
    country: str | None
    headless: bool
    timeout_s: float
    max_concurrency: int
    match_type: str
    screenshot: str
    storage_state: StorageOption
    base_url: str
    browser_path: str | None
    save_html: Path | None
    save_html_is_dir: bool
    allowed_hosts: frozenset[str] | None
    render_results: bool

    @classmethod
    def build(cls, *, hl: Any, country: Any, headless: Any, timeout_s: Any,
              max_concurrency: Any, match_type: Any, screenshot: Any, storage_state: Any,
              base_url: Any, browser_path: Any, save_html: Any,
              allowed_hosts: Any, render_results: Any = False) -> LensOptions:
        hl = str(hl).strip()
        if not _HL.match(hl):
            raise ConfigurationError(
                f"hl must be a language code like 'en' or 'pt-BR', got {hl!r}.")
        if country is not None:
            country = str(country).strip()
            if not _COUNTRY.match(country):
                raise ConfigurationError(
                    f"country must be a two-letter code like 'us' or 'de', got {country!r}.")
            country = country.lower()
        if screenshot is True or screenshot is False:
            screenshot = "viewport" if screenshot else "off"
        base = str(base_url).strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"base_url must be an http(s) URL like {DEFAULT_BASE_URL!r}, got {base_url!r}.")
        hosts = _hosts(allowed_hosts)
        if hosts is None and _is_local_host(parts.hostname):
            # A local Lens (a test server, a mirror) must not pull pages from the internet.
            hosts = frozenset({parts.hostname.lower()})
        if isinstance(storage_state, str) and storage_state.strip().lower() in _TRUE | _FALSE:
            storage_state = _bool("storage_state", storage_state)
        return cls(
            hl=hl,
            country=country,
            headless=_bool("headless", headless),
            timeout_s=_number("timeout_s", timeout_s, float, 0.5),
            max_concurrency=_number("max_concurrency", max_concurrency, int, 1),
            match_type=_choice("match_type", match_type, MATCH_TYPES),
            screenshot=_choice("screenshot", screenshot, SCREENSHOT_MODES),
            storage_state=storage_state,
            base_url=base,
            browser_path=str(browser_path) if browser_path else None,
            save_html=Path(save_html).expanduser() if save_html else None,
            # "pages/" names a directory (one file per query) even before it exists.
            save_html_is_dir=bool(save_html) and str(save_html).endswith(("/", "\\")),
            allowed_hosts=hosts,
            render_results=_bool("render_results", render_results),
        )

    @property
    def locale(self) -> str:
        language = self.hl.replace("_", "-")
        return f"{language}-{self.country.upper()}" if self.country and "-" not in language \
            else language
