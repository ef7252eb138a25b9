"""The saved Google session (consent and sign-in cookies) the engine reuses.

Accepted files: a Playwright storage state (what ``rir login`` writes), a JSON
list of cookies (browser cookie-export extensions), or a Netscape
``cookies.txt``. Their contents are secrets: they are never logged, put in
reprs or error messages; errors name the file only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from rir.errors import ConfigurationError

__all__ = ["APP_NAME", "StorageOption", "default_storage_state_path", "load_session"]

APP_NAME = "reverse-image-rag"
_STATE_FILE = "google-lens-storage-state.json"
StorageOption = str | os.PathLike[str] | bool | None
_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None", "no_restriction": "None",
              "unspecified": "Lax"}


def default_storage_state_path() -> Path:
    """Where ``rir login`` saves the session and where the engine looks for it."""
    return Path(user_config_dir(APP_NAME)) / _STATE_FILE


def resolve_storage_path(option: StorageOption) -> Path | None:
    """The session file to use: an explicit path (must exist), the default one if present."""
    if option is False:
        return None
    if option is None or option is True:
        path = default_storage_state_path()
        if path.is_file():
            return path
        if option is True:
            raise ConfigurationError(
                f"storage_state=True but no saved session exists at '{path}'. "
                "Run `rir login` first."
            )
        return None
    path = Path(option).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"storage_state file '{path}' does not exist. Run `rir login` to create one, "
            "or pass the path of a Playwright storage state / cookies file."
        )
    return path


def _cookie_from_export(item: dict[str, Any]) -> dict[str, Any]:
    cookie: dict[str, Any] = {
        "name": str(item["name"]),
        "value": str(item["value"]),
        "domain": str(item["domain"]),
        "path": str(item.get("path") or "/"),
        "secure": bool(item.get("secure", False)),
        "httpOnly": bool(item.get("httpOnly", False)),
    }
    expires = item.get("expires", item.get("expirationDate"))
    if isinstance(expires, (int, float)) and expires > 0:
        cookie["expires"] = float(expires)
    same_site = str(item.get("sameSite") or "").lower()
    if same_site in _SAME_SITE:
        cookie["sameSite"] = _SAME_SITE[same_site]
    return cookie


def _cookies_from_netscape(text: str) -> list[dict[str, Any]]:
    cookies = []
    for line in text.splitlines():
        http_only = line.startswith("#HttpOnly_")
        if http_only:
            line = line[len("#HttpOnly_"):]
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 7:
            raise ValueError("a cookies.txt line does not have 7 tab-separated fields")
        domain, _, path, secure, expires, name, value = fields
        cookie: dict[str, Any] = {"name": name, "value": value, "domain": domain,
                                  "path": path or "/", "secure": secure.upper() == "TRUE",
                                  "httpOnly": http_only}
        if expires.isdigit() and int(expires) > 0:
            cookie["expires"] = float(expires)
        cookies.append(cookie)
    return cookies


def load_session(path: Path) -> dict[str, Any]:
    """A Playwright ``storage_state`` dict from any accepted session file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"Could not read the session file '{path}' ({type(exc).__name__}). "
            "Run `rir login` again to recreate it."
        ) from None
    try:
        if text.lstrip().startswith(("{", "[")):
            data = json.loads(text)
            if isinstance(data, dict) and isinstance(data.get("cookies"), list):
                return {"cookies": [_cookie_from_export(c) for c in data["cookies"]],
                        "origins": data.get("origins") or []}
            if isinstance(data, list):
                return {"cookies": [_cookie_from_export(c) for c in data], "origins": []}
            raise ValueError("JSON that is neither a storage state nor a cookie list")
        return {"cookies": _cookies_from_netscape(text), "origins": []}
    except (ValueError, KeyError, TypeError) as exc:
        # The message names the file and the shape problem, never cookie contents.
        raise ConfigurationError(
            f"The session file '{path}' is not a Playwright storage state, a JSON cookie "
            f"list or a Netscape cookies.txt ({type(exc).__name__}). Run `rir login` to "
            "create a valid one."
        ) from None
