"""The shapes both servers answer with: one search output for REST and MCP alike."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rir.prompting.listing import format_regions_tool_result, format_tool_result
from rir.results.models import SearchResult
from rir.results.region_parts import RegionsResult
from rir.urls import citable_url

__all__ = ["AskOutput", "EngineInfo", "EnginesOutput", "ErrorBody", "HitOutput", "RegionOutput",
           "SearchOutput", "search_output"]


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
    regions: list[int] | None = Field(default=None, description="Region search: the numbers "
                                      "of the regions that found it (see 'regions').")


class RegionOutput(BaseModel):
    """One searched region of a region search."""

    number: int = Field(description="1-based, as the text names it ('Region 2').")
    region: list[int] = Field(description="[x1, y1, x2, y2] in pixels of the image.")
    origin: str = Field(description="whole, auto (found in the pixels) or given.")
    label: str = Field(description="Where it sits: 'top-left', 'whole image', ...")
    hits: int = Field(description="Matches this region found.")
    best_guess: str | None
    error: str | None = Field(description="Why this region could not be searched.")


class SearchOutput(BaseModel):
    """A reverse image search result as agents and HTTP clients receive it."""

    best_guess: str | None = Field(description="What the image most likely shows.")
    engine: str
    query_sha256: str = Field(description="SHA-256 of the searched image bytes.")
    complete: bool | None = Field(
        description="False when the engine could not tell whether more matches exist; null "
        "when it does not say.")
    hits: list[HitOutput]
    regions: list[RegionOutput] | None = Field(
        default=None, description="Region search: the regions searched (null otherwise).")
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


def search_output(result: SearchResult, *, max_hits: int = 10,
                  regions: RegionsResult | None = None) -> SearchOutput:
    """The output of a search; of a region search when ``regions`` is given (``result`` then
    holds the merged hits): its text groups the hits by region."""
    complete = result.metadata.get("complete")
    summary = result.metadata.get("regions") if regions is not None else None
    text = (format_regions_tool_result(regions, max_hits=max_hits) if regions is not None
            else format_tool_result(result, max_hits=max_hits))
    return SearchOutput(
        best_guess=result.best_guess,
        engine=result.engine,
        query_sha256=result.query_sha256,
        complete=complete if isinstance(complete, bool) else None,
        hits=[HitOutput(position=hit.position, title=hit.title,
                        url=citable_url(hit.url) or None, site=hit.source, snippet=hit.snippet,
                        thumbnail_url=hit.thumbnail_url, score=hit.score,
                        match_type=hit.match_type,
                        regions=[n + 1 for n in hit.metadata["regions"]]
                        if regions is not None and "regions" in hit.metadata else None)
              for hit in result.hits],
        regions=[RegionOutput.model_validate(part) for part in summary] if summary else None,
        text=text,
    )
