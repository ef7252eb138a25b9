"""The evaluation harness's LangChain backend: answers with the LCEL chain, judges with a model.

:data:`BACKEND` is what ``RunConfig(backend="langchain")`` (the default) loads
by name (see :mod:`rir.eval.model_backend`). Each item goes through
:func:`langchain_rir.create_rir_chain` with the run's context mode and ``k``;
token counts come from the model's ``usage_metadata``. Model names are
``provider:name`` (:func:`langchain_rir.resolve_chat_model`) or the offline
fakes of :mod:`langchain_rir.testing` (``fake:parrot``, ``fake:best-guess``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage, SystemMessage

from langchain_rir.chain import create_rir_chain
from langchain_rir.chat_models import resolve_chat_model
from langchain_rir.retriever import ReverseImageRetriever
from rir.engines import Engine
from rir.eval.model_backend import Answer, JudgeCall
from rir.eval.run_config import RunConfig

__all__ = ["BACKEND", "ChainAnswerer", "LangChainBackend", "resolve_eval_model"]


def resolve_eval_model(model: Any, options: dict[str, Any]) -> Any:
    """A chat model from a name (fakes included) or an instance as is."""
    if not isinstance(model, str):
        return model
    return resolve_chat_model(model, **options)


class _UsageRecorder(BaseCallbackHandler):
    """Sums ``usage_metadata`` of every chat model call made for one item."""

    def __init__(self) -> None:
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
                if usage:
                    self.tokens_in = (self.tokens_in or 0) + int(usage.get("input_tokens", 0))
                    self.tokens_out = (self.tokens_out or 0) + int(usage.get("output_tokens", 0))


class ChainAnswerer:
    """One chain (model + retriever + context mode) answering every item of a run."""

    def __init__(self, config: RunConfig, *, model: Any = None,
                 engine: Engine | None = None) -> None:
        llm = resolve_eval_model(model if model is not None else config.model,
                                 config.model_options)
        # With context "none" the chain only loads the image: the retriever never searches.
        self.retriever = ReverseImageRetriever(
            engine=engine if engine is not None else config.engine, k=config.k,
            cache=config.cache if engine is not None else False, allow_local_files=True,
            allow_private_urls=config.allow_private_urls)
        self.chain = create_rir_chain(llm, self.retriever, context=config.context,
                                      k=config.k, regions=config.regions).with_sources()

    async def aanswer(self, image: str | Path, question: str, *, label: str) -> Answer:
        usage = _UsageRecorder()
        output = await self.chain.ainvoke({"image": image, "question": question},
                                          config={"callbacks": [usage], "run_name": label})
        answer, documents = output.get("answer"), output.get("documents")
        return Answer(answer=answer if isinstance(answer, str) else None,
                      best_guess=output.get("best_guess"),
                      documents=len(documents) if isinstance(documents, list) else None,
                      tokens_in=usage.tokens_in, tokens_out=usage.tokens_out)

    async def aclose(self) -> None:
        """The engine belongs to the caller (the item runner closes it)."""


def _reply_text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) if isinstance(b, dict) else str(b)
                        for b in content)
    return str(content)


class LangChainBackend:
    """:class:`rir.eval.model_backend.EvalBackend` on LangChain chat models."""

    def answerer(self, config: RunConfig, *, model: Any = None,
                 engine: Engine | None = None) -> ChainAnswerer:
        return ChainAnswerer(config, model=model, engine=engine)

    def judge(self, model: Any) -> JudgeCall:
        llm = resolve_eval_model(model, {})

        async def ask(system: str, user: str) -> str:
            return _reply_text(await llm.ainvoke([SystemMessage(system), HumanMessage(user)]))

        return ask


BACKEND = LangChainBackend()
