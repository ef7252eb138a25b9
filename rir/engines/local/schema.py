"""The local index file: its SQLite schema, format checks and migration of older files.

Format 2 stores images and pages separately (one photo on many pages). A
format-1 file (one row per image, one page each) is migrated in place when it is opened
for writing (or by ``rir index upgrade``), after a consistent copy of it is saved next to
it as ``NAME.v1.bak``; opened only to read (``create=False``), it is refused with that
advice and left as it was.

Opening never turns a file into something else by accident: an existing file is
checked before SQLite touches it (:func:`check_index_file`: empty, not SQLite,
truncated, an impossible header), and only ``create=True`` makes a new index (in a
missing or zero-byte file). A read (``rir index stats``, a search, ``open_index``)
of a damaged file fails with one line and leaves the file byte for byte as it was.
"""

from __future__ import annotations

import shlex
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rir.engines.local.features import FEATURE_VERSION, WORDS_VERSION, global_words
from rir.engines.local.location import missing_index_error
from rir.engines.local.postings import PostingsIndex
from rir.engines.local.records import page_id_for, page_key
from rir.errors import ConfigurationError, one_line

__all__ = ["FORMAT", "check_index_file", "damaged_error", "is_schema_damage", "open_database",
           "upgrade_index"]

FORMAT = 2
_SQLITE_MAGIC = b"SQLite format 3\x00"
_REBUILD = "Restore a backup, or move it away and rebuild it with 'rir index add'."

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: postings refer to rowids
    id TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    added_at REAL NOT NULL,
    thumbnail BLOB,
    global_desc BLOB NOT NULL,
    points BLOB NOT NULL,  -- words derive from the first WORD_KEYPOINTS descriptors
    descriptors BLOB NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS images_sha256 ON images (sha256);
