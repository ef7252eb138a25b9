"""An engine that waits until the test lets it answer: for saturation and deadline tests."""

from __future__ import annotations

import asyncio
import threading

from rir.engines import Engine, register_engine
from rir.images import QueryImage
from rir.models import SearchHit, SearchResult

GATE_ENGINE = "serve_test_gate"


class GateEngine(Engine):
    name = GATE_ENGINE
    cacheable = False
    gate = threading.Event()  # set: searches answer; clear: they wait
    running = 0

    async def _asearch(self, image: QueryImage, *, k: int) -> SearchResult:
        GateEngine.running += 1
        try:
            # A threading.Event: the test thread opens the gate for uvicorn's event loop.
            await asyncio.to_thread(GateEngine.gate.wait, 60)
        finally:
            GateEngine.running -= 1
        return SearchResult(engine=self.name, hits=[SearchHit(title="Gate", url="https://e.x/")])


register_engine(GATE_ENGINE, GateEngine)
