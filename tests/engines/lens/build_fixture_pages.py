"""Builds fixture pages in ``pages/`` from the real saved Lens page.

Real users hit these pages (issue 14): Google's web results instead of Lens, a page
holding only an unavailable AI overview, "Verifying your request", a bounce to
``/webhp``, and ``/uploadbyurl`` answering "No image at the URL" or "Something went
wrong". Each fixture keeps the real page's frame (skip links, the search form and
Google bar, the view tabs, ``#rcnt > #center_col > #search > #rso``, the footer
with its location line) and swaps the results for what that page shows; styles,
scripts, SVG paths and ``data-*`` attributes are dropped to keep the files small.

``scroll-cards.html`` is the Visual matches view (``udm=44``) as Lens serves it on
a slow scroll: the real page's 60 visual-match cards (inline thumbnails shrunk to
one tiny JPEG), of which the server sends 12 and the page's script adds 12 more
each time the reader scrolls to the bottom.

Run from the repository root when the real page changes::

    python -m tests.engines.lens.build_fixture_pages
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

from lxml import html as lxml_html

from tests.engines.lens.fake_lens import REAL_PAGE

PAGES = Path(__file__).parent / "pages"
_DROP = [(re.compile(r"<style\b[^>]*>[\s\S]*?</style>", re.I), ""),
         (re.compile(r"<svg\b[^>]*>[\s\S]*?</svg>", re.I), "<svg></svg>"),
         (re.compile(r"<script\b[^>]*>[\s\S]*?</script>", re.I), "")]
_NOTE = ("<!-- Built by tests/engines/lens/build_degraded_pages.py from the real Lens page "
         "(2026-05): its frame, with the results replaced by: {what}. -->\n")
# A 1x1 JPEG standing in for every inline thumbnail and site icon of the scroll page.
_TINY_JPEG = ("data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsL"
              "DBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAAB"
              "AAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==")
_SERVED_CARDS = 12
_SCROLL_SCRIPT = """
(function () {
  var more = %s, grid = document.getElementById('rir-grid'), loading = false;
  function next() {
    if (loading || !more.length) return;
    loading = true;
    setTimeout(function () {  // the next batch "arrives from the network"
      grid.insertAdjacentHTML('beforeend', more.splice(0, %d).join(''));
      loading = false;
    }, 150);
  }
  addEventListener('scroll', function () {
    if (innerHeight + scrollY >= document.documentElement.scrollHeight - 300) next();
  });
})();
"""


def _slim(page: str, *, keep_images: bool = False) -> lxml_html.HtmlElement:
    for pattern, replacement in _DROP:
        page = pattern.sub(replacement, page)
    doc = lxml_html.fromstring(page)
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name in [n for n in element.attrib if n.startswith(("data-", "jsaction", "ping"))]:
            del element.attrib[name]
        if (element.get("src") or "").startswith("data:"):
            element.set("src", _TINY_JPEG if keep_images else "")
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


def build_scroll_page() -> None:
    real = _slim(REAL_PAGE.read_text(encoding="utf-8"), keep_images=True)
    doc = _frame(copy.deepcopy(real))
    block = next(b for b in real.xpath("//*[@id='rso']/*") if "Visual matches" in b.text_content())
    block = copy.deepcopy(block)
    grid = block.xpath(".//div[count(div[contains(@class, 'kb0PBd')]) > 10]")[0]
    cards = list(grid)
    for card in cards[_SERVED_CARDS:]:
        grid.remove(card)
    grid.set("id", "rir-grid")
    for control in block.xpath(".//div[normalize-space(.)='See more']"):
        control.getparent().remove(control)  # the Visual matches view has no "See more"
    doc.xpath("//*[@id='rso']")[0].append(block)
    later = [lxml_html.tostring(card, encoding="unicode") for card in cards[_SERVED_CARDS:]]
    script = lxml_html.Element("script")
    script.text = _SCROLL_SCRIPT % (json.dumps(later).replace("</", "<\\/"), _SERVED_CARDS)
    doc.find("body").append(script)
    style = lxml_html.Element("style")
    style.text = ".kb0PBd{display:block;min-height:220px}"  # cards as tall as Lens draws them
    doc.find("head").append(style)
    _write("scroll-cards", f"the Visual matches view, {_SERVED_CARDS} of its {len(cards)} cards "
           "sent, the rest added by script on scroll", doc)


if __name__ == "__main__":
    build_scroll_page()
    build()
