"""Fallback chains and fusion under partial failure (the issue's fault-injection scenarios)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import rir
from rir.engines import Engine, get_engine
from rir.engines.cloud_vision import CloudVisionEngine
from rir.engines.fallback import AllEnginesFailedError, FallbackEngine
from rir.engines.fusion import FusionEngine
from rir.engines.http import RateLimit
from rir.engines.picimagesearch import PicImageSearchEngine
from rir.engines.serpapi import SerpApiLensEngine
from rir.errors import (
    ConfigurationError,
    EngineBlockedError,
    EngineRateLimitedError,
    InvalidImageError,
)
from rir.inputs.images import QueryImage
from rir.results.models import Entity, SearchHit, SearchResult
from tests.engines.api.helpers import (
    SERPAPI_KEY,
    VISION_KEY,
    Recorder,
    fixture_json,
    json_response,
)


class ScriptedEngine(Engine):
    """An engine answering with a fixed result or error (stands in for e.g. a blocked browser)."""

    def __init__(self, name: str, outcome: SearchResult | BaseException, *, delay: float = 0):
        self.name = name  # type: ignore[misc]
        self.outcome = outcome
        self.delay = delay
        self.calls = 0

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def hits(*specs: tuple[str, str]) -> list[SearchHit]:
    return [SearchHit(title=title, url=url) for title, url in specs]


def serpapi_with(recorder: Recorder, retry) -> SerpApiLensEngine:
    return SerpApiLensEngine(api_key=SERPAPI_KEY, transport=recorder.transport, retry=retry)


# -- fallback ----------------------------------------------------------------------------------


async def test_blocked_first_engine_and_rate_limited_second_answers_after_one_retry(
    url_image, fast_retry, sleeps
) -> None:
    blocked = ScriptedEngine("google_lens", EngineBlockedError(
        "google_lens: Google served a consent wall", engine="google_lens"))
    recorder = Recorder.sequence(
        json_response({"error": "Too many requests"}, 429, **{"Retry-After": "1"}),
        json_response(fixture_json("serpapi/lens_eiffel_all.json")),
    )
    never = ScriptedEngine("cloud_vision", SearchResult())
    chain = get_engine("fallback", engines=[blocked, serpapi_with(recorder, fast_retry), never])

    result = await chain.asearch(url_image, k=5)

    assert result.metadata["answered_by"] == "serpapi"
    assert result.engine == "serpapi"
    assert [h.engine for h in result.hits] == ["serpapi"] * 5
    assert result.hits[0].url == "https://en.wikipedia.org/wiki/Eiffel_Tower"
    assert recorder.count == 2 and sleeps.waits == [1.0]  # one retry after the 429
    assert [(f.engine, f.error_type) for f in result.failures] == [
        ("google_lens", "EngineBlockedError")]
    assert "consent wall" in result.failures[0].message
    assert result.metadata["fallback"] == {"tried": ["google_lens", "serpapi"],
                                           "not_tried": ["cloud_vision"]}
    assert blocked.calls == 1 and never.calls == 0


def test_fallback_works_through_the_sync_twin(url_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/lens_eiffel_all.json")))
    chain = FallbackEngine([ScriptedEngine("first", EngineRateLimitedError("busy", engine="first")),
                            serpapi_with(recorder, fast_retry)])
    result = chain.search(url_image, k=3)
    assert result.metadata["answered_by"] == "serpapi" and len(result.hits) == 3
    chain.close()


async def test_invalid_input_stops_the_chain(local_image) -> None:
    second = ScriptedEngine("second", SearchResult(hits=hits(("a", "https://a.example/"))))
    chain = FallbackEngine([ScriptedEngine("first", InvalidImageError("not an image")), second])
    with pytest.raises(InvalidImageError):
        await chain.asearch(local_image)
    assert second.calls == 0


async def test_all_engines_failing_lists_every_failure(local_image, fast_retry) -> None:
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/error_invalid_key.json"), 401))
    chain = FallbackEngine([
        ScriptedEngine("google_lens", EngineBlockedError("captcha", engine="google_lens")),
        serpapi_with(recorder, fast_retry),
    ])
    with pytest.raises(AllEnginesFailedError) as caught:
        await chain.asearch(local_image.__class__(**{**local_image.__dict__,
                                                     "url": "https://x.example/a.jpg"}))
    failures = caught.value.failures
    assert [(f.engine, f.error_type) for f in failures] == [
        ("google_lens", "EngineBlockedError"), ("serpapi", "EngineAuthenticationError")]
    assert "google_lens: EngineBlockedError: captcha" in str(caught.value)
    assert SERPAPI_KEY not in str(caught.value)


async def test_on_empty_moves_on_and_records_why(local_image) -> None:
    answer = SearchResult(hits=hits(("Page", "https://b.example/page")), best_guess="thing")
    chain = FallbackEngine([ScriptedEngine("empty", SearchResult()),
                            ScriptedEngine("full", answer)], on_empty=True)
    result = await chain.asearch(local_image)
    assert result.metadata["answered_by"] == "full" and result.best_guess == "thing"
    assert [(f.engine, f.error_type) for f in result.failures] == [("empty", "NoResults")]
    without = FallbackEngine([ScriptedEngine("empty", SearchResult()),
                              ScriptedEngine("full", answer)])
    assert (await without.asearch(local_image)).metadata["answered_by"] == "empty"


async def test_fallback_timeout_skips_a_slow_engine(local_image) -> None:
    slow = ScriptedEngine("slow", SearchResult(), delay=1.0)
    fast = ScriptedEngine("fast", SearchResult(hits=hits(("x", "https://x.example/"))))
    result = await FallbackEngine([slow, fast], timeout_s=0.05).asearch(local_image)
    assert result.metadata["answered_by"] == "fast"
    assert result.failures[0].error_type == "EngineTimeoutError"


async def test_fallback_results_are_cached_without_secrets(url_image, fast_retry, tmp_path):
    recorder = Recorder.sequence(json_response(fixture_json("serpapi/lens_eiffel_all.json")))
    chain = FallbackEngine([ScriptedEngine("down", EngineBlockedError("blocked")),
                            serpapi_with(recorder, fast_retry)])
    searcher = rir.ReverseImageSearch(engine=chain, cache=tmp_path / "c.sqlite3")
    first = await searcher.asearch(url_image, k=5)
    second = await searcher.asearch(url_image, k=5)
    assert recorder.count == 1 and second.from_cache and not first.from_cache
    assert second.metadata["answered_by"] == "serpapi"
    assert SERPAPI_KEY not in repr(chain.cache_key_options())
    searcher.close()


def test_combined_engine_configuration(monkeypatch) -> None:
    with pytest.raises(ConfigurationError, match="non-empty list"):
        get_engine("fallback", engines="serpapi")
    with pytest.raises(ConfigurationError, match="non-empty list"):
        FusionEngine([])
    chain = get_engine("fallback", engines=[("serpapi", {"api_key": SERPAPI_KEY, "hl": "en"}),
                                            ("cloud_vision", {"api_key": VISION_KEY})])
    assert [e.name for e in chain.engines] == ["serpapi", "cloud_vision"]
    options = chain.cache_key_options()
    assert options["engines"][0] == {"name": "serpapi", "hl": "en", "type": "all"}
    assert SERPAPI_KEY not in repr(options) and VISION_KEY not in repr(chain)
    with pytest.raises(ConfigurationError, match="SERPAPI_API_KEY"):
        get_engine("fallback", engines=["serpapi"])  # a misconfigured member fails fast


# -- fusion ------------------------------------------------------------------------------------


async def test_fusion_with_one_engine_down_returns_the_others_hits(local_image, fast_retry):
    serpapi = serpapi_with(Recorder.sequence(httpx.Response(503, text="unavailable")),
                           fast_retry)
    vision = CloudVisionEngine(
        api_key=VISION_KEY, retry=fast_retry,
        transport=Recorder.sequence(json_response(fixture_json(
            "cloud_vision/web_detection_golden_gate.json"))).transport)

    def tineye(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/result_json/":
            return json_response(fixture_json("picimagesearch/tineye_result.json"))
        return json_response(fixture_json("picimagesearch/tineye_domains.json"))

    tin = PicImageSearchEngine("tineye", transport=Recorder(tineye).transport, retry=fast_retry,
                               rate_limit=RateLimit(requests_per_second=None))
    fusion = get_engine("fusion", engines=[serpapi, vision, tin])
    result = await fusion.asearch(local_image, k=40)

    assert [(f.engine, f.error_type) for f in result.failures] == [
        ("serpapi", "EngineServerError")]
    assert result.metadata["fusion"]["answered"] == ["cloud_vision", "picimagesearch:tineye"]
    engines_seen = {name for h in result.hits for name in h.metadata["engines"]}
    assert engines_seen == {"cloud_vision", "picimagesearch:tineye"}
    assert result.engine == "fusion" and result.best_guess == "golden gate bridge"
    assert len(result.hits) == 21 + 8  # every hit of both engines (no shared pages)
    top = result.hits[0]
    assert top.score == pytest.approx(1 / 61)
    assert all(h.metadata["provenance"] for h in result.hits)


async def test_rrf_merges_by_canonical_url_and_keeps_provenance(local_image) -> None:
    a = ScriptedEngine("a", SearchResult(hits=[
        SearchHit(title="One", url="https://one.example/"),
        SearchHit(title="Two (a)", url="https://example.com/page",
                  thumbnail_url="https://img.example/two.jpg", match_type="exact", score=0.9),
        SearchHit(title="Three", url="https://three.example/"),
    ], best_guess="eiffel tower", entities=[Entity(name="Eiffel Tower", score=0.4)]))
    b = ScriptedEngine("b", SearchResult(hits=[
        SearchHit(title="Two (b)", url="http://www.example.com/page/?utm_source=feed"),
        SearchHit(title="Four", url="https://four.example/"),
    ], best_guess="Eiffel Tower", entities=[Entity(name="eiffel tower", score=0.9,
                                                   url="https://kg.example/eiffel")]))
    c = ScriptedEngine("c", SearchResult(best_guess="Paris"))
    result = await FusionEngine([a, b, c]).asearch(local_image)

    assert [h.title for h in result.hits] == ["Two (b)", "One", "Four", "Three"]
    two = result.hits[0]
    assert two.score == pytest.approx(1 / 62 + 1 / 61)
    assert two.url == "http://www.example.com/page/?utm_source=feed"  # the best-ranked copy
    assert two.thumbnail_url == "https://img.example/two.jpg"  # gap filled from engine a
    assert two.match_type == "exact"
    assert two.metadata["engines"] == ["a", "b"]
    assert [(p["engine"], p["rank"]) for p in two.metadata["provenance"]] == [("a", 2), ("b", 1)]
    assert two.metadata["engine_scores"] == {"a": 0.9}
    assert [h.position for h in result.hits] == [1, 2, 3, 4]
    assert result.best_guess == "eiffel tower"  # two of three engines agree
    assert result.entities == [Entity(name="Eiffel Tower", score=0.9,
                                      url="https://kg.example/eiffel")]
    weighted = await FusionEngine([a, b], weights={"b": 0.0}).asearch(local_image)
    assert [h.title for h in weighted.hits][:3] == ["One", "Two (a)", "Three"]


async def test_fusion_all_down_raises_with_every_failure(local_image) -> None:
    fusion = FusionEngine([ScriptedEngine("a", EngineBlockedError("captcha", engine="a")),
                           ScriptedEngine("b", EngineRateLimitedError("429", engine="b"))])
    with pytest.raises(AllEnginesFailedError) as caught:
        await fusion.asearch(local_image)
    assert [f.engine for f in caught.value.failures] == ["a", "b"]


async def test_fusion_timeout_and_engine_input_errors_are_partial_failures(local_image) -> None:
    ok = ScriptedEngine("ok", SearchResult(hits=hits(("x", "https://x.example/"))))
    fusion = FusionEngine([ScriptedEngine("slow", SearchResult(), delay=1.0),
                           ScriptedEngine("picky", InvalidImageError("Bad image data.")), ok],
                          timeout_s=0.05)
    result = await fusion.asearch(local_image)
    assert [h.url for h in result.hits] == ["https://x.example/"]
    assert [(f.engine, f.error_type) for f in result.failures] == [
        ("slow", "EngineTimeoutError"), ("picky", "InvalidImageError")]


async def test_fusion_does_not_hide_programming_errors(local_image) -> None:
    fusion = FusionEngine([ScriptedEngine("buggy", RuntimeError("bug")),
                           ScriptedEngine("ok", SearchResult())])
    with pytest.raises(RuntimeError, match="bug"):
        await fusion.asearch(local_image)


def test_fallback_skips_an_engine_that_cannot_be_built_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: a missing key skips the engine instead of failing the whole chain."""
    from rir.demo import build_demo_index, demo_query

    monkeypatch.delenv("SERPAPI_API_KEY", raising=False)
    query, _ = demo_query("Grace Hopper")
    chain = get_engine("fallback", engines=["serpapi", build_demo_index()])
    result = chain.search(query, k=3)
    assert result.best_guess == "Grace Hopper"
    assert result.metadata["answered_by"] == "local"
    assert result.metadata["fallback"]["unavailable"] == ["serpapi"]
    assert [(f.engine, f.error_type) for f in result.failures] == [
        ("serpapi", "EngineUnavailableError")]
    assert "SERPAPI_API_KEY" in result.failures[0].message


def test_fallback_with_no_engine_that_can_run_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from rir.errors import ConfigurationError

    monkeypatch.delenv("SERPAPI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="none of its engines can run here: serpapi"):
        get_engine("fallback", engines=["serpapi"])
    with pytest.raises(ConfigurationError, match="unknown option"):  # a wrong option is not skipped
        get_engine("fallback", engines=[("serpapi", {"api_key": "k-123456789", "colour": 1})])
