"""Run results: one JSON object per item, appended as each item finishes.

A results line::

    {"id": "q1", "question": "...", "answers": ["..."], "aliases": [], "category": "person",
     "prediction": "It is Grace Hopper.", "context": "text", "engine": "local",
     "model": "fake:best-guess", "best_guess": "Grace Hopper", "documents": 3,
     "tokens_in": 212, "tokens_out": 5, "latency_s": 0.41, "error": null,
     "finished_at": "2026-05-14T10:31:07Z"}

``regions`` is ``"auto"`` for a run that searched regions of each image (absent
otherwise). ``error`` is ``"TypeName: message"`` when the item failed (``prediction`` is then
null). A file may hold several lines for one id (a failed item retried on
resume); the last line wins. Lines are written whole, with one ``write`` and a
flush, so an interrupted run leaves a valid file; a torn last line (a killed
process) is ignored when reading and cut off before appending.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rir.errors import ConfigurationError
from rir.eval.datasets import normalize_answer_fields

__all__ = ["ResultRecord", "ResultsWriter", "finished_ids", "load_results"]

logger = logging.getLogger(__name__)


class ResultRecord(BaseModel):
    """One evaluated item (extra keys are kept, e.g. ``paper_metrics`` from converted logs)."""

    model_config = ConfigDict(extra="allow")

    id: str
    question: str = ""
    answers: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    category: str | None = None
    prediction: str | None = None
    context: str | None = None
    engine: str | None = None
    regions: str | None = None
    model: str | None = None
    best_guess: str | None = None
    documents: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_s: float | None = None
    error: str | None = None
    image: str | None = None
    finished_at: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lenient_fields(cls, data: Any) -> Any:
        return normalize_answer_fields(data)

    @property
    def ok(self) -> bool:
        return not self.error


def _read_lines(path: Path) -> tuple[list[tuple[int, str]], bool]:
    """Complete lines (number, text) and whether the file ends with a torn line."""
    data = path.read_bytes()
    torn = bool(data) and not data.endswith(b"\n")
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if torn:
        lines = lines[:-1]
    return [(n, line) for n, line in enumerate(lines, start=1) if line.strip()], torn


def load_results(path: str | os.PathLike[str], *, keep_all: bool = False) -> list[ResultRecord]:
    """Read a results file: the last record of each id, in first-seen order.

    ``keep_all=True`` returns every line instead. A torn final line (from a killed
    run) is skipped with a warning; any other invalid line raises with its number.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"The results file '{file}' does not exist.")
    lines, torn = _read_lines(file)
    if torn:
        logger.warning("%s: ignoring an incomplete last line (the run was killed mid-write)",
                       file)
    records: list[ResultRecord] = []
    for number, line in lines:
        try:
            records.append(ResultRecord.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigurationError(
                f"{file}:{number} is not a results record ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0]}). Results files are written by 'rir eval run' or "
                "'rir eval convert-paper-logs'."
            ) from None
    if keep_all:
        return records
    latest: dict[str, ResultRecord] = {}
    for record in records:
        latest[record.id] = record  # a dict keeps each key where it was first inserted
    return list(latest.values())


def finished_ids(path: str | os.PathLike[str], *, include_failed: bool = False) -> set[str]:
    """Ids whose latest record succeeded (or any record, with ``include_failed``)."""
    file = Path(path)
    if not file.exists():
        return set()
    return {r.id for r in load_results(file) if include_failed or r.ok}


class ResultsWriter:
    """Appends records to a JSONL file, one whole line per ``write`` call.

    Opening repairs a torn last line left by a killed process (it is cut off, since
    it cannot be parsed), so appended lines always start on a fresh line.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self._cut_torn_line()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.written = 0

    def _cut_torn_line(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            logger.warning("%s: removing an incomplete last line (%d bytes) left by a killed "
                           "run", self.path, len(data) - keep)
            with self.path.open("r+b") as handle:
                handle.truncate(keep)

    def write(self, record: ResultRecord | dict[str, Any]) -> None:
        data = record.model_dump(mode="json") if isinstance(record, ResultRecord) else record
        line = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
        view = memoryview(line)
        while view:  # O_APPEND: one write for the usual line; loop only on a short write
            done = os.write(self._fd, view)
            view = view[done:]
        self.written += 1

    def write_all(self, records: Iterable[ResultRecord | dict[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
