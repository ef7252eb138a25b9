"""What an entry point accepts as an image: one frozen object, built once, applied everywhere.

An :class:`InputPolicy` says which inputs are read and the limits every input is held to:

* local files (paths and ``file://`` URLs): read, refused, or read only under folders the
  operator allowed (symlinks and ``..`` are resolved before the check);
* URLs on private networks (loopback, LAN, cloud metadata): refused unless allowed;
* the size cap in bytes, the pixel cap (a decompression-bomb guard), the download
  timeout and the number of redirects followed.

:func:`rir.inputs.images.aload_image` applies it; every entry point holds one and hands it
over. One rule sets their defaults: code a developer writes (``ReverseImageSearch``, both
retrievers, the LCEL chain, the query engine, the CLI) reads local paths, because the
developer named them; anything whose input a model, an agent or a remote client wrote
(both agent tools, ``rir serve`` over MCP and HTTP) refuses them unless the operator
allows folders (:meth:`InputPolicy.untrusted`).

This module imports nothing heavy: the CLI builds policies before it knows whether an
image will be loaded at all.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from rir.errors import ConfigurationError, InvalidImageError, check_number
from rir.inputs.describe import describe_source

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIMEOUT_S",
    "InputPolicy",
    "input_policy",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_REDIRECTS = 5

# What ``allow_local_files`` may be given as: a yes/no, or the folders files may come from.
LocalFiles = Union[bool, str, os.PathLike, Iterable[Union[str, os.PathLike]]]  # noqa: UP007


@dataclass(frozen=True, repr=False)
class InputPolicy:
    """Which image inputs are accepted, and the limits they are held to.

    Attributes:
        allow_local_files: ``True`` reads local paths and ``file://`` URLs, ``False``
            refuses them, and folders (one, or a list) read only files under them.
            Folders are stored resolved, as a tuple of absolute paths.
        allow_private_urls: let image URLs (and the pages and thumbnails fetched for the
            prompt) point at loopback, private-network or link-local addresses.
        max_bytes: the largest image accepted, checked while it downloads.
        max_pixels: the most pixels accepted (a decompression-bomb guard).
        timeout_s: seconds to download an image URL.
        max_redirects: redirects followed when downloading an image URL.
    """

    allow_local_files: bool | tuple[Path, ...] = True
    allow_private_urls: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_redirects: int = DEFAULT_MAX_REDIRECTS

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow_local_files", _folders_or_flag(self.allow_local_files))
        if not isinstance(self.allow_private_urls, bool):
            raise ConfigurationError(
                f"allow_private_urls must be True or False, got {self.allow_private_urls!r}.")
        for name, least in (("max_bytes", 1), ("max_pixels", 1), ("max_redirects", 0)):
            check_number(name, getattr(self, name), integer=True, minimum=least)
        check_number("timeout_s", self.timeout_s, above=0)

    @classmethod
    def untrusted(cls, allowed_folders: LocalFiles = (), **limits: Any) -> InputPolicy:
        """For inputs a model, an agent or a remote client wrote: no local files, except
        under ``allowed_folders`` when the operator gives some; ``limits`` set the rest."""
        if isinstance(allowed_folders, bool):
            raise ConfigurationError(
                "allowed_folders takes folders (a path or a list of paths), not True/False.")
        return cls(allow_local_files=_folders_or_flag(allowed_folders) or False, **limits)

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))

    @property
    def allowed_folders(self) -> tuple[Path, ...]:
        """The folders local files are read from (empty when all or none are)."""
        return self.allow_local_files if isinstance(self.allow_local_files, tuple) else ()

    @property
    def reads_local_files(self) -> bool:
        """Whether any local file can be read (everywhere, or under the allowed folders)."""
        return self.allow_local_files is not False

    def updated(self, changes: Mapping[str, Any]) -> InputPolicy:
        """A copy with ``changes`` applied (``None`` values leave a setting as it is)."""
        changes = {name: value for name, value in changes.items() if value is not None}
        unknown = sorted(set(changes) - self.names())
        if unknown:
            raise ConfigurationError(
                f"Unknown input policy setting(s) {', '.join(unknown)}; the settings are "
                f"{', '.join(sorted(self.names()))}.")
        return dataclasses.replace(self, **changes) if changes else self

    def local_path(self, source: str | os.PathLike[str]) -> Path:
        """The file to read for the local path ``source``, or InvalidImageError saying why not.

        With allowed folders the path is resolved first (symlinks followed, ``..``
        collapsed), so a link or a ``../`` cannot lead out of them; the resolved path is
        the one read.
        """
        if self.allow_local_files is False:
            raise InvalidImageError(
                f"Local files are not allowed here ({describe_source(source)}); pass an "
                "http(s) URL or a data: URI, or enable allow_local_files=True if the input "
                "is trusted.")
        path = Path(os.path.expanduser(os.fspath(source)))
        if self.allow_local_files is True:
            return path
        resolved = path.resolve()
        if any(resolved.is_relative_to(folder) for folder in self.allow_local_files):
            return resolved
        shown = ", ".join(str(folder) for folder in self.allow_local_files)
        raise InvalidImageError(
            f"The {describe_source(source)} is outside the folders local images may be read "
            f"from ({shown}); pass an image under them, an http(s) URL or a data: URI.")

    def __repr__(self) -> str:
        local = (list(map(str, self.allow_local_files)) if self.allowed_folders
                 else self.allow_local_files)
        return (f"InputPolicy(allow_local_files={local!r}, "
                f"allow_private_urls={self.allow_private_urls!r}, "
                f"max_bytes={self.max_bytes:_}, max_pixels={self.max_pixels:_}, "
                f"timeout_s={self.timeout_s!r}, max_redirects={self.max_redirects})")


def input_policy(policy: InputPolicy | None, default: InputPolicy,
                 **overrides: Any) -> InputPolicy:
    """The policy an entry point applies: ``policy`` (else its ``default``) with the keyword
    arguments it was given (``allow_local_files=...``; ``None``: not given) applied on top.

    This is how every entry point keeps its old keywords working: they build a policy.
    """
    if policy is None:
        policy = default
    elif not isinstance(policy, InputPolicy):
        raise ConfigurationError(
            f"policy must be an rir.InputPolicy, got {type(policy).__name__}.")
    return policy.updated(overrides)


def _folders_or_flag(value: Any) -> bool | tuple[Path, ...]:
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, os.PathLike)):
        value = [value]
    try:
        given = list(value)
    except TypeError:
        raise ConfigurationError(
            f"allow_local_files must be True, False or folders (a path or a list of paths), "
            f"got {type(value).__name__}.") from None
    folders = []
    for item in given:
        if not isinstance(item, (str, os.PathLike)) or not os.fspath(item).strip():
            raise ConfigurationError(
                f"allow_local_files folders must be paths, got {item!r}.")
        folders.append(Path(os.path.expanduser(os.fspath(item))).resolve())
    return tuple(dict.fromkeys(folders)) or False
