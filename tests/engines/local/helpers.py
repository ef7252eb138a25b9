"""Qdrant backends for tests: qdrant-client's in-process mode, or a real server from $QDRANT_URL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from rir.engines.local.qdrant.backend import QdrantBackend

LIVE_SKIP_REASON = ("no Qdrant server: set QDRANT_URL (and QDRANT_API_KEY if it needs one) to "
                    "run the backend contract against a real server")


def qdrant_memory_backend(tmp: Path | None = None) -> QdrantBackend:
    return QdrantBackend(":memory:", collection="contract")


class _ThrowawayCollection(QdrantBackend):
    """A live backend on a fresh collection, deleted again on close."""

    def close(self) -> None:
        self.drop_collection()
        super().close()


def qdrant_live_backend(tmp: Path | None = None) -> QdrantBackend:
    url = os.environ.get("QDRANT_URL")
    if not url:
        print(f"skipping the live Qdrant contract: {LIVE_SKIP_REASON}")
        pytest.skip(LIVE_SKIP_REASON)
    return _ThrowawayCollection(url, api_key=os.environ.get("QDRANT_API_KEY"),
                                collection=f"rir-test-{uuid.uuid4().hex[:12]}")
