"""GoogleLensEngine driving a real Chromium against the fake Lens on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from rir.engines import get_engine
from rir.engines.google_lens import GoogleLensEngine, default_storage_state_path, parse_lens_html
from rir.engines.google_lens import engine as engine_module
from rir.errors import EngineBlockedError, EngineError, EngineTimeoutError
from rir.inputs.images import aload_image
from tests.engines.lens.fake_lens import CONSENT_COOKIE, FakeLens
from tests.engines.lens.helpers import PAGES, real_page, run
from tests.images import jpeg_bytes

pytestmark = pytest.mark.browser

FEW_CARD_URLS = [
    "https://commons.wikimedia.org/wiki/File:Tour_Eiffel_Wikimedia_Commons.jpg",
    "https://www.travel-example.com/paris/eiffel-tower-at-dusk",
    "https://www.example.org/blog/paris-trip",
]


@pytest.fixture(scope="module", params=["network", "page"])
def lens(request: pytest.FixtureRequest, browser_path: str | None,
         fake: FakeLens) -> Iterator[GoogleLensEngine]:
    """The engine both ways: results read off the network (default) or rendered."""
    engine = GoogleLensEngine(base_url=fake.base_url(), timeout_s=20, max_concurrency=4,
                              render_results=request.param == "page")
    yield engine
    engine.close()


def read_from(engine: GoogleLensEngine) -> str:
    """Where ``engine`` reads a results page that is complete when it arrives."""
    return "page" if engine.options.render_results else "network"


@pytest.fixture(scope="module")
def lens_debug(browser_path: str | None, fake: FakeLens,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoogleLensEngine]:
    """Short deadline, two tabs at most, pages saved for bug reports."""
    saved = tmp_path_factory.mktemp("saved-pages")
    engine = GoogleLensEngine(base_url=fake.base_url(), timeout_s=4, max_concurrency=2,
                              save_html=str(saved) + "/")
    yield engine
    engine.close()


@pytest.fixture
def quick_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interstitials get half a second (not three) to clear themselves."""
    monkeypatch.setattr(engine_module, "_INTERSTITIAL_GRACE_S", 0.5)


class TestQueries:
    def test_upload_of_bytes(self, lens: GoogleLensEngine, fake: FakeLens, scenario) -> None:
        name = scenario("results+tag=upload")
        data = jpeg_bytes()
        result = lens.search(data, k=10)
        assert [h.url for h in result.hits] == FEW_CARD_URLS
        assert result.best_guess == "Eiffel Tower"
        assert result.engine == "google_lens" and result.hits[0].engine == "google_lens"
        upload = next(r for r in fake.requests_for(name) if r.path == "/v3/upload")
        assert upload.method == "POST" and upload.upload_field == "encoded_image"
        assert upload.upload_filename == "image.jpg" and upload.upload_type == "image/jpeg"
        assert upload.upload_sha256 == hashlib.sha256(data).hexdigest()
        assert upload.query["hl"] == ["en"]
        assert result.page_url.startswith(fake.base_url())
        assert result.metadata["read_from"] == read_from(lens)
        if read_from(lens) == "page":
            # The page's stylesheet on another host was refused, not fetched.
            assert result.metadata["blocked_requests"] >= 1
        else:  # never rendered: the page did not even ask for its stylesheet
            assert result.metadata["blocked_requests"] == 0

    def test_url_goes_through_upload_by_url(self, lens: GoogleLensEngine, fake: FakeLens,
                                            scenario) -> None:
        name = scenario("results+tag=byurl")
        url = fake.add_image("eiffel.jpg", jpeg_bytes((200, 150, 40)))
        query = run(aload_image(url, allow_private_urls=True))
        result = lens.search(query, k=2)
        assert [h.url for h in result.hits] == FEW_CARD_URLS[:2]
        entry = next(r for r in fake.requests_for(name) if r.path == "/uploadbyurl")
        assert entry.query["url"] == [url] and entry.query["hl"] == ["en"]
        assert not [r for r in fake.requests_for(name) if r.path == "/v3/upload"]

    def test_real_page_through_the_browser(self, lens: GoogleLensEngine, scenario) -> None:
        expected = [h.url for h in parse_lens_html(real_page()).hits]
        scenario("results+page=real")
        # k=60: what the All view holds (a larger k moves on to the Visual matches view).
        result = lens.search(jpeg_bytes(), k=60)
        assert [h.url for h in result.hits] == expected
        assert len(result.hits) == 60 and result.best_guess == "BoardCheck"
        assert result.metadata["read_from"] == read_from(lens)

    def test_page_gzipped_and_streamed(self, lens: GoogleLensEngine, scenario) -> None:
        expected = [h.url for h in parse_lens_html(real_page()).hits]
        scenario("results+page=real+stream=gzip")
        result = lens.search(jpeg_bytes(), k=60)
        assert [h.url for h in result.hits] == expected
        assert result.metadata["read_from"] == read_from(lens)

    def test_page_in_another_charset(self, lens: GoogleLensEngine, scenario) -> None:
        scenario("results+charset=cp1252")
        result = lens.search(jpeg_bytes(), k=10)
        assert [h.url for h in result.hits] == FEW_CARD_URLS
        video = result.metadata["web_results"][0]
        assert video["source"] == "YouTube \u00b7 Paris Channel"  # "·" is 0xB7 in cp1252

    def test_no_results_is_an_empty_result(self, lens: GoogleLensEngine, scenario) -> None:
        scenario("empty")
        result = lens.search(jpeg_bytes(), k=5)
        assert result.hits == [] and result.metadata["page_state"] == "no_results"

    def test_results_rendered_late_are_waited_for(self, lens: GoogleLensEngine,
                                                  scenario) -> None:
        scenario("dynamic+ms=700")
        result = lens.search(jpeg_bytes(), k=5)
        assert [h.title for h in result.hits] == ["Our trip to Paris",
                                                   "Eiffel Tower at dusk: 12 photos"]
        # The page as sent had no cards: it was rendered and waited for either way.
        assert result.metadata["read_from"] == "page"


