"""Completeness: a Lens result says whether it is all there is (parser and engine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rir.engines.google_lens import GoogleLensEngine, analyse_lens_html
from rir.engines.google_lens.completeness import effective_locale, thin_reason
from tests.engines.lens.fake_lens import FakeLens
from tests.engines.lens.helpers import page, real_page
from tests.images import jpeg_bytes

ALL_VIEW = "https://www.google.com/search?vsrid=x&udm=26&hl=en"


class TestListEnd:
    @pytest.mark.shared_data
    def test_real_all_view_offers_more_after_its_sixty_cards(self) -> None:
        result = analyse_lens_html(real_page(), page_url=ALL_VIEW).result
        assert result is not None
        assert result.metadata["list_end"] == "more"  # "See more" follows the grid
        assert result.metadata["card_count"] == 60 and result.metadata["view"] == "all"
        assert thin_reason(result, 60) is None
        assert "offers more" in str(thin_reason(result, 61))

    def test_all_view_without_a_more_control_has_ended(self) -> None:
        result = analyse_lens_html(page("few-cards"), page_url=ALL_VIEW).result
        assert result is not None and result.metadata["list_end"] == "end"
        assert thin_reason(result, 10) is None

    def test_a_link_on_to_visual_matches_below_the_list_offers_more(self) -> None:
        html = page("few-cards").replace(
            "<h2>Related searches</h2>",
            '<a href="/search?vsrid=1&amp;udm=44">Explore all visual matches</a>'
            "<h2>Related searches</h2>")
        result = analyse_lens_html(html, page_url=ALL_VIEW).result
        assert result is not None and result.metadata["list_end"] == "more"

    def test_skeleton_cards_without_titles_make_a_read_thin(self) -> None:
        skeletons = "".join(
            f'<div class="kb0PBd"><a href="https://shop{i}.example.com/p"><img alt="" '
            f'src="data:image/jpeg;base64,/9j/4AAQ" width="120" height="90"></a></div>'
            for i in range(4))
        html = page("few-cards").replace("<h2>Related searches</h2>",
                                         skeletons + "<h2>Related searches</h2>")
        result = analyse_lens_html(html, page_url=ALL_VIEW).result
        assert result is not None and len(result.hits) == 3  # skeletons are never hits
        assert result.metadata["untitled_cards"] == 4
        assert "no title yet" in str(thin_reason(result, 3))

    def test_a_scrolling_view_does_not_say(self) -> None:
        url = ALL_VIEW.replace("udm=26", "udm=44")
        result = analyse_lens_html(page("few-cards"), page_url=url).result
        assert result is not None and result.metadata["list_end"] is None
        assert result.metadata["view"] == "visual"
        assert "no end-of-list sign" in str(thin_reason(result, 10))
        assert thin_reason(result, 3) is None

    def test_effective_locale_from_the_final_url(self) -> None:
        assert effective_locale("https://www.google.com/search?udm=26&hl=de&gl=AT") == ("de", "at")
        assert effective_locale("https://www.google.com/search?udm=26") == (None, None)


@pytest.fixture(scope="module")
def lens(browser_path: str | None, fake: FakeLens) -> Iterator[GoogleLensEngine]:
    engine = GoogleLensEngine(base_url=fake.base_url(), timeout_s=20, country="us")
    yield engine
    engine.close()


@pytest.mark.browser
class TestEngineMetadata:
    def test_an_ended_list_is_complete_below_k(self, lens: GoogleLensEngine, scenario) -> None:
        scenario("results")
        result = lens.search(jpeg_bytes(), k=10)
        assert len(result.hits) == 3
        meta = result.metadata
        assert meta["complete"] is True and meta["udm"] == "26" and meta["view"] == "all"
        assert meta["card_counts"]["server"] == 3 and meta["read_from"] == "network"

    def test_google_overriding_the_region_is_recorded_and_warned(
            self, lens: GoogleLensEngine, scenario, caplog: pytest.LogCaptureFixture) -> None:
        scenario("results+gl=de")
        result = lens.search(jpeg_bytes(), k=2)
        meta = result.metadata
        assert meta["complete"] is True  # k reached
        assert meta["effective_gl"] == "de"
        assert meta["warnings"] == ["asked for country='us' but Google served gl='de'"]
        assert "Google served gl='de'" in caplog.text
