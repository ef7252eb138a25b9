"""Where the LlamaIndex components find the query image, and how they build the searcher."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from llama_index.core.schema import QueryBundle

from rir.engines import Engine
from rir.errors import ConfigurationError, InvalidImageError
from rir.inputs.policy import InputPolicy
from rir.results.cache import ResultCache
from rir.results.extract import ExtractOptions
from rir.search import ReverseImageSearch

__all__ = ["build_searcher", "image_source", "is_image_reference"]

if TYPE_CHECKING:
    from typing import TypeAlias

    CacheOption: TypeAlias = "bool | str | os.PathLike[str] | ResultCache"


def build_searcher(
    engine: str | Engine,
    *,
    cache: CacheOption,
    extract: ExtractOptions | bool | None,
    policy: InputPolicy,
    engine_options: dict[str, Any],
) -> ReverseImageSearch:
    if isinstance(engine, ReverseImageSearch):
        raise ConfigurationError(
            "engine takes an engine name or an Engine instance, not a ReverseImageSearch; "
            "pass its .engine and set cache/extract on this component."
        )
    return ReverseImageSearch(engine, cache=cache, extract=extract, policy=policy,
                              **engine_options)


def is_image_reference(text: str) -> bool:
    """Whether a query string is itself an image: an http(s) URL or a ``data:`` URI."""
    text = text.strip()
    head = text[:8].lower()
    if head.startswith("data:"):
        return True
    return head.startswith(("http://", "https://")) and not any(c.isspace() for c in text)


def image_source(query_bundle: QueryBundle) -> str | os.PathLike[str]:
    """The image a query refers to: ``image_path``, else a URL/data URI ``query_str``."""
    image_path: Any = query_bundle.image_path
    if image_path is not None:
        if isinstance(image_path, os.PathLike):
            return image_path
        if isinstance(image_path, str) and image_path.strip():
            return image_path.strip()
        raise InvalidImageError(
            f"QueryBundle.image_path must be a URL, data URI or file path, got "
            f"{type(image_path).__name__} {str(image_path)[:40]!r}."
        )
    query = query_bundle.query_str or ""
    if is_image_reference(query):
        return query.strip()
    shown = query if len(query) <= 60 else query[:59] + "…"
    raise InvalidImageError(
        f"No query image in the query {shown!r}: pass QueryBundle(question, image_path=...) "
        "with an http(s) URL, a data: URI or a file path, or make the query string itself "
        "an image URL or data URI."
    )