class TestConsent:
    def test_declined_automatically_and_not_remembered(self, lens: GoogleLensEngine,
                                                       fake: FakeLens, scenario) -> None:
        name = scenario("consent+tag=auto")
        for _ in range(2):  # a fresh context per query: the cookie does not leak
            result = lens.search(jpeg_bytes(), k=10)
            assert [h.url for h in result.hits] == FEW_CARD_URLS
            assert result.metadata["consent_clicks"] == 1
            assert result.metadata["read_from"] == read_from(lens)
        saves = [r for r in fake.requests_for(name) if r.path == "/consent/save"]
        assert len(saves) == 2 and all(r.form["set_eom"] == ["true"] for r in saves)

    def test_saved_session_is_used_by_default(self, lens: GoogleLensEngine, fake: FakeLens,
                                              scenario) -> None:
        path = default_storage_state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"cookies": [{
            "name": CONSENT_COOKIE, "value": "rejected", "domain": "127.0.0.1", "path": "/",
            "expires": -1, "httpOnly": False, "secure": False, "sameSite": "Lax"}],
            "origins": []}))
        name = scenario("consent+tag=session")
        result = lens.search(jpeg_bytes(), k=10)
        assert len(result.hits) == 3 and result.metadata["consent_clicks"] == 0
        assert not [r for r in fake.requests_for(name) if r.path.startswith("/consent")]


