"""The Qdrant side of a local index: connecting, the collection's schema, and errors.

One collection holds an index: a point per image (a sparse vector ``words`` of
its keypoint words with Qdrant's IDF modifier, a dense ``global`` descriptor
and its keypoints and thumbnail as payload), a point per page (payload only)
and one ``meta`` point naming the format and feature version the collection
was built with, so a collection built otherwise is refused with the fix rather
than searched with wrong words.

Every client call goes through :func:`qdrant_errors`, which turns the client's
exceptions into one-line errors of :mod:`rir.errors` (an unreachable server is
an :class:`~rir.errors.EngineConnectionError`, a rejected API key an
:class:`~rir.errors.EngineAuthenticationError`, a collection of another schema
a :class:`~rir.errors.ConfigurationError`), with the API key redacted.
"""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rir.engines.http.secrets import redact_text
from rir.engines.local.features import FEATURE_VERSION, GLOBAL_DIM, WORDS_VERSION
from rir.errors import (
    ConfigurationError,
    EngineAuthenticationError,
    EngineConnectionError,
    EngineRequestError,
    EngineServerError,
)

__all__ = ["FORMAT", "GLOBAL", "META_ID", "WORDS", "check_or_create", "describe", "import_qdrant",
           "qdrant_errors"]

FORMAT = "qdrant-1"
META_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "rir:local-index:meta"))
WORDS, GLOBAL = "words", "global"  # the named vectors
_KEYWORD_FIELDS = ("kind", "image_id", "sha256", "page_id")
_INTEGER_FIELDS = ("rowid", "image", "seq")
_ENGINE = "local (qdrant)"


def import_qdrant() -> Any:
    try:
        import qdrant_client
    except ImportError:
        raise ConfigurationError(
            "The Qdrant backend needs qdrant-client: pip install 'reverse-image-rag[qdrant]'."
        ) from None
    return qdrant_client


@contextmanager
def qdrant_errors(where: str) -> Iterator[None]:
    """Translate the client's exceptions for the server at ``where`` (no credentials in it)."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    try:
        yield
    except UnexpectedResponse as exc:
        status = exc.status_code or 0
        detail = redact_text(" ".join(exc.content[:200].decode("utf-8", "replace").split()))
        if status in (401, 403):
            raise EngineAuthenticationError(
                f"Qdrant at {where} rejected the API key (HTTP {status}); pass the right "
                "api_key= (the CLI reads $QDRANT_API_KEY).", engine=_ENGINE) from None
        if status >= 500:
            raise EngineServerError(f"Qdrant at {where} failed (HTTP {status}): {detail}",
                                    engine=_ENGINE) from None
        raise EngineRequestError(f"Qdrant at {where} refused a request (HTTP {status}): "
                                 f"{detail}", engine=_ENGINE) from None
    except ResponseHandlingException as exc:
        reason = redact_text(" ".join(str(exc.source).split()) or type(exc.source).__name__)
        raise EngineConnectionError(
            f"Cannot reach Qdrant at {where}: {reason}. Start the server (e.g. docker run -p "
            "6333:6333 qdrant/qdrant) or pass the right url=.", engine=_ENGINE) from None
    except (ConnectionError, TimeoutError) as exc:
        raise EngineConnectionError(f"Cannot reach Qdrant at {where}: {exc}.",
                                    engine=_ENGINE) from None


def _meta_payload() -> dict[str, Any]:
    return {"kind": "meta", "format": FORMAT, "features": FEATURE_VERSION,
            "vocabulary": WORDS_VERSION, "generation": 0, "deletions": 0, "bytes": 0,
            "created_at": time.time()}


def check_or_create(client: Any, collection: str, where: str, *, create: bool,
                    shard_number: int | None, replication_factor: int | None) -> None:
    """Create the collection (with its payload indexes and meta point) or check its schema."""
    from qdrant_client import models

    with qdrant_errors(where):
        exists = client.collection_exists(collection)
        if not exists:
            if not create:
                raise ConfigurationError(
                    f"No Qdrant collection '{collection}' at {where}; create it with "
                    "'rir index copy' or LocalIndex(backend='qdrant', ...).add(...).")
            client.create_collection(
                collection,
                vectors_config={GLOBAL: models.VectorParams(size=GLOBAL_DIM,
                                                            distance=models.Distance.COSINE)},
                sparse_vectors_config={WORDS: models.SparseVectorParams(
                    modifier=models.Modifier.IDF)},
                shard_number=shard_number, replication_factor=replication_factor)
            with warnings.catch_warnings():  # the in-process mode warns that it has none
                warnings.filterwarnings("ignore", "Payload indexes have no effect")
                for name in _KEYWORD_FIELDS:
                    client.create_payload_index(collection, name,
                                                models.PayloadSchemaType.KEYWORD)
                for name in _INTEGER_FIELDS:
                    client.create_payload_index(collection, name,
                                                models.PayloadSchemaType.INTEGER)
            client.upsert(collection, [models.PointStruct(id=META_ID, vector={},
                                                          payload=_meta_payload())], wait=True)
            return
        info = client.get_collection(collection)
        meta = client.retrieve(collection, [META_ID], with_payload=True)
    _check_schema(info, meta[0].payload if meta else None, collection, where)


def _check_schema(info: Any, meta: dict[str, Any] | None, collection: str, where: str) -> None:
    params = info.config.params
    dense = params.vectors if isinstance(params.vectors, dict) else {}
    sparse = params.sparse_vectors or {}
    fix = (f"pass another collection= (or delete '{collection}' and rebuild it with "
           "'rir index copy')")
    vector = dense.get(GLOBAL)
    modifier = getattr(sparse.get(WORDS), "modifier", None)
    if vector is None or vector.size != GLOBAL_DIM or WORDS not in sparse \
            or getattr(modifier, "value", modifier) != "idf" or meta is None:
        found = ", ".join([f"{k} (dense {v.size})" for k, v in dense.items()]
                          + [f"{k} (sparse)" for k in sparse]) or "unnamed vectors"
        raise ConfigurationError(
            f"The Qdrant collection '{collection}' at {where} is not a reverse-image-rag "
            f"index (vectors: {found}); {fix}.")
    if meta.get("format") != FORMAT:
        raise ConfigurationError(
            f"The Qdrant collection '{collection}' at {where} has index format "
            f"{meta.get('format')!r}; this version reads {FORMAT!r}. Upgrade with: pip install "
            "-U reverse-image-rag, or " + fix + ".")
    for key, ours in (("features", FEATURE_VERSION), ("vocabulary", WORDS_VERSION)):
        if meta.get(key) != ours:
            raise ConfigurationError(
                f"The Qdrant collection '{collection}' at {where} was built with other {key} "
                f"({meta.get(key)}; this version uses {ours}); {fix}.")


def describe(url: str | None, collection: str) -> str:
    """Where an index lives, for messages and stats (never the API key)."""
    return f"{url or 'a given client'} (collection '{collection}')"

