"""rir.results.extract and rir.urls: titles, canonical URLs, dedupe, domain filters, best guess."""

from __future__ import annotations

import pytest

from rir.results.extract import (
    ExtractOptions,
    clean_title,
    dedupe_hits,
    filter_domains,
    guess_from_titles,
    postprocess,
)
from rir.results.models import SearchHit, SearchResult
from rir.urls import canonical_url, unwrap_redirect


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Grace Hopper - Wikipedia", None, "Grace Hopper"),
        ("File:Grace_Hopper.jpg - Wikimedia Commons", None, "Grace Hopper"),
        ("Eiffel Tower | Britannica", None, "Eiffel Tower"),
        ("Amazing timelapse of the tower... - YouTube", None, "Amazing timelapse of the tower"),
        ("Rear Admiral Grace Hopper | Yale News", "news.yale.edu", "Rear Admiral Grace Hopper"),
        ("Hopper: a life - Penguin", "penguin.com", "Hopper: a life"),
        ("Tom &amp; Jerry\u200b  cartoon …", None, "Tom & Jerry cartoon"),
        ("Mount Fuji - the mountain", None, "Mount Fuji - the mountain"),
        ("", None, ""),
    ],
)
def test_clean_title(title: str, site: str | None, expected: str) -> None:
    assert clean_title(title, site) == expected


def test_urls() -> None:
    wrapped = "https://www.google.com/url?q=https://en.wikipedia.org/wiki/X&sa=U&ved=1"
    assert unwrap_redirect(wrapped) == "https://en.wikipedia.org/wiki/X"
    imgres = "https://www.google.com/imgres?imgurl=https://a/b.jpg&imgrefurl=https://a.com/p"
    assert unwrap_redirect(imgres) == "https://a.com/p"
    assert canonical_url("http://www.Example.com/a/?utm_source=x&b=2#frag") == \
        canonical_url("https://example.com/a?b=2")
    assert canonical_url("https://example.com/a?b=2") != canonical_url("https://example.com/a?b=3")


def test_dedupe_keeps_first_and_records_duplicates() -> None:
    hits = [
        SearchHit(title="Eiffel Tower", url="https://en.wikipedia.org/wiki/Eiffel_Tower"),
        SearchHit(title="Other", url="http://en.wikipedia.org/wiki/Eiffel_Tower/?utm_source=x",
                  snippet="s"),
        SearchHit(title="The Eiffel Tower in Paris, France", url="https://a.com/1"),
        SearchHit(title="The Eiffel Tower in Paris France!", url="https://b.com/2"),
        SearchHit(title="Something else entirely", url="https://c.com/3"),
    ]
    kept = dedupe_hits(hits)
    assert [h.url for h in kept] == ["https://en.wikipedia.org/wiki/Eiffel_Tower",
                                     "https://a.com/1", "https://c.com/3"]
    assert kept[0].metadata["duplicates"] == [hits[1].url]
    assert kept[0].snippet == "s"  # gaps filled from the duplicate
    assert kept[1].metadata["duplicates"] == ["https://b.com/2"]


def test_domain_filters() -> None:
    hits = [SearchHit(title="a", url="https://en.wikipedia.org/x"),
            SearchHit(title="b", url="https://www.pinterest.com/y"),
            SearchHit(title="c", url="https://shop.example.com/z")]
    assert [h.title for h in filter_domains(hits, allow=["wikipedia.org"])] == ["a"]
    assert [h.title for h in filter_domains(hits, deny=["pinterest.com", "example.com"])] == ["a"]


def test_best_guess_by_consensus() -> None:
    titles = ["Grace Hopper - Wikipedia", "Grace Hopper: The Queen of Code",
              "Rear Admiral Grace Hopper, 1984", "Grace Hopper biography", "US Navy portrait",
              "Computer pioneer Grace Hopper | Smithsonian"]
    guess = guess_from_titles(titles)
    assert guess is not None and guess.label == "Grace Hopper"
    assert (guess.support, guess.total) == (5, 6)
    liberty = guess_from_titles(["Statue of Liberty - Wikipedia", "The Statue of Liberty at dawn",
                                 "statue of liberty tickets", "Liberty Island ferry"])
    assert liberty is not None and liberty.label == "Statue of Liberty"


def test_no_consensus_no_guess() -> None:
    assert guess_from_titles(["A cat on a sofa", "Dog on a beach", "Mountain lake"]) is None
    assert guess_from_titles(["Stock photo - Alamy", "Stock photo - Getty Images",
                              "Free photo download"]) is None
    assert guess_from_titles([]) is None


def test_postprocess_keeps_engine_best_guess() -> None:
    result = SearchResult(hits=[SearchHit(title="Eiffel Tower - Wikipedia", url="https://a/1")],
                          best_guess="Tour Eiffel")
    done = postprocess(result, ExtractOptions())
    assert done.best_guess == "Tour Eiffel" and done.hits[0].title == "Eiffel Tower"
    assert done.hits[0].metadata["raw_title"] == "Eiffel Tower - Wikipedia"
