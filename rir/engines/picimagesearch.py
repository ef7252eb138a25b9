"""``picimagesearch:<provider>``: Yandex, Bing, TinEye, Baidu and Copyseeker via PicImageSearch.

    >>> from rir.engines import get_engine
    >>> engine = get_engine("picimagesearch:yandex")
    >>> result = engine.search("photo.jpg", k=10)  # doctest: +SKIP

We reuse the well-kept PicImageSearch library (``pip install
'reverse-image-rag[picimagesearch]'``) rather than scraping these sites
ourselves. This adapter gives it our shared HTTP client (one per engine per
loop, rate-limited, retried), normalises its items into :class:`SearchHit`
and maps its failures onto our error tree. The library does not look at
HTTP status codes, so every response is recorded and a 429, a 403 or a
captcha redirect becomes a rate-limit or block error instead of an empty or
unparsable result.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from typing_extensions import Unpack

from rir.engines.base import Engine
from rir.engines.http import (
    EngineResponseError,
    EngineServerError,
    HttpKwargs,
    HttpOptions,
    RateLimit,
    parse_retry_after,
    protected_logger,
    redact_text,
    register_secret,
    resolve_secret,
    scrub_result,
)
from rir.engines.http.error_mapping import transport_error
from rir.engines.http.normalize import as_int, http_url, plain_text, publicly_reachable
from rir.errors import (
    ConfigurationError,
    EngineBlockedError,
    EngineError,
    EngineRateLimitedError,
    EngineUnavailableError,
)
from rir.inputs.images import QueryImage
from rir.results.models import Entity, MatchType, SearchHit, SearchResult
from rir.urls import host_in_url, site_of

__all__ = ["PROVIDERS", "PicImageSearchEngine", "normalize_response"]

logger = protected_logger(__name__)

_INSTALL = "pip install 'reverse-image-rag[picimagesearch]'"
_UPGRADE = "pip install -U PicImageSearch"
# These sites reject very large uploads; their matching works on screen-sized images.
_UPLOAD_MAX_SIDE = 2048
_UPLOAD_MAX_BYTES = 4_000_000


@dataclass(frozen=True)
class _Provider:
    class_name: str
    base_url: str
    path: str = ""  # appended to base_url (Yandex searches under /images/search)


PROVIDERS: dict[str, _Provider] = {
    "yandex": _Provider("Yandex", "https://yandex.com", "/images/search"),
    "bing": _Provider("Bing", "https://www.bing.com"),
    "tineye": _Provider("Tineye", "https://tineye.com"),
    "baidu": _Provider("BaiDu", "https://graph.baidu.com"),
    "copyseeker": _Provider("Copyseeker", "https://copyseeker.net"),
}

# The responses of the search running in this task (the library hides them from us).
_recorded: contextvars.ContextVar[list[tuple[int, str, str | None]] | None] = (
    contextvars.ContextVar("rir_picimagesearch_responses", default=None)
)


async def _record_response(response: httpx.Response) -> None:
    records = _recorded.get()
    if records is not None:
        url = response.url
        records.append((response.status_code, f"{host_in_url(url.host)}{url.path}",
                        response.headers.get("retry-after")))


class PicImageSearchEngine(Engine):
    """One PicImageSearch provider as an engine.

    Args:
        provider: ``yandex``, ``bing``, ``tineye``, ``baidu`` or ``copyseeker``.
        cookies: a ``"name=value; name2=value2"`` cookie string (held as a secret).
        prefer_url: search public image URLs by URL (less upload traffic); local
            inputs are always uploaded.
        search_options: extra keyword arguments for the provider's ``search`` (e.g.
            TinEye's ``sort="crawl_date"``).
        http / base_url / timeout_s / retry / rate_limit / proxy / transport: see
            :class:`rir.engines.http.HttpOptions`; the default rate limit is one request per
            second.
    """

    def __init__(
        self,
        provider: str,
        *,
        cookies: str | SecretStr | None = None,
        prefer_url: bool = True,
        search_options: Mapping[str, Any] | None = None,
        http: HttpOptions | None = None,
        **http_options: Unpack[HttpKwargs],
    ) -> None:
        key = (provider or "").strip().lower() if isinstance(provider, str) else ""
        if key not in PROVIDERS:
            raise ConfigurationError(
                f"Unknown PicImageSearch provider {provider!r}; use one of "
                f"{', '.join('picimagesearch:' + p for p in PROVIDERS)}."
            )
        self.name = f"picimagesearch:{key}"  # type: ignore[misc]  # per-instance engine name
        self._provider = key
        self._spec = PROVIDERS[key]
        self._library = _import_library(self.name)
        secret = resolve_secret(cookies, None, what="cookies", engine=self.name)
        jar = _parse_cookies(secret, engine=self.name)
        self._prefer_url = bool(prefer_url)
        self._search_options = dict(search_options or {})
        self._http = HttpOptions.combine(http, http_options, engine=self.name).client(
            engine=self.name, base_url=self._spec.base_url, timeout_s=30.0,
            rate_limit=RateLimit(requests_per_second=1.0, max_concurrency=2),
            # Sites serve their normal pages to browsers; the library's UA is tuned for that.
            headers={**self._library.network.DEFAULT_HEADERS, "Accept": "*/*"},
            client_options={"follow_redirects": True, "cookies": jar,
                            "event_hooks": {"response": [_record_response]}},
        )
        self._base_url = self._http.base_url

    def cache_key_options(self) -> Mapping[str, Any]:
        options: dict[str, Any] = {"provider": self._provider,
                                   **{k: str(v) for k, v in sorted(self._search_options.items())}}
        if not self._prefer_url:  # uploads instead of URL searches: other matches
            options["prefer_url"] = False
        return {**options, **self._http.endpoint_key(self._spec.base_url)}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        response = await self._http.call(lambda: self._search_once(image),
                                         what=f"{self._provider} search")
        try:
            result = normalize_response(self._provider, response)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise EngineResponseError(
                f"{self.name}: PicImageSearch returned a result we could not read "
                f"({type(exc).__name__}: {_one_line(exc)}); try {_UPGRADE}.",
                engine=self.name,
            ) from None
        return result

    async def _search_once(self, image: QueryImage) -> Any:
        client = await self._http.client()
        searcher = getattr(self._library, self._spec.class_name)(client=client)
        searcher.base_url = self._base_url + self._spec.path
        records: list[tuple[int, str, str | None]] = []
        token = _recorded.set(records)
        try:
            if self._prefer_url and image.url and publicly_reachable(image.url):
                response = await searcher.search(url=image.url, **self._search_options)
            else:
                fitted = await asyncio.to_thread(image.downscaled, _UPLOAD_MAX_SIDE,
                                                 max_bytes=_UPLOAD_MAX_BYTES)
                response = await searcher.search(file=fitted.data, **self._search_options)
        except httpx.TransportError as exc:
            raise transport_error(exc, engine=self.name, url=self._base_url,
                                  timeout_s=self._http.timeout_s) from None
        except Exception as exc:  # noqa: BLE001 - the library raises anything on a changed page
            raise _http_problem(records, self.name) or EngineResponseError(
                f"{self.name}: could not read the site's answer ({type(exc).__name__}: "
                f"{_one_line(exc)}). The site may have changed its pages; try {_UPGRADE}, "
                "or use another engine.",
                engine=self.name,
            ) from None
        finally:
            _recorded.reset(token)
        problem = _http_problem(records, self.name)
        if problem is not None:  # the library parsed an error page as "no results"
            raise problem
        return response


def _import_library(engine: str) -> Any:
    try:
        import PicImageSearch
        import PicImageSearch.network
    except ImportError:
        raise EngineUnavailableError(
            f"The {engine} engine needs the PicImageSearch library: {_INSTALL}"
        ) from None
    return PicImageSearch


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(redact_text(str(exc)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_cookies(secret: SecretStr | None, *, engine: str) -> dict[str, str]:
    jar: dict[str, str] = {}
    if secret is None:
        return jar
    for part in secret.get_secret_value().split(";"):
        name, sep, value = part.strip().partition("=")
        if not part.strip():
            continue
        if not sep or not name.strip():
            raise ConfigurationError(
                f"{engine}: cookies must look like 'name=value; name2=value2'."
            )
        register_secret(value.strip())
        jar[name.strip()] = value.strip()
    return jar


def _http_problem(records: list[tuple[int, str, str | None]], engine: str) -> EngineError | None:
    """A typed error for a rate limit, a block or a server failure among the responses."""
    for status, _where, retry_after in records:
        if status == 429:
            wait = parse_retry_after(retry_after)
            return EngineRateLimitedError(
                f"{engine}: the site answered 429 Too Many Requests; slow down "
                "(rate_limit=RateLimit(requests_per_second=...)) or try later.",
                engine=engine, retry_after=wait,
            )
    for status, where, _retry_after in records:
        if status == 403 or "captcha" in where.lower() or "/sorry/" in where:
            return EngineBlockedError(
                f"{engine}: the site refused us (HTTP {status} at {where.split('/')[0]}, likely "
                "a captcha or bot check); try later, from another network, or pass cookies= "
                "from a browser session.",
                engine=engine,
            )
    for status, where, _retry_after in records:
        if status >= 500:
            return EngineServerError(
                f"{engine}: the site failed (HTTP {status} at {where.split('/')[0]}); try later.",
                engine=engine,
            )
    return None


# -- normalisation -----------------------------------------------------------------------------


def normalize_response(provider: str, response: Any) -> SearchResult:
    """Turn a PicImageSearch response object of ``provider`` into a :class:`SearchResult`."""
    return scrub_result(_NORMALIZERS[provider](response))


def _hit(match_type: MatchType, *, title: Any = None, url: Any = None, image_url: Any = None,
         thumbnail: Any = None, snippet: Any = None, source: Any = None, size: Any = None,
         score: float | None = None, metadata: dict[str, Any] | None = None,
         raw: Any = None) -> SearchHit | None:
    page, picture = http_url(url), http_url(image_url)
    if not page and not picture:
        return None
    width = height = None
    if isinstance(size, str) and "x" in size:
        width, height = (as_int(v) for v in size.lower().split("x", 1))
    elif isinstance(size, (list, tuple)) and len(size) == 2:
        width, height = as_int(size[0]), as_int(size[1])
    return SearchHit(
        title=plain_text(title) or "", url=page, image_url=picture,
        thumbnail_url=http_url(thumbnail), snippet=plain_text(snippet),
        source=plain_text(source) or site_of(page or picture) or None,
        match_type=match_type, score=score, width=width, height=height,
        metadata=metadata or {}, raw=dict(raw) if isinstance(raw, dict) else None,
    )


def _result(hits: list[SearchHit | None], *, page_url: Any = None, **fields: Any) -> SearchResult:
    return SearchResult(hits=[h for h in hits if h is not None], page_url=http_url(page_url),
                        metadata={"provider": "picimagesearch", **fields.pop("metadata", {})},
                        **fields)


def _yandex(resp: Any) -> SearchResult:
    return _result([
        _hit("visual", title=i.title, url=i.url, thumbnail=i.thumbnail, snippet=i.content,
             source=i.source, size=i.size, raw=i.origin) for i in resp.raw
    ], page_url=resp.url)


def _bing(resp: Any) -> SearchResult:
    hits = [_hit("exact", title=i.name, url=i.url, image_url=i.image_url,
                 thumbnail=i.thumbnail, raw=vars(i)) for i in resp.pages_including]
    hits += [_hit("similar", title=i.name, url=i.url, image_url=i.image_url,
                  thumbnail=i.thumbnail, raw=vars(i)) for i in resp.visual_search]
    entities = [Entity(name=name, description=plain_text(e.description),
                       type=plain_text(e.short_description))
                for e in resp.entities if (name := plain_text(e.name))]
    related = [t for t in (plain_text(r.text) for r in resp.related_searches) if t]
    return _result(hits, page_url=resp.url, best_guess=plain_text(resp.best_guess),
                   entities=entities,
                   metadata={"related_searches": related} if related else {})


def _tineye(resp: Any) -> SearchResult:
    hits = []
    for item in resp.raw:
        backlinks = item.origin.get("backlinks") or [{}]
        hits.append(_hit("exact", url=item.url, image_url=item.image_url,
                         thumbnail=item.thumbnail, source=item.domain, size=item.size,
                         metadata={"crawl_date": item.crawl_date, "backlinks": len(backlinks)},
                         raw=item.origin))
    domains = [{"domain": d.domain, "count": d.count} for d in getattr(resp, "domains", [])]
    return _result(hits, page_url=resp.url, metadata={"domains": domains} if domains else {})


def _baidu(resp: Any) -> SearchResult:
    hits = [_hit("exact", title=i.title, url=i.url, thumbnail=i.thumbnail, raw=i.origin)
            for i in resp.exact_matches]
    hits += [_hit("similar", title=i.title, url=i.url, thumbnail=i.thumbnail, raw=i.origin)
             for i in resp.raw]
    return _result(hits, page_url=resp.url)


def _copyseeker(resp: Any) -> SearchResult:
    if not getattr(resp, "origin", None):  # no discovery id: the site gave us nothing
        return _result([])
    hits = [_hit("visual", title=i.title, url=i.url, thumbnail=i.thumbnail,
                 score=i.website_rank or None, raw=i.origin) for i in resp.raw]
    hits += [_hit("similar", image_url=u) for u in resp.similar_image_urls]
    names = resp.entities.split(",") if isinstance(resp.entities, str) else (resp.entities or [])
    entities = [Entity(name=n) for n in (plain_text(x) for x in names) if n]
    return _result(hits, page_url=resp.url, best_guess=plain_text(resp.best_guess_label),
                   entities=entities,
                   metadata={"links_found": resp.total} if resp.total else {})


_NORMALIZERS: dict[str, Callable[[Any], SearchResult]] = {
    "yandex": _yandex,
    "bing": _bing,
    "tineye": _tineye,
    "baidu": _baidu,
    "copyseeker": _copyseeker,
}
