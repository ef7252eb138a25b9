"""The parse helper process: same answers as parsing in-process, and it never jams."""

from __future__ import annotations

import asyncio
import sys

import pytest

from rir.engines.google_lens import parse_worker
from rir.engines.google_lens.parse_worker import PageParser
from rir.engines.google_lens.parser import PageAnalysis, analyse_lens_html
from tests.engines.lens.helpers import PAGES, real_page

URL = "https://www.google.com/search?vsrid=x&udm=26"
PAGE_NAMES = ["few-cards", "exact-matches", "no-results", "consent", "renamed-classes"]


def page(name: str) -> str:
    return (PAGES / f"{name}.html").read_text(encoding="utf-8")


def same(a: PageAnalysis, b: PageAnalysis) -> bool:
    return a.state == b.state and a.page_url == b.page_url and a.result == b.result


def helper_of(parser: PageParser) -> asyncio.subprocess.Process | None:
    helper = parser._per_loop.current()
    return helper.process if helper is not None else None


def test_same_analysis_as_in_process_and_concurrent_requests_stay_apart() -> None:
    async def go() -> None:
        parser = PageParser()
        try:
            results = await asyncio.gather(*(parser.analyse(page(n), page_url=URL)
                                             for n in PAGE_NAMES))
            assert helper_of(parser) is not None  # really in the helper process
            for name, analysis in zip(PAGE_NAMES, results, strict=True):
                assert same(analysis, analyse_lens_html(page(name), page_url=URL)), name
        finally:
            process = helper_of(parser)
            await parser.aclose()
        assert process is not None and process.returncode is not None  # stopped

    asyncio.run(go())


def test_real_page() -> None:
    html = real_page()

    async def go() -> PageAnalysis:
        parser = PageParser()
        try:
            return await parser.analyse(html, page_url=URL)
        finally:
            await parser.aclose()

    analysis = asyncio.run(go())
    assert analysis.result is not None and len(analysis.result.hits) == 60
    assert same(analysis, analyse_lens_html(html, page_url=URL))


def test_a_cancelled_caller_does_not_leave_its_answer_for_the_next() -> None:
    async def go() -> None:
        parser = PageParser()
        try:
            await parser.analyse(page("no-results"))  # helper started
            first = asyncio.ensure_future(parser.analyse(page("exact-matches")))
            await asyncio.sleep(0)  # its request is on the way
            first.cancel()
            analysis = await parser.analyse(page("few-cards"), page_url=URL)
            assert same(analysis, analyse_lens_html(page("few-cards"), page_url=URL))
        finally:
            await parser.aclose()

    asyncio.run(go())


def test_a_dead_helper_is_replaced_and_the_page_still_parsed(
        caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        parser = PageParser()
        try:
            await parser.analyse(page("few-cards"))
            first = helper_of(parser)
            assert first is not None
            first.kill()
            await first.wait()
            analysis = await parser.analyse(page("few-cards"), page_url=URL)
            assert same(analysis, analyse_lens_html(page("few-cards"), page_url=URL))
            await parser.analyse(page("few-cards"))
            second = helper_of(parser)
            assert second is not None and second is not first and second.returncode is None
        finally:
            await parser.aclose()

    asyncio.run(go())
    assert "parse helper process stopped" in caplog.text


def test_without_a_python_to_start_pages_are_parsed_in_a_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "")

    async def go() -> PageAnalysis:
        parser = PageParser()
        try:
            analysis = await parser.analyse(page("few-cards"), page_url=URL)
            assert helper_of(parser) is None
            return analysis
        finally:
            await parser.aclose()

    assert same(asyncio.run(go()), analyse_lens_html(page("few-cards"), page_url=URL))


def test_helper_exits_when_its_input_closes() -> None:
    async def go() -> int | None:
        helper = await parse_worker._start()
        assert helper.process is not None and helper.process.stdin is not None
        helper.process.stdin.close()
        return await asyncio.wait_for(helper.process.wait(), 10)

    assert asyncio.run(go()) == 0
