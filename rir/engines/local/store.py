"""SQLite storage of a local index: one file (or memory) holding images, pages and features.

A ``generation`` counter in the meta table is bumped by every write (and a
``deletions`` counter by every removal of an image), so an index opened by
several processes notices the others' changes.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rir.engines.local.candidates import Candidate, QueryWords, VoteBuffers, find_candidates
from rir.engines.local.features import index_words
from rir.engines.local.postings import PostingsIndex
from rir.engines.local.records import ImageData, ImageInfo, IndexedPage, PageData, page_id_for
from rir.engines.local.schema import (
    damaged_error,
    immediate_transaction,
    is_schema_damage,
    open_database,
)

__all__ = ["IndexStore"]

_PAGE_COLUMNS = "p.id, i.id, p.title, p.caption, p.url, p.image_url, p.metadata, p.added_at"


def _page(row: Sequence[Any]) -> IndexedPage:
    return IndexedPage(page_id=row[0], image_id=row[1], title=row[2], caption=row[3], url=row[4],
                       image_url=row[5], metadata=json.loads(row[6] or "{}"),
                       added_at=float(row[7]))


def _damage_is_reported(method: Callable[..., Any]) -> Callable[..., Any]:
    """A file damaged after opening (truncated, overwritten) fails with one clear line."""

    @functools.wraps(method)
    def guarded(self: IndexStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not is_schema_damage(exc):
                raise  # locked, disk full, read-only: not damage, and add_folder reports them
            raise damaged_error(self.path, exc) from None
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise damaged_error(self.path, exc) from None

    return guarded


class IndexStore:
    """Thread-safe access to the index database (one connection behind a lock)."""

    def __init__(self, path: str | Path | None, *, create: bool = True) -> None:
        self.path = None if path is None else Path(path).expanduser()
        self._lock = threading.RLock()
        self._conn = open_database(self.path, create=create)
        self._postings = PostingsIndex(self._conn)
        self._removed, self._removed_version = np.zeros(0, np.uint32), -1
        self._votes = VoteBuffers()

    # -- reads --------------------------------------------------------------------------------

    def versions(self) -> tuple[int, int]:
        """(writes, deletions) counters: what another process may have changed."""
        with self._lock:
            meta = dict(self._conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('generation', 'deletions')").fetchall())
        return int(meta.get("generation", 0)), int(meta.get("deletions", 0))

    def count_pages(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0])

    def count_images(self) -> int:
        with self._lock:
            return self._image_count()

    def find_by_sha256(self, sha256: str) -> list[int]:
        with self._lock:
            rows = self._conn.execute("SELECT rowid FROM images WHERE sha256 = ?",
                                      (sha256,)).fetchall()
        return [int(r[0]) for r in rows]

    def pages(self, image_id: str | None = None) -> list[IndexedPage]:
        """Pages of one image (by id), or every page; in the order they were added."""
        query = f"SELECT {_PAGE_COLUMNS} FROM pages p JOIN images i ON i.rowid = p.image"
        with self._lock:
            if image_id is None:
                rows = self._conn.execute(query + " ORDER BY p.rowid").fetchall()
            else:
                rows = self._conn.execute(query + " WHERE i.id = ? ORDER BY p.rowid",
                                          (image_id,)).fetchall()
        return [_page(r) for r in rows]

    def pages_of(self, rowids: Iterable[int]) -> dict[int, list[IndexedPage]]:
        """Pages of each image rowid, in the order they were added."""
        wanted = [int(r) for r in rowids]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT p.image, {_PAGE_COLUMNS} FROM pages p JOIN images i ON i.rowid = p.image "
                f"WHERE p.image IN ({marks}) ORDER BY p.rowid", wanted).fetchall()
        out: dict[int, list[IndexedPage]] = {}
        for row in rows:
            out.setdefault(int(row[0]), []).append(_page(row[1:]))
        return out

    def image_info(self, rowids: Iterable[int]) -> dict[int, ImageInfo]:
        wanted = [int(r) for r in rowids]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT rowid, id, width, height, thumbnail FROM images WHERE rowid IN ({marks})",
                wanted).fetchall()
        return {int(r[0]): ImageInfo(int(r[0]), r[1], int(r[2]), int(r[3]), r[4]) for r in rows}

    def embeddings(self, after_rowid: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
        """rowids and vectors of images with an embedding, after a rowid (for the embedder)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT rowid, embedding FROM images WHERE rowid > ? AND embedding IS NOT NULL "
                "ORDER BY rowid", (after_rowid,)).fetchall()
        return (np.array([r[0] for r in rows], np.int64),
                [np.frombuffer(r[1], np.float32) for r in rows])

    def candidates(self, query: QueryWords, *, limit: int,
                   sha256: str | None = None) -> list[Candidate]:
        """The images most worth verifying for a query: see :mod:`.candidates`."""
        with self._lock:
            generation, deletions = self.versions()
            if deletions != self._removed_version:
                self._removed, self._removed_version = self._postings.removed(), deletions
            return find_candidates(
                self._conn, self._postings, query, images=self._image_count(),
                counts=self._postings.counts(generation), removed=self._removed,
                limit=limit, exact=self.find_by_sha256(sha256) if sha256 else [],
                buffers=self._votes, generation=generation)

    def _image_count(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'images'").fetchone()
        return int(row[0]) if row else 0

    def load_keypoints(self, rowids: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT rowid, points, descriptors FROM images WHERE rowid IN ({marks})",
                [int(r) for r in rowids],
            ).fetchall()
        try:
            loaded = {int(r[0]): (np.frombuffer(r[1], dtype=np.float32).reshape(-1, 2),
                                  np.frombuffer(r[2], dtype=np.uint8).reshape(-1, 32))
                      for r in rows}
        except (TypeError, ValueError):
            loaded = {}
        if len(loaded) != len(rows) or any(len(p) != len(d) for p, d in loaded.values()):
            raise sqlite3.DatabaseError("an image's keypoints do not have their stored shape")
        return loaded

    def check_integrity(self) -> None:
        """SQLite's structural check of every page (``quick_check``, about 5 s per GB here):
        a damaged file fails with one line. Reads only, so it never changes the file."""
        with self._lock:
            problems = [row[0] for row in self._conn.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(problems))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            images, size = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(points) + LENGTH(descriptors) + "
                "LENGTH(global_desc) + COALESCE(LENGTH(thumbnail), 0)), 0) "
                "FROM images").fetchone()
            pages, with_captions = self._conn.execute(
                "SELECT COUNT(*), COUNT(NULLIF(caption, '')) FROM pages").fetchone()
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            page_size, page_count = (self._conn.execute("PRAGMA page_size").fetchone()[0],
                                     self._conn.execute("PRAGMA page_count").fetchone()[0])
        on_disk = sum(p.stat().st_size for p in self._files() if p.exists())
        return {"path": str(self.path) if self.path else ":memory:", "images": int(images),
                "pages": int(pages), "with_captions": int(with_captions),
                "bytes": int(on_disk or page_size * page_count), "feature_bytes": int(size),
                "features": meta.get("features"), "format": meta.get("format")}

    def _files(self) -> list[Path]:
        if self.path is None:
            return []
        return [self.path, self.path.with_name(self.path.name + "-wal")]

    # -- writes -------------------------------------------------------------------------------

    def write(self, items: Sequence[tuple[ImageData, PageData]], *,
              defer_merges: bool = False) -> list[str]:
        """Add images (once each) and their pages in one transaction; returns the page ids.

        A page that exists (same image, same url, or same title without url) has its
        text updated. Either every item is written or, on an error, none is. A bulk
        load may ``defer_merges`` of posting segments and :meth:`compact` at the end.
        """
        now = time.time()
        with self._lock, immediate_transaction(self._conn):
            rowids, new_rowids, new_words = self._store_images([i for i, _ in items], now)
            page_ids = [page_id_for(image.image_id, page.key) for image, page in items]
            self._conn.executemany(
                "INSERT INTO pages (id, image, title, caption, url, image_url, metadata, "
                "added_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
                "title = excluded.title, caption = excluded.caption, url = excluded.url, "
                "image_url = excluded.image_url, metadata = excluded.metadata",
                [(page_id, rowids[image.image_id], page.title, page.caption, page.url,
                  page.image_url, json.dumps(page.metadata, ensure_ascii=False, default=str),
                  now) for page_id, (image, page) in zip(page_ids, items, strict=True)])
            self._postings.add(new_rowids, new_words, merge=not defer_merges)
            self._bump("images", len(new_rowids))
            self._bump("generation")
        return page_ids

    def _store_images(self, images: Sequence[ImageData], now: float
                      ) -> tuple[dict[str, int], list[int], list[np.ndarray]]:
        """Insert the images not stored yet; (rowid per image id, new rowids, their words)."""
        rowids = self._rowids_of([image.image_id for image in images])
        new = list({i.image_id: i for i in images if i.image_id not in rowids}.values())
        self._conn.executemany(
            "INSERT INTO images (id, sha256, width, height, added_at, thumbnail, global_desc, "
            "points, descriptors, embedding) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(i.image_id, i.sha256, i.width, i.height, now, i.thumbnail,
              i.features.global_desc.astype(np.float32).tobytes(),
              i.features.points.astype(np.float32).tobytes(),
              i.features.descriptors.astype(np.uint8).tobytes(),
              None if i.embedding is None else i.embedding.astype(np.float32).tobytes())
             for i in new])
        created = self._rowids_of([i.image_id for i in new])
        rowids.update(created)
        return rowids, [created[i.image_id] for i in new], [index_words(i.features) for i in new]

    def _rowids_of(self, image_ids: Sequence[str], chunk: int = 5000) -> dict[str, int]:
        out: dict[str, int] = {}
        for start in range(0, len(image_ids), chunk):
            part = image_ids[start:start + chunk]
            out.update((r[0], int(r[1])) for r in self._conn.execute(
                f"SELECT id, rowid FROM images WHERE id IN ({','.join('?' * len(part))})", part))
        return out

    def compact(self) -> None:
        """Merge all posting segments into one (after a bulk load with deferred merges)."""
        with self._lock, immediate_transaction(self._conn):
            self._postings.compact()
            self._bump("generation")

    def segments(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0])

    def remove_page(self, page_id: str) -> bool:
        """Delete a page; an image left without pages is deleted with it."""
        with self._lock, immediate_transaction(self._conn):
            row = self._conn.execute("SELECT image FROM pages WHERE id = ?",
                                     (page_id,)).fetchone()
            if row is not None:
                self._conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
                left = self._conn.execute("SELECT 1 FROM pages WHERE image = ? LIMIT 1",
                                          (row[0],)).fetchone()
                if left is None:
                    self._delete_images([int(row[0])])
                self._bump("generation")
        return row is not None

    def remove_image(self, image_id: str) -> int:
        """Delete an image and all its pages; returns how many pages went."""
        with self._lock, immediate_transaction(self._conn):
            row = self._conn.execute("SELECT rowid FROM images WHERE id = ?",
                                     (image_id,)).fetchone()
            removed = 0
            if row is not None:
                removed = self._conn.execute("DELETE FROM pages WHERE image = ?",
                                             (row[0],)).rowcount
                self._delete_images([int(row[0])])
                self._bump("generation")
        return int(removed)

    def _delete_images(self, rowids: list[int]) -> None:
        marks = ",".join("?" * len(rowids))
        self._conn.execute(f"DELETE FROM images WHERE rowid IN ({marks})", rowids)
        self._postings.forget(rowids)
        self._bump("images", -len(rowids))
        self._bump("deletions")

    def _bump(self, counter: str, by: int = 1) -> None:
        self._conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?", (by, counter))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


for _name in ("versions", "count_pages", "count_images", "find_by_sha256", "pages", "pages_of",
              "image_info", "embeddings", "candidates", "load_keypoints", "stats",
              "check_integrity", "write", "compact",
              "remove_page", "remove_image"):
    setattr(IndexStore, _name, _damage_is_reported(getattr(IndexStore, _name)))
