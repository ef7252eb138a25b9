"""How an evaluation run answers every item: :class:`RunConfig`.

It says how to answer (model, engine, context mode, k, cache, rate limit, backend);
it is plain data, so it travels to Ray workers. The evaluation backend
(:mod:`rir.eval.model_backend`) builds its answerers from it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rir.engines.base import check_k
from rir.errors import ConfigurationError
from rir.prompting.spec import check_context_mode

__all__ = ["RunConfig"]


@dataclass(frozen=True)
class RunConfig:
    """How every item is answered.

    Attributes:
        model: ``"provider:name"`` (e.g. ``openai:gpt-4o``) or a fake
            (``fake:parrot``, ``fake:best-guess``; see :mod:`langchain_rir.testing`).
        model_options: keyword arguments for the chat model (``temperature``, ``delay_s``).
        engine / engine_options: the reverse image search engine (``local`` needs ``path``).
        context: ``text``, ``screenshot``, ``thumbnails`` or ``none`` (the baseline).
        k: hits retrieved and shown to the model.
        cache: ``True`` (default cache file), ``False``, or a cache file path.
        rate_limit: engine searches per second at most, per engine (``None`` = no limit).
        timeout_s: deadline per item; a slower item is recorded as failed.
        allow_private_urls: let image URLs point at private or loopback addresses.
        backend: where the model calls come from (:func:`rir.eval.model_backend.register_backend`).
        regions: ``"auto"`` to search the parts of each image worth searching as well as the
            whole (the prompt groups the hits by region); ``None`` (default): the whole
            image only. Runs with and without regions compare with ``rir eval compare``.
    """

    model: str
    model_options: dict[str, Any] = field(default_factory=dict)
    engine: str = "auto"
    engine_options: dict[str, Any] = field(default_factory=dict)
    context: str = "text"
    k: int = 10
    cache: bool | str = True
    rate_limit: float | None = None
    timeout_s: float | None = 300.0
    allow_private_urls: bool = False
    backend: str = "langchain"
    regions: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigurationError(f"model must be a 'provider:name' string such as "
                                     f"openai:gpt-4o or fake:parrot, got {self.model!r}.")
        check_context_mode(self.context)
        check_k(self.k)
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise ConfigurationError(f"rate_limit must be > 0 searches per second, got "
                                     f"{self.rate_limit!r}.")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ConfigurationError(f"timeout_s must be > 0 seconds, got {self.timeout_s!r}.")
        if self.regions not in (None, "auto"):
            raise ConfigurationError(f"regions must be 'auto' or None (the whole image only), "
                                     f"got {self.regions!r}.")

    @property
    def regions_label(self) -> str | None:
        """The regions setting recorded with each item (``None`` when nothing is retrieved)."""
        return None if self.context == "none" else self.regions

    @property
    def engine_label(self) -> str | None:
        """The engine name recorded with each item (``None`` when nothing is retrieved)."""
        return None if self.context == "none" else self.engine

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
