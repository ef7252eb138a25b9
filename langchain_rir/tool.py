"""``ReverseImageSearchTool``: reverse image search an agent can call.

    >>> from langchain.agents import create_agent
    >>> from langchain_rir import ReverseImageSearchTool
    >>> agent = create_agent("openai:gpt-4o", tools=[ReverseImageSearchTool()])
    >>> agent.invoke({"messages": [HumanMessage(content=[
    ...     {"type": "image", "base64": b64, "mime_type": "image/jpeg"},
    ...     {"type": "text", "text": "Where was this photo taken?"}])]})

Arguments the model fills: ``image_url`` (an http(s) URL or ``data:`` URI),
``max_results`` and ``region`` (optional: a box on the 0-1000 grid of the image, a list
of boxes, or ``"auto"``; the hits come back grouped by region). **Searching the image
the user sent**: the model leaves ``image_url`` empty (or passes ``"user_image"``) and
the tool takes the most recent image from the conversation. Inside a
LangGraph/``create_agent`` agent the conversation is injected from the agent state
(``InjectedState("messages")``), so the model never copies base64 into tool
arguments; elsewhere pass it yourself: ``tool.invoke({"messages": [human_message]})``.

The result is ``content_and_artifact``: compact numbered lines for the model,
and the Documents (with ``thumbnail_url`` in their metadata) as the artifact.
Errors (a bad URL, a blocked or rate-limited engine, no image in the
conversation) come back as an error tool message saying what to do next.

The model writes ``image_url``, so the tool's :class:`rir.InputPolicy` refuses local
paths by default (``InputPolicy.untrusted()``); to let it read images under a folder,
pass ``policy=InputPolicy.untrusted(allowed_folders=["/srv/photos"])``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForToolRun,
    CallbackManagerForToolRun,
)
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool, InjectedToolArg, ToolException
from pydantic import BaseModel, ConfigDict, Field, InstanceOf

from langchain_rir.attachments import latest_image_in_messages
from langchain_rir.retriever import ReverseImageRetriever
from rir._runtime import run_sync
from rir.errors import (
    EngineBlockedError,
    EngineError,
    EngineRateLimitedError,
    EngineTimeoutError,
    InvalidRegionError,
    RIRError,
)
from rir.inputs.images import aload_image
from rir.inputs.policy import InputPolicy
from rir.inputs.region import REGION_ARGUMENT_HELP, tool_regions
from rir.inputs.user_image import USER_IMAGE, no_user_image_message, wants_user_image
from rir.prompting.listing import format_regions_tool_result, format_tool_result

try:  # LangGraph (installed with `langchain`) injects agent state into tools.
    from langgraph.prebuilt import InjectedState

    _MESSAGES_INJECTION: Any = InjectedState("messages")
except ImportError:  # without LangGraph the caller passes `messages` itself
    _MESSAGES_INJECTION = InjectedToolArg

__all__ = ["USER_IMAGE", "ReverseImageSearchInput", "ReverseImageSearchTool"]

MAX_RESULTS_LIMIT = 20


class ReverseImageSearchInput(BaseModel):
    """Arguments of ``reverse_image_search``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    image_url: str | None = Field(
        default=None,
        description=(
            "The image to search: an http(s) URL of the image file, or a data: URI. "
            f"Leave empty (or pass '{USER_IMAGE}') to search the image the user attached "
            "to the conversation."
        ),
    )
    max_results: int = Field(
        default=5, ge=1, le=MAX_RESULTS_LIMIT,
        description=f"How many matching pages to return (1-{MAX_RESULTS_LIMIT}).",
    )
    region: str | list[float] | list[list[float]] | None = Field(
        default=None, description=REGION_ARGUMENT_HELP)
    messages: Annotated[list[Any] | None, _MESSAGES_INJECTION] = Field(
        default=None,
        description="The conversation (injected by the agent runtime, not by the model).",
    )


def _validation_message(error: Exception) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
        for e in getattr(error, "errors", lambda: [])()
    ) or str(error)
    return (f"Invalid arguments for reverse_image_search ({problems}). Pass image_url as an "
            "http(s) image URL or data: URI (or leave it empty for the user's image), "
            f"max_results between 1 and {MAX_RESULTS_LIMIT}, and region (optional) as "
            "'x1,y1,x2,y2' on the 0-1000 grid, a list of such boxes, or 'auto'.")