CREATE TABLE IF NOT EXISTS pages (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    image INTEGER NOT NULL REFERENCES images (rowid),
    title TEXT NOT NULL,
    caption TEXT,
    url TEXT,
    image_url TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    added_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_image ON pages (image);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    postings INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    key INTEGER PRIMARY KEY,  -- word << 32 | segment
    count INTEGER NOT NULL,
    rowids BLOB NOT NULL  -- uint32 image rowids, sorted
);
CREATE INDEX IF NOT EXISTS postings_segment ON postings ((key & 4294967295));
CREATE TABLE IF NOT EXISTS removed (rowid INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS word_counts (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counts BLOB NOT NULL  -- int32 postings per word, all segments
);
"""

_MIGRATE_1_TO_2 = """
INSERT INTO images (rowid, id, sha256, width, height, added_at, thumbnail, global_desc,
                    points, descriptors, embedding)
    SELECT rowid, id, sha256, width, height, added_at, thumbnail, global_desc, points,
           descriptors, embedding FROM entries ORDER BY rowid;
INSERT INTO pages (id, image, title, caption, url, image_url, metadata, added_at)
    SELECT rir_page_id(id, url, title), rowid, title, caption, url, image_url, metadata, added_at
    FROM entries ORDER BY rowid;
UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key IN ('generation', 'deletions');
"""


def check_index_file(path: Path) -> None:
    """Refuse a file that cannot be a healthy index, before SQLite opens (and maybe writes) it.

    Reads the 100-byte header only: the SQLite magic, a valid page size, a file that is
    a whole number of pages and (when the header's page count is current) as long as
    the header says. Raises ConfigurationError with one line naming the file and the fix.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise ConfigurationError(f"Cannot read the local index {path}: "
                                 f"{exc.strerror or exc}.") from None
    if size == 0:
        raise ConfigurationError(f"The local index {path} is an empty file (0 bytes), not an "
                                 f"index. {_REBUILD}")
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise ConfigurationError(f"The local index {path} is not an index file (no SQLite "
                                 f"header: damaged, or another kind of file). {_REBUILD}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise ConfigurationError(f"The local index {path} is damaged (its header names an "
                                 f"impossible page size). {_REBUILD}")
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # pages may still live in the write-ahead log: SQLite recovers them on open
    pages = int.from_bytes(header[28:32], "big")
    header_is_current = pages > 0 and header[24:28] == header[92:96]
    if size % page_size or (header_is_current and size < pages * page_size):
        raise ConfigurationError(
            f"The local index {path} is truncated ({size:,} bytes"
            + (f" of {pages * page_size:,}" if header_is_current else "") + f"). {_REBUILD}")


# The columns every statement of the store uses, per table: a damaged schema (a flipped
# byte in the CREATE TABLE text SQLite keeps in the file) is found when the file is opened.
_COLUMNS = {
    "meta": "key, value",
    "images": "rowid, id, sha256, width, height, added_at, thumbnail, global_desc, points, "
              "descriptors, embedding",
    "pages": "rowid, id, image, title, caption, url, image_url, metadata, added_at",
    "segments": "id, postings",
    "postings": "key, count, rowids",
    "removed": "rowid",
    "word_counts": "id, counts",
}
_SCHEMA_DAMAGE = ("no such column", "no such table", "malformed database schema")


def is_schema_damage(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite's error means the file's schema is damaged (not a lock or a full disk)."""
    return any(marker in str(exc) for marker in _SCHEMA_DAMAGE)


def damaged_error(path: Path | None, exc: BaseException) -> ConfigurationError:
    """One line for an index file SQLite finds damaged."""
    return ConfigurationError(f"The local index {path or ':memory:'} is damaged "
                              f"({one_line(exc)}). {_REBUILD}")


def _check_schema(conn: sqlite3.Connection, path: Path | None) -> None:
    for table, columns in _COLUMNS.items():
        try:
            conn.execute(f"SELECT {columns} FROM {table} LIMIT 0")
        except sqlite3.OperationalError as exc:
            raise damaged_error(path, exc) from None


def open_database(path: Path | None, *, create: bool = True,
                  migrate: bool | None = None) -> sqlite3.Connection:
    """Open (creating or migrating) an index database; ``None`` is a new in-memory one.

    ``create=False``: the file must already be an index (a missing, empty or damaged
    file is refused before anything is written). ``migrate`` (default: ``create``): a
    format-1 file is migrated in place (a copy kept as ``NAME.v1.bak``); otherwise it is
    refused, untouched, with the command that upgrades it. Raises ConfigurationError
    naming the file and the fix when it is not a local index, is damaged, or was written
    by another version.
    """
    migrate = create if migrate is None else migrate
    target = ":memory:" if path is None else str(path)
    if path is not None:
        if path.is_dir():
            raise ConfigurationError(f"The local index path '{path}' is a folder; pass a file "
                                     "path such as 'photos.rir'.")
        exists = path.exists()
        if not create and not exists:
            raise missing_index_error(path, default=False)
        if exists and (not create or path.stat().st_size > 0):
            check_index_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(target, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        # Random-order indexes (ids are hashes) dirty pages all over the file; with SQLite's
        # default 2 MB cache a big batch spills and rewrites them again and again (measured:
        # ~100 KB written per 16 KB entry). 128 MB, allocated only as used, keeps them.
        conn.execute("PRAGMA cache_size = -131072")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise ConfigurationError(
                f"'{target}' is an SQLite file but not a local index (tables: "
                f"{', '.join(sorted(tables)[:5])}); pass another path for the index."
            )
        if not tables and not create and path is not None:
            raise ConfigurationError(f"The local index {path} is an empty SQLite database, not "
                                     f"an index. {_REBUILD}")
        version = _readable_format(conn, path) if tables else FORMAT
        if version == 1 and not migrate:
            raise ConfigurationError(
                f"The local index {path or ':memory:'} is in format 1 (reverse-image-rag 0.1); "
                "it is left as it is here (only writing to it migrates it). Upgrade it once "
                f"with: rir index upgrade --index {shlex.quote(str(path))} (a copy is kept "
                f"as {(path or Path('index')).name}.v1.bak).")
        if path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            # A bulk write or merge can grow the WAL to gigabytes; give the space back after.
            conn.execute("PRAGMA journal_size_limit = 67108864")
        if not tables:
            _create(conn)
        elif version == 1:
            _migrate_1_to_2(conn, path)
        _check_schema(conn, path)
        return conn
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        # UnicodeDecodeError: SQLite's own message quotes the damaged bytes of the schema.
        if conn is not None:
            conn.close()
        raise ConfigurationError(
            f"Cannot open the local index {target}: {one_line(exc)} (the file is damaged or "
            "not an index). Pass another path, or move this file away and rebuild with "
            "'rir index add'."
        ) from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any error, Ctrl-C included, so a
    failed write leaves the file as it was."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _create(conn: sqlite3.Connection) -> None:
    with immediate_transaction(conn):
        _run_script(conn, SCHEMA)
        conn.executemany(
            "INSERT OR IGNORE INTO meta VALUES (?, ?)",
            [("format", str(FORMAT)), ("features", FEATURE_VERSION), ("generation", "0"),
             ("deletions", "0"), ("images", "0"), ("vocabulary", WORDS_VERSION),
             ("created_at", str(time.time()))],
        )


def _readable_format(conn: sqlite3.Connection, path: Path | None) -> int:
    """The file's format, once it is known that this version can read it (or migrate it)."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    where = path or ":memory:"
    raw_format = meta.get("format", "")
    if not raw_format.isdigit():
        raise ConfigurationError(
            f"The local index {where} has no valid format marker ({raw_format!r}); it is damaged. "
            "Move it away and rebuild with 'rir index add'."
        )
    version = int(raw_format)
    if version > FORMAT:
        raise ConfigurationError(
            f"The local index {where} was written by a newer version of reverse-image-rag "
            f"(format {version}; this version reads formats 1-{FORMAT}). Upgrade with: "
            "pip install -U reverse-image-rag"
        )
    if meta.get("features") != FEATURE_VERSION:
        raise ConfigurationError(
            f"The local index {where} was built with other image features "
            f"({meta.get('features')}; this version uses {FEATURE_VERSION}). Rebuild it with "
            "'rir index add' into a new file."
        )
    if version != 1 and meta.get("vocabulary") != WORDS_VERSION:
        raise ConfigurationError(
            f"The local index {where} holds another kind of visual words "
            f"({meta.get('vocabulary')}; this version uses {WORDS_VERSION}). Rebuild it with "
            "'rir index add' into a new file."
        )
    return version


def upgrade_index(path: Path) -> Path | None:
    """Migrate the index file at ``path`` to this version's format in place; the copy of
    the old file kept beside it, or ``None`` when it was already current. A missing,
    empty or damaged file is refused, untouched (ConfigurationError)."""
    backup = _backup_path(path)  # the name a migration would keep the old file under
    open_database(path, create=False, migrate=True).close()
    return backup if backup.exists() else None


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would commit the open transaction first.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _post_migrated_words(conn: sqlite3.Connection, chunk: int = 5000) -> None:
    """Build the postings of migrated images from format 1's stored words."""
    postings = PostingsIndex(conn)
    last = 0
    while True:
        rows = conn.execute("SELECT rowid, words, global_desc FROM entries WHERE rowid > ? "
                            "ORDER BY rowid LIMIT ?", (last, chunk)).fetchall()
        if not rows:
            return
        postings.add([int(r[0]) for r in rows],
                     [np.concatenate([np.frombuffer(r[1], np.uint32).astype(np.int64),
                                      global_words(np.frombuffer(r[2], np.float32))])
                      for r in rows])
        last = int(rows[-1][0])


def _backup_path(path: Path) -> Path:
    candidate = path.with_name(path.name + ".v1.bak")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.v1.{number}.bak")
        number += 1
    return candidate


def _migrate_1_to_2(conn: sqlite3.Connection, path: Path | None) -> None:
    """Format 1 (one page per image, in ``entries``) -> images + pages, in one transaction."""
    if path is not None:
        backup = _backup_path(path)
        with sqlite3.connect(str(backup)) as copy:
            conn.backup(copy)
        copy.close()
    conn.create_function("rir_page_id", 3,
                         lambda image_id, url, title: page_id_for(image_id, page_key(url, title)),
                         deterministic=True)
    with immediate_transaction(conn):
        if conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0] == "1":
            _run_script(conn, SCHEMA + _MIGRATE_1_TO_2)
            _post_migrated_words(conn)
            conn.execute("DROP TABLE entries")
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             [("format", str(FORMAT)), ("vocabulary", WORDS_VERSION)])
            conn.execute("INSERT OR REPLACE INTO meta SELECT 'images', COUNT(*) FROM images")
