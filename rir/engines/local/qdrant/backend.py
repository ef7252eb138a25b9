"""``QdrantBackend``: a local index in a Qdrant collection, for archives beyond one machine.

    >>> from rir.engines.local import LocalIndex
    >>> index = LocalIndex(backend="qdrant", url="http://qdrant:6333", collection="photos",
    ...                    api_key=os.environ["QDRANT_API_KEY"])

It implements :class:`~rir.engines.local.backends.IndexBackend` (the same
contract suite as the SQLite store). The candidate stage is one batched query:
the query's keypoint words as a sparse vector (IDF-weighted by Qdrant) for
each side, the global descriptor as a dense nearest-neighbour search, and the
same-bytes lookup, all returning the candidates' global descriptors; the
verification step then fetches the top candidates' keypoints in one
``retrieve``. Layout of the collection: :mod:`.qdrant_collection`.

Image point ids (the protocol's rowids) grow with time, so "images added after
rowid N" (what the embedding cache asks for) is a range query.

Qdrant has no transactions: :meth:`write` computes every point first (a bad
item fails before anything is sent), sends one upsert, and on a failure
deletes what it added and restores the pages it overwrote.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import SecretStr

from rir.engines.http.secrets import SecretInput, register_secret
from rir.engines.local.candidates import Candidate, QueryWords
from rir.engines.local.qdrant.collection import (
    FORMAT,
    GLOBAL,
    META_ID,
    WORDS,
    check_or_create,
    describe,
    import_qdrant,
    qdrant_errors,
)
from rir.engines.local.qdrant.points import (
    image_from_payload,
    image_point,
    kind_filter,
    match,
    page_from_payload,
    page_payload,
    page_point_id,
    unb64,
)
from rir.engines.local.records import ImageData, ImageInfo, IndexedPage, PageData, page_id_for
from rir.errors import EngineError

__all__ = ["QdrantBackend"]

logger = logging.getLogger(__name__)

_GLOBAL_POOL, _GLOBAL_KEEP, _GLOBAL_MIN = 16, 4, 0.8  # as the embedded candidate stage
_SCROLL = 512  # points per scroll page


class QdrantBackend:
    """An :class:`~rir.engines.local.backends.IndexBackend` on a Qdrant collection.

    Args:
        url: the server (``http://host:6333``), or ``":memory:"`` for qdrant-client's
            in-process mode (tests, trials).
        api_key: the server's API key (kept as a secret: never in repr, logs or errors).
        collection: the collection holding the index (created when missing, with
            ``create=True``; checked to be an index of this version otherwise).
        client: an existing ``QdrantClient`` instead of ``url``/``api_key``.
        shard_number, replication_factor: for a new collection on a cluster.
        timeout_s: per request.
        path: a folder for qdrant-client's embedded on-disk mode (one process at a time)
            instead of a server.
    """

    def __init__(self, url: str | None = None, *, api_key: SecretInput = None,
                 collection: str = "rir-index", client: Any = None,
                 shard_number: int | None = None, replication_factor: int | None = None,
                 create: bool = True, timeout_s: int = 30, path: str | None = None) -> None:
        for name, value in (("shard_number", shard_number),
                            ("replication_factor", replication_factor)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise _config(f"{name} must be a positive integer, got {value!r}.")
        if not isinstance(collection, str) or not collection.strip():
            raise _config(f"collection must be a non-empty name, got {collection!r}.")
        self.collection = collection
        self.url = url if client is None else (url or "a given client")
        if path is not None:
            self.url = f"local folder {path}"
        self._api_key = api_key if isinstance(api_key, SecretStr) or api_key is None \
            else SecretStr(api_key)
        register_secret(self._api_key)
        self._where = describe(self.url, collection)
        if client is None:
            if not url and path is None:
                raise _config("The Qdrant backend needs url= (e.g. 'http://localhost:6333', "
                              "or ':memory:' to try it in-process) or client=.")
            qdrant = import_qdrant()
            key = self._api_key.get_secret_value() if self._api_key else None
            with qdrant_errors(self._where):
                if path is not None:
                    client = qdrant.QdrantClient(path=str(path))
                elif url == ":memory:":
                    client = qdrant.QdrantClient(location=":memory:")
                else:
                    client = qdrant.QdrantClient(url=url, api_key=key, timeout=timeout_s,
                                                 check_compatibility=False)
            self._owns_client = True
        else:
            self._owns_client = False
        self._client = client
        self._lock = threading.RLock()
        # The in-process modes are plain Python objects, not made for concurrent calls
        # (searches run on worker threads); a server takes them in parallel.
        self._serial = type(getattr(client, "_client", None)).__name__ == "QdrantLocal"
        self._last_id = 0
        try:
            check_or_create(client, collection, self._where, create=create,
                            shard_number=shard_number, replication_factor=replication_factor)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"QdrantBackend(url={self.url!r}, collection={self.collection!r})"

    # -- plumbing -----------------------------------------------------------------------------

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with qdrant_errors(self._where):
            if self._serial:
                with self._lock:
                    return getattr(self._client, method)(self.collection, *args, **kwargs)
            return getattr(self._client, method)(self.collection, *args, **kwargs)

    def _new_ids(self, n: int) -> list[int]:
        """Time-ordered point ids, increasing in this process.

        Milliseconds << 10 | random bits: below 2**53, because Qdrant's range filters
        (``rowid > N``) compare as float64.
        """
        with self._lock:
            start = max(self._last_id + 1,
                        (time.time_ns() // 1_000_000) << 10 | random.getrandbits(10))
            self._last_id = start + n - 1
        return list(range(start, start + n))

    def _scroll(self, flt: Any, payload: Any = True, vectors: Any = False) -> list[Any]:
        points, offset = [], None
        while True:
            batch, offset = self._call("scroll", scroll_filter=flt, limit=_SCROLL, offset=offset,
                                       with_payload=payload, with_vectors=vectors)
            points.extend(batch)
            if offset is None:
                return points

    def _meta(self) -> dict[str, Any]:
        found = self._call("retrieve", [META_ID], with_payload=True)
        return dict(found[0].payload) if found else {}

    def _bump(self, *, writes: int = 1, deletions: int = 0, size: int = 0) -> None:
        """Advance the change counters (to a clock value: any writer's change is noticed)."""
        with self._lock:
            meta = self._meta()
            now = time.time_ns()
            update = {"generation": max(int(meta.get("generation", 0)) + 1, now) if writes
                      else int(meta.get("generation", 0)),
                      "bytes": max(0, int(meta.get("bytes", 0)) + size)}
            if deletions:
                update["deletions"] = max(int(meta.get("deletions", 0)) + 1, now)
            self._call("set_payload", update, points=[META_ID], wait=True)

    # -- reads --------------------------------------------------------------------------------

    def versions(self) -> tuple[int, int]:
        meta = self._meta()
        return int(meta.get("generation", 0)), int(meta.get("deletions", 0))

    def count_images(self) -> int:
        return int(self._call("count", count_filter=kind_filter("image"), exact=True).count)

    def count_pages(self) -> int:
        return int(self._call("count", count_filter=kind_filter("page"), exact=True).count)

    def _rowids_of(self, image_ids: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(image_ids))
        if not wanted:
            return {}
        found = self._scroll(kind_filter("image", image_id=wanted), payload=["image_id"])
        return {p.payload["image_id"]: int(p.id) for p in found}

    def pages(self, image_id: str | None = None) -> list[IndexedPage]:
        flt = kind_filter("page") if image_id is None else kind_filter("page", image_id=[image_id])
        found = sorted(self._scroll(flt), key=lambda p: p.payload["seq"])
        return [page_from_payload(p.payload) for p in found]

    def pages_of(self, rowids: Iterable[int]) -> dict[int, list[IndexedPage]]:
        wanted = [int(r) for r in rowids]
        if not wanted:
            return {}
        out: dict[int, list[IndexedPage]] = {}
        for point in sorted(self._scroll(kind_filter("page", image=wanted)),
                            key=lambda p: p.payload["seq"]):
            out.setdefault(int(point.payload["image"]), []).append(page_from_payload(point.payload))
        return out

    def image_info(self, rowids: Iterable[int]) -> dict[int, ImageInfo]:
        wanted = [int(r) for r in rowids]
        if not wanted:
            return {}
        found = self._call("retrieve", wanted, with_payload=["image_id", "width", "height",
                                                             "thumbnail"])
        return {int(p.id): ImageInfo(int(p.id), p.payload["image_id"], int(p.payload["width"]),
                                     int(p.payload["height"]), unb64(p.payload.get("thumbnail")))
                for p in found}

    def load_keypoints(self, rowids: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        if not rowids:
            return {}
        found = self._call("retrieve", [int(r) for r in rowids],
                           with_payload=["points", "descriptors"])
        return {int(p.id): (np.frombuffer(unb64(p.payload["points"]) or b"",
                                          np.float32).reshape(-1, 2),
                            np.frombuffer(unb64(p.payload["descriptors"]) or b"",
                                          np.uint8).reshape(-1, 32))
                for p in found}

    def embeddings(self, after_rowid: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
        from qdrant_client import models

        flt = models.Filter(must=[match("kind", "image"),
                                  models.FieldCondition(key="rowid",
                                                        range=models.Range(gt=after_rowid))],
                            must_not=[models.IsEmptyCondition(
                                is_empty=models.PayloadField(key="embedding"))])
        found = sorted((p for p in self._scroll(flt, payload=["embedding"])
                        if int(p.id) > after_rowid), key=lambda p: int(p.id))
        return (np.array([int(p.id) for p in found], np.int64),
                [np.frombuffer(unb64(p.payload["embedding"]) or b"", np.float32)
                 for p in found])

    def candidates(self, query: QueryWords, *, limit: int,
                   sha256: str | None = None) -> list[Candidate]:
        """One batched query: both sides' words and descriptors, and same-bytes images."""
        from qdrant_client import models

        requests, roles = [], []
        for side in (0, 1):
            words = np.unique(query.keypoint_words[side])
            if len(words):
                requests.append(models.QueryRequest(
                    query=models.SparseVector(indices=words.tolist(),
                                              values=[1.0] * len(words)),
                    using=WORDS, limit=2 * limit, with_vector=[GLOBAL]))
                roles.append(("votes", side))
            requests.append(models.QueryRequest(
                query=query.global_descs[side].astype(float).tolist(), using=GLOBAL,
                limit=_GLOBAL_POOL, with_vector=[GLOBAL]))
            roles.append(("appearance", side))
        if sha256:
            requests.append(models.QueryRequest(filter=kind_filter("image", sha256=[sha256]),
                                                limit=limit, with_vector=[GLOBAL]))
            roles.append(("exact", 0))
        answers = self._call("query_batch_points", requests)
        votes: dict[int, list[float]] = {}
        descs: dict[int, np.ndarray] = {}
        appearance: set[int] = set()
        exact: list[int] = []
        for (role, side), answer in zip(roles, answers, strict=True):
            for point in answer.points:
                rowid = int(point.id)
                descs[rowid] = np.asarray(point.vector[GLOBAL], np.float32)
                if role == "votes":
                    votes.setdefault(rowid, [0.0, 0.0])[side] = float(point.score)
                elif role == "appearance":
                    appearance.add(rowid)
                else:
                    exact.append(rowid)
        similarity = {r: tuple(float(x) for x in query.global_descs @ d) for r, d in descs.items()}
        by_votes = sorted(votes, key=lambda r: -max(votes[r]))[:limit]
        looks_alike = sorted((r for r in appearance if r not in votes
                              and max(similarity[r]) > _GLOBAL_MIN),
                             key=lambda r: -max(similarity[r]))[:_GLOBAL_KEEP]
        exact_set = set(exact)
        return [Candidate(r, tuple(votes.get(r, (0.0, 0.0))),  # type: ignore[arg-type]
                          similarity[r], exact=r in exact_set)  # type: ignore[arg-type]
                for r in dict.fromkeys([*exact, *by_votes, *looks_alike])]

    def stats(self) -> dict[str, Any]:
        from qdrant_client import models

        meta = self._meta()
        with_captions = self._call("count", exact=True, count_filter=models.Filter(
            must=[match("kind", "page")],
            must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key="caption"))]))
        # The server's disk use is not visible through the API: bytes are what was stored.
        return {"path": f"qdrant:{self._where}", "images": self.count_images(),
                "pages": self.count_pages(), "with_captions": int(with_captions.count),
                "bytes": int(meta.get("bytes", 0)), "features": meta.get("features"),
                "format": meta.get("format", FORMAT), "collection": self.collection}

    # -- writes -------------------------------------------------------------------------------

    def write(self, items: Sequence[tuple[ImageData, PageData]]) -> list[str]:
        """Store images once each and upsert their pages: all of them or, on an error, none."""
        from qdrant_client import models

        now = time.time()
        with self._lock:
            known = self._rowids_of(image.image_id for image, _ in items)
            page_ids = [page_id_for(image.image_id, page.key) for image, page in items]
            old_pages = {p.payload["page_id"]: p for p in self._call(
                "retrieve", [page_point_id(p) for p in set(page_ids)], with_payload=True)}
            new_images = [image for image in {i.image_id: i for i, _ in items}.values()
                          if image.image_id not in known]
            rowids = dict(zip([i.image_id for i in new_images], self._new_ids(len(new_images)),
                              strict=True))
            image_points = [image_point(models, rowids[i.image_id], i, now) for i in new_images]
            rowids.update(known)
            seqs = iter(self._new_ids(len(items)))
            pages: dict[str, Any] = {}
            for (image, page), page_id in zip(items, page_ids, strict=True):
                first = old_pages.get(page_id) or pages.get(page_id)
                kept = first.payload if first is not None else {"added_at": now,
                                                                "seq": next(seqs)}
                pages[page_id] = models.PointStruct(
                    id=page_point_id(page_id), vector={},
                    payload=page_payload(page_id, image.image_id, rowids[image.image_id], page,
                                          kept["added_at"], kept["seq"]))
            size = sum(len(json.dumps(p.payload)) for p in image_points)
            try:
                self._call("upsert", [*image_points, *pages.values()], wait=True)
                self._bump(size=size)
            except BaseException:
                try:
                    self._undo([int(p.id) for p in image_points],
                               [pages[p].id for p in pages if p not in old_pages],
                               list(old_pages.values()))
                except EngineError as undo_error:  # e.g. the server went away mid-write
                    logger.warning("A failed write to %s could not be taken back (%s): run "
                                   "the same add again to complete it.", self._where,
                                   undo_error)
                raise
        return page_ids

    def _undo(self, images: list[int], pages: list[str], restore: list[Any]) -> None:
        """Take back a failed write: its new points go, overwritten pages come back."""
        from qdrant_client import models

        if images or pages:
            self._call("delete", models.PointIdsList(points=[*images, *pages]), wait=True)
        if restore:
            self._call("upsert", [models.PointStruct(id=p.id, vector={}, payload=p.payload)
                                  for p in restore], wait=True)

    def remove_page(self, page_id: str) -> bool:
        from qdrant_client import models

        with self._lock:
            found = self._call("retrieve", [page_point_id(page_id)], with_payload=["image"])
            if not found:
                return False
            rowid = int(found[0].payload["image"])
            self._call("delete", models.PointIdsList(points=[found[0].id]), wait=True)
            left = self._call("count", count_filter=kind_filter("page", image=[rowid]), exact=True)
            if left.count == 0:
                self._call("delete", models.PointIdsList(points=[rowid]), wait=True)
            self._bump(deletions=int(left.count == 0))
        return True

    def remove_image(self, image_id: str) -> int:
        from qdrant_client import models

        with self._lock:
            rowid = self._rowids_of([image_id]).get(image_id)
            if rowid is None:
                return 0
            flt = kind_filter("page", image=[rowid])
            removed = int(self._call("count", count_filter=flt, exact=True).count)
            self._call("delete", models.FilterSelector(filter=flt), wait=True)
            self._call("delete", models.PointIdsList(points=[rowid]), wait=True)
            self._bump(deletions=1)
        return removed

    def image_data(self, image_ids: Iterable[str]) -> dict[str, ImageData]:
        """Whole fingerprints by image id (for copying an index to another backend)."""
        wanted = sorted(set(image_ids))
        if not wanted:
            return {}
        found = self._scroll(kind_filter("image", image_id=wanted), vectors=[GLOBAL])
        return {p.payload["image_id"]: image_from_payload(p.payload, p.vector[GLOBAL])
                for p in found}

    def drop_collection(self) -> None:
        """Delete the whole collection (what a failed ``rir index copy`` made)."""
        with qdrant_errors(self._where):
            self._client.delete_collection(self.collection)

    def close(self) -> None:
        if self._owns_client and getattr(self, "_client", None) is not None:
            self._client.close()


def _config(message: str) -> Exception:
    from rir.errors import ConfigurationError

    return ConfigurationError(message)
