"""``create_rir_chain``: reverse image search + a multimodal chat model, as one LCEL Runnable.

    >>> from langchain_rir import create_rir_chain
    >>> chain = create_rir_chain("openai:gpt-4o", context="text", k=10)
    >>> chain.invoke({"image": "https://example.org/photo.jpg", "question": "Who is this?"})
    'This is Grace Hopper, ...'
    >>> chain.with_sources().invoke({...})
    {'answer': ..., 'documents': [...], 'best_guess': ..., 'screenshot': ..., 'context_size': ...}

The input is ``{"image": ..., "question": ...}`` plus optional per-call ``"context"``
(mode), ``"k"``, ``"regions"`` (``"auto"`` or a list of :class:`rir.Region` / pixel boxes:
search those parts too, the prompt groups the hits by region) and ``"search"`` (a dict of
retriever options such as ``{"refresh": True, "deny_domains": [...]}``). ``image`` may be
an http(s) URL, a ``data:`` URI, a local path (``str`` or ``Path``), bytes, a PIL image or a
:class:`rir.QueryImage`, as the retriever's :class:`rir.InputPolicy` allows (default:
local paths read; a chain served to clients takes ``policy=InputPolicy.untrusted()``).
The prompt comes from :mod:`rir.prompting.build` / :mod:`rir.prompting`, the same words
the LlamaIndex side sends; the query image always travels inline as base64.

``stream``/``astream`` stream the answer; ``batch``/``abatch`` take
``config={"max_concurrency": n}`` and ``return_exceptions=True`` to keep going past
a failing image.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnableParallel,
    RunnableSerializable,
)
from pydantic import ConfigDict
from typing_extensions import TypedDict

from langchain_rir.chat_models import resolve_chat_model
from langchain_rir.messages import to_langchain_messages
from langchain_rir.retriever import ReverseImageRetriever
from rir._runtime import run_sync
from rir.engines import check_k
from rir.errors import ConfigurationError
from rir.inputs.images import QueryImage
from rir.inputs.policy import InputPolicy
from rir.prompting.build import PromptOptions, abuild_context_prompt
from rir.prompting.cost import measure_prompt
from rir.prompting.spec import PromptSpec
from rir.results.models import SearchResult
from rir.results.region_parts import RegionPart, RegionsResult

__all__ = ["PreparedPrompt", "RIRChain", "RIRChainInput", "aprepare_prompt", "create_rir_chain"]

SCREENSHOT_LABEL = "reverse image search results screenshot"


class RIRChainInput(TypedDict, total=False):
    """What the chain takes: ``image`` and ``question`` are required."""

    image: Any
    question: str
    context: str
    k: int
    regions: Any
    search: dict[str, Any]


class RIRChain(RunnableSerializable[dict, Any]):
    """The Runnable :func:`create_rir_chain` returns: an LCEL pipeline plus ``with_sources``.

    Every Runnable method (invoke, stream, batch and their async twins) runs the
    wrapped pipeline, so callbacks, tracing and ``max_concurrency`` work as usual.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pipeline: Runnable
    sources_pipeline: Runnable | None = None

    def with_sources(self) -> RIRChain:
        """The same chain returning ``{"answer", "documents", "best_guess", "screenshot",
        "context_size", "parts"}`` instead of the answer string (``parts``: the searched
        regions, :class:`rir.RegionPart` objects, for a region search; else ``None``)."""
        if self.sources_pipeline is None:
            return self
        return RIRChain(pipeline=self.sources_pipeline, name=self.name)

    @property
    def InputType(self) -> type:
        return RIRChainInput

    @property
    def OutputType(self) -> Any:
        return self.pipeline.OutputType

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.pipeline.invoke(input, config, **kwargs)

    async def ainvoke(self, input: dict, config: RunnableConfig | None = None,
                      **kwargs: Any) -> Any:
        return await self.pipeline.ainvoke(input, config, **kwargs)

    def stream(self, input: dict, config: RunnableConfig | None = None,
               **kwargs: Any) -> Iterator[Any]:
        yield from self.pipeline.stream(input, config, **kwargs)

    async def astream(self, input: dict, config: RunnableConfig | None = None,
                      **kwargs: Any) -> AsyncIterator[Any]:
        async for chunk in self.pipeline.astream(input, config, **kwargs):
            yield chunk

    def batch(self, inputs: list[dict], config: RunnableConfig | list[RunnableConfig] | None = None,
              *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        return self.pipeline.batch(inputs, config, return_exceptions=return_exceptions, **kwargs)

    async def abatch(self, inputs: list[dict],
                     config: RunnableConfig | list[RunnableConfig] | None = None,
                     *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        return await self.pipeline.abatch(inputs, config, return_exceptions=return_exceptions,
                                          **kwargs)


@dataclass(frozen=True)
class PreparedPrompt:
    """Everything retrieved for one question, and the prompt built from it."""

    spec: PromptSpec
    image: QueryImage
    result: SearchResult | None
    documents: list[Document]
    screenshot: bytes | None
    regions: RegionsResult | None = None

    @property
    def parts(self) -> list[RegionPart] | None:
        """The searched regions of a region search (``None`` otherwise)."""
        return self.regions.parts if self.regions is not None else None


async def aprepare_prompt(
    retriever: ReverseImageRetriever,
    image: Any,
    question: str,
    *,
    context: str | None = None,
    k: int | None = None,
    search_options: dict[str, Any] | None = None,
    prompt: PromptOptions | None = None,
    regions: Any = None,
) -> PreparedPrompt:
    """Search ``image`` (unless ``context="none"``) and build the prompt for ``question``.

    The chain's first step; also what ``rir ask --dry-run`` prints. ``context`` and ``k``
    override ``prompt`` (:class:`rir.prompting.build.PromptOptions`; ``k`` is its ``max_hits``:
    the hits retrieved and shown). ``regions``: ``"auto"`` or regions to search as well as
    the whole image (:meth:`rir.ReverseImageSearch.asearch_regions`).
    """
    options = (prompt or PromptOptions()).updated({"context": context, "max_hits": k})
    mode, k = options.context, check_k(options.max_hits)
    found_regions = None
    if mode == "none":
        query, result, documents = await retriever.aload(image), None, []
    else:
        search = dict(search_options or {})
        if regions is not None:
            search["regions"] = regions
        found = await retriever.asearch(image, k=k, **search)
        query, result, documents = found.image, found.result, found.documents
        found_regions = found.regions
    spec = await abuild_context_prompt(question, image=query, result=result, options=options,
                                       allow_private_urls=retriever.policy.allow_private_urls,
                                       regions=found_regions)
    screenshot = next((p.data for p in spec.images if p.label == SCREENSHOT_LABEL),
                      result.screenshot if result is not None else None)
    return PreparedPrompt(spec, query, result, documents, screenshot, found_regions)


class _PlainTextParser(StrOutputParser):
    """The answer as a plain ``str`` (LangChain's parser yields a ``str`` subclass)."""

    def parse(self, text: str) -> str:
        return str(text)


def _model_name(llm: Runnable) -> str | None:
    for attribute in ("model_name", "model"):
        try:
            value = getattr(llm, attribute, None)
        except AttributeError:
            value = None
        if isinstance(value, str) and value:
            return value
    return None


def create_rir_chain(
    llm: BaseChatModel | Runnable | str,
    retriever: ReverseImageRetriever | None = None,
    *,
    context: str | None = None,
    k: int | None = None,
    prompt: PromptOptions | None = None,
    policy: InputPolicy | None = None,
    allow_local_files: bool | None = None,
    return_sources: bool = False,
    engine: Any = "auto",
    regions: Any = None,
    **retriever_options: Any,
) -> RIRChain:
    """Build the reverse-image-RAG chain.

    Args:
        llm: a chat model that accepts images (``ChatOpenAI``, ``ChatAnthropic``,
            ``ChatOllama`` with a vision model, ...), any Runnable taking messages
            (``model.bind(temperature=0)``), or a ``"provider:model"`` name.
        retriever: the :class:`ReverseImageRetriever`; built from ``engine`` and
            ``retriever_options`` (e.g. ``enrich_captions=3``, ``cache=False``) when omitted.
        context: ``"text"``, ``"screenshot"``, ``"thumbnails"`` or ``"none"`` (the
            baseline without retrieval); overridable per call with ``{"context": ...}``.
        k: how many hits to retrieve and show the model; per call with ``{"k": ...}``.
            ``context`` and ``k`` override ``prompt``'s (defaults ``"text"`` and 10).
        prompt: the other prompt settings (:class:`rir.prompting.build.PromptOptions`:
            ``max_context_chars``, ``max_thumbnails``, ``render_missing_screenshot``,
            ``attach_crops``); they may also be passed as keywords
            (``create_rir_chain(llm, max_thumbnails=3)``).
        policy: what the chain accepts as ``image`` (:class:`rir.InputPolicy`, given to the
            retriever it builds); default ``InputPolicy()``: local paths are read. Pass
            ``InputPolicy.untrusted()`` when the inputs come from clients (a served chain).
        allow_local_files: overrides the policy's setting of that name.
        return_sources: return the dict of :meth:`RIRChain.with_sources` by default.
        regions: search these parts of every image as well as the whole image: ``"auto"``
            (the photos inside a screenshot, page or collage) or a list of
            :class:`rir.Region` / pixel boxes; per call with ``{"regions": ...}`` (``None``
            there searches the whole image only). The prompt groups the hits by region;
            ``attach_crops=True`` also sends each region's crop.
    """
    options = PromptOptions.take_from(prompt, retriever_options).updated(
        {"context": context, "max_hits": None if k is None else check_k(k)})
    k = options.max_hits
    if isinstance(llm, str):
        model: Runnable = resolve_chat_model(llm)
    elif isinstance(llm, Runnable):
        model = llm
    else:
        raise ConfigurationError(
            f"llm must be a LangChain chat model, a Runnable or a 'provider:model' name, got "
            f"{type(llm).__name__}."
        )
    if retriever is None:
        retriever = ReverseImageRetriever(engine=engine, k=k, policy=policy,
                                          allow_local_files=allow_local_files,
                                          **retriever_options)
    elif not isinstance(retriever, ReverseImageRetriever):
        raise ConfigurationError(
            f"retriever must be a langchain_rir.ReverseImageRetriever (it needs the search "
            f"result, not only Documents), got {type(retriever).__name__}."
        )
    else:
        given = sorted(retriever_options) + (["engine"] if engine != "auto" else []) + \
            [name for name, value in (("policy", policy), ("allow_local_files",
                                                           allow_local_files))
             if value is not None]
        if given:
            raise ConfigurationError(
                f"Options {given} were given with a retriever instance; configure the "
                "retriever instead (ReverseImageRetriever(engine=..., policy=...))."
            )
    model_name = _model_name(model)

    async def aprepare(inputs: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(inputs, dict):
            raise ConfigurationError(
                f"The chain takes a dict {{'image': ..., 'question': ...}}, got "
                f"{type(inputs).__name__}."
            )
        missing = [key for key in ("image", "question") if inputs.get(key) in (None, "")]
        if missing:
            raise ConfigurationError(
                f"The chain input is missing {' and '.join(repr(m) for m in missing)}; pass "
                "{'image': <URL, data URI, path, bytes or PIL image>, 'question': '...'}."
            )
        prepared = await aprepare_prompt(
            retriever, inputs["image"], str(inputs["question"]), context=inputs.get("context"),
            k=inputs.get("k"), search_options=inputs.get("search"), prompt=options,
            regions=inputs.get("regions", regions))
        return {
            "messages": to_langchain_messages(prepared.spec),
            "documents": prepared.documents,
            "best_guess": prepared.result.best_guess if prepared.result is not None else None,
            "screenshot": prepared.screenshot,
            "context_size": measure_prompt(prepared.spec, model_name),
            "parts": prepared.parts,
        }

    def prepare(inputs: dict[str, Any]) -> dict[str, Any]:
        return run_sync(aprepare(inputs))

    context_step = RunnableLambda(prepare, afunc=aprepare, name="reverse_image_context")
    answer = itemgetter("messages") | model | _PlainTextParser()
    pipeline = (context_step | answer).with_config(run_name="rir_chain")
    sources = (context_step | RunnableParallel(
        answer=answer,
        documents=itemgetter("documents"),
        best_guess=itemgetter("best_guess"),
        screenshot=itemgetter("screenshot"),
        context_size=itemgetter("context_size"),
        parts=itemgetter("parts"),
    )).with_config(run_name="rir_chain_with_sources")
    if return_sources:
        return RIRChain(pipeline=sources, name="rir_chain_with_sources")
    return RIRChain(pipeline=pipeline, sources_pipeline=sources, name="rir_chain")

