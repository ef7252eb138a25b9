"""Describing an image input in a message: short, and never a secret.

:func:`describe_source` is how every error and log line names an input: never
its image bytes, a base64 payload or the credentials of a URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rir.urls import redact_url, shorten

__all__ = ["describe_source"]


def describe_source(source: Any) -> str:
    """A short, secret-free description of an image input for error messages.

    Always a singular noun phrase (``URL '...'``, ``path '...'``, ``byte string (8
    bytes)``), since messages read "The <description> is not an image".
    """
    if isinstance(source, str):
        if source.startswith("data:"):
            head = source[:40].split(",", 1)[0]
            return f"data URI '{head},…' ({len(source)} characters)"
        if "://" in source:
            return f"URL '{redact_url(source)}'"
        return f"path '{shorten(source)}'"
    if isinstance(source, os.PathLike):
        return f"path '{shorten(os.fspath(Path(source)))}'"
    if isinstance(source, (bytes, bytearray, memoryview)):
        # A singular noun: every message reads "The <description> is ..."
        return f"byte string ({len(source):,} bytes)"
    origin = getattr(source, "origin", None)
    if isinstance(origin, str):  # a QueryImage
        return origin
    name = getattr(source, "name", None)
    if hasattr(source, "read"):
        return f"file object '{shorten(str(name))}'" if name else "file object"
    return f"{type(source).__name__} object"
