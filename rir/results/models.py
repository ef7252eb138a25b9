"""The normalised result model every engine returns.

``SearchHit`` is one match (a page that shows the image, or a visually similar
image); ``SearchResult`` is one search. Both are pydantic v2 models and
round-trip through JSON (the screenshot as base64).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EngineFailure", "Entity", "MatchType", "SearchHit", "SearchResult"]

MatchType = Literal["visual", "exact", "similar", "product", "entity"]


class SearchHit(BaseModel):
    """One reverse-image-search match."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    url: str | None = Field(default=None, description="The page that shows the image.")
    source: str | None = Field(default=None, description="Site name or domain of the page.")
    image_url: str | None = Field(default=None, description="The matching image itself.")
    thumbnail_url: str | None = Field(
        default=None, description="A small preview (http(s) or data: URI)."
    )
    snippet: str | None = Field(default=None, description="Caption or text near the image.")
    position: int = Field(default=1, ge=1, description="1-based rank in the result.")
    match_type: MatchType = "visual"
    score: float | None = Field(default=None, description="Engine confidence, higher is better.")
    width: int | None = None
    height: int | None = None
    engine: str = ""
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Engine-specific extras (provenance, local metadata)."
    )
    raw: dict[str, Any] | None = Field(
        default=None, repr=False, description="The engine's own payload for this item."
    )


class Entity(BaseModel):
    """Something the engine recognised in the image (a knowledge-graph entity, a label)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    score: float | None = None
    type: str | None = None
    url: str | None = None
    description: str | None = None


class EngineFailure(BaseModel):
    """An engine that did not answer inside a fallback or fusion search, and why."""

    model_config = ConfigDict(extra="forbid")

    engine: str
    error_type: str
    message: str


class SearchResult(BaseModel):
    """The outcome of one reverse image search."""

    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    hits: list[SearchHit] = Field(default_factory=list)
    best_guess: str | None = Field(
        default=None, description="What the image most likely shows, in a few words."
    )
    entities: list[Entity] = Field(default_factory=list)
    engine: str = ""
    query_sha256: str = ""
    elapsed_s: float = 0.0
    from_cache: bool = False
    screenshot: bytes | None = Field(
        default=None, repr=False, description="PNG of the results page (screenshot mode)."
    )
    page_url: str | None = None
    failures: list[EngineFailure] = Field(
        default_factory=list, description="Engines skipped or failed (fallback / fusion)."
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    def top(self, k: int) -> SearchResult:
        """A copy holding only the first ``k`` hits."""
        return self.model_copy(update={"hits": self.hits[:k]})

    def __repr_args__(self):  # keep reprs short: hits are summarised
        for name, value in super().__repr_args__():
            if name == "hits":
                yield name, f"<{len(self.hits)} hits>"
            else:
                yield name, value
