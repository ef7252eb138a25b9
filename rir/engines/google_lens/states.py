"""What kind of page Google served: results, no results, consent, block, or unknown.

The states must never be confused: a block page returned as "no results" would
poison caches and evaluations with silent empty answers. So a page counts as
"no results" only on an explicit message, and every block signal wins over it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from rir.engines.google_lens import hints
from rir.engines.google_lens.dom import visible_text
from rir.errors import EngineBlockedError, EngineError, EngineResponseError
from rir.urls import redact_url

__all__ = ["PageKind", "PageState", "blocked_error", "degraded_error", "detect_state",
           "unknown_page_error"]

ENGINE = "google_lens"


class PageKind(str, enum.Enum):
    RESULTS = "results"
    NO_RESULTS = "no_results"
    CONSENT = "consent"
    BLOCKED = "blocked"
    # Not Lens' answer: web results instead of matches, only an unavailable AI
    # overview, a bounce to Google's home page. Retried once, never cached as empty.
    DEGRADED = "degraded"
    # /uploadbyurl could not use the URL; the engine uploads the image bytes instead.
    NO_IMAGE_AT_URL = "no_image_at_url"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PageState:
    kind: PageKind
    reason: str = ""


_CAPTCHA_XPATH = (
    "//form[@id='captcha-form'] | //*[contains(concat(' ', normalize-space(@class), ' '),"
    " ' g-recaptcha ')] | //*[@data-sitekey] | //iframe[contains(@src, 'recaptcha')]"
    " | //script[contains(@src, 'recaptcha')] | //*[@id='recaptcha']"
)
_CONSENT_XPATH = "//form[contains(@action, 'consent.google.') or contains(@action, '/consent/')]"
_ENABLE_JS = re.compile(r"/httpservice/retry/enablejs|emsg=SG_REL|\bSG_SS\b")
_SCRIPT_BYTES_CHALLENGE = 20_000
_CHALLENGE_MAX_TEXT = 300


def _url_state(page_url: str | None) -> PageState | None:
    if not page_url:
        return None
    try:
        parts = urlsplit(page_url)
    except ValueError:
        return None
    host, path = (parts.hostname or "").lower(), parts.path.lower()
    if path.startswith("/sorry") or "/sorry/" in path:
        return PageState(PageKind.BLOCKED, "Google's /sorry/ page (unusual traffic, captcha)")
    if "/httpservice/retry/enablejs" in path:
        return PageState(PageKind.BLOCKED, "Google's JavaScript-required interstitial")
    if host.startswith("consent."):
        return PageState(PageKind.CONSENT, "Google's cookie consent page")
    if path.rstrip("/").endswith("/webhp"):
        return PageState(PageKind.DEGRADED, "a bounce to Google's home page (/webhp)")
    return None


def detect_state(doc: etree._Element | None, page: str, page_url: str | None,
                 *, card_count: int, other_cards: int = 0) -> PageState:
    """Classify a page.

    ``card_count`` is how many image-match cards the parser found on it and
    ``other_cards`` how many other result cards (web results, videos).
    """
    by_url = _url_state(page_url)
    if by_url is not None and by_url.kind is PageKind.BLOCKED:
        return by_url
    if doc is None:
        return PageState(PageKind.UNKNOWN, "an empty page")
    if card_count:
        # Results win over everything but a block URL: a consent dialog over a
        # results page still has the results underneath.
        return PageState(PageKind.RESULTS)
    if doc.xpath(_CAPTCHA_XPATH):
        return PageState(PageKind.BLOCKED, "a captcha (reCAPTCHA) challenge")
    text = visible_text(doc).lower()
    for phrase in hints.BLOCK_PHRASES:
        if phrase in text:
            return PageState(PageKind.BLOCKED, f"a block page saying '{phrase}'")
    for phrase in hints.VERIFYING_PHRASES:
        if phrase in text:
            return PageState(PageKind.BLOCKED,
                             f"Google's '{phrase}' interstitial (bot check)")
    if by_url is not None and by_url.kind is PageKind.CONSENT:
        return by_url
    if doc.xpath(_CONSENT_XPATH) or any(p in text for p in hints.CONSENT_PHRASES):
        return PageState(PageKind.CONSENT, "Google's cookie consent page")
    # Explicit messages come before the script-only heuristic: every Google page
    # carries a <noscript> pointing at /enablejs, short message pages included.
    for phrase in hints.URL_FAILURE_PHRASES:
        if phrase in text:
            return PageState(PageKind.NO_IMAGE_AT_URL, f"Lens said '{phrase}'")
    if by_url is not None:
        return by_url
    for phrase in hints.NO_RESULTS_PHRASES:
        if phrase in text:
            return PageState(PageKind.NO_RESULTS, phrase)
    if other_cards:
        return PageState(PageKind.DEGRADED, "Google's web results instead of Lens matches")
    for phrase in hints.DEGRADED_PHRASES:
        if phrase in text:
            return PageState(PageKind.DEGRADED, f"only an AI overview saying '{phrase}'")
    challenge = _challenge_reason(doc, page, text)
    if challenge:
        return PageState(PageKind.BLOCKED, challenge)
    return PageState(PageKind.UNKNOWN, "no result cards and no known message")


def _challenge_reason(doc: etree._Element, page: str, text: str) -> str | None:
    """A near-empty page that only runs scripts: the JavaScript / BotGuard interstitial."""
    if len(text) > _CHALLENGE_MAX_TEXT:
        return None
    if _ENABLE_JS.search(page):
        return "Google's JavaScript-required interstitial (bot check)"
    refresh = doc.xpath("//meta[translate(@http-equiv, 'REFSH', 'refsh')='refresh']/@content")
    script_bytes = sum(len(s.text or "") for s in doc.iter("script"))
    if refresh and script_bytes:
        return "an interstitial that redirects after running scripts (bot check)"
    if script_bytes >= _SCRIPT_BYTES_CHALLENGE:
        return "a script-only page with no results (BotGuard challenge)"
    return None


_WHAT_TO_DO = (
    "What to do: run `rir login` once to accept Google's consent page (or sign in) in a "
    "visible browser, so the engine reuses that session; lower max_concurrency or wait a "
    "few minutes before retrying; or use another engine (e.g. engine='serpapi' or 'local')."
)


def blocked_error(state: PageState, page_url: str | None) -> EngineBlockedError:
    where = f" at '{redact_url(page_url)}'" if page_url else ""
    if state.kind is PageKind.CONSENT:
        what = f"Google Lens showed a cookie consent wall{where} that could not be passed"
    else:
        what = f"Google Lens refused the query{where}: {state.reason}"
    return EngineBlockedError(f"{what}. {_WHAT_TO_DO}", engine=ENGINE)


def unknown_page_error(state: PageState, page_url: str | None,
                       saved_to: str | None = None) -> EngineError:
    where = f" at '{redact_url(page_url)}'" if page_url else ""
    saved = (f" The page was saved to {saved_to} for a bug report." if saved_to else
             " Pass save_html=PATH (CLI: --save-html PATH) to keep the page for a bug report.")
    return EngineError(
        f"Google Lens returned a page the parser does not recognise{where} ({state.reason}); "
        f"Google may have changed its layout.{saved}",
        engine=ENGINE,
    )


def degraded_error(state: PageState, page_url: str | None, *, retried: bool,
                   image_url: str | None = None) -> EngineResponseError:
    """A degraded page or an unusable image URL, after the engine's retry."""
    where = f" at '{redact_url(page_url)}'" if page_url else ""
    again = " (also after a retry)" if retried else ""
    if state.kind is PageKind.NO_IMAGE_AT_URL and image_url:
        what = (f"Google Lens could not use the image URL '{redact_url(image_url)}'{where}: "
                f"{state.reason}{again}")
    else:
        what = f"Google Lens served a degraded page{where}: {state.reason}{again}"
    return EngineResponseError(
        f"{what}. This is not a 'no results' answer and nothing was cached. Retry later; "
        "if it persists, run `rir login`, set country=, or use another engine "
        "(e.g. engine='serpapi').", engine=ENGINE)
