"""The REST routes: ``POST /v1/search``, ``POST /v1/ask``, ``GET /v1/engines``, ``GET /healthz``.

A search takes an upload (multipart ``file`` with optional ``k``, ``engine`` and ``region``
fields) or JSON (``image_url`` or ``data_uri``, ``k``, ``engine``, ``region``). Each route
parses and hands over to :class:`~rir.serve.service.SearchService`; errors leave through the
one handler of :mod:`rir.serve.app`. Parameters are validated strictly: ``k`` is a JSON
integer (``true``, ``5.0`` and ``"5"`` are refused), or in a form the digits of one.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from rir.errors import ConfigurationError
from rir.inputs.region import REGION_ARGUMENT_HELP
from rir.serve.error_replies import UnsupportedMediaTypeError, validation_problems
from rir.serve.request_guard import parse_json_body
from rir.serve.schemas import AskOutput, EnginesOutput, ErrorBody, SearchOutput, search_output
from rir.serve.service import MAX_K, MAX_QUESTION_CHARS, SearchService

__all__ = ["AskRequest", "SearchRequest", "build_router"]

_ERRORS = {status: {"model": ErrorBody, "description": text} for status, text in (
    (400, "Not an image, unsafe URL or unreadable image URL"),
    (401, "Missing or wrong API key"),
    (413, "Image or request body too large"),
    (415, "Neither JSON nor multipart"),
    (421, "Host header not served here"),
    (422, "Bad parameters"),
    (429, "Rate limited (Retry-After says when to retry)"),
    (502, "The engine failed or blocked the search"),
    (503, "At search capacity (Retry-After says when to retry)"),
    (504, "The engine or model timed out"),
)}


class SearchRequest(BaseModel):
    """Exactly one of ``image_url`` and ``data_uri``."""

    # strict: no bool for k (True is not 1), no float, no numeric string in JSON.
    model_config = ConfigDict(extra="forbid", strict=True)

    image_url: str | None = Field(default=None, max_length=8192,
                                  description="A public http(s) URL of the image.")
    data_uri: str | None = Field(default=None, description="The image as data:image/...;base64,")
    k: int = Field(default=5, ge=1, le=MAX_K, description="At most this many hits.")
    engine: str | None = Field(default=None, max_length=100,
                               description="Engine name (GET /v1/engines); default: the "
                               "server's.")
    region: str | list[float] | list[list[float]] | None = Field(
        default=None, description=REGION_ARGUMENT_HELP)

    @model_validator(mode="after")
    def _one_image(self, info: ValidationInfo) -> SearchRequest:
        uploaded = bool(info.context and info.context.get("upload"))
        given = (self.image_url is not None) + (self.data_uri is not None)
        if uploaded and given:
            raise ValueError("an upload carries the image: drop image_url and data_uri")
        if not uploaded and given != 1:
            raise ValueError("give exactly one of image_url and data_uri")
        return self

    @property
    def image(self) -> str:
        return self.image_url if self.image_url is not None else self.data_uri  # type: ignore[return-value]


class AskRequest(SearchRequest):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


def _body_schema(model: type[BaseModel], extra_fields: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI requestBody offering JSON (``model``) or a multipart upload."""
    form = {"type": "object", "required": ["file", *extra_fields.get("required", [])],
            "properties": {"file": {"type": "string", "format": "binary"},
                           "k": {"type": "integer", "minimum": 1, "maximum": MAX_K},
                           "engine": {"type": "string", "maxLength": 100},
                           "region": {"type": "string", "maxLength": 2000,
                                      "description": REGION_ARGUMENT_HELP},
                           **extra_fields.get("properties", {})}}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema(ref_template="#/components/"
                                                                "schemas/{model}")},
        "multipart/form-data": {"schema": form}}}}


async def _parse(request: Request, model: type[SearchRequest], limit: int
                 ) -> tuple[str | bytes, SearchRequest]:
    """(the image, the validated parameters) from a JSON or multipart request."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=8)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ConfigurationError("The multipart body has no 'file' part; send the image "
                                     "as the 'file' field.")
        data = await upload.read(limit + 1)
        fields: dict[str, Any] = {key: value for key, value in form.multi_items()
                                  if key != "file" and isinstance(value, str)}
        if len(fields) != sum(1 for key, _ in form.multi_items() if key != "file"):
            raise ConfigurationError("The multipart body repeats a field or sends a field as a "
                                     "file; send k, engine and question once each, as text.")
        if "k" in fields:
            fields["k"] = _form_int("k", fields["k"])
        params = _validated(model, fields, upload=True)
        return data, params
    if content_type != "application/json":
        raise UnsupportedMediaTypeError(
            f"Unsupported content type {content_type or '(none)'!r}; send application/json "
            "or multipart/form-data.")
    payload = parse_json_body(await request.body())
    if not isinstance(payload, dict):
        raise ConfigurationError("The JSON body must be an object with image_url or data_uri.")
    params = _validated(model, payload)
    return params.image, params


_DIGITS = re.compile(r"[0-9]{1,9}")


def _form_int(name: str, text: str) -> int:
    """A form field that must hold a whole number: its digits, nothing else ("1e3", "true",
    "5.0" and 1,000-digit numbers are refused, as in JSON)."""
    if not _DIGITS.fullmatch(text.strip()):
        raise ConfigurationError(f"Bad request parameters: {name}: expected a whole number "
                                 "(digits only, at most 9 of them).")
    return int(text.strip())


def _validated(model: type[SearchRequest], data: dict[str, Any], *,
               upload: bool = False) -> SearchRequest:
    try:
        return model.model_validate(data, context={"upload": upload})
    except ValidationError as exc:
        problems = validation_problems(exc.errors(include_url=False, include_input=False))
        raise ConfigurationError(f"Bad request parameters: {problems}.") from None


def build_router(service: SearchService) -> APIRouter:
    router = APIRouter()
    limit = service.config.max_bytes

    @router.get("/healthz", summary="Liveness probe (no API key needed)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/v1/engines", response_model=EnginesOutput, responses=_ERRORS,
                summary="The engines this server offers and whether each is configured")
    async def engines() -> EnginesOutput:
        return EnginesOutput.model_validate({"engines": service.engines()})

    @router.post("/v1/search", response_model=SearchOutput, responses=_ERRORS,
                 summary="Reverse image search",
                 openapi_extra=_body_schema(SearchRequest, {}))
    async def search(request: Request) -> SearchOutput:
        image, params = await _parse(request, SearchRequest, limit)
        searched = await service.search(image, k=params.k, engine=params.engine,
                                        region=params.region)
        return search_output(searched.result, max_hits=params.k, regions=searched.regions)

    if service.asker is not None:
        @router.post("/v1/ask", response_model=AskOutput, responses=_ERRORS,
                     summary="Search the image, then ask the configured chat model",
                     openapi_extra=_body_schema(AskRequest, {
                         "required": ["question"],
                         "properties": {"question": {"type": "string", "minLength": 1,
                                                     "maxLength": MAX_QUESTION_CHARS}}}))
        async def ask(request: Request) -> AskOutput:
            image, params = await _parse(request, AskRequest, limit)
            assert isinstance(params, AskRequest)
            answer, result = await service.ask(image, params.question, k=params.k,
                                               engine=params.engine, region=params.region)
            return AskOutput(answer=answer, search=search_output(result, max_hits=params.k))

    return router
