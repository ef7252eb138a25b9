"""Where an evaluation's model calls come from: a backend, looked up by name.

The harness (datasets, runner, resume, Ray, metrics, scoring, the judge's prompt
and cache) is framework-free. Answering an item and asking the judge call a chat
model, so they go through an :class:`EvalBackend`: the default, ``"langchain"``,
is :data:`langchain_rir.evaluation.BACKEND` (the LCEL chain of
:func:`langchain_rir.create_rir_chain`). It is imported by name when a run
starts, the way engines are, so ``import rir.eval`` never loads a framework::

    register_backend("mine", "my_package.eval:BACKEND")
    run_eval(items, "out.jsonl", RunConfig(model="...", backend="mine"))

A backend is any object with the two methods of :class:`EvalBackend`.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rir.errors import ConfigurationError

if TYPE_CHECKING:
    from rir.engines import Engine
    from rir.eval.run_config import RunConfig

__all__ = ["Answer", "Answerer", "EvalBackend", "JudgeCall", "get_backend",
           "register_backend"]

#: ``await judge(system, user)`` -> the judge model's reply text.
JudgeCall = Callable[[str, str], Awaitable[str]]


@dataclass(frozen=True)
class Answer:
    """What answering one item produced (``None``: the backend does not know)."""

    answer: str | None
    best_guess: str | None = None
    documents: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None


class Answerer(Protocol):
    """Answers questions about images with one fixed setup (model, engine, context)."""

    async def aanswer(self, image: str | Path, question: str, *, label: str) -> Answer:
        """Answer one question; raise on failure (the runner records the error)."""
        ...

    async def aclose(self) -> None: ...


class EvalBackend(Protocol):
    """Builds answerers and judges for a model framework."""

    def answerer(self, config: RunConfig, *, model: Any = None,
                 engine: Engine | None = None) -> Answerer:
        """An answerer for ``config``; ``model``/``engine`` are instances overriding it."""
        ...

    def judge(self, model: Any) -> JudgeCall:
        """A judge call for ``model`` (a ``provider:name`` string or a model instance)."""
        ...


_BACKENDS: dict[str, str | EvalBackend] = {"langchain": "langchain_rir.evaluation:BACKEND"}
_INSTALL_HINT = {"langchain": "pip install reverse-image-rag (it brings langchain-core)"}


def register_backend(name: str, backend: str | EvalBackend) -> None:
    """Make ``backend`` (an object, or ``"module:attribute"`` imported on first use)
    available as ``RunConfig(backend=name)``."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"A backend name must be a non-empty string, got {name!r}.")
    _BACKENDS[name.strip()] = backend


def get_backend(name: str) -> EvalBackend:
    """The backend registered as ``name``, imported now if it was given by path."""
    entry = _BACKENDS.get(name)
    if entry is None:
        raise ConfigurationError(f"Unknown evaluation backend {name!r}; registered: "
                                 f"{', '.join(sorted(_BACKENDS))}.")
    if not isinstance(entry, str):
        return entry
    module_name, _, attribute = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = _INSTALL_HINT.get(name, f"install the package that provides {module_name}")
        raise ConfigurationError(
            f"The evaluation backend {name!r} cannot be loaded ({exc}); {hint}."
        ) from None
    backend = getattr(module, attribute)
    _BACKENDS[name] = backend
    return backend
