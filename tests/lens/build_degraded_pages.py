"""Builds the degraded-page fixtures in ``pages/`` from the real saved Lens page.

Real users hit these pages (issue 14): Google's web results instead of Lens, a page
holding only an unavailable AI overview, "Verifying your request", a bounce to
``/webhp``, and ``/uploadbyurl`` answering "No image at the URL" or "Something went
wrong". Each fixture keeps the real page's frame (skip links, the search form and
Google bar, the view tabs, ``#rcnt > #center_col > #search > #rso``, the footer
with its location line) and swaps the results for what that page shows; styles,
scripts, SVG paths and ``data-*`` attributes are dropped to keep the files small.

Run from the repository root when the real page changes::

    python -m tests.lens.build_degraded_pages
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

from lxml import html as lxml_html

from tests.lens.fake_lens import REAL_PAGE

PAGES = Path(__file__).parent / "pages"
_DROP = [(re.compile(r"<style\b[^>]*>[\s\S]*?</style>", re.I), ""),
         (re.compile(r"<svg\b[^>]*>[\s\S]*?</svg>", re.I), "<svg></svg>"),
         (re.compile(r"<script\b[^>]*>[\s\S]*?</script>", re.I), "")]
_NOTE = ("<!-- Built by tests/lens/build_degraded_pages.py from the real Lens page "
         "(2026-05): its frame, with the results replaced by: {what}. -->\n")


def _slim(page: str) -> lxml_html.HtmlElement:
    for pattern, replacement in _DROP:
        page = pattern.sub(replacement, page)
    doc = lxml_html.fromstring(page)
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name in [n for n in element.attrib if n.startswith(("data-", "jsaction", "ping"))]:
            del element.attrib[name]
        if (element.get("src") or "").startswith("data:"):
            element.set("src", "")
    return doc


def _frame(doc: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """The real page with its big parts emptied: the results list, the AI overview
    and the search tools row; the rest (header, tabs, footer) kept as served."""
    for xpath in ("//*[@id='rso']/*", "//*[@id='top_nav']",
                  "//*[contains(@class, 'kzKS5c')]", "//*[contains(@class, 'UUbT9')]",
                  "//*[@id='Odp5De']/ancestor::div[contains(@class, 'bzXtMb')]",
                  "//body/link", "//body/iframe"):
        for element in doc.xpath(xpath):
            element.getparent().remove(element)
    return doc


def _write(name: str, what: str, doc: lxml_html.HtmlElement) -> None:
    text = lxml_html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    text = text.replace("<!DOCTYPE html>", "<!DOCTYPE html>\n" + _NOTE.format(what=what), 1)
    (PAGES / f"{name}.html").write_text(text, encoding="utf-8")
    print(f"{name}.html: {len(text):,} characters")


def _results_of(real: lxml_html.HtmlElement, keep: Callable[[lxml_html.HtmlElement], bool]
                ) -> list[lxml_html.HtmlElement]:
    return [copy.deepcopy(block) for block in real.xpath("//*[@id='rso']/*") if keep(block)]


def _replace_main(doc: lxml_html.HtmlElement, fragment: str) -> lxml_html.HtmlElement:
    """The page with the whole ``#main`` area replaced by ``fragment`` (non-results pages)."""
    main = doc.xpath("//*[@id='main']")[0]
    new = lxml_html.fragment_fromstring(fragment, create_parent="div")
    new.set("id", "main")
    main.getparent().replace(main, new)
    return doc


def build() -> None:
    real = _slim(REAL_PAGE.read_text(encoding="utf-8"))

    # 1. Google's web search served for the image: web and video results, no matches.
    doc = _frame(copy.deepcopy(real))
    rso = doc.xpath("//*[@id='rso']")[0]
    for block in _results_of(real, lambda b: "Visual matches" not in b.text_content()):
        rso.append(block)
    _write("web-results-only", "the web and video results only (no visual matches)", doc)

    # 2. Only the AI overview, and it is not available.
    doc = _frame(copy.deepcopy(real))
    overview = real.xpath("//*[@id='Odp5De']")[0]
    heading = lxml_html.fragment_fromstring(
        '<div><div role="heading" aria-level="2">An AI Overview is not available for this '
        "search</div><div>Can't generate an AI overview right now. Try again later.</div>"
        "</div>")
    shell = copy.deepcopy(overview)
    for child in list(shell):
        shell.remove(child)
    shell.append(heading)
    rso = doc.xpath("//*[@id='rso']")[0]
    rso.append(shell)
    _write("ai-overview-unavailable", "an AI overview that is not available, nothing else",
           doc)

    # 3. "Verifying your request": the bot check's holding page.
    doc = _replace_main(_frame(copy.deepcopy(real)), (
        '<div role="main" style="margin:80px auto;max-width:560px;text-align:center">'
        '<div role="progressbar" aria-label="Loading"></div>'
        "<h1>Verifying your request…</h1><p>This may take a few seconds.</p></div>"))
    _write("verifying", "Google's 'Verifying your request' holding page", doc)

    # 4. Bounced to Google's home page (/webhp): a search box, no results.
    doc = _replace_main(_frame(copy.deepcopy(real)), (
        '<div role="main"><div style="text-align:center"><img alt="Google" height="92" '
        'width="272" src=""></div><div>Google offered in: Deutsch Français</div></div>'))
    _write("webhp", "Google's home page (the query was dropped)", doc)

    # 5./6. /uploadbyurl could not use the URL.
    for name, title, body in (
        ("no-image-at-url", "No image at the URL",
         "Check that the link points directly to an image file, then try again."),
        ("something-went-wrong", "Something went wrong",
         "We couldn't process that image. Try again later."),
    ):
        doc = _replace_main(_frame(copy.deepcopy(real)), (
            f'<div role="main" style="margin:80px auto;max-width:560px"><h1>{title}</h1>'
            f'<p>{body}</p><a href="https://lens.google.com/">Go to Google Lens</a></div>'))
        _write(name, f"/uploadbyurl's '{title}' answer", doc)


if __name__ == "__main__":
    build()
