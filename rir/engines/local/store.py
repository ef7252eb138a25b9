"""SQLite storage of a local index: one file (or memory) holding entries and features.

A ``generation`` counter in the meta table is bumped by every write, so an
index opened by several processes notices the others' changes and reloads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rir.engines.local.features import FEATURE_VERSION, GLOBAL_DIM, IndexFeatures
from rir.errors import ConfigurationError

__all__ = ["EntryRecord", "IndexStore"]

_FORMAT = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    title TEXT NOT NULL,
    caption TEXT,
    url TEXT,
    image_url TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    added_at REAL NOT NULL,
    thumbnail BLOB,
    global_desc BLOB NOT NULL,
    words BLOB NOT NULL,
    points BLOB NOT NULL,
    descriptors BLOB NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS entries_sha256 ON entries (sha256);
"""


@dataclass(frozen=True)
class EntryRecord:
    """What a search hit needs to know about an indexed image."""

    rowid: int
    id: str
    sha256: str
    title: str
    caption: str | None
    url: str | None
    image_url: str | None
    metadata: dict[str, Any]
    width: int
    height: int
    thumbnail: bytes | None


class IndexStore:
    """Thread-safe access to the index database (one connection behind a lock)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path).expanduser()
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(target, timeout=30.0, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if self.path is not None:
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.executescript(_SCHEMA)
            self._check_format()
        except sqlite3.DatabaseError as exc:
            raise ConfigurationError(
                f"Cannot open the local index {target}: {exc}. Pass a new path, or delete the "
                "file and rebuild the index with 'rir index add'."
            ) from None

    def _check_format(self) -> None:
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            self._conn.executemany(
                "INSERT OR IGNORE INTO meta VALUES (?, ?)",
                [("format", _FORMAT), ("features", FEATURE_VERSION), ("generation", "0"),
                 ("deletions", "0"), ("created_at", str(time.time()))],
            )
            return
        if meta.get("format") != _FORMAT or meta.get("features") != FEATURE_VERSION:
            raise ConfigurationError(
                f"The local index {self.path} was built by another version "
                f"(format {meta.get('format')}, features {meta.get('features')}); this version "
                f"needs format {_FORMAT}, features {FEATURE_VERSION}. Rebuild it with "
                "'rir index add' into a new file."
            )

    # -- reads --------------------------------------------------------------------------------

    def versions(self) -> tuple[int, int]:
        """(writes, deletions) counters: what another process may have changed."""
        with self._lock:
            meta = dict(self._conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('generation', 'deletions')").fetchall())
        return int(meta.get("generation", 0)), int(meta.get("deletions", 0))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def find_by_sha256(self, sha256: str) -> list[int]:
        with self._lock:
            rows = self._conn.execute("SELECT rowid FROM entries WHERE sha256 = ?",
                                      (sha256,)).fetchall()
        return [int(r[0]) for r in rows]

    def id_for_rowid(self, rowid: int) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT id FROM entries WHERE rowid = ?", (rowid,)).fetchone()
        return row[0] if row else None

    def load_search_arrays(
        self, after_rowid: int = 0
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[bytes | None]]:
        """rowids, global descriptors, word arrays and embeddings of entries after a rowid."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT rowid, global_desc, words, embedding FROM entries WHERE rowid > ? "
                "ORDER BY rowid", (after_rowid,)
            ).fetchall()
        rowids = np.array([r[0] for r in rows], dtype=np.int64)
        globals_ = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
                    .reshape(len(rows), GLOBAL_DIM) if rows else
                    np.zeros((0, GLOBAL_DIM), np.float32))
        words = [np.frombuffer(r[2], dtype=np.uint32) for r in rows]
        embeddings = [r[3] for r in rows]
        return rowids, globals_, words, embeddings

    def load_keypoints(self, rowids: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT rowid, points, descriptors FROM entries WHERE rowid IN ({marks})",
                [int(r) for r in rowids],
            ).fetchall()
        return {
            int(r[0]): (np.frombuffer(r[1], dtype=np.float32).reshape(-1, 2),
                        np.frombuffer(r[2], dtype=np.uint8).reshape(-1, 32))
            for r in rows
        }

    def load_records(self, rowids: Iterable[int]) -> dict[int, EntryRecord]:
        wanted = [int(r) for r in rowids]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._conn.execute(
                "SELECT rowid, id, sha256, title, caption, url, image_url, metadata, width, "
                f"height, thumbnail FROM entries WHERE rowid IN ({marks})", wanted,
            ).fetchall()
        return {
            int(r[0]): EntryRecord(rowid=int(r[0]), id=r[1], sha256=r[2], title=r[3],
                                   caption=r[4], url=r[5], image_url=r[6],
                                   metadata=json.loads(r[7] or "{}"), width=int(r[8]),
                                   height=int(r[9]), thumbnail=r[10])
            for r in rows
        }

    def stats(self) -> dict[str, Any]:
        with self._lock:
            count, size = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(points) + LENGTH(descriptors) + "
                "LENGTH(words) + LENGTH(global_desc) + COALESCE(LENGTH(thumbnail), 0)), 0) "
                "FROM entries").fetchone()
            with_captions = self._conn.execute(
                "SELECT COUNT(*) FROM entries WHERE caption IS NOT NULL AND caption != ''"
            ).fetchone()[0]
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        return {"path": str(self.path) if self.path else ":memory:", "entries": int(count),
                "with_captions": int(with_captions), "feature_bytes": int(size),
                "features": meta.get("features"), "format": meta.get("format")}

    # -- writes -------------------------------------------------------------------------------

    def upsert(
        self,
        *,
        entry_id: str,
        sha256: str,
        title: str,
        caption: str | None,
        url: str | None,
        image_url: str | None,
        metadata: dict[str, Any],
        width: int,
        height: int,
        thumbnail: bytes | None,
        features: IndexFeatures,
        embedding: np.ndarray | None,
    ) -> tuple[int, bool]:
        """Insert an entry, or update the text of an existing one. Returns (rowid, created)."""
        metadata_json = json.dumps(metadata, ensure_ascii=False, default=str)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT rowid FROM entries WHERE id = ?",
                                         (entry_id,)).fetchone()
                if row is not None:
                    self._conn.execute(
                        "UPDATE entries SET title = ?, caption = ?, url = ?, image_url = ?, "
                        "metadata = ? WHERE rowid = ?",
                        (title, caption, url, image_url, metadata_json, row[0]),
                    )
                    rowid, created = int(row[0]), False
                else:
                    cursor = self._conn.execute(
                        "INSERT INTO entries (id, sha256, title, caption, url, image_url, "
                        "metadata, width, height, added_at, thumbnail, global_desc, words, points,"
                        " descriptors, embedding) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (entry_id, sha256, title, caption, url, image_url, metadata_json, width,
                         height, time.time(), thumbnail, features.global_desc.tobytes(),
                         features.words.astype(np.uint32).tobytes(),
                         features.points.astype(np.float32).tobytes(),
                         features.descriptors.astype(np.uint8).tobytes(),
                         None if embedding is None else embedding.astype(np.float32).tobytes()),
                    )
                    rowid, created = int(cursor.lastrowid or 0), True
                self._bump_generation()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return rowid, created

    def delete(self, entry_id: str) -> bool:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                deleted = self._conn.execute("DELETE FROM entries WHERE id = ?",
                                             (entry_id,)).rowcount
                if deleted:
                    self._bump_generation()
                    self._conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                                       "WHERE key = 'deletions'")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return bool(deleted)

    def _bump_generation(self) -> None:
        self._conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
