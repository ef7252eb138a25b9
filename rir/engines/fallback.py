"""``FallbackEngine``: engines tried in order, so that one blocked or failing engine does not
take an application down.

    >>> from rir.engines import get_engine
    >>> chain = get_engine("fallback", engines=["serpapi", "cloud_vision", "google_lens"])

It answers with the first engine that succeeds. An engine that cannot be built here (a
missing key or extra) is skipped; engine failures (blocked, rate-limited after retries,
timeouts, bad keys, provider errors) move on to the next engine; input errors (an
invalid image) do not. ``result.failures`` lists the engines that failed and
why, ``result.metadata`` names the engine that answered (``answered_by``) and those not
tried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rir.engines.composite import CompositeEngine, EngineSpec, engine_failure, failure_summary
from rir.engines.http.secrets import protected_logger, redact_text
from rir.errors import AllEnginesFailedError, EngineError, InvalidImageError
from rir.inputs.images import QueryImage
from rir.results.models import EngineFailure, SearchResult

__all__ = ["AllEnginesFailedError", "FallbackEngine"]

logger = protected_logger(__name__)


class FallbackEngine(CompositeEngine):
    """Try ``engines`` in order; answer with the first that succeeds.

    Args:
        engines: engine names, ``(name, options)`` pairs or :class:`Engine` instances.
        on_empty: also move on when an engine answers with no hits.
        timeout_s: give each engine at most this long (then count it as timed out).
    """

    name = "fallback"

    def __init__(self, engines: Sequence[EngineSpec], *, on_empty: bool = False,
                 timeout_s: float | None = None) -> None:
        super().__init__(engines, timeout_s=timeout_s, skip_unavailable=True)
        self.on_empty = bool(on_empty)
        for failure in self.unavailable:
            logger.info("fallback: skipping %s (%s)", failure.engine, failure.message)

    def cache_key_options(self) -> Mapping[str, Any]:
        return {**super().cache_key_options(), "on_empty": self.on_empty}

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        failures: list[EngineFailure] = list(self.unavailable)
        last = len(self.engines) - 1
        for index, engine in enumerate(self.engines):
            try:
                result = await self._run(engine, image, k)
            except InvalidImageError:
                raise  # the input is wrong: another engine will not fix it
            except EngineError as exc:
                failures.append(engine_failure(engine, exc))
                logger.info("fallback: %s failed (%s: %s)%s", engine.name, type(exc).__name__,
                            redact_text(str(exc)), "; trying the next engine" if index < last
                            else "")
                continue
            if self.on_empty and not result.hits and index < last:
                failures.append(EngineFailure(engine=engine.name, error_type="NoResults",
                                              message=f"{engine.name} returned no hits."))
                logger.info("fallback: %s returned no hits; trying the next engine", engine.name)
                continue
            metadata = {
                **result.metadata,
                "answered_by": engine.name,
                "fallback": {
                    "tried": [e.name for e in self.engines[: index + 1]],
                    "not_tried": [e.name for e in self.engines[index + 1:]],
                    **({"unavailable": [f.engine for f in self.unavailable]}
                       if self.unavailable else {}),
                },
            }
            return result.model_copy(update={"failures": [*failures, *result.failures],
                                             "metadata": metadata})
        raise AllEnginesFailedError(
            f"All {len(failures)} engines of the fallback chain failed: "
            f"{failure_summary(failures)}", engine=self.name, failures=failures,
        )
