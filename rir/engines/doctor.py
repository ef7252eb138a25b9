"""``rir doctor``'s checks: what works on this machine and network, and what to fix.

Each check is a :class:`Check` row: the browser the Lens engine would launch, the
saved Google session, which API keys are set (never their values), and for each
engine that can run here a search of the canary image that ships with the
package (``rir/data/canary.jpg``) by upload, plus, for Google Lens, by URL when
one is given. For Lens a row also says what the page was (state, view, effective
``hl``/``gl``, consent clicks) and how many hits each way of reading it found:
the network read, the rendered page, the rendered page after scrolling, and how
far the default read and the rendered read agree.

    report = run_sync(adiagnose())          # or: rir doctor [--json]
    report.ok                               # every engine that can run here answered
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rir.engines.http.secrets import configured_env
from rir.errors import (
    ConfigurationError,
    EngineAuthenticationError,
    EngineBlockedError,
    EngineConnectionError,
    EngineError,
    EngineQuotaExceededError,
    EngineRateLimitedError,
    EngineResponseError,
    EngineTimeoutError,
    ImageFetchError,
    RIRError,
    one_line,
)
from rir.inputs.images import QueryImage, aload_image

__all__ = ["API_KEYS", "Check", "DoctorReport", "adiagnose", "canary_image"]

# Variables that configure engines; doctor reports whether each is set, never its value.
API_KEYS = ("SERPAPI_API_KEY", "GOOGLE_CLOUD_VISION_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS")
ENGINE_CHECK = "engine"
_FAILING = ("fail", "unreachable", "blocked", "degraded", "timeout", "rate_limited",
            "bad_key", "not_configured")


@dataclass
class Check:
    """One row of the report."""

    kind: str  # "browser" | "session" | "key" | "engine"
    name: str
    status: str  # "ok", "set", "not set", "found", "missing", or a failure in _FAILING
    detail: str = ""
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in _FAILING


@dataclass
class DoctorReport:
    checks: list[Check]

    @property
    def engine_checks(self) -> list[Check]:
        return [c for c in self.checks if c.kind == ENGINE_CHECK]

    @property
    def ok(self) -> bool:
        """Every engine check passed (and there was at least one)."""
        engines = self.engine_checks
        return bool(engines) and not any(c.failed for c in engines)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def canary_image() -> bytes:
    """The canary image shipped with the package (a photo the web knows well)."""
    return (resources.files("rir") / "data" / "canary.jpg").read_bytes()


# -- environment ------------------------------------------------------------------------------

def _browser_check() -> Check:
    from rir.engines.google_lens.browser import find_browser

    try:
        path = find_browser(headless=True)
    except ConfigurationError as exc:
        return Check("browser", "Chromium/Chrome", "missing", str(exc),
                     "install Chromium (e.g. apt install chromium) or set RIR_BROWSER_PATH")
    return Check("browser", "Chromium/Chrome", "found",
                 path or "Playwright's managed Chromium", data={"path": path})


def _session_check() -> Check:
    from rir.engines.google_lens.session import default_storage_state_path

    path = default_storage_state_path()
    if path.is_file():
        return Check("session", "Google session (rir login)", "found", str(path))
    return Check("session", "Google session (rir login)", "not set", str(path),
                 "optional: run `rir login` once if Lens shows consent or block pages")


def _key_checks() -> list[Check]:
    checks = []
    for name in API_KEYS:
        is_set = configured_env(name) is not None  # placeholders count as not set
        checks.append(Check("key", name, "set" if is_set else "not set"))
    return checks


def _default_engines(browser: Check) -> list[str]:
    from rir.engines.cloud_vision import adc_available

    engines = ["google_lens"] if browser.status == "found" else []
    if configured_env("SERPAPI_API_KEY"):
        engines.append("serpapi")
    if configured_env("GOOGLE_CLOUD_VISION_API_KEY") or adc_available():
        engines.append("cloud_vision")
    return engines


# -- failures ---------------------------------------------------------------------------------

def _classify(exc: BaseException) -> tuple[str, str]:
    """(status, fix) for an engine's failure."""
    text = str(exc)
    if isinstance(exc, EngineConnectionError) or "net::ERR_" in text \
            or "Could not load Google Lens" in text:
        return "unreachable", ("the engine cannot be reached from this machine: check the "
                               "network connection, proxy or firewall (and base_url)")
    if isinstance(exc, EngineTimeoutError):
        return "timeout", "check the network connection, or raise timeout_s"
    if isinstance(exc, EngineBlockedError):
        return "blocked", ("run `rir login`, wait a few minutes, or use an API engine "
                           "(SERPAPI_API_KEY)")
    if isinstance(exc, EngineAuthenticationError):
        return "bad_key", "the key was rejected: check its value and the account's access"
    if isinstance(exc, EngineQuotaExceededError):
        return "rate_limited", "the account is out of searches: top it up or use another engine"
    if isinstance(exc, EngineRateLimitedError):
        return "rate_limited", "too many requests: wait a few minutes"
    if isinstance(exc, EngineResponseError):
        return "degraded", "retry later; if it persists, run `rir login` or set country="
    if isinstance(exc, ConfigurationError):
        return "not_configured", "see the message: a missing key, extra or browser"
    if isinstance(exc, ImageFetchError):
        return "fail", "the image URL could not be fetched: check it opens in a browser"
    if isinstance(exc, EngineError):
        return "fail", "see the message; run with --save-html DIR and file a bug report"
    return "fail", f"unexpected {type(exc).__name__}; rerun with --debug and file a bug report"


