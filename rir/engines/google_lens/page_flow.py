"""Driving one Lens page: upload, wait for a decisive state, pass consent, screenshot.

There are no fixed sleeps. :func:`wait_for_page_state` polls a small in-page
check until the page shows something decisive (result cards, a captcha, a
consent form, a "no matches" message) or, for pages we do not recognise, until
it has finished loading and stopped changing for a moment; a deadline bounds
it all. The decision itself is then made in Python by the same parser that
``parse_lens_html`` uses, so the browser and saved pages never disagree.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from rir.engines.google_lens import hints
from rir.inputs.images import QueryImage

__all__ = [
    "RELOAD_LOOP",
    "NavigationWatch",
    "click_consent_reject",
    "page_html",
    "results_clip",
    "scroll_once",
    "submit_upload",
    "wait_consent_gone",
    "wait_for_page_state",
]

# How long an unrecognised page must stay unchanged before we judge it as is.
SETTLE_MS = 800
_POLL_MS = 50

_STATE_JS = """
([settleMs, noResults, blocks, settledOnly]) => {
  const w = window, d = document, now = performance.now();
  if (!w.__rirObserver) {
    w.__rirLastChange = now;
    w.__rirObserver = new MutationObserver(() => { w.__rirLastChange = performance.now(); });
    w.__rirObserver.observe(d, {subtree: true, childList: true, characterData: true});
  }
  if (location.pathname.startsWith('/sorry') || location.hostname.startsWith('consent.')) {
    return 'url';
  }
  if (!d.body) return false;
  const loading = d.readyState === 'loading';
  const quiet = now - w.__rirLastChange;
  if (settledOnly) {
    // Loaded and quiet for a moment; a page that never stops animating gets judged
    // after a few seconds instead of running into the deadline.
    w.__rirSettleStart = w.__rirSettleStart || now;
    const patient = now - w.__rirSettleStart >= 4 * settleMs;
    return (d.readyState === 'complete' && (quiet >= settleMs || patient)) ? 'settled' : false;
  }
  const internal = /(^|\\.)google\\.[a-z.]+$|(^|\\.)(gstatic|googleusercontent)\\.com$/;
  const product = /^(chromewebstore|play|workspace|sites)\\./;
  const cards = [];
  for (const a of d.querySelectorAll('a[href^="http"]')) {
    if (internal.test(a.hostname) && !product.test(a.hostname)) continue;
    if (a.querySelector('[role=heading], h1, h2, h3, h4, img')) cards.push(a);
  }
  if (cards.length >= (loading ? 2 : 1)) {
    if (!loading) return (d.readyState === 'complete' || quiet >= 150) ? 'results' : false;
    // Still streaming: the cards are complete once the parser has moved past the
    // element holding them all (it never reopens a closed element). Reading then,
    // instead of after the rest of the page, saves seconds on heavy result pages.
    let box = cards[0];
    while (box && !cards.every(c => box.contains(c))) box = box.parentElement;
    for (let e = box; e && e !== d.body; e = e.parentElement) {
      if (e.nextElementSibling) return 'results';
    }
    return false;
  }
  if (loading) return false;
  // Google's JavaScript interstitial: a <noscript> pointing at /enablejs and nothing
  // else. It often reloads itself (in a loop, when Google keeps refusing us).
  const noscript = Array.from(d.querySelectorAll('noscript'))
    .some(n => (n.textContent || '').includes('enablejs'));
  if (noscript && (d.body.innerText || '').trim().length < 300) return 'interstitial';
  if (d.querySelector('#captcha-form, .g-recaptcha, [data-sitekey], iframe[src*="recaptcha"]')) {
    return 'blocked';
  }
  if (d.querySelector('form[action*="consent.google."], form[action*="/consent/"]')) {
    return 'consent';
  }
  if (quiet < 150) return false;
  const text = (d.body.innerText || '').toLowerCase();
  if (blocks.some(p => text.includes(p))) return 'blocked';
  if (noResults.some(p => text.includes(p))) return 'no_results';
  return (d.readyState === 'complete' && quiet >= settleMs) ? 'settled' : false;
}
"""

# The in-page card count (the same rule as the state check above): links out of
# Google holding a heading or an image. It counts web and video cards too, so it
# only tells whether a scroll brought anything; the parser counts the hits.
_COUNT_CARDS_JS = """
() => {
  const internal = /(^|\\.)google\\.[a-z.]+$|(^|\\.)(gstatic|googleusercontent)\\.com$/;
  let n = 0;
  for (const a of document.querySelectorAll('a[href^="http"]')) {
    if (internal.test(a.hostname)) continue;
    if (a.querySelector('[role=heading], h1, h2, h3, h4, img')) n++;
  }
  return n;
}
"""
_SCROLL_JS = "() => window.scrollTo(0, document.documentElement.scrollHeight)"

_DESTROYED = re.compile(r"context was destroyed|navigat|Target page, context or browser", re.I)


RELOAD_LOOP = "reload-loop"


class NavigationWatch:
    """Counts the page's document loads; too many in one query means a reload loop.

    Google's JavaScript bot check reloads its interstitial again and again when it
    keeps refusing a browser; no in-page check gets to run to completion then.
    """

    def __init__(self, page: Page, limit: int = 8) -> None:
        self.loads = 0
        self.limit = limit
        self.looping = asyncio.Event()
        page.on("framenavigated", self._on_navigated)
        self._main = page.main_frame

    def _on_navigated(self, frame: Any) -> None:
        if frame is self._main and not frame.url.startswith("about:"):
            self.loads += 1
            if self.loads > self.limit:
                self.looping.set()


async def _poll_state(page: Page, deadline: float, args: list[Any]) -> str:
    loop = asyncio.get_running_loop()
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise asyncio.TimeoutError
        try:
            handle = await page.wait_for_function(
                _STATE_JS, arg=args, polling=_POLL_MS, timeout=remaining * 1000)
            return str(await handle.json_value())
        except PlaywrightTimeoutError:
            raise asyncio.TimeoutError from None
        except PlaywrightError as exc:
            if page.is_closed() or not _DESTROYED.search(str(exc)):
                raise
            # The document was replaced under the check: wait for the next one.
            try:
                await page.wait_for_load_state(
                    "domcontentloaded", timeout=max(1.0, deadline - loop.time()) * 1000)
            except PlaywrightTimeoutError:
                raise asyncio.TimeoutError from None


async def wait_for_page_state(page: Page, deadline: float, *, settled_only: bool = False,
                              watch: NavigationWatch | None = None) -> str:
    """Wait until the page is decisive; returns the in-page verdict.

    ``settled_only`` waits for the page to finish loading and stop changing (used
    when the first look was inconclusive). Navigations while waiting (redirects, a
    consent page sending us back) restart the check on the new document; endless
    reloads end it with :data:`RELOAD_LOOP`. Raises ``asyncio.TimeoutError`` at
    the deadline.
    """
    # Explicit messages end the wait at once; Python then names the page's state.
    messages = hints.NO_RESULTS_PHRASES + hints.URL_FAILURE_PHRASES + hints.DEGRADED_PHRASES
    args = [SETTLE_MS, list(messages), list(hints.BLOCK_PHRASES + hints.VERIFYING_PHRASES),
            settled_only]
    poll = asyncio.ensure_future(_poll_state(page, deadline, args))
    if watch is None:
        return await poll
    looping = asyncio.ensure_future(watch.looping.wait())
    try:
        await asyncio.wait({poll, looping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        looping.cancel()
        if not poll.done():
            poll.cancel()
    if poll.done() and not poll.cancelled():
        return poll.result()
    return RELOAD_LOOP


def _reject_pattern() -> re.Pattern[str]:
    labels = "|".join(re.escape(label) for label in hints.CONSENT_REJECT_LABELS)
    return re.compile(rf"^\s*({labels})\s*$", re.IGNORECASE)


async def click_consent_reject(page: Page, deadline: float) -> bool:
    """Decline non-essential cookies on Google's consent page; False if no such button.

    Returns once clicked; :func:`wait_consent_gone` waits for the consequence.
    """
    loop = asyncio.get_running_loop()
    pattern = _reject_pattern()
    candidates = [
        page.get_by_role("button", name=pattern),
        page.locator("input[type=submit]").filter(has_text=pattern),
        page.locator("input[type=submit]").and_(page.locator(
            ",".join(f'[value="{label}"]' for label in hints.CONSENT_REJECT_LABELS))),
    ]
    for locator in candidates:
        if await locator.count() == 0:
            continue
        timeout = max(1.0, deadline - loop.time()) * 1000
        await locator.first.click(timeout=timeout, no_wait_after=True)
        return True
    return False


async def wait_consent_gone(page: Page, deadline: float) -> None:
    """Wait until the consent form is gone (the page navigated back, or the dialog closed)."""
    timeout = max(1.0, deadline - asyncio.get_running_loop().time()) * 1000
    try:
        await page.wait_for_function(
            "() => !document.querySelector("
            "'form[action*=\"consent.google.\"], form[action*=\"/consent/\"]')",
            polling=_POLL_MS, timeout=timeout)
    except PlaywrightTimeoutError:
        raise asyncio.TimeoutError from None
    except PlaywrightError as exc:
        if not _DESTROYED.search(str(exc)):
            raise


async def scroll_once(page: Page, wait_s: float, deadline: float) -> bool | None:
    """Scroll to the bottom and wait up to ``wait_s`` for new cards.

    True: cards were added; False: none came in the whole wait (the list ended);
    None: the deadline cut the wait short (nothing can be said).
    """
    loop = asyncio.get_running_loop()
    before = await page.evaluate(_COUNT_CARDS_JS)
    await page.evaluate(_SCROLL_JS)
    wait = min(wait_s, deadline - loop.time())
    if wait <= 0:
        return None
    try:
        await page.wait_for_function(f"n => ({_COUNT_CARDS_JS.strip()})() > n", arg=before,
                                     polling=_POLL_MS, timeout=wait * 1000)
    except PlaywrightTimeoutError:
        return False if wait >= wait_s else None
    return True


_UPLOAD_FORM = """
([action, field, name, mime, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const form = document.createElement('form');
  form.method = 'POST';
  form.enctype = 'multipart/form-data';
  form.action = action;
  const input = document.createElement('input');
  input.type = 'file';
  input.name = field;
  const files = new DataTransfer();
  files.items.add(new File([bytes], name, {type: mime}));
  input.files = files.files;
  form.appendChild(input);
  document.body.appendChild(form);
  form.submit();
}
"""


async def submit_upload(page: Page, action: str, image: QueryImage, deadline: float) -> None:
    """POST the image to Lens' upload endpoint (multipart ``encoded_image``), then open
    the results it redirects to in ``page``.

    The POST goes through the context's request client (same cookies as the page):
    the endpoint answers with a redirect, so rendering a form page first would only
    cost a renderer process. Any other answer (a consent or block page) is replayed
    as a real form submission, so the browser shows what Google sent.
    """
    loop = asyncio.get_running_loop()
    timeout = max(1.0, deadline - loop.time()) * 1000
    try:
        response = await page.context.request.post(
            action, timeout=timeout, max_redirects=0,
            multipart={"encoded_image": {"name": image.filename, "mimeType": image.mime_type,
                                         "buffer": image.data}})
    except PlaywrightTimeoutError:
        raise asyncio.TimeoutError from None
    location = response.headers.get("location")
    await response.dispose()
    if 300 <= response.status < 400 and location:
        try:
            await page.goto(urljoin(action, location), wait_until="commit",
                            timeout=max(1.0, deadline - loop.time()) * 1000)
        except PlaywrightTimeoutError:
            raise asyncio.TimeoutError from None
        return
    await _submit_upload_form(page, action, image, deadline)


async def _submit_upload_form(page: Page, action: str, image: QueryImage,
                              deadline: float) -> None:
    loop = asyncio.get_running_loop()
    await page.set_content("<!doctype html><html><body></body></html>")
    payload = [action, "encoded_image", image.filename, image.mime_type,
               base64.b64encode(image.data).decode("ascii")]
    timeout = max(1.0, deadline - loop.time()) * 1000
    try:
        async with page.expect_navigation(wait_until="commit", timeout=timeout):
            await page.evaluate(_UPLOAD_FORM, payload)
    except PlaywrightTimeoutError:
        raise asyncio.TimeoutError from None


_CLIP_JS = """
([hits, full]) => {
  // A hit's link: its href and its title (the same URL is often also linked, empty,
  // from the AI overview, which is not the results area).
  const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
  const titles = new Map(hits);
  const anchors = Array.from(document.querySelectorAll('a[href]')).filter(a => {
    const title = titles.get(a.getAttribute('href'));
    return title !== undefined && (norm(a.textContent).includes(title)
                                   || norm(a.getAttribute('aria-label')) === title);
  });
  if (!anchors.length) return null;
  // The lowest element holding every hit (the grid), then each hit's card in it:
  // the union of those cards is the results area for these k hits, no more.
  let grid = anchors[0];
  while (grid && !anchors.every(a => grid.contains(a))) grid = grid.parentElement;
  if (!grid) return null;
  if (anchors.length === 1) grid = grid.parentElement?.parentElement?.parentElement || grid;
  const cards = anchors.map(a => {
    let card = a;
    while (card.parentElement && card.parentElement !== grid) card = card.parentElement;
    return card;
  });
  if (!full) cards[0].scrollIntoView({block: 'start'});
  const dx = full ? scrollX : 0, dy = full ? scrollY : 0, margin = 8;
  let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
  for (const card of cards) {
    const r = card.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    left = Math.min(left, r.left); top = Math.min(top, r.top);
    right = Math.max(right, r.right); bottom = Math.max(bottom, r.bottom);
  }
  if (!isFinite(left)) return null;
  let x = Math.max(0, left - margin + dx), y = Math.max(0, top - margin + dy);
  let width = right - left + 2 * margin, height = bottom - top + 2 * margin;
  if (!full) {
    width = Math.min(width, innerWidth - x);
    height = Math.min(height, innerHeight - y);
  }
  return (width > 20 && height > 20) ? {x, y, width, height} : null;
}
"""
_MAX_SCREENSHOT_HEIGHT = 16_000  # Chromium's texture limit is 16384 px


async def results_clip(page: Page, hits: list[tuple[str, str]], *,
                       full: bool) -> dict[str, Any] | None:
    """The rectangle around the hits' cards (page or viewport coordinates), if found.

    ``hits`` are ``(href attribute, title)`` pairs as the parser read them.
    """
    clip = await page.evaluate(_CLIP_JS, [hits, full])
    if clip and clip["height"] > _MAX_SCREENSHOT_HEIGHT:
        clip["height"] = _MAX_SCREENSHOT_HEIGHT
    return clip


# Results pages are ~60% inline <style>/<script>. The parser never reads styles,
# and of the scripts only the thumbnail maps, so those parts are dropped in the
# page before the HTML crosses to Python: half the bytes, half the parse.
_SLIM_HTML_JS = """
() => {
  const html = document.documentElement.outerHTML;
  return '<!DOCTYPE html>' + html
    .replace(/<style\\b[^>]*>[\\s\\S]*?<\\/style>/gi, '')
    .replace(/<svg\\b[^>]*>[\\s\\S]*?<\\/svg>/gi, '<svg></svg>')
    .replace(/<script\\b[^>]*>[\\s\\S]*?<\\/script>/gi,
             s => (s.includes('_setImagesSrc') || s.includes('google.ldi')) ? s : '');
}
"""


async def page_html(page: Page, *, slim: bool) -> str:
    """The page's current HTML; ``slim`` drops styles, SVG and scripts (results pages)."""
    if slim:
        return str(await page.evaluate(_SLIM_HTML_JS))
    return await page.content()
