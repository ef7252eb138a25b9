"""rir.results.models: the result model round-trips through JSON and rejects nonsense."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from rir import EngineFailure, Entity, SearchHit, SearchResult


def full_result() -> SearchResult:
    hits = [
        SearchHit(title="Grace Hopper – Wikipédia", url="https://fr.wikipedia.org/wiki/Grace_Hopper",
                  source="Wikipédia", image_url="https://upload.wikimedia.org/a.jpg",
                  thumbnail_url="data:image/jpeg;base64,/9j/4AAQ", snippet="Rear admiral",
                  position=1, match_type="exact", score=0.97, width=800, height=1000,
                  engine="google_lens", metadata={"fusion": ["a", "b"]},
                  raw={"nested": {"x": [1, 2]}}),
        SearchHit(title="", position=2, match_type="similar"),
    ]
    return SearchResult(
        hits=hits, best_guess="Grace Hopper",
        entities=[Entity(name="Grace Hopper", score=0.91, type="person")],
        engine="fallback", query_sha256="ab" * 32, elapsed_s=1.25, from_cache=False,
        screenshot=b"\x89PNG\r\n\x1a\n\x00\xffbinary", page_url="https://lens.google.com/x",
        failures=[EngineFailure(engine="serpapi", error_type="EngineRateLimitedError",
                                message="429")],
        metadata={"answered_by": "google_lens"},
    )


def test_json_round_trip_keeps_everything() -> None:
    result = full_result()
    text = result.model_dump_json()
    assert json.loads(text)["screenshot"]  # bytes travel as base64 text
    again = SearchResult.model_validate_json(text)
    assert again == result
    assert again.screenshot == result.screenshot
    assert SearchHit.model_validate_json(result.hits[0].model_dump_json()) == result.hits[0]


def test_validation() -> None:
    with pytest.raises(ValidationError):
        SearchHit(title="x", position=0)
    with pytest.raises(ValidationError):
        SearchHit(title="x", match_type="guess")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        SearchResult(hitz=[])  # type: ignore[call-arg]


def test_repr_is_short_and_top_copies() -> None:
    result = full_result()
    assert "<2 hits>" in repr(result) and "binary" not in repr(result)
    assert len(result.top(1).hits) == 1 and len(result.hits) == 2
