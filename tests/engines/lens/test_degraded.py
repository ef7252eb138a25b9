"""Degraded Lens pages: named, retried by their rule, never a result or a cached empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rir.engines.google_lens import GoogleLensEngine, PageKind, analyse_lens_html, parse_lens_html
from rir.errors import EngineBlockedError, EngineResponseError
from rir.inputs.images import aload_image
from rir.search import ReverseImageSearch
from tests.engines.lens.fake_lens import FakeLens
from tests.engines.lens.helpers import page, run
from tests.images import jpeg_bytes

SEARCH = "https://www.google.com/search?vsrid=x&udm=26&hl=en"
UPLOAD_BY_URL = "https://lens.google.com/uploadbyurl?url=https%3A%2F%2Fexample.com%2Fa.jpg"
FEW_CARD_URLS = [
    "https://commons.wikimedia.org/wiki/File:Tour_Eiffel_Wikimedia_Commons.jpg",
    "https://www.travel-example.com/paris/eiffel-tower-at-dusk",
    "https://www.example.org/blog/paris-trip",
]

DEGRADED_PAGES = [
    ("web-results-only", SEARCH, PageKind.DEGRADED, "web results instead"),
    ("ai-overview-unavailable", SEARCH, PageKind.DEGRADED, "ai overview"),
    ("webhp", "https://www.google.com/webhp?hl=en", PageKind.DEGRADED, "/webhp"),
    ("verifying", SEARCH, PageKind.BLOCKED, "verifying your request"),
    ("no-image-at-url", UPLOAD_BY_URL, PageKind.NO_IMAGE_AT_URL, "no image at the url"),
    ("something-went-wrong", UPLOAD_BY_URL, PageKind.NO_IMAGE_AT_URL, "something went wrong"),
]


class TestStates:
    @pytest.mark.parametrize(("name", "url", "kind", "reason"), DEGRADED_PAGES)
    def test_each_page_is_named_and_never_a_result(self, name: str, url: str,
                                                   kind: PageKind, reason: str) -> None:
        analysis = analyse_lens_html(page(name), page_url=url)
        assert analysis.state.kind is kind
        assert reason in analysis.state.reason.lower()
        assert analysis.result is None
        expected = EngineBlockedError if kind is PageKind.BLOCKED else EngineResponseError
        with pytest.raises(expected, match=r"Retry later|rir login"):
            parse_lens_html(page(name), page_url=url)

    def test_frames_keep_the_real_pages_hidden_history_message(self) -> None:
        # The real page's Google bar holds a hidden "Something went wrong" (history
        # deletion); a page with results or web results must not be read as it.
        html = page("web-results-only")
        assert "Something went wrong. Your history" in html
        assert analyse_lens_html(html, page_url=SEARCH).state.kind is PageKind.DEGRADED

    def test_a_real_no_results_message_is_still_no_results(self) -> None:
        analysis = analyse_lens_html(page("no-results"), page_url=SEARCH)
        assert analysis.state.kind is PageKind.NO_RESULTS


@pytest.fixture(scope="module")
def lens(browser_path: str | None, fake: FakeLens) -> Iterator[GoogleLensEngine]:
    engine = GoogleLensEngine(base_url=fake.base_url(), timeout_s=15)
    yield engine
    engine.close()


def searches(fake: FakeLens, name: str, path: str) -> int:
    return sum(1 for r in fake.requests_for(name) if r.path == path)


@pytest.mark.browser
class TestEngine:
    @pytest.mark.parametrize("kind", ["webonly", "aionly", "webhp"])
    def test_degraded_is_retried_once_then_an_error_not_cached(
            self, lens: GoogleLensEngine, fake: FakeLens, scenario, tmp_path: Path,
            kind: str) -> None:
        name = scenario(kind)
        searcher = ReverseImageSearch(engine=lens, cache=tmp_path / "cache.sqlite3")
        with pytest.raises(EngineResponseError, match=r"degraded page.*also after a retry"):
            searcher.search(jpeg_bytes(), k=5)
        assert searches(fake, name, "/v3/upload") == 2  # the query, and one retry
        assert searcher.cache is not None and searcher.cache.stats()["entries"] == 0

    def test_a_degraded_page_that_clears_on_retry_gives_results(
            self, lens: GoogleLensEngine, fake: FakeLens, scenario) -> None:
        name = scenario("flaky")
        result = lens.search(jpeg_bytes(), k=5)
        assert [h.url for h in result.hits] == FEW_CARD_URLS
        assert result.metadata["pages_seen"] == ["degraded", "results"]
        assert "retrying once" in result.metadata["retries"][0]
        assert searches(fake, name, "/search") == 2

    @pytest.mark.parametrize("kind", ["nourl", "urlwrong"])
    def test_a_url_google_cannot_use_is_uploaded_as_bytes(
            self, lens: GoogleLensEngine, fake: FakeLens, scenario, kind: str) -> None:
        name = scenario(kind)
        data = jpeg_bytes((200, 40, 40))
        url = fake.add_image(f"{kind}.jpg", data)
        image = run(aload_image(url, allow_private_urls=True))
        result = lens.search(image, k=5)
        assert [h.url for h in result.hits] == FEW_CARD_URLS
        assert result.metadata["pages_seen"] == ["no_image_at_url", "results"]
        assert "retrying as an upload" in result.metadata["retries"][0]
        assert searches(fake, name, "/uploadbyurl") == 1
        upload = next(r for r in fake.requests_for(name) if r.path == "/v3/upload")
        assert upload.upload_sha256 == image.sha256

    def test_verifying_is_a_block_after_its_grace(self, lens: GoogleLensEngine, scenario,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        from rir.engines.google_lens import engine as engine_module

        monkeypatch.setattr(engine_module, "_INTERSTITIAL_GRACE_S", 0.5)
        scenario("verifying")
        with pytest.raises(EngineBlockedError, match="verifying your request"):
            lens.search(jpeg_bytes(), k=5)
