"""How a local index maps onto Qdrant points: images, pages and the filters that find them.

An image point (id: the image's rowid) carries the sparse ``words`` and dense
``global`` vectors and, as payload, its size, thumbnail and keypoints (base64:
payloads are JSON). A page point (id: a UUID derived from the page id) is
payload only and names its image by rowid and by image id.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from rir.engines.local.qdrant.collection import GLOBAL, WORDS
from rir.engines.local.records import ImageData, IndexedPage, PageData
from rir.engines.local.stored_features import stored_features

__all__ = ["b64", "image_from_payload", "image_point", "kind_filter", "match", "page_from_payload",
           "page_payload", "page_point_id", "unb64"]

_PAGE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "rir:local-index:page")


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def page_point_id(page_id: str) -> str:
    return str(uuid.uuid5(_PAGE_NAMESPACE, page_id))


def page_from_payload(payload: dict[str, Any]) -> IndexedPage:
    return IndexedPage(page_id=payload["page_id"], image_id=payload["image_id"],
                       title=payload["title"], caption=payload.get("caption"),
                       url=payload.get("url"), image_url=payload.get("image_url"),
                       metadata=json.loads(payload.get("metadata") or "{}"),
                       added_at=float(payload["added_at"]))


def match(key: str, value: Any) -> Any:
    from qdrant_client import models

    if isinstance(value, list):
        return models.FieldCondition(key=key, match=models.MatchAny(any=value))
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def kind_filter(kind: str, **fields: Any) -> Any:
    from qdrant_client import models

    return models.Filter(must=[match("kind", kind),
                               *(match(key, value) for key, value in fields.items())])


def image_point(models: Any, rowid: int, image: ImageData, now: float) -> Any:
    """The point of a new image; reading ``image.features`` fails here for a broken item."""
    features = image.features
    words = np.unique(features.words.astype(np.int64))
    payload = {"kind": "image", "rowid": rowid, "image_id": image.image_id,
               "sha256": image.sha256, "width": int(image.width), "height": int(image.height),
               "added_at": now, "thumbnail": b64(image.thumbnail),
               "points": b64(features.points.astype(np.float32).tobytes()),
               "descriptors": b64(features.descriptors.astype(np.uint8).tobytes())}
    if image.embedding is not None:
        payload["embedding"] = b64(image.embedding.astype(np.float32).tobytes())
    vector: dict[str, Any] = {GLOBAL: features.global_desc.astype(float).tolist()}
    if len(words):
        vector[WORDS] = models.SparseVector(indices=words.tolist(), values=[1.0] * len(words))
    return models.PointStruct(id=rowid, vector=vector, payload=payload)


def page_payload(page_id: str, image_id: str, rowid: int, page: PageData, added_at: float,
                  seq: int) -> dict[str, Any]:
    return {"kind": "page", "page_id": page_id, "image_id": image_id, "image": rowid,
            "title": page.title, "caption": page.caption, "url": page.url,
            "image_url": page.image_url, "added_at": added_at, "seq": seq,
            "metadata": json.dumps(page.metadata, ensure_ascii=False, default=str)}


def image_from_payload(payload: dict[str, Any], global_desc: Sequence[float]) -> ImageData:
    points = np.frombuffer(unb64(payload["points"]) or b"", np.float32).reshape(-1, 2)
    descriptors = np.frombuffer(unb64(payload["descriptors"]) or b"", np.uint8).reshape(-1, 32)
    embedding = unb64(payload.get("embedding"))
    return ImageData(payload["sha256"], int(payload["width"]), int(payload["height"]),
                     stored_features(np.asarray(global_desc, np.float32), points, descriptors),
                     unb64(payload.get("thumbnail")),
                     None if embedding is None else np.frombuffer(embedding, np.float32))