def _failure(name: str, exc: BaseException, started: float) -> Check:
    status, fix = _classify(exc)
    return Check(ENGINE_CHECK, name, status, one_line(exc), fix,
                 {"error_type": type(exc).__name__, "elapsed_s": round(time.monotonic() -
                                                                       started, 2)})


# -- engines ----------------------------------------------------------------------------------

async def _search_check(name: str, label: str, options: Mapping[str, Any],
                        image: QueryImage | str, k: int) -> Check:
    from rir.engines import get_engine

    started = time.monotonic()
    try:
        engine = get_engine(name, **options)
        try:
            result = await engine.asearch(image, k=k)
        finally:
            await engine.aclose()
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure as a row
        return _failure(label, exc, started)
    detail = f"{len(result.hits)} hits in {time.monotonic() - started:.1f}s"
    if not result.hits:
        detail += " (no matches for the canary: unexpected, the engine may be degraded)"
    data = {"hits": len(result.hits), "best_guess": result.best_guess,
            "elapsed_s": round(time.monotonic() - started, 2)}
    return Check(ENGINE_CHECK, label, "ok", detail, data=data)


def _lens_facts(result_meta: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("page_state", "view", "udm", "read_from", "complete", "card_counts",
            "effective_hl", "effective_gl", "consent_clicks", "warnings", "handovers",
            "retries", "pages_seen", "saved_html")
    return {key: result_meta[key] for key in keys if key in result_meta}


async def _lens_check(label: str, options: Mapping[str, Any], image: QueryImage | str,
                      k: int) -> Check:
    """The default (adaptive) read and the rendered read of the same query, compared."""
    from rir.engines.google_lens import GoogleLensEngine

    started = time.monotonic()
    try:
        async with GoogleLensEngine(**options) as default:
            fast = await default.asearch(image, k=k)
        async with GoogleLensEngine(**{**options, "render_results": True}) as rendering:
            rendered = await rendering.asearch(image, k=k)
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure as a row
        return _failure(label, exc, started)
    facts = _lens_facts(fast.metadata)
    counts = fast.metadata.get("card_counts", {})
    rendered_counts = rendered.metadata.get("card_counts", {})
    scrolls = rendered_counts.get("scrolls") or []
    both = {h.url for h in fast.hits} & {h.url for h in rendered.hits}
    facts["hits"] = {
        "default": len(fast.hits),
        "network_read": counts.get("server"),
        "render": rendered_counts.get("dom"),
        "render_scroll": scrolls[-1] if scrolls else rendered_counts.get("dom"),
        "overlap_default_rendered": len(both),
    }
    facts["elapsed_s"] = round(time.monotonic() - started, 2)
    detail = (f"{len(fast.hits)} hits ({facts.get('view') or '?'} view, "
              f"read from the {facts.get('read_from')}, "
              f"{'complete' if facts.get('complete') else 'INCOMPLETE'}); "
              f"network {counts.get('server')} / render {facts['hits']['render']} / "
              f"render+scroll {facts['hits']['render_scroll']}, {len(both)} in common; "
              f"hl={facts.get('effective_hl')} gl={facts.get('effective_gl')}, "
              f"consent clicks {facts.get('consent_clicks', 0)}")
    fix = "; ".join(fast.metadata.get("warnings", []))
    return Check(ENGINE_CHECK, label, "ok", detail, fix, facts)


async def adiagnose(*, engines: Sequence[str] | None = None,
                    engine_options: Mapping[str, Mapping[str, Any]] | None = None,
                    image_url: str | None = None, k: int = 20,
                    save_html: str | Path | None = None,
                    allow_private_urls: bool = False) -> DoctorReport:
    """Run every check. ``engines`` defaults to those that can run here (a browser for
    google_lens, a key or credentials for the API engines); ``engine_options`` maps an
    engine name to its options; ``image_url`` adds a by-URL search (Lens)."""
    browser = _browser_check()
    checks = [browser, _session_check(), *_key_checks()]
    selected = list(engines) if engines else _default_engines(browser)
    if not selected:
        checks.append(Check(ENGINE_CHECK, "any engine", "not_configured",
                            "no browser and no API key: no engine can run here",
                            "install Chromium (apt install chromium) or set SERPAPI_API_KEY"))
        return DoctorReport(checks)
    canary = await aload_image(canary_image())
    by_url: QueryImage | None = None
    if image_url:
        try:
            by_url = await aload_image(image_url, allow_private_urls=allow_private_urls)
        except RIRError as exc:
            checks.append(_failure(f"image URL {image_url}", exc, time.monotonic()))
    for name in selected:
        options = dict((engine_options or {}).get(name, {}))
        if name == "google_lens":
            if save_html:
                options.setdefault("save_html", str(save_html).rstrip("/\\") + "/")
            checks.append(await _lens_check("google_lens (upload)", options, canary, k))
            if by_url is not None:
                checks.append(await _lens_check("google_lens (by URL)", options, by_url, k))
        else:
            checks.append(await _search_check(name, f"{name} (upload)", options, canary, k))
    return DoctorReport(checks)
