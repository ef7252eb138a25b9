"""``cloud_vision``: Google Cloud Vision ``images:annotate`` with ``WEB_DETECTION``.

    >>> from rir.engines.cloud_vision import CloudVisionEngine
    >>> engine = CloudVisionEngine()          # GOOGLE_CLOUD_VISION_API_KEY, or ADC
    >>> result = engine.search("photo.jpg", k=10)  # doctest: +SKIP

The image bytes travel inline (base64), so local files, bytes and URLs all work.
Credentials: ``api_key=`` or ``GOOGLE_CLOUD_VISION_API_KEY`` (sent in the
``x-goog-api-key`` header, never in the URL); otherwise ``credentials=`` (a
google-auth ``Credentials`` object) or Application Default Credentials through
``google-auth`` (``pip install 'reverse-image-rag[gcloud]'``).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from typing_extensions import Unpack

from rir.engines.base import Engine
from rir.engines.http import (
    EngineAuthenticationError,
    EngineQuotaExceededError,
    EngineResponseError,
    HttpKwargs,
    HttpOptions,
    error_for_status,
    parse_json,
    protected_logger,
    redact_text,
    register_secret,
    resolve_secret,
    scrub_result,
)
from rir.engines.http.error_mapping import EngineConnectionError, EngineServerError
from rir.engines.http.normalize import as_float, as_list, as_mapping, http_url, plain_text
from rir.errors import (
    ConfigurationError,
    EngineError,
    EngineRateLimitedError,
    EngineTimeoutError,
    EngineUnavailableError,
    InvalidImageError,
    check_number,
)
from rir.inputs.images import QueryImage
from rir.results.models import Entity, SearchHit, SearchResult
from rir.urls import site_of

__all__ = ["DEFAULT_BASE_URL", "CloudVisionEngine", "adc_available", "parse_web_detection"]

logger = protected_logger(__name__)

DEFAULT_BASE_URL = "https://vision.googleapis.com"
API_KEY_ENV = "GOOGLE_CLOUD_VISION_API_KEY"
SCOPES = ("https://www.googleapis.com/auth/cloud-vision",)
# The JSON request may hold 10 MB; base64 adds a third.
_MAX_INLINE_BYTES = 7_000_000
_DEFAULT_MAX_SIDE = 2048
_KEY_HINT = f"check {API_KEY_ENV} (or your Google credentials) and that the Vision API is enabled"
# google.rpc.Code values that Vision puts in a per-image "error".
_RPC_INVALID_ARGUMENT, _RPC_DEADLINE, _RPC_PERMISSION, _RPC_EXHAUSTED = 3, 4, 7, 8
_RPC_UNAVAILABLE, _RPC_UNAUTHENTICATED = 14, 16


def adc_available() -> bool:
    """Whether Application Default Credentials are configured locally (no network probe).

    True when google-auth is installed and ``GOOGLE_APPLICATION_CREDENTIALS`` names a file
    or gcloud's ``application_default_credentials.json`` exists.
    """
    try:
        import google.auth  # noqa: F401 - only probing that the extra is installed
    except ImportError:
        return False
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        return Path(explicit).expanduser().is_file()
    if os.environ.get("CLOUDSDK_CONFIG"):
        config_dir = Path(os.environ["CLOUDSDK_CONFIG"])
    elif os.name == "nt" and os.environ.get("APPDATA"):
        config_dir = Path(os.environ["APPDATA"]) / "gcloud"
    else:
        config_dir = Path.home() / ".config" / "gcloud"
    return (config_dir / "application_default_credentials.json").is_file()


class CloudVisionEngine(Engine):
    """Web detection by Google Cloud Vision.

    Args:
        api_key: API key (``str`` or ``SecretStr``); defaults to ``GOOGLE_CLOUD_VISION_API_KEY``.
        credentials: a google-auth ``Credentials`` object used when there is no key.
        use_adc: ``None`` (default) uses Application Default Credentials when no key is set
            and ADC is configured; ``True`` always tries ADC; ``False`` never does.
        max_results: results per category to ask for (default: ``max(2 * k, 20)``).
        include_geo_results: let Vision use the image's geo metadata.
        language_hints: BCP-47 hints for entity names.
        max_image_side: images larger than this are downscaled before upload.
        http / base_url / timeout_s / retry / rate_limit / proxy / transport: see
            :class:`rir.engines.http.HttpOptions`.
    """

    name = "cloud_vision"

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        credentials: Any = None,
        use_adc: bool | None = None,
        max_results: int | None = None,
        include_geo_results: bool = False,
        language_hints: Sequence[str] = (),
        max_image_side: int = _DEFAULT_MAX_SIDE,
        http: HttpOptions | None = None,
        **http_options: Unpack[HttpKwargs],
    ) -> None:
        self._key = resolve_secret(api_key, API_KEY_ENV, what="api_key", engine=self.name)
        self._credentials = None if self._key else credentials
        if self._key is None and credentials is None:
            if use_adc is False or (use_adc is None and not adc_available()):
                raise EngineUnavailableError(
                    "The cloud_vision engine needs credentials: pass api_key=... or set "
                    f"{API_KEY_ENV}, or configure Application Default Credentials "
                    "(gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS) "
                    "with pip install 'reverse-image-rag[gcloud]'."
                )
            _import_google_auth()  # ADC is resolved on first use: it may probe the network
        if max_results is not None:
            check_number("cloud_vision: max_results", max_results, integer=True, minimum=1)
        check_number("cloud_vision: max_image_side", max_image_side, integer=True, minimum=64)
        if isinstance(language_hints, str):
            language_hints = (language_hints,)
        self._max_results = max_results
        self._include_geo = bool(include_geo_results)
        self._language_hints = tuple(language_hints)
        self._max_side = int(max_image_side)
        self._token_lock = threading.Lock()  # refreshes happen in worker threads
        self._http = HttpOptions.combine(http, http_options, engine=self.name).client(
            engine=self.name, base_url=DEFAULT_BASE_URL, timeout_s=30.0)

    def paid_calls(self) -> int:
        """One WEB_DETECTION unit per search (billed past Google's free monthly units)."""
        return 1

    def cache_key_options(self) -> Mapping[str, Any]:
        options: dict[str, Any] = {}
        if self._max_results is not None:
            options["max_results"] = self._max_results
        if self._include_geo:
            options["include_geo_results"] = True
        if self._language_hints:
            options["language_hints"] = list(self._language_hints)
        if self._max_side != _DEFAULT_MAX_SIDE:  # what is uploaded, so what is matched
            options["max_image_side"] = self._max_side
        return {**options, **self._http.endpoint_key(DEFAULT_BASE_URL)}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        prepared = await asyncio.to_thread(
            image.downscaled, self._max_side, max_bytes=_MAX_INLINE_BYTES,
            formats=("image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"),
        )
        request: dict[str, Any] = {
            "image": {"content": prepared.as_base64()},
            "features": [{"type": "WEB_DETECTION",
                          "maxResults": self._max_results or max(2 * k, 20)}],
        }
        context: dict[str, Any] = {}
        if self._include_geo:
            context["webDetectionParams"] = {"includeGeoResults": True}
        if self._language_hints:
            context["languageHints"] = list(self._language_hints)
        if context:
            request["imageContext"] = context
        response = await self._http.request(
            "POST", "v1/images:annotate",
            json={"requests": [request]},
            headers=await self._auth_headers(),
            classify=self._classify,
        )
        doc = parse_json(response, engine=self.name)
        return parse_web_detection(doc, engine=self.name, source=image.origin)

    # -- credentials --------------------------------------------------------------------------

    async def _auth_headers(self) -> dict[str, str]:
        if self._key is not None:
            return {"x-goog-api-key": self._key.get_secret_value()}
        credentials = await asyncio.to_thread(self._fresh_credentials)
        token = getattr(credentials, "token", None)
        if not token:
            raise EngineAuthenticationError(
                f"cloud_vision: the Google credentials produced no access token; {_KEY_HINT}.",
                engine=self.name,
            )
        register_secret(token)
        headers = {"Authorization": f"Bearer {token}"}
        project = getattr(credentials, "quota_project_id", None)
        if isinstance(project, str) and project:
            headers["x-goog-user-project"] = project
        return headers

    def _fresh_credentials(self) -> Any:
        google_auth = _import_google_auth()
        with self._token_lock:
            if self._credentials is None:
                try:
                    self._credentials, _project = google_auth.default(scopes=list(SCOPES))
                except google_auth.exceptions.DefaultCredentialsError as exc:
                    raise EngineAuthenticationError(
                        f"cloud_vision: no usable Application Default Credentials "
                        f"({redact_text(str(exc))}); {_KEY_HINT}.", engine=self.name,
                    ) from None
            credentials = self._credentials
            if not getattr(credentials, "valid", False):
                try:
                    from google.auth.transport.requests import Request
                except ImportError:
                    raise ConfigurationError(
                        "cloud_vision: refreshing Google credentials needs the 'requests' package;"
                        " pip install 'reverse-image-rag[gcloud]' requests"
                    ) from None
                try:
                    credentials.refresh(Request())
                except google_auth.exceptions.RefreshError as exc:
                    raise EngineAuthenticationError(
                        f"cloud_vision: refreshing the Google access token failed "
                        f"({redact_text(str(exc))}); {_KEY_HINT}.", engine=self.name,
                    ) from None
                except google_auth.exceptions.TransportError as exc:
                    raise EngineConnectionError(
                        f"cloud_vision: could not reach Google's token endpoint "
                        f"({redact_text(str(exc))}); check your network.", engine=self.name,
                    ) from None
            return credentials

    # -- errors -------------------------------------------------------------------------------

    def _classify(self, response: httpx.Response) -> EngineError | None:
        if response.status_code < 300:
            return _transient_image_error(response, engine=self.name)
        status, message, reasons = _google_error(response)
        detail = f"{status + ': ' if status else ''}{message}" if message else None
        if "API_KEY_INVALID" in reasons or status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            return EngineAuthenticationError(
                f"cloud_vision answered HTTP {response.status_code}: {redact_text(detail or '')}; "
                f"{_KEY_HINT}.", engine=self.name,
            )
        if response.status_code == 429 and "per day" in (message or "").lower():
            return EngineQuotaExceededError(
                f"cloud_vision: {redact_text(detail or 'daily quota exhausted')}; raise the quota "
                "in the Google Cloud console or wait for the daily reset.", engine=self.name,
            )
        return error_for_status(response, engine=self.name, detail=detail, key_hint=_KEY_HINT)


def _transient_image_error(response: httpx.Response, *, engine: str) -> EngineError | None:
    """A per-image error worth retrying (deadline, exhausted, unavailable) in a 200 answer."""
    try:
        responses = as_mapping(json.loads(response.content)).get("responses")
    except ValueError:
        return None  # parse_json reports unreadable bodies
    error = as_mapping(as_mapping(as_list(responses)[0]).get("error")) if as_list(responses) else {}
    if error.get("code") in (_RPC_DEADLINE, _RPC_EXHAUSTED, _RPC_UNAVAILABLE):
        problem = _per_image_error(error, engine=engine, source="the image")
        return problem if isinstance(problem, EngineError) else None
    return None


def _import_google_auth() -> Any:
    try:
        import google.auth
        import google.auth.exceptions
    except ImportError:
        raise EngineUnavailableError(
            "cloud_vision: Application Default Credentials need google-auth; "
            "pip install 'reverse-image-rag[gcloud]' (or pass api_key=)."
        ) from None
    return google.auth


def _google_error(response: httpx.Response) -> tuple[str, str | None, set[str]]:
    """(status, message, reasons) from a Google API error body; blanks when absent."""
    try:
        error = as_mapping(as_mapping(json.loads(response.content)).get("error"))
    except ValueError:
        return "", None, set()
    reasons = {str(as_mapping(d).get("reason")) for d in as_list(error.get("details"))
               if as_mapping(d).get("reason")}
    message = error.get("message") if isinstance(error.get("message"), str) else None
    status = error.get("status") if isinstance(error.get("status"), str) else ""
    return status, message, reasons


# -- parsing -----------------------------------------------------------------------------------


def parse_web_detection(doc: Any, *, engine: str = "cloud_vision",
                        source: str = "the image") -> SearchResult:
    """Turn an ``images:annotate`` answer (one request) into a :class:`SearchResult`."""
    responses = doc.get("responses") if isinstance(doc, Mapping) else None
    if not isinstance(responses, list):
        raise EngineResponseError(
            f"{engine}: the answer has no 'responses' list; check base_url.", engine=engine
        )
    first = as_mapping(responses[0]) if responses else {}
    if "error" in first:
        raise _per_image_error(as_mapping(first["error"]), engine=engine, source=source)
    web = as_mapping(first.get("webDetection"))
    hits = [hit for page in as_list(web.get("pagesWithMatchingImages"))
            if (hit := _page_hit(as_mapping(page))) is not None]
    for key, kind in (("fullMatchingImages", "full"), ("partialMatchingImages", "partial")):
        hits.extend(_image_hit(as_mapping(i), "exact", kind) for i in as_list(web.get(key))
                    if http_url(as_mapping(i).get("url")))
    hits.extend(_image_hit(as_mapping(i), "similar", "similar")
                for i in as_list(web.get("visuallySimilarImages"))
                if http_url(as_mapping(i).get("url")))
    entities, entity_ids = [], []
    for item in as_list(web.get("webEntities")):
        item = as_mapping(item)
        name = plain_text(item.get("description"))
        if name:  # entities with only an id have no name to show
            entities.append(Entity(name=name, score=as_float(item.get("score"))))
            if isinstance(item.get("entityId"), str):
                entity_ids.append(item["entityId"])
    labels = [plain_text(as_mapping(b).get("label")) for b in as_list(web.get("bestGuessLabels"))]
    labels = [label for label in labels if label]
    metadata: dict[str, Any] = {"provider": "cloud_vision"}
    if entity_ids:
        metadata["web_entity_ids"] = entity_ids
    if len(labels) > 1:
        metadata["best_guess_labels"] = labels
    return scrub_result(SearchResult(hits=hits, best_guess=labels[0] if labels else None,
                                     entities=entities, metadata=metadata))


def _page_hit(page: Mapping[str, Any]) -> SearchHit | None:
    url = http_url(page.get("url"))
    if not url:
        return None
    full = [u for u in (http_url(as_mapping(i).get("url")) for i in
                        as_list(page.get("fullMatchingImages"))) if u]
    partial = [u for u in (http_url(as_mapping(i).get("url")) for i in
                           as_list(page.get("partialMatchingImages"))) if u]
    metadata: dict[str, Any] = {}
    if full:
        metadata["full_matching_images"] = full
    if partial:
        metadata["partial_matching_images"] = partial
    return SearchHit(
        title=plain_text(page.get("pageTitle")) or "",
        url=url,
        source=site_of(url) or None,
        image_url=(full or partial or [None])[0],
        match_type="exact" if full or partial else "visual",
        score=as_float(page.get("score")),
        metadata=metadata,
        raw=dict(page),
    )


def _image_hit(image: Mapping[str, Any], match_type: Any, kind: str) -> SearchHit:
    url = http_url(image.get("url"))
    return SearchHit(
        url=None,
        source=site_of(url) or None,
        image_url=url,
        match_type=match_type,
        score=as_float(image.get("score")),
        metadata={"vision_match": kind},
        raw=dict(image),
    )


def _per_image_error(error: Mapping[str, Any], *, engine: str, source: str) -> Exception:
    code = error.get("code")
    message = redact_text(str(error.get("message") or "no message"))
    said = f"{engine} could not process {source}: {message} (code {code})"
    if code == _RPC_INVALID_ARGUMENT:
        return InvalidImageError(f"{said}; pass a valid JPEG/PNG/WebP/GIF image.")
    if code in (_RPC_PERMISSION, _RPC_UNAUTHENTICATED):
        return EngineAuthenticationError(f"{said}; {_KEY_HINT}.", engine=engine)
    if code == _RPC_EXHAUSTED:
        return EngineRateLimitedError(f"{said}; slow down or raise the quota.", engine=engine)
    if code == _RPC_DEADLINE:
        return EngineTimeoutError(f"{said}; try again.", engine=engine)
    if code == _RPC_UNAVAILABLE:
        return EngineServerError(f"{said}; try again later.", engine=engine)
    return EngineError(f"{said}.", engine=engine)
