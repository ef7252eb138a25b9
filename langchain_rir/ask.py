"""``ask``: reverse image search + a multimodal model in one call.

    >>> from langchain_rir import ask
    >>> ask("photo.jpg", "Who is this, and what are they known for?")
    'This is Grace Hopper, ...'
    >>> ask("https://example.org/snake.jpg", "Which species is this?", context="screenshot")

The successor of the prototype's ``RIR_API.query_with_image(image_url, query_text,
show_result=..., headless=...)``, for URLs and local files alike. The chat model
is resolved before anything is searched, so a missing API key fails at once with
one line saying what to set.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from langchain_rir.chain import create_rir_chain
from langchain_rir.chat_models import DEFAULT_MODEL, resolve_chat_model
from langchain_rir.retriever import ReverseImageRetriever
from rir._runtime import run_sync
from rir.engines import display_options
from rir.prompting.spec import check_context_mode

__all__ = ["aask", "ask"]


def _build(
    model: str | BaseChatModel,
    engine: Any,
    context: str,
    headless: bool,
    k: int,
    engine_options: dict[str, Any] | None,
    model_options: dict[str, Any] | None,
    retriever_options: dict[str, Any],
) -> tuple[Any, ReverseImageRetriever]:
    check_context_mode(context)
    llm = resolve_chat_model(model, **dict(model_options or {}))  # fail fast: before searching
    retriever = ReverseImageRetriever(
        engine=engine, k=k, allow_local_files=True,
        engine_options=display_options(engine, headless=headless,
                                       screenshot=context == "screenshot",
                                       options=engine_options)
        if isinstance(engine, str) else dict(engine_options or {}),
        **retriever_options,
    )
    return create_rir_chain(llm, retriever, context=context, k=k), retriever


def ask(
    image: Any,
    question: str,
    *,
    model: str | BaseChatModel = DEFAULT_MODEL,
    engine: Any = "auto",
    context: str = "text",
    show_result: bool = False,
    headless: bool = True,
    k: int = 10,
    return_sources: bool = False,
    engine_options: dict[str, Any] | None = None,
    model_options: dict[str, Any] | None = None,
    **retriever_options: Any,
) -> Any:
    """Answer ``question`` about ``image`` with reverse-image-search context.

    Args:
        image: a local path, http(s) URL, data URI, bytes or PIL image.
        model: ``"provider:model"`` (default ``openai:gpt-4o``) or a chat model instance.
        engine: engine name or instance (default ``auto``).
        context: ``"text"``, ``"screenshot"``, ``"thumbnails"`` or ``"none"``.
        show_result: draw the query beside the top hits (a PNG when there is no display).
        headless: browser engines only: False shows the browser window.
        return_sources: return ``{"answer", "documents", "best_guess", "screenshot",
            "context_size", "parts"}`` instead of the answer string (``parts``: the searched
            regions of a region search, else ``None``).
        engine_options / model_options: passed to the engine / the chat model.
        **retriever_options: e.g. ``enrich_captions=3``, ``cache=False``, ``deny_domains=[...]``.
    """
    return run_sync(aask(image, question, model=model, engine=engine, context=context,
                         show_result=show_result, headless=headless, k=k,
                         return_sources=return_sources, engine_options=engine_options,
                         model_options=model_options, **retriever_options))


async def aask(
    image: Any,
    question: str,
    *,
    model: str | BaseChatModel = DEFAULT_MODEL,
    engine: Any = "auto",
    context: str = "text",
    show_result: bool = False,
    headless: bool = True,
    k: int = 10,
    return_sources: bool = False,
    engine_options: dict[str, Any] | None = None,
    model_options: dict[str, Any] | None = None,
    **retriever_options: Any,
) -> Any:
    """Async twin of :func:`ask`."""
    chain, retriever = _build(model, engine, context, headless, k, engine_options,
                              model_options, retriever_options)
    if return_sources:
        chain = chain.with_sources()
    try:
        return await chain.ainvoke({"image": image, "question": question,
                                    "search": {"show_result": show_result}})
    finally:
        if isinstance(engine, str):  # an engine instance belongs to the caller
            await retriever.aclose()
