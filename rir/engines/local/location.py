"""Where a local index lives: the default file, ``":memory:"``, or a path you pass.

One rule for every entry point (``LocalIndex``, ``get_engine("local")``, the
retrievers, the CLI): no path means the default index, ``$RIR_INDEX`` if set,
else ``index.rir`` in the user data dir (where ``rir index add`` writes);
``":memory:"`` means an in-memory index that is gone when closed.
"""

from __future__ import annotations

import os
from pathlib import Path

from rir.errors import ConfigurationError

__all__ = ["MEMORY", "default_index_path", "missing_index_error", "resolve_index_path"]

MEMORY = ":memory:"


def default_index_path() -> Path:
    """``$RIR_INDEX``, else ``index.rir`` in the user data dir."""
    env = os.environ.get("RIR_INDEX", "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir  # only when the default is used

    return Path(user_data_dir("reverse-image-rag")) / "index.rir"


def resolve_index_path(path: str | os.PathLike[str] | None) -> Path | None:
    """The index file ``path`` names: ``None`` -> the default file, ``":memory:"`` -> ``None``."""
    if path is None:
        return default_index_path()
    if isinstance(path, str) and path.strip() == MEMORY:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError(
            f"The local index path must be a file path or {MEMORY!r}, got {type(path).__name__}."
        )
    text = os.fspath(path)
    if not str(text).strip():
        raise ConfigurationError(
            f"The local index path is empty; pass a file path, {MEMORY!r}, or None for the "
            "default index."
        )
    return Path(text).expanduser()


def missing_index_error(path: Path, *, default: bool) -> ConfigurationError:
    """The error for searching an index file that does not exist (never a silent empty index)."""
    if default:
        return ConfigurationError(
            f"No local index yet: the default index '{path}' does not exist. Build it with "
            "'rir index add FOLDER' (or LocalIndex().add_folder(FOLDER)), point $RIR_INDEX at "
            "an existing index file, or pass path=... / --index PATH."
        )
    return ConfigurationError(
        f"No index at '{path}'. Build it with 'rir index add FOLDER --index {path}' "
        "(or LocalIndex(path).add_folder(FOLDER)), or check the path ($RIR_INDEX sets the "
        "default index)."
    )
