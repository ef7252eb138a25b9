"""parse_lens_html on the real saved Lens page, block pages and the project's own pages."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import urlsplit

import pytest

from rir.engines.google_lens import analyse_lens_html, parse_lens_html
from rir.engines.google_lens.cards import is_google_internal
from rir.engines.google_lens.states import PageKind
from rir.errors import EngineBlockedError, EngineError
from rir.results.models import SearchResult
from rir.urls import canonical_url
from tests.engines.lens.helpers import page, real_interstitial, real_page

# The AI overview's sources and the video / web results further down the real page.
REAL_NOT_HITS = (
    "youtube.com/watch?v=1p2E0ZQb9ao",  # video result (and its key moments)
    "youtube.com/watch?v=Jpo-XTGwM78",
    "youtube.com/watch?v=fbhOMKdLd1w",
    "youtube.com/watch?v=rEZF2m542II",
    "indeed.com/q-software-engineer",  # web results
    "cnn.com/2026/04/08",
    "news.ycombinator.com",
    "seangoedecke.com",
)


def _rename_everything(html: str) -> str:
    """The real page as Google might ship it next quarter: every class and id renamed,
    every data-* and js* attribute gone."""

    def rename(match: re.Match[str]) -> str:
        names = " ".join("k" + hashlib.sha1(n.encode()).hexdigest()[:7]
                         for n in match.group(2).split())
        return f'{match.group(1)}="{names}"'

    html = re.sub(r'\b(class|id)="([^"]*)"', rename, html)
    html = re.sub(r'\sdata-[\w-]+="[^"]*"', "", html)
    return re.sub(r'\s(jsname|jscontroller|jsaction|jsdata|jsmodel|jsuid|ping)="[^"]*"', "",
                  html)


class TestRealPage:
    def test_every_visual_match_card_with_title_url_and_site(self) -> None:
        result = parse_lens_html(real_page())
        assert len(result.hits) == 60
        for hit in result.hits:
            assert hit.title.strip(), hit
            assert hit.source and hit.source.strip(), hit
            parts = urlsplit(hit.url or "")
            assert parts.scheme == "https" and parts.hostname, hit.url
            assert hit.match_type == "visual"
        assert [h.position for h in result.hits] == list(range(1, 61))
        first = result.hits[0]
        assert first.source == "LinkedIn"
        assert first.title.startswith("softwareengineer #americanexpress")
        last = result.hits[-1]
        assert last.source == "GantNews.com"
        assert last.url.startswith("https://gantnews.com/2026/05/11/attorney-general")

    def test_no_duplicates_no_google_links_no_videos_or_overview_sources(self) -> None:
        result = parse_lens_html(real_page())
        keys = [canonical_url(h.url) for h in result.hits]
        assert len(set(keys)) == len(keys)
        assert not [h.url for h in result.hits if is_google_internal(h.url or "")]
        assert not [h.url for h in result.hits if "/url?" in (h.url or "")]
        assert not [h.url for h in result.hits
                    if any(marker in (h.url or "") for marker in REAL_NOT_HITS)]
        assert not [h.url for h in result.hits if "&t=" in (h.url or "")]
        # Google's own product pages are real matches, not internal links.
        assert any((h.url or "").startswith("https://chromewebstore.google.com/")
                   for h in result.hits)

    def test_ai_overview_gives_best_guess_and_stays_out_of_hits(self) -> None:
        result = parse_lens_html(real_page())
        assert result.best_guess == "BoardCheck"
        assert [e.name for e in result.entities] == ["BoardCheck"]
        overview = result.metadata["ai_overview"]
        assert overview.startswith("This image appears to be an advertisement for BoardCheck")
        assert "View related links" not in overview
        assert not any(h.title.startswith("This image appears") for h in result.hits)
        web = {w["url"] for w in result.metadata["web_results"]}
        assert "https://news.ycombinator.com/item?id=43600582" in web

    def test_thumbnails_from_inline_images(self) -> None:
        result = parse_lens_html(real_page())
        with_thumbnails = [h for h in result.hits if h.thumbnail_url]
        # The saved page inlines the first twelve thumbnails; the others are saved
        # as local files, which mean nothing outside the saver's disk.
        assert len(with_thumbnails) == 12
        assert all(h.thumbnail_url.startswith("data:image/") for h in with_thumbnails)
        assert result.hits[0].thumbnail_url.startswith("data:image/jpeg;base64,/9j/")
        assert result.hits[5].thumbnail_url.startswith("data:image/png;base64,")

    def test_parses_well_under_a_second(self) -> None:
        html = real_page()
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            parse_lens_html(html)
            timings.append(time.perf_counter() - started)
        print(f"parse_lens_html on {len(html) / 1e6:.1f} MB: best {min(timings):.3f}s")
        assert min(timings) < 1.0

    def test_renamed_classes_ids_and_data_attributes(self) -> None:
        original = parse_lens_html(real_page())
        renamed = parse_lens_html(_rename_everything(real_page()))
        assert [h.url for h in renamed.hits] == [h.url for h in original.hits]
        assert [h.title for h in renamed.hits] == [h.title for h in original.hits]
        assert [h.source for h in renamed.hits] == [h.source for h in original.hits]

    def test_round_trips_through_json(self) -> None:
        result = parse_lens_html(real_page(), page_url="https://www.google.com/search?udm=26")
        again = SearchResult.model_validate_json(result.model_dump_json())
        assert again == result


class TestBlockPages:
    def test_real_js_interstitial_is_a_block(self) -> None:
        with pytest.raises(EngineBlockedError) as caught:
            parse_lens_html(real_interstitial())
        message = str(caught.value)
        assert "JavaScript" in message and "rir login" in message
        assert caught.value.engine == "google_lens"

    @pytest.mark.parametrize("name", ["sorry", "js-interstitial", "unblock", "consent"])
    def test_project_block_pages(self, name: str) -> None:
        with pytest.raises(EngineBlockedError):
            parse_lens_html(page(name))

    def test_sorry_url_is_a_block_whatever_the_body(self) -> None:
        with pytest.raises(EngineBlockedError, match="/sorry/"):
            parse_lens_html("<html><body><p>Hi</p></body></html>",
                            page_url="https://www.google.com/sorry/index?continue=x")

    def test_consent_host(self) -> None:
        analysis = analyse_lens_html("<html><body><p>Cookies</p></body></html>",
                                     page_url="https://consent.google.com/ml?continue=x")
        assert analysis.state.kind is PageKind.CONSENT

    def test_unknown_page_is_an_error_not_an_empty_result(self) -> None:
        with pytest.raises(EngineError) as caught:
            parse_lens_html(page("unknown"))
        assert not isinstance(caught.value, EngineBlockedError)
        assert "save_html" in str(caught.value)

    def test_empty_page_is_an_error(self) -> None:
        with pytest.raises(EngineError):
            parse_lens_html("")


class TestProjectPages:
    def test_few_cards(self) -> None:
        result = parse_lens_html(page("few-cards"))
        assert [(h.title, h.url, h.source) for h in result.hits] == [
            ("File:Tour Eiffel Wikimedia Commons.jpg - Wikimedia Commons",
             "https://commons.wikimedia.org/wiki/File:Tour_Eiffel_Wikimedia_Commons.jpg",
             "Wikimedia Commons"),
            ("Eiffel Tower at dusk: 12 photos",
             "https://www.travel-example.com/paris/eiffel-tower-at-dusk", "Travel Example"),
            ("Our trip to Paris", "https://www.example.org/blog/paris-trip", "Example Blog"),
        ]
        red, tbn, green = (h.thumbnail_url for h in result.hits)
        assert red and red.startswith("data:image/jpeg;base64,") and "\\x3d" not in red
        assert tbn == "https://encrypted-tbn0.gstatic.com/images?q=tbn:FAKE2&s"
        assert green and green.startswith("data:image/jpeg;base64,") and green != red

    def test_few_cards_extras_stay_out_of_hits(self) -> None:
        result = parse_lens_html(page("few-cards"))
        assert result.best_guess == "Eiffel Tower"
        assert [(e.name, e.type) for e in result.entities] == [
            ("Eiffel Tower", "ai_overview"),
            ("Eiffel Tower at night", "related_search"),
            ("Champ de Mars", "related_search"),
        ]
        assert [w["url"] for w in result.metadata["web_results"]] == [
            "https://www.youtube.com/watch?v=abc123",
            "https://www.britannica.com/topic/Eiffel-Tower-Paris-France",
        ]
        urls = " ".join(h.url or "" for h in result.hits)
        for absent in ("toureiffel.paris", "wikipedia.org", "shop.example.net", "google.com",
                       "youtube.com", "britannica.com"):
            assert absent not in urls

    def test_renamed_markup_gives_the_same_hits(self) -> None:
        few = parse_lens_html(page("few-cards"))
        renamed = parse_lens_html(page("renamed-classes"))
        assert [(h.title, h.url, h.source) for h in renamed.hits] == \
            [(h.title, h.url, h.source) for h in few.hits]
        assert [h.thumbnail_url for h in renamed.hits] == [h.thumbnail_url for h in few.hits]
        assert renamed.best_guess == "Eiffel Tower"

    def test_exact_matches_tab(self) -> None:
        result = parse_lens_html(page("exact-matches"))
        assert len(result.hits) == 4
        assert {h.match_type for h in result.hits} == {"exact"}
        first = result.hits[0]
        assert (first.title, first.source, first.width, first.height) == (
            "File:Tour Eiffel Wikimedia Commons.jpg", "Wikimedia Commons", 1600, 1200)
        assert result.hits[2].title == "Paris heatwave: tourists flock to the Champ de Mars"
        assert all(h.thumbnail_url and h.thumbnail_url.startswith("data:") for h in result.hits)

    def test_udm_parameter_sets_the_match_type(self) -> None:
        result = parse_lens_html(page("few-cards"), page_url="https://www.google.com/search?udm=48")
        assert {h.match_type for h in result.hits} == {"visual"}  # the section says visual
        exact = parse_lens_html(page("renamed-classes").replace("Visual matches", "Matches"),
                                page_url="https://www.google.com/search?udm=48")
        assert {h.match_type for h in exact.hits} == {"exact"}

    def test_no_results_page_is_an_empty_result(self) -> None:
        result = parse_lens_html(page("no-results"))
        assert result.hits == []
        assert result.metadata["page_state"] == "no_results"
