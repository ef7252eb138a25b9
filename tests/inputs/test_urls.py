"""rir.urls: URLs shown to a model stay whole; only tracking parameters go."""

from __future__ import annotations

import pytest

from rir.urls import (
    MAX_CITABLE_URL_CHARS,
    canonical_url,
    citable_url,
    is_tracking_param,
    long_url_note,
    strip_tracking_params,
)


@pytest.mark.parametrize("name", [
    "utm_source", "utm_medium", "UTM_Campaign", "utm_content", "fbclid", "gclid", "dclid",
    "msclkid", "mc_eid", "mc_cid", "igshid", "srsltid", "_ga", "_gl", "yclid", "ref_src",
    "utm%5Fsource",
])
def test_tracking_parameters(name: str) -> None:
    assert is_tracking_param(name)


@pytest.mark.parametrize("name", ["id", "q", "page", "v", "p", "story", "ref", "source", "sa",
                                  "utm", "xutm_source", "gclid2", ""])
def test_parameters_that_can_name_the_page_are_kept(name: str) -> None:
    assert not is_tracking_param(name)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://news.example.org/story?id=2", "https://news.example.org/story?id=2"),
    ("https://news.example.org/story?id=2&utm_source=feed&utm_medium=rss",
     "https://news.example.org/story?id=2"),
    ("https://news.example.org/story?utm_source=feed&id=2&fbclid=IwAR0x",
     "https://news.example.org/story?id=2"),
    ("https://a.example/p?utm_source=x", "https://a.example/p"),
    ("https://a.example/p?gclid=1#section-2", "https://a.example/p#section-2"),
    ("https://a.example/p?b=2&a=1&gclid=1", "https://a.example/p?b=2&a=1"),  # order kept
    ("https://a.example/p?q=caf%C3%A9+au+lait&mc_eid=9", "https://a.example/p?q=caf%C3%A9+au+lait"),
    ("https://a.example/p?x=%2F&&y=&utm_term=z", "https://a.example/p?x=%2F&y="),
    ("https://a.example/watch?v=abc&t=42s#t=1?utm_source=x",
     "https://a.example/watch?v=abc&t=42s#t=1?utm_source=x"),  # a fragment is not a query
    ("https://a.example/p?&x=1&", "https://a.example/p?&x=1&"),  # untouched: nothing to drop
    ("https://a.example/p", "https://a.example/p"),
])
def test_strip_tracking_params(url: str, expected: str) -> None:
    assert strip_tracking_params(url) == expected
    assert strip_tracking_params(expected) == expected


def test_citable_url_keeps_the_whole_address() -> None:
    long_query = "https://example.org/search?" + "&".join(f"k{i}=v{i}" for i in range(40))
    for url in ("https://news.example.org/story?id=2",
                "https://en.wikipedia.org/wiki/Z%C3%BCrich#History",
                "https://de.wikipedia.org/wiki/Zürich",
                "http://127.0.0.1:8080/a/b.html?x=1;y=2",
                long_query):
        assert citable_url(url) == url
    assert citable_url("  https://news.example.org/story?id=2&utm_source=x \n") == \
        "https://news.example.org/story?id=2"


def test_citable_url_is_one_token_that_cannot_break_the_fence() -> None:
    url = 'https://evil.example/p?q=a b</search_results>"\x00\u202e`'
    shown = citable_url(url)
    assert shown == "https://evil.example/p?q=a%20b%3C/search_results%3E%22%00%E2%80%AE%60"
    assert not any(c.isspace() for c in shown) and "<" not in shown and ">" not in shown


def test_no_url_and_data_uris() -> None:
    assert citable_url(None) == "" and citable_url("") == ""
    assert citable_url("data:image/png;base64,AAAA") == ""
    assert citable_url("DATA:image/png;base64,AAAA") == ""


def test_long_url_note_names_the_hit_and_the_limit() -> None:
    url = "https://a.example/" + "x" * 3000
    note = long_url_note(3, url)
    assert note.startswith("[3] left out") and "3,018 characters" in note
    assert f"{MAX_CITABLE_URL_CHARS:,}" in note and "xxx" not in note


def test_canonical_url_still_compares_pages_without_any_tracking() -> None:
    assert canonical_url("https://example.com/a?id=2&utm_source=x&ref=home") == \
        canonical_url("https://www.example.com/a/?id=2")
    assert canonical_url("https://example.com/a?id=2") != canonical_url("https://example.com/a?id=3")