class ReverseImageSearchTool(BaseTool):
    """Find web pages that show an image: titles, sites, captions and a best guess.

    Args:
        retriever: the :class:`ReverseImageRetriever` doing the search; built from
            ``engine`` (default ``"auto"``) and ``policy`` when not given.
        engine: shortcut for ``ReverseImageRetriever(engine=...)``.
        policy: what the tool accepts as ``image_url`` (:class:`rir.InputPolicy`); default
            ``InputPolicy.untrusted()``: no local files, as the model writes the argument.
            It applies to the user's attached image too (a data: URI or URL).
    """

    name: str = "reverse_image_search"
    description: str = (
        "Reverse image search: find web pages that show the same or a similar image, with "
        "their titles, sites and captions, plus a best guess of what the image shows. Use it "
        "to identify people, places, objects, artworks, products or species in an image, or "
        "to find an image's source. Leave image_url empty to search the image the user sent. "
        "When the question is about part of the image (one photo of a collage or a "
        "screenshot, one object), pass region."
    )
    args_schema: type[BaseModel] = ReverseImageSearchInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool = True
    handle_validation_error: Any = _validation_message

    retriever: ReverseImageRetriever = Field(default=None)  # type: ignore[assignment]
    engine: Any = Field(default="auto", exclude=True)
    policy: InstanceOf[InputPolicy] = Field(default_factory=InputPolicy.untrusted,
                                            exclude=True)

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if self.retriever is None:
            self.retriever = ReverseImageRetriever(engine=self.engine, policy=self.policy)

    def _pick_image(self, image_url: str | None, messages: Sequence[Any] | None) -> Any:
        if not wants_user_image(image_url):
            return (image_url or "").strip()
        image = latest_image_in_messages(
            [m for m in messages or () if isinstance(m, (BaseMessage, dict))])
        if image is None:
            raise ToolException(no_user_image_message("image_url"))
        return image

    async def _search(self, image_url: str | None, max_results: int,
                      messages: Sequence[Any] | None,
                      region: Any = None) -> tuple[str, list[Document]]:
        image = self._pick_image(image_url, messages)
        engine = self.retriever.searcher.engine.name
        try:
            query = await aload_image(image, policy=self.policy)
            regions = tool_regions(region)
            if regions is None:
                found = await self.retriever.asearch(query, k=max_results)
            else:  # boxes are searched on their own; "auto" with the whole image
                found = await self.retriever.asearch(query, k=max_results, regions=regions,
                                                     include_whole=regions == "auto")
        except RIRError as exc:
            raise ToolException(_error_text(exc)) from exc
        if found.regions is not None:
            text = format_regions_tool_result(found.regions, engine=engine,
                                              max_hits=max_results)
        else:
            text = format_tool_result(found.result, engine=engine, max_hits=max_results)
        return text, found.documents

    def _run(
        self,
        image_url: str | None = None,
        max_results: int = 5,
        messages: list[Any] | None = None,
        region: Any = None,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, list[Document]]:
        return run_sync(self._search(image_url, max_results, messages, region))

    async def _arun(
        self,
        image_url: str | None = None,
        max_results: int = 5,
        messages: list[Any] | None = None,
        region: Any = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, list[Document]]:
        return await self._search(image_url, max_results, messages, region)


def _error_text(exc: RIRError) -> str:
    """What went wrong and what the agent can do about it."""
    if isinstance(exc, EngineRateLimitedError):
        hint = "The search engine is rate limiting; do not retry now, answer without it."
    elif isinstance(exc, EngineBlockedError):
        hint = "The search engine refused the request; answer from the image itself."
    elif isinstance(exc, EngineTimeoutError):
        hint = "The search timed out; you may retry once with fewer max_results."
    elif isinstance(exc, EngineError):
        hint = "The search engine failed; answer from the image itself or retry later."
    elif isinstance(exc, InvalidRegionError):
        hint = ("Give region as 'x1,y1,x2,y2' on the 0-1000 grid of the image (left, top, "
                "right, bottom; x1 < x2, y1 < y2), a list of such boxes, or 'auto'.")
    else:
        hint = ("Check image_url (a direct http(s) link to an image file or a data: URI), "
                "or leave it empty to search the image the user sent.")
    return f"reverse_image_search failed: {exc} {hint}"
