"""``ReverseImageQueryEngine``: answer a question about an image with reverse-image-search context.

    >>> from llama_index.core.schema import QueryBundle
    >>> from llama_index_rir import ReverseImageQueryEngine
    >>> engine = ReverseImageQueryEngine(engine="google_lens", context="text")
    >>> response = engine.query(QueryBundle("Who is this?", image_path="photo.jpg"))
    >>> response.response, response.metadata["best_guess"], response.source_nodes

Unlike LlamaIndex's own query engines, this one sends the *query* image: it
searches it, builds the prompt with :func:`rir.prompting.build.abuild_context_prompt` (the
same fenced, untrusted-context prompt the LangChain chain sends) and passes one
``ChatMessage`` with the image as an ``ImageBlock`` plus ``TextBlock``s to any
LlamaIndex LLM that accepts images.

``regions=`` (``"auto"``, or a list of :class:`rir.Region` / pixel boxes) also searches
those parts of the image; the prompt groups the hits by region and the response's
``metadata["parts"]`` holds them. Per query: ``engine.with_regions("auto").query(...)``.

Context modes: ``text`` (titles, sites and captions of the hits), ``screenshot``
(the results page as an image, the paper's method; a rendered results sheet when
the engine took no screenshot), ``thumbnails`` (the top hits as thumbnail + title
pairs) and ``none`` (no search: the baseline for A/B tests).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.base.response.schema import (
    RESPONSE_TYPE,
    AsyncStreamingResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_rir._inputs import is_image_reference
from llama_index_rir.messages import to_chat_messages
from llama_index_rir.retriever import ReverseImageRetriever
from rir._runtime import run_sync
from rir.errors import ConfigurationError
from rir.prompting.build import PromptOptions, abuild_context_prompt
from rir.prompting.spec import PromptSpec

__all__ = ["DEFAULT_QUESTION", "PreparedQuery", "ReverseImageQueryEngine", "default_llm"]

#: Asked when the query string is the image itself (``engine.query("https://…/a.jpg")``).
DEFAULT_QUESTION = "What does this image show?"
DEFAULT_OPENAI_MODEL = "gpt-4o"


def default_llm() -> BaseLLM:
    """``llama_index.llms.openai.OpenAI(model="gpt-4o")``, or a ConfigurationError saying why."""
    try:
        from llama_index.llms.openai import OpenAI
    except ImportError:
        raise ConfigurationError(
            "ReverseImageQueryEngine needs a multimodal LLM: pass llm=... (any LlamaIndex LLM "
            "that accepts ImageBlocks), or install the default OpenAI one with: "
            "pip install 'reverse-image-rag[openai]'."
        ) from None
    if not os.environ.get("OPENAI_API_KEY"):
        raise ConfigurationError(
            f"The default LLM is OpenAI {DEFAULT_OPENAI_MODEL} and OPENAI_API_KEY is not set: "
            "set it, or pass llm=OpenAI(model='gpt-4o', api_key=...) or another multimodal LLM."
        )
    return OpenAI(model=DEFAULT_OPENAI_MODEL)


def _resolve_llm(llm: Any) -> Any:
    if llm is None:
        return default_llm()
    if callable(getattr(llm, "chat", None)) and callable(getattr(llm, "achat", None)):
        return llm  # a BaseLLM, or a legacy MultiModalLLM: both chat with ImageBlocks
    raise ConfigurationError(
        f"llm must be a LlamaIndex LLM (with chat/achat), got {type(llm).__name__}."
    )


@dataclass(frozen=True)
class PreparedQuery:
    """Everything sent to the LLM for one query, before it is sent."""

    prompt: PromptSpec
    messages: list[ChatMessage]
    source_nodes: list[NodeWithScore]
    metadata: dict[str, Any]


class ReverseImageQueryEngine(BaseQueryEngine):
    """Reverse-image RAG over one query image, for any LlamaIndex multimodal LLM.

    Args:
        retriever: a :class:`ReverseImageRetriever`; built from ``**retriever_options``
            (``engine``, ``k``, ``extract``, ``cache``, ...) when omitted.
        llm: the LLM; default ``OpenAI(model="gpt-4o")`` (needs ``OPENAI_API_KEY``).
        context: ``"text"``, ``"screenshot"``, ``"thumbnails"`` or ``"none"``.
        max_hits: hits placed in the context. ``context`` and ``max_hits`` override
            ``prompt``'s (defaults ``"text"`` and 10).
        prompt: the other prompt settings (:class:`rir.prompting.build.PromptOptions`:
            ``max_context_chars``, ``max_thumbnails``, ``render_missing_screenshot``); they
            may also be passed as keywords. ``render_missing_screenshot=False`` makes
            ``screenshot`` mode raise ConfigurationError when the engine took none.
        streaming: return a ``StreamingResponse`` (``AsyncStreamingResponse`` from
            ``aquery``) whose ``response_gen`` yields the answer as it is generated.
        default_question: asked when the query string is the image URL itself.
        regions: search these parts of the image as well as the whole: ``"auto"`` or a list
            of :class:`rir.Region` / pixel boxes (``with_regions`` changes it per query);
            ``attach_crops=True`` (a prompt setting) also sends each region's crop.
    """

    def __init__(
        self,
        retriever: ReverseImageRetriever | None = None,
        llm: Any = None,
        *,
        context: str | None = None,
        max_hits: int | None = None,
        prompt: PromptOptions | None = None,
        streaming: bool = False,
        default_question: str = DEFAULT_QUESTION,
        callback_manager: CallbackManager | None = None,
        regions: Any = None,
        **retriever_options: Any,
    ) -> None:
        self.prompt = PromptOptions.take_from(prompt, retriever_options).updated(
            {"context": context, "max_hits": max_hits})
        if retriever is None:
            retriever = ReverseImageRetriever(**retriever_options)
        elif retriever_options:
            raise ConfigurationError(
                f"Options {sorted(retriever_options)} were given with a retriever; "
                "configure the retriever instead."
            )
        if not isinstance(retriever, ReverseImageRetriever):
            raise ConfigurationError(
                f"retriever must be a ReverseImageRetriever, got {type(retriever).__name__}."
            )
        self.retriever = retriever
        self.llm = _resolve_llm(llm)
        self.streaming = streaming
        self.default_question = default_question
        self.regions = regions
        super().__init__(callback_manager=callback_manager)

    def with_regions(self, regions: Any) -> ReverseImageQueryEngine:
        """The same engine (same retriever, LLM and settings) searching ``regions`` of each
        image (``None``: the whole image only), for one query or a batch of them."""
        return ReverseImageQueryEngine(
            self.retriever, self.llm, prompt=self.prompt, streaming=self.streaming,
            default_question=self.default_question, callback_manager=self.callback_manager,
            regions=regions)

    @property
    def context(self) -> str:
        """The context mode (``self.prompt.context``)."""
        return self.prompt.context

    # -- building the messages ----------------------------------------------------------------

    def _question(self, bundle: QueryBundle) -> str:
        question = (bundle.query_str or "").strip()
        if bundle.image_path is None and is_image_reference(question):
            question = self.default_question
        if not question:
            raise ConfigurationError(
                "The question is empty; use QueryBundle('your question', image_path=...)."
            )
        return question

    async def aprepare(self, query: QueryBundle | str) -> PreparedQuery:
        """Search and build the messages without calling the LLM (for inspection, dry runs)."""
        bundle = QueryBundle(query) if isinstance(query, str) else query
        question = self._question(bundle)
        image = await self.retriever.aload_query_image(bundle)
        retrieval = None
        if self.prompt.context != "none":
            retrieval = await self.retriever.asearch_image(image, regions=self.regions)
        result = retrieval.result if retrieval is not None else None
        regions = retrieval.regions if retrieval is not None else None
        prompt = await abuild_context_prompt(
            question, image=image, result=result, options=self.prompt,
            allow_private_urls=self.retriever.policy.allow_private_urls, regions=regions)
        system_role = getattr(self.llm.metadata, "system_role", MessageRole.SYSTEM)
        metadata = {
            "best_guess": result.best_guess if result is not None else None,
            "engine": result.engine if result is not None else None,
            "context_mode": self.prompt.context,
            "context_text": prompt.context_text,
            "context_chars": prompt.context_chars,
            "images_sent": len(prompt.images),
            "query_image_sha256": image.sha256,
            "from_cache": result.from_cache if result is not None else False,
            "parts": regions.parts if regions is not None else None,
        }
        return PreparedQuery(prompt=prompt, messages=to_chat_messages(prompt,
                                                                      system_role=system_role),
                             source_nodes=retrieval.nodes if retrieval is not None else [],
                             metadata=metadata)

    def prepare(self, query: QueryBundle | str) -> PreparedQuery:
        """Synchronous twin of :meth:`aprepare`."""
        return run_sync(self.aprepare(query))

    # -- BaseQueryEngine ----------------------------------------------------------------------

    # Callback events are emitted here, in the caller's context (the sync twin searches
    # on a background loop, where LlamaIndex's trace stack would not see its parent):
    # QUERY around the whole answer, RETRIEVE around the search and the prompt built
    # from it, as RetrieverQueryEngine does, so tracing handlers show the hits.

    def _query(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        with self.callback_manager.event(
                CBEventType.QUERY, payload={EventPayload.QUERY_STR: query_bundle.query_str},
        ) as query_event:
            with self._retrieve_event(query_bundle) as on_end:
                prepared = on_end(self.prepare(query_bundle))
            if self.streaming:
                stream = _start_stream(self.llm.stream_chat, prepared.messages)
                response: RESPONSE_TYPE = StreamingResponse(
                    response_gen=_deltas(stream), source_nodes=prepared.source_nodes,
                    metadata=prepared.metadata)
            else:
                answer = self.llm.chat(prepared.messages)
                response = Response(response=_text_of(answer),
                                    source_nodes=prepared.source_nodes,
                                    metadata=prepared.metadata)
            query_event.on_end(payload={EventPayload.RESPONSE: response})
        return response

    async def _aquery(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        with self.callback_manager.event(
                CBEventType.QUERY, payload={EventPayload.QUERY_STR: query_bundle.query_str},
        ) as query_event:
            with self._retrieve_event(query_bundle) as on_end:
                prepared = on_end(await self.aprepare(query_bundle))
            if self.streaming:
                try:
                    stream = await self.llm.astream_chat(prepared.messages)
                except NotImplementedError:
                    raise _no_streaming(self.llm) from None
                response: RESPONSE_TYPE = AsyncStreamingResponse(
                    response_gen=_adeltas(stream), source_nodes=prepared.source_nodes,
                    metadata=prepared.metadata)
            else:
                answer = await self.llm.achat(prepared.messages)
                response = Response(response=_text_of(answer),
                                    source_nodes=prepared.source_nodes,
                                    metadata=prepared.metadata)
            query_event.on_end(payload={EventPayload.RESPONSE: response})
        return response

    @contextmanager
    def _retrieve_event(self, bundle: QueryBundle) -> Iterator[
            Callable[[PreparedQuery], PreparedQuery]]:
        """A RETRIEVE event whose end carries the prepared query's source nodes."""
        if self.context == "none":  # no search at all: nothing to report
            yield lambda prepared: prepared
            return
        with self.callback_manager.event(
                CBEventType.RETRIEVE, payload={EventPayload.QUERY_STR: bundle.query_str},
        ) as event:
            def on_end(prepared: PreparedQuery) -> PreparedQuery:
                event.on_end(payload={EventPayload.NODES: prepared.source_nodes})
                return prepared

            yield on_end

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.retriever.retrieve(query_bundle)

    async def aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await self.retriever.aretrieve(query_bundle)

    def _get_prompt_modules(self) -> PromptMixinType:
        # The prompt texts live in rir.prompting, shared with the LangChain side.
        return {}

    def __repr__(self) -> str:
        return (f"ReverseImageQueryEngine(retriever={self.retriever!r}, "
                f"llm={type(self.llm).__name__}, context={self.context!r})")


def _text_of(response: ChatResponse) -> str:
    return response.message.content or ""


def _no_streaming(llm: Any) -> ConfigurationError:
    return ConfigurationError(
        f"{type(llm).__name__} does not support streaming chat; use streaming=False."
    )


def _start_stream(stream_chat: Any, messages: Sequence[ChatMessage]) -> Any:
    try:
        return stream_chat(messages)
    except NotImplementedError:
        raise _no_streaming(getattr(stream_chat, "__self__", stream_chat)) from None


def _deltas(stream: Any) -> Generator[str, None, None]:
    for chunk in stream:
        yield chunk.delta or ""


async def _adeltas(stream: Any) -> AsyncGenerator[str, None]:
    async for chunk in stream:
        yield chunk.delta or ""