class TestFailures:
    def test_sorry_page_is_blocked(self, lens: GoogleLensEngine, scenario) -> None:
        scenario("sorry")
        with pytest.raises(EngineBlockedError) as caught:
            lens.search(jpeg_bytes())
        assert "/sorry/" in str(caught.value) and "rir login" in str(caught.value)

    @pytest.mark.parametrize("page", ["js-interstitial", "real-interstitial"])
    def test_js_interstitial_is_blocked(self, lens: GoogleLensEngine, scenario, quick_grace,
                                        page: str) -> None:
        if page == "real-interstitial":
            real_page  # noqa: B018 - same skip rule as the other ../shared fixtures
            from tests.engines.lens.helpers import real_interstitial

            real_interstitial()
        scenario(f"interstitial+page={page}")
        with pytest.raises(EngineBlockedError, match="JavaScript"):
            lens.search(jpeg_bytes())

    def test_interstitial_that_clears_itself(self, lens: GoogleLensEngine, scenario,
                                             quick_grace) -> None:
        scenario("unblock")
        assert [h.url for h in lens.search(jpeg_bytes(), k=3).hits] == FEW_CARD_URLS

    def test_unknown_page_is_saved_for_a_bug_report(self, lens_debug: GoogleLensEngine,
                                                    scenario) -> None:
        scenario("unknown")
        with pytest.raises(EngineError) as caught:
            lens_debug.search(jpeg_bytes())
        assert not isinstance(caught.value, EngineBlockedError)
        saved = Path(str(caught.value).split("saved to ")[1].split(" for a bug")[0])
        assert saved.is_file() and "Welcome to the new Lens experience" in saved.read_text()

    def test_http_error(self, lens_debug: GoogleLensEngine, scenario) -> None:
        scenario("error500")
        with pytest.raises(EngineError, match="HTTP 500"):
            lens_debug.search(jpeg_bytes())

    def test_dropped_connection(self, lens_debug: GoogleLensEngine, scenario) -> None:
        scenario("drop")
        with pytest.raises(EngineError, match="ERR_EMPTY_RESPONSE"):
            lens_debug.search(jpeg_bytes())

    @pytest.mark.parametrize("name", ["hang", "stall"])
    def test_deadline(self, lens_debug: GoogleLensEngine, scenario, name: str) -> None:
        # hang: no answer at all; stall: headers and half the page, then silence (the
        # page is held while its body is read off the network).
        scenario(f"{name}+for=8")
        started = time.perf_counter()
        with pytest.raises(EngineTimeoutError, match="timeout_s=4"):
            lens_debug.search(jpeg_bytes())
        assert time.perf_counter() - started < 7
        scenario("results")  # and the engine is fine afterwards
        assert len(lens_debug.search(jpeg_bytes(), k=3).hits) == 3

    def test_results_saved_as_sent(self, lens_debug: GoogleLensEngine, scenario) -> None:
        scenario("results")
        result = lens_debug.search(jpeg_bytes(), k=3)
        assert result.metadata["read_from"] == "network"
        saved = Path(result.metadata["saved_html"])
        assert saved.read_text() == (PAGES / "few-cards.html").read_text()  # scripts and all

    def test_concurrency_is_bounded(self, lens_debug: GoogleLensEngine, fake: FakeLens,
                                    scenario) -> None:
        name = scenario("results+delay=0.5+tag=bounded")

        async def six() -> list[int]:
            import asyncio

            results = await asyncio.gather(*(lens_debug.asearch(jpeg_bytes(), k=3)
                                             for _ in range(6)))
            return [len(r.hits) for r in results]

        assert run(six()) == [3] * 6
        assert fake.max_inflight(name) == 2  # max_concurrency=2: parallel, and never more


def test_exact_matches_tab(browser_path: str | None, fake: FakeLens, scenario) -> None:
    name = scenario("exact")
    with get_engine("google_lens", base_url=fake.base_url(), match_type="exact") as engine:
        result = engine.search(jpeg_bytes(), k=10)
    assert len(result.hits) == 4 and {h.match_type for h in result.hits} == {"exact"}
    # The exact view scrolls for more: 4 < k=10 with no end sign is handed over to the
    # rendered page, which scrolls once and finds nothing more.
    assert result.metadata["read_from"] == "page" and result.metadata["complete"] is True
    assert result.metadata["card_counts"] == {"server": 4, "dom": 4, "scrolls": []}
    assert (result.hits[0].width, result.hits[0].height) == (1600, 1200)
    searches = [r for r in fake.requests_for(name) if r.path == "/search"]
    assert searches[-1].query["udm"] == ["48"]


def test_a_failed_network_read_falls_back_to_rendering(
        browser_path: str | None, fake: FakeLens, scenario,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from rir.engines.google_lens.network_read import NetworkReader

    async def broken(self: NetworkReader, event: dict[str, object]) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(NetworkReader, "_read_results", broken)
    scenario("results")
    with GoogleLensEngine(base_url=fake.base_url(), timeout_s=10) as engine:
        result = engine.search(jpeg_bytes(), k=10)
    assert [h.url for h in result.hits] == FEW_CARD_URLS
    assert result.metadata["read_from"] == "page"
    assert "renders it instead" in caplog.text


@pytest.mark.parametrize("mode", ["viewport", "full"])
def test_screenshot_of_the_results_area(browser_path: str | None, fake: FakeLens, scenario,
                                        mode: str) -> None:
    scenario("results")
    with GoogleLensEngine(base_url=fake.base_url(), screenshot=mode) as engine:
        result = engine.search(jpeg_bytes(), k=10)
    assert result.screenshot and result.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    import io

    picture = Image.open(io.BytesIO(result.screenshot))
    clip = result.metadata["screenshot_clip"]
    assert clip is not None  # cropped to the hits, not the whole page
    assert picture.size == (round(clip["width"]), round(clip["height"]))
    assert picture.size[0] <= 1366 and picture.size[1] < 2000
    assert len(result.hits) == 3 and result.metadata["read_from"] == "page"
