"""The adaptive read: a thin network read hands over to the rendered page, which scrolls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rir.engines.google_lens import GoogleLensEngine
from tests.engines.lens.fake_lens import FakeLens
from tests.images import jpeg_bytes

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["network", "page"])
def lens(request: pytest.FixtureRequest, browser_path: str | None,
         fake: FakeLens) -> Iterator[GoogleLensEngine]:
    engine = GoogleLensEngine(base_url=fake.base_url(), timeout_s=25,
                              render_results=request.param == "page")
    yield engine
    engine.close()


def views(fake: FakeLens, name: str) -> list[str]:
    return [r.query.get("udm", [""])[0] for r in fake.requests_for(name) if r.path == "/search"]


class TestScriptAddedCards:
    def test_scrolls_until_k(self, lens: GoogleLensEngine, scenario) -> None:
        scenario("scroll")
        result = lens.search(jpeg_bytes(), k=30)
        meta = result.metadata
        assert len(result.hits) == 30 and meta["complete"] is True
        assert meta["read_from"] == "page" and meta["view"] == "visual"
        counts = meta["card_counts"]
        assert counts["dom"] == 12 and counts["scrolls"] == [24, 36]
        if not lens.options.render_results:
            assert counts["server"] == 12  # what the network read saw, and handed over
            assert "handed over" in meta["handovers"][0]
            assert "12 hits < k=30 and no end-of-list sign" in meta["handovers"][0]

    def test_scrolls_until_the_list_stops_growing(self, lens: GoogleLensEngine,
                                                  scenario) -> None:
        scenario("scroll")
        result = lens.search(jpeg_bytes(), k=100)
        meta = result.metadata
        assert len(result.hits) == 60 and meta["complete"] is True  # the list ended
        assert meta["card_counts"]["scrolls"][-1] == 60
        assert len({h.url for h in result.hits}) == 60

    def test_a_deadline_ends_the_scrolling_and_marks_the_result(
            self, browser_path: str | None, fake: FakeLens, scenario) -> None:
        # Each batch takes 1.2 s to arrive: four of them cannot fit in a 2.5 s deadline,
        # however fast the machine (at 150 ms they sometimes did).
        scenario("scroll+batch_ms=1200")
        with GoogleLensEngine(base_url=fake.base_url(), timeout_s=2.5) as engine:
            result = engine.search(jpeg_bytes(), k=100)
        meta = result.metadata
        assert 12 <= len(result.hits) < 60
        assert meta["complete"] is False  # never "all that exists"


@pytest.mark.shared_data
class TestAllView:
    def test_a_complete_page_keeps_the_network_read(self, lens: GoogleLensEngine, fake: FakeLens,
                                                    scenario) -> None:
        name = scenario("results+page=real")
        result = lens.search(jpeg_bytes(), k=10)
        assert result.metadata["complete"] is True and "handovers" not in result.metadata
        if not lens.options.render_results:
            assert result.metadata["read_from"] == "network"
        assert views(fake, name) == ["26"]

    def test_k_beyond_the_preview_moves_on_to_visual_matches(
            self, lens: GoogleLensEngine, fake: FakeLens, scenario) -> None:
        name = scenario("results+page=real")
        result = lens.search(jpeg_bytes(), k=80)
        meta = result.metadata
        assert views(fake, name) == ["26", "44"]
        assert meta["view"] == "visual" and "Visual matches view" in meta["handovers"][0]
        assert len(result.hits) == 60 and meta["complete"] is True  # scrolled to the end
