"""Titles and captions for a folder of images: a JSONL or CSV file, or sidecar files.

A captions file has one row per image. Recognised columns (others go to
metadata): ``file`` / ``path`` / ``image`` / ``filename`` (relative to the folder,
or a bare file name), ``title`` / ``name`` / ``label``, ``caption`` /
``description`` / ``text``, ``url`` / ``page_url`` / ``source_url``, and
``image_url``. Sidecars sit next to an image: ``photo.json`` (same keys) or
``photo.txt`` (first line the title, the rest the caption).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rir.errors import ConfigurationError
from rir.inputs.jsonl import read_jsonl

__all__ = ["CaptionRecord", "caption_for", "load_captions", "title_from_filename"]

_FILE_KEYS = ("file", "path", "image", "filename", "image_path")
_TITLE_KEYS = ("title", "name", "label")
_CAPTION_KEYS = ("caption", "description", "text", "alt")
_URL_KEYS = ("url", "page_url", "source_url", "link")


@dataclass
class CaptionRecord:
    title: str | None = None
    caption: str | None = None
    url: str | None = None
    image_url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return value
    return None


def _record(row: dict[str, Any]) -> CaptionRecord:
    used = set(_FILE_KEYS + _TITLE_KEYS + _CAPTION_KEYS + _URL_KEYS + ("image_url",))
    title = _first(row, _TITLE_KEYS)
    caption = _first(row, _CAPTION_KEYS)
    url = _first(row, _URL_KEYS)
    return CaptionRecord(
        title=str(title) if title is not None else None,
        caption=str(caption) if caption is not None else None,
        url=str(url) if url is not None else None,
        image_url=str(row["image_url"]) if row.get("image_url") else None,
        metadata={k: v for k, v in row.items() if k not in used and v not in (None, "")},
    )


def load_captions(path: str | Path) -> dict[str, CaptionRecord]:
    """Read a JSONL or CSV captions file into ``{relative path or file name: record}``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigurationError(f"Captions file not found: '{path}'; pass a .jsonl or .csv file.")
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = [row for _, row in read_jsonl(path)]
    records: dict[str, CaptionRecord] = {}
    for number, row in enumerate(rows, start=1):
        name = _first(row, _FILE_KEYS)
        if name is None:
            raise ConfigurationError(
                f"Captions file '{path}' row {number} names no image: give it a 'file' column."
            )
        records[str(name).replace("\\", "/")] = _record(row)
    return records


def caption_for(
    image_path: Path, folder: Path, records: dict[str, CaptionRecord] | None
) -> CaptionRecord:
    """The record for an image: captions file (by relative path, then name), sidecar, or name."""
    if records:
        relative = image_path.relative_to(folder).as_posix()
        record = records.get(relative) or records.get(image_path.name)
        if record is not None:
            return record
    sidecar_json = image_path.with_suffix(".json")
    if sidecar_json.is_file():
        try:
            data = json.loads(sidecar_json.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"Sidecar '{sidecar_json}' is not valid JSON ({exc})."
            ) from None
        if isinstance(data, dict):
            return _record(data)
    sidecar_txt = image_path.with_suffix(".txt")
    if sidecar_txt.is_file():
        lines = sidecar_txt.read_text(encoding="utf-8").strip().splitlines()
        if lines:
            caption = "\n".join(lines[1:]).strip() or None
            return CaptionRecord(title=lines[0].strip(), caption=caption)
    return CaptionRecord()


def title_from_filename(path: Path) -> str:
    """``grace_hopper-1984.jpg`` -> ``grace hopper 1984``."""
    return " ".join(path.stem.replace("_", " ").replace("-", " ").split())
