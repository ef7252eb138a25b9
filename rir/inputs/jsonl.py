"""Reading JSON Lines files: one object per line, errors that name the file and line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rir.errors import ConfigurationError

__all__ = ["read_jsonl"]


def read_jsonl(path: str | os.PathLike[str]) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line; a bad line raises with its number."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigurationError(f"The file '{file}' does not exist or is not a file.")
    rows: list[tuple[int, dict[str, Any]]] = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigurationError(
                    f"{file}:{number} is not valid JSON ({exc.msg}); every line must be one "
                    "JSON object."
                ) from None
            if not isinstance(row, dict):
                raise ConfigurationError(f"{file}:{number} is a JSON {type(row).__name__}, "
                                         "not an object.")
            rows.append((number, row))
    return rows
