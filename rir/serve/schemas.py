"""The shapes both servers answer with: one search output for REST and MCP alike."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rir.prompting.listing import format_tool_result
from rir.results.models import SearchResult
from rir.urls import citable_url

__all__ = ["AskOutput", "EngineInfo", "EnginesOutput", "ErrorBody", "HitOutput", "SearchOutput",
           "search_output"]


class HitOutput(BaseModel):
    position: int = Field(description="1-based rank.")
    title: str
    url: str | None = Field(description="The page that shows the image (tracking parameters "
                            "removed).")
    site: str | None
    snippet: str | None
    thumbnail_url: str | None
    score: float | None
    match_type: str


class SearchOutput(BaseModel):
    """A reverse image search result as agents and HTTP clients receive it."""

    best_guess: str | None = Field(description="What the image most likely shows.")
    engine: str
    query_sha256: str = Field(description="SHA-256 of the searched image bytes.")
    complete: bool | None = Field(
        description="False when the engine could not tell whether more matches exist; null "
        "when it does not say.")
    hits: list[HitOutput]
    text: str = Field(description="The numbered lines an agent's model reads.")


class AskOutput(BaseModel):
    answer: str
    search: SearchOutput


class EngineInfo(BaseModel):
    name: str
    default: bool
    configured: bool
    configured_by: list[str] = Field(description="Environment variables that configure it "
                                     "(names only).")
    note: str


class EnginesOutput(BaseModel):
    engines: list[EngineInfo]


class ErrorBody(BaseModel):
    """Every error the server answers with."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "error": "InvalidImageError", "detail": "The byte string (12 bytes) is not an image ...",
        "hint": "Send a JPEG, PNG, WebP, GIF, BMP or TIFF image ..."}})

    error: str = Field(description="The error's type.")
    detail: str = Field(description="What went wrong, with which input.")
    hint: str = Field(description="What the client can do about it.")


def search_output(result: SearchResult, *, max_hits: int = 10) -> SearchOutput:
    complete = result.metadata.get("complete")
    return SearchOutput(
        best_guess=result.best_guess,
        engine=result.engine,
        query_sha256=result.query_sha256,
        complete=complete if isinstance(complete, bool) else None,
        hits=[HitOutput(position=hit.position, title=hit.title,
                        url=citable_url(hit.url) or None, site=hit.source, snippet=hit.snippet,
                        thumbnail_url=hit.thumbnail_url, score=hit.score,
                        match_type=hit.match_type) for hit in result.hits],
        text=format_tool_result(result, max_hits=max_hits),
    )
