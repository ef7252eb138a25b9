"""``serpapi``: Google Lens through SerpApi's ``google_lens`` engine (paid, stable JSON).

    >>> from rir.engines.serpapi import SerpApiLensEngine
    >>> engine = SerpApiLensEngine(hl="en", country="us")     # key from SERPAPI_API_KEY
    >>> result = engine.search("https://example.org/photo.jpg", k=5)  # doctest: +SKIP

Images loaded from a public http(s) URL are passed to SerpApi as that URL.
Local files, bytes and data URIs are uploaded through SerpApi's Images API
(``POST /image``, free, JPEG/PNG/WebP up to 500 KB, kept for ten minutes; we
downscale to fit) and searched by ``image_id``. Pass ``image_host=`` (a callable
returning a public URL for a QueryImage) to host them yourself instead, or
``upload=False`` to refuse non-URL inputs.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from pydantic import SecretStr
from typing_extensions import Unpack

from rir.engines.base import Engine
from rir.engines.http import (
    EngineAuthenticationError,
    EngineQuotaExceededError,
    EngineResponseError,
    EngineServerError,
    EngineUnsupportedInputError,
    HttpKwargs,
    HttpOptions,
    error_for_status,
    parse_json,
    protected_logger,
    redact_text,
    resolve_secret,
    scrub_result,
)
from rir.engines.http.normalize import (
    as_int,
    as_list,
    as_mapping,
    dedupe_by_url,
    http_url,
    plain_text,
    publicly_reachable,
)
from rir.errors import ConfigurationError, EngineError, EngineUnavailableError, RIRError
from rir.inputs.images import QueryImage
from rir.results.models import EngineFailure, Entity, MatchType, SearchHit, SearchResult
from rir.urls import site_of

__all__ = ["DEFAULT_BASE_URL", "LENS_TYPES", "SerpApiLensEngine", "parse_lens_response"]

logger = protected_logger(__name__)

DEFAULT_BASE_URL = "https://serpapi.com"
LENS_TYPES = ("all", "products", "exact_matches", "visual_matches", "about_this_image")
_Q_TYPES = ("all", "products", "visual_matches")  # SerpApi ignores q for the others
UPLOAD_MAX_BYTES = 500_000  # SerpApi Images API limit
_UPLOAD_FORMATS = ("image/jpeg", "image/png", "image/webp")
_NO_RESULTS = re.compile(r"hasn[’']?t returned any results", re.IGNORECASE)
_OUT_OF_SEARCHES = re.compile(r"run out of searches|searches for the month|upgrade your plan",
                              re.IGNORECASE)
_BAD_KEY = re.compile(r"invalid api key", re.IGNORECASE)
_TRY_AGAIN = re.compile(r"try again", re.IGNORECASE)
# Keys a google_lens answer has; a JSON object with none of them is not one.
_KNOWN_KEYS = frozenset({
    "search_metadata", "search_parameters", "visual_matches", "exact_matches",
    "knowledge_graph", "related_content", "ai_overview", "products", "text_results",
    "about_this_image", "error",
})
_ITEM_EXTRAS = ("date", "price", "in_stock", "rating", "reviews", "source_icon", "condition",
                "delivery", "snippet_highlighted_words")

ImageHost = Callable[[QueryImage], "str | Awaitable[str]"]


class SerpApiLensEngine(Engine):
    """Google Lens results from SerpApi.

    Args:
        api_key: SerpApi key (``str`` or ``SecretStr``); defaults to ``SERPAPI_API_KEY``.
        hl: interface language (``"en"``); country: two-letter country (``"us"``).
        type: Lens tab — ``"all"`` (default), ``"visual_matches"``, ``"exact_matches"``,
            ``"products"`` or ``"about_this_image"``.
        q: a text refinement ("red", "who is this"); only with all/visual_matches/products.
        exact_matches: also fetch the "exact matches" tab (a second search credit) and put
            those pages first.
        image_host: callable returning a public URL for a QueryImage (sync or async); used
            for inputs that are not public URLs instead of SerpApi's upload.
        upload: upload non-URL inputs through SerpApi's Images API (default True).
        no_cache: ask SerpApi not to serve its own 1-hour cache.
        auto_crop: let Google Lens crop the image to the object it picks before matching
            (SerpApi's ``auto_crop``; off by default, which is also SerpApi's default). Off
            keeps what we send authoritative: a region search has already cropped to the
            part asked about, and Lens's own pick could narrow it to something else.
        http / base_url / timeout_s / retry / rate_limit / proxy / transport: see
            :class:`rir.engines.http.HttpOptions` (default timeout 60 s).
    """

    name = "serpapi"

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        hl: str | None = None,
        country: str | None = None,
        type: str = "all",  # SerpApi's own parameter name
        q: str | None = None,
        exact_matches: bool = False,
        image_host: ImageHost | None = None,
        upload: bool = True,
        no_cache: bool = False,
        auto_crop: bool = False,
        http: HttpOptions | None = None,
        **http_options: Unpack[HttpKwargs],
    ) -> None:
        key = resolve_secret(api_key, "SERPAPI_API_KEY", what="api_key", engine=self.name)
        if key is None:
            raise EngineUnavailableError(
                "The serpapi engine needs a SerpApi key: pass api_key=... or set SERPAPI_API_KEY "
                "(find yours at https://serpapi.com/manage-api-key), or pick another engine."
            )
        if type not in LENS_TYPES:
            raise ConfigurationError(
                f"serpapi: type must be one of {', '.join(LENS_TYPES)}; got {type!r}."
            )
        if q is not None and type not in _Q_TYPES:
            raise ConfigurationError(
                f"serpapi: q (a text refinement) only works with type {', '.join(_Q_TYPES)}; "
                f"got type={type!r}."
            )
        for option, value in (("hl", hl), ("country", country), ("q", q)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigurationError(f"serpapi: {option} must be a non-empty string or None.")
        if image_host is not None and not callable(image_host):
            raise ConfigurationError("serpapi: image_host must be a callable returning a URL.")
        self._key = key
        self._options = {"hl": hl, "country": country, "type": type, "q": q}
        self._exact_matches = bool(exact_matches) and type != "exact_matches"
        self._image_host = image_host
        self._upload = bool(upload)
        self._no_cache = bool(no_cache)
        self._auto_crop = bool(auto_crop)
        self._http = HttpOptions.combine(http, http_options, engine=self.name).client(
            engine=self.name, base_url=DEFAULT_BASE_URL, timeout_s=60.0)

    def cache_key_options(self) -> Mapping[str, Any]:
        options = {k: v for k, v in self._options.items() if v is not None}
        if self._exact_matches:
            options["exact_matches"] = True
        if self._auto_crop:
            options["auto_crop"] = True
        return {**options, **self._http.endpoint_key(DEFAULT_BASE_URL)}

    def paid_calls(self) -> int:
        """Each search is one SerpApi search credit, two with ``exact_matches`` (uploads
        through the Images API are free)."""
        return 2 if self._exact_matches else 1

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- search -------------------------------------------------------------------------------

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        source = await self._image_source(image)
        lens_type = self._options["type"]
        if not self._exact_matches:
            return parse_lens_response(await self._search(source, lens_type), engine=self.name)
        outcomes = await asyncio.gather(
            self._search(source, "exact_matches"),
            self._search(source, lens_type),
            return_exceptions=True,
        )
        for outcome in outcomes:  # programming errors and cancellation are not "failures"
            if isinstance(outcome, BaseException) and not isinstance(outcome, EngineError):
                raise outcome
        exact_doc, main_doc = outcomes
        if isinstance(main_doc, BaseException):
            raise main_doc
        result = parse_lens_response(main_doc, engine=self.name)
        if isinstance(exact_doc, BaseException):
            failure = EngineFailure(engine=f"{self.name}[exact_matches]",
                                    error_type=type(exact_doc).__name__, message=str(exact_doc))
            return result.model_copy(update={"failures": [*result.failures, failure]})
        exact = parse_lens_response(exact_doc, engine=self.name)
        return result.model_copy(update={"hits": dedupe_by_url([*exact.hits, *result.hits])})

    async def _search(self, source: Mapping[str, str], lens_type: str) -> dict[str, Any]:
        params: dict[str, str] = {"engine": "google_lens", **source}
        if lens_type != "all":
            params["type"] = lens_type
        for option in ("hl", "country", "q"):
            if self._options[option] is not None and (option != "q" or lens_type in _Q_TYPES):
                params[option] = self._options[option]
        if self._no_cache:
            params["no_cache"] = "true"
        if self._auto_crop:
            params["auto_crop"] = "true"
        params["api_key"] = self._key.get_secret_value()
        response = await self._http.request("GET", "search.json", params=params,
                                            classify=self._classify)
        doc = parse_json(response, engine=self.name)
        if not isinstance(doc, dict):
            raise EngineResponseError(
                f"serpapi returned a JSON {type(doc).__name__}, not an object; check base_url.",
                engine=self.name,
            )
        return doc

    # -- image submission ---------------------------------------------------------------------

    async def _image_source(self, image: QueryImage) -> dict[str, str]:
        if image.url and publicly_reachable(image.url):
            return {"url": image.url}
        if self._image_host is not None:
            return {"url": await self._hosted_url(image)}
        if self._upload:
            return {"image_id": await self._upload_image(image)}
        raise EngineUnsupportedInputError(
            f"serpapi needs a public image URL, but the input is {image.origin} and uploads are "
            "off (upload=False). Pass a public http(s) URL, set upload=True (SerpApi's free "
            "Images API), or pass image_host= a callable that returns a public URL.",
            engine=self.name,
        )

    async def _hosted_url(self, image: QueryImage) -> str:
        assert self._image_host is not None
        try:
            url = self._image_host(image)
            if inspect.isawaitable(url):
                url = await url
        except RIRError:
            raise
        except Exception as exc:  # a user hook: its failure is this engine's
            raise EngineUnsupportedInputError(
                f"serpapi: image_host failed for {image.origin}: {type(exc).__name__}: {exc}",
                engine=self.name,
            ) from exc
        if not isinstance(url, str) or not http_url(url):
            raise ConfigurationError(
                f"serpapi: image_host must return an http(s) URL, got {type(url).__name__}."
            )
        return url

    async def _upload_image(self, image: QueryImage) -> str:
        fitted = await asyncio.to_thread(_fit_for_upload, image)
        response = await self._http.request(
            "POST", "image",
            data={"api_key": self._key.get_secret_value()},
            files={"image": (fitted.filename, fitted.data, fitted.mime_type)},
            classify=self._classify,
        )
        doc = parse_json(response, engine=self.name, what="upload answer")
        image_id = doc.get("image_id") if isinstance(doc, dict) else None
        if not isinstance(image_id, str) or not image_id.strip():
            raise EngineResponseError(
                "serpapi's Images API answered without an image_id; check base_url, or pass "
                "a public image URL instead of a local file.",
                engine=self.name,
            )
        logger.debug("serpapi: uploaded %s (%d bytes) for searching", image.origin,
                     len(fitted.data))
        return image_id.strip()

    # -- errors -------------------------------------------------------------------------------

    def _classify(self, response: httpx.Response) -> EngineError | None:
        detail = _error_text(response)
        hint = "check SERPAPI_API_KEY (https://serpapi.com/manage-api-key)"
        if detail and _OUT_OF_SEARCHES.search(detail):
            return EngineQuotaExceededError(
                f"serpapi: {detail} Add searches to the plan or wait for the monthly reset.",
                engine=self.name,
            )
        if response.status_code >= 300:
            return error_for_status(response, engine=self.name, detail=detail, key_hint=hint)
        if not detail or _NO_RESULTS.search(detail):
            return None
        if _BAD_KEY.search(detail):
            return EngineAuthenticationError(f"serpapi: {detail}; {hint}.", engine=self.name)
        if _TRY_AGAIN.search(detail):
            return EngineServerError(f"serpapi: {detail}", engine=self.name)
        return EngineError(f"serpapi reported an error: {detail}", engine=self.name)


# -- parsing -----------------------------------------------------------------------------------


def parse_lens_response(doc: Mapping[str, Any], *, engine: str = "serpapi") -> SearchResult:
    """Turn a SerpApi ``google_lens`` JSON document into a :class:`SearchResult`.

    "No results" errors and answers without matches give an empty result; other
    ``error`` texts raise :class:`EngineError`.
    """
    if not isinstance(doc, Mapping) or not (_KNOWN_KEYS & doc.keys()):
        shown = sorted(doc.keys())[:8] if isinstance(doc, Mapping) else type(doc).__name__
        raise EngineResponseError(
            f"{engine}: the answer is not a Google Lens result (keys: {shown}); check base_url.",
            engine=engine,
        )
    error = doc.get("error")
    if isinstance(error, str) and error.strip() and not _NO_RESULTS.search(error):
        raise EngineError(f"{engine} reported an error: {redact_text(error)}", engine=engine)
    hits = [
        *_match_hits(doc.get("exact_matches"), "exact"),
        *_match_hits(doc.get("visual_matches"), "visual"),
        *_match_hits(doc.get("products"), "product"),
    ]
    entities = _knowledge_entities(doc.get("knowledge_graph"))
    related = _related_entities(doc.get("related_content"))
    overview_heading, overview_text = _ai_overview(doc.get("ai_overview"))
    best_guess = (entities[0].name if entities else None) or overview_heading or (
        related[0].name if related else None)
    metadata_ = as_mapping(doc.get("search_metadata"))
    metadata: dict[str, Any] = {"provider": "serpapi"}
    for key in ("id", "status", "total_time_taken"):
        if key in metadata_:
            metadata[f"serpapi_{key}"] = metadata_[key]
    if overview_text:
        metadata["ai_overview"] = overview_text
    texts = [t for t in (plain_text(as_mapping(i).get("text")) for i in
                         as_list(doc.get("text_results"))) if t]
    if texts:
        metadata["text"] = " ".join(texts)
    if isinstance(error, str) and error.strip():
        metadata["serpapi_error"] = error.strip()
    return scrub_result(SearchResult(
        hits=hits,
        best_guess=best_guess,
        entities=[*entities, *related],
        page_url=http_url(metadata_.get("google_lens_url")),
        metadata=metadata,
    ))


def _match_hits(items: Any, match_type: MatchType) -> list[SearchHit]:
    hits = []
    for item in as_list(items):
        if not isinstance(item, Mapping):
            continue
        link = http_url(item.get("link"))
        title = plain_text(item.get("title"))
        if not link and not title:
            continue  # nothing to show or cite
        kind: MatchType = "product" if match_type == "visual" and item.get("price") else match_type
        extras = {key: item[key] for key in _ITEM_EXTRAS if key in item}
        if "position" in item:
            extras["provider_position"] = item["position"]
        hits.append(SearchHit(
            title=title or "",
            url=link,
            source=plain_text(item.get("source")) or site_of(link) or None,
            image_url=http_url(item.get("image")),
            thumbnail_url=http_url(item.get("thumbnail")),
            snippet=plain_text(item.get("snippet")),
            match_type=kind,
            width=as_int(item.get("image_width")) or as_int(item.get("actual_image_width")),
            height=as_int(item.get("image_height")) or as_int(item.get("actual_image_height")),
            metadata=extras,
            raw=dict(item),
        ))
    return hits


def _knowledge_entities(value: Any) -> list[Entity]:
    entities = []
    for item in as_list(value):
        item = as_mapping(item)
        name = plain_text(item.get("title"))
        if name:
            entities.append(Entity(
                name=name,
                type=plain_text(item.get("subtitle")),
                url=http_url(item.get("link")),
                description=plain_text(item.get("description")),
            ))
    return entities


def _related_entities(value: Any) -> list[Entity]:
    entities = []
    for item in as_list(value):
        item = as_mapping(item)
        name = plain_text(item.get("query") or item.get("title"))
        if name:
            entities.append(Entity(name=name, type="related_search",
                                   url=http_url(item.get("link"))))
    return entities


def _ai_overview(value: Any) -> tuple[str | None, str | None]:
    """(a short heading usable as a best guess, the overview's text) when SerpApi inlined it.

    Often only a ``page_token`` for a separate (paid) search is given; we do not follow it.
    """
    heading, parts = None, []
    for block in as_list(as_mapping(value).get("text_blocks")):
        block = as_mapping(block)
        text = plain_text(block.get("snippet"))
        if block.get("type") == "heading" and text and heading is None:
            heading = text if len(text.split()) <= 8 else None
        if text:
            parts.append(text)
        parts.extend(t for t in (plain_text(as_mapping(i).get("snippet"))
                                 for i in as_list(block.get("list"))) if t)
    return heading, (" ".join(parts) or None)


def _error_text(response: httpx.Response) -> str | None:
    """SerpApi's ``error`` text from a JSON body, if there is one."""
    if not response.content.lstrip().startswith(b"{"):
        return None
    try:
        doc = json.loads(response.content)
    except ValueError:
        return None
    error = doc.get("error") if isinstance(doc, dict) else None
    return error.strip() if isinstance(error, str) and error.strip() else None


def _fit_for_upload(image: QueryImage) -> QueryImage:
    """A copy within the Images API limits (JPEG/PNG/WebP, <= 500 KB)."""
    if image.mime_type in _UPLOAD_FORMATS and len(image.data) <= UPLOAD_MAX_BYTES:
        return image
    fitted = image
    for side in (1600, 1024, 768, 512):
        fitted = image.downscaled(side, max_bytes=UPLOAD_MAX_BYTES, formats=("image/jpeg",))
        if len(fitted.data) <= UPLOAD_MAX_BYTES:
            return fitted
    return fitted
