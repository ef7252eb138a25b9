"""Evaluation datasets: one JSON object per line, and converters for the paper's files.

A dataset line::

    {"id": "q1", "image": "images/q1.jpg", "question": "Who is this?",
     "answers": ["Grace Hopper"], "aliases": ["Amazing Grace"], "category": "person"}

``id``, ``image``, ``question`` and ``answers`` are required; ``aliases``,
``category`` and ``meta`` are optional (any other key is kept in ``meta``).
``image`` is a URL or a path; relative paths are resolved against the
``image_root`` given when loading, else against the dataset file's folder.

The paper's question files (arXiv 2405.18740) convert with
:func:`convert_infoseek` and :func:`convert_snakeclef`; their images are not
shipped, so pass the folder (or URL prefix) holding them as ``image_root``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rir.errors import ConfigurationError
from rir.inputs.jsonl import read_jsonl

__all__ = [
    "SNAKECLEF_QUESTION",
    "EvalItem",
    "convert_infoseek",
    "convert_snakeclef",
    "infoseek_aliases",
    "load_dataset",
    "normalize_answer_fields",
    "read_jsonl",
    "resolve_image",
    "write_dataset",
]

# The exact question the paper asked for every SnakeCLEF image (experiment/snake/run_snake.py).
SNAKECLEF_QUESTION = (
    "What is the binomial name of the snake in the image (e.g. Psammophis namibensis, "
    "Lampropeltis annulata)? Please respond with the binomial name only."
)
_FIELDS = ("id", "image", "question", "answers", "aliases", "category", "meta")


def normalize_answer_fields(data: Any) -> Any:
    """Lenient input for ``id``, ``answers`` and ``aliases`` (shared by items and results).

    A number id becomes a string, a single answer string becomes a list, and INFOSEEK-style
    numeric aliases (``{"range": [lo, hi]}``) move to ``meta["answer_range"]``.
    """
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if isinstance(data.get("id"), int) and not isinstance(data.get("id"), bool):
        data["id"] = str(data["id"])
    for key in ("answers", "aliases"):
        if isinstance(data.get(key), str):
            data[key] = [data[key]]
    aliases = data.get("aliases")
    if isinstance(aliases, list) and any(isinstance(a, dict) for a in aliases):
        strings, answer_range = infoseek_aliases(aliases)
        data["aliases"] = strings
        if answer_range is not None:
            data["meta"] = {"answer_range": answer_range, **(data.get("meta") or {})}
    return data


class EvalItem(BaseModel):
    """One question about one image, with the answers that count as correct."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    image: str = Field(min_length=1, description="A URL or a path to the image.")
    question: str = Field(min_length=1)
    answers: list[str] = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    category: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lenient_fields(cls, data: Any) -> Any:
        return normalize_answer_fields(data)

    @field_validator("answers")
    @classmethod
    def _some_answer(cls, value: list[str]) -> list[str]:
        if not any(answer.strip() for answer in value):
            raise ValueError("needs at least one non-blank answer")
        return value


def resolve_image(image: str, root: str | os.PathLike[str] | None) -> str:
    """A URL or absolute path as is; a relative path joined to ``root`` (a folder or URL)."""
    if "://" in image or image.startswith("data:") or Path(image).is_absolute():
        return image
    if root is None:
        return image
    root_text = os.fspath(root)
    if "://" in root_text:
        return root_text.rstrip("/") + "/" + image.lstrip("/")
    return str(Path(root_text).expanduser() / image)


def load_dataset(
    path: str | os.PathLike[str], *, image_root: str | os.PathLike[str] | None = None
) -> list[EvalItem]:
    """Read a dataset JSONL file; relative image paths resolve against ``image_root``.

    Without ``image_root`` they resolve against the dataset file's folder. Ids must be
    unique. Keys other than the schema's go into ``meta``.
    """
    file = Path(path)
    root = image_root if image_root is not None else file.resolve().parent
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for number, row in read_jsonl(file):
        extras = {key: row[key] for key in row if key not in _FIELDS}
        data = {key: row[key] for key in row if key in _FIELDS}
        if extras:
            data["meta"] = {**extras, **(data.get("meta") or {})}
        try:
            item = EvalItem.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'line'}: "
                                 f"{err['msg']}" for err in exc.errors())
            raise ConfigurationError(
                f"{file}:{number} is not a valid dataset item ({problems}). Each line needs "
                "id, image, question and answers (a list of strings)."
            ) from None
        if item.id in seen:
            raise ConfigurationError(f"{file}:{number} repeats the id {item.id!r} of line "
                                     f"{seen[item.id]}; ids must be unique.")
        seen[item.id] = number
        items.append(item.model_copy(update={"image": resolve_image(item.image, root)}))
    if not items:
        raise ConfigurationError(f"The dataset '{file}' has no items.")
    return items


def write_dataset(items: Iterable[EvalItem], path: str | os.PathLike[str]) -> Path:
    """Write ``items`` as JSONL (UTF-8, one object per line); returns the path."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    with file.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item.model_dump(exclude_defaults=True), ensure_ascii=False))
            handle.write("\n")
    return file


def _load_json(path: str | os.PathLike[str], what: str) -> Any:
    file = Path(path)
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"The {what} file '{file}' does not exist.") from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"The {what} file '{file}' is not valid JSON: {exc}") from None


def infoseek_aliases(answer_eval: Sequence[Any]) -> tuple[list[str], list[float] | None]:
    """INFOSEEK's ``answer_eval``: string aliases, or a numeric ``{"range": [lo, hi]}``."""
    aliases = [a for a in answer_eval if isinstance(a, str)]
    ranges = [a["range"] for a in answer_eval if isinstance(a, dict) and "range" in a]
    return aliases, ([float(x) for x in ranges[0]] if ranges else None)


def convert_infoseek(
    questions: str | os.PathLike[str], *, image_root: str | None = None
) -> list[EvalItem]:
    """The paper's INFOSEEK file (``{category: [question, ...]}``) as dataset items.

    ``answers`` is the file's ``answer`` (what the paper's answer-in-prediction metric
    used), ``aliases`` the string entries of ``answer_eval``; a numeric answer's
    acceptable range goes to ``meta["answer_range"]`` for the judge. The order is the
    paper's (categories in file order). ``image`` is ``image_id``, joined to
    ``image_root`` when given.
    """
    data = _load_json(questions, "INFOSEEK questions")
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ConfigurationError(f"'{questions}' is not the paper's INFOSEEK file: expected an "
                                 "object mapping each category to a list of questions.")
    items: list[EvalItem] = []
    for category, rows in data.items():
        for row in rows:
            try:
                aliases, answer_range = infoseek_aliases(row.get("answer_eval") or [])
                meta = {k: row[k] for k in ("image_id", "data_split", "entity_id") if k in row}
                if answer_range is not None:
                    meta["answer_range"] = answer_range
                items.append(EvalItem(
                    id=row["data_id"], image=resolve_image(row["image_id"], image_root),
                    question=row["question"], answers=row["answer"], aliases=aliases,
                    category=category, meta=meta,
                ))
            except (KeyError, TypeError, ValidationError) as exc:
                raise ConfigurationError(
                    f"'{questions}': a question in category {category!r} lacks data_id, "
                    f"image_id, question or answer ({type(exc).__name__}: {exc})."
                ) from None
    return items


def convert_snakeclef(
    questions: str | os.PathLike[str], *, image_root: str | None = None
) -> list[EvalItem]:
    """The paper's SnakeCLEF file (a list of observations) as dataset items.

    Every item asks the paper's question (:data:`SNAKECLEF_QUESTION`); ``answers`` is
    ``[binomial_name]``. The id is ``image_path`` (unique, while ``observation_id``
    repeats for observations with several photos).
    """
    data = _load_json(questions, "SnakeCLEF questions")
    if not isinstance(data, list):
        raise ConfigurationError(f"'{questions}' is not the paper's SnakeCLEF file: expected a "
                                 "list of observations.")
    items: list[EvalItem] = []
    for number, row in enumerate(data):
        try:
            meta = {k: row[k] for k in ("observation_id", "class_id", "code", "endemic",
                                         "captive") if k in row}
            items.append(EvalItem(
                id=row["image_path"], image=resolve_image(row["image_path"], image_root),
                question=SNAKECLEF_QUESTION, answers=[row["binomial_name"]], meta=meta,
            ))
        except (KeyError, TypeError, ValidationError) as exc:
            raise ConfigurationError(
                f"'{questions}': observation #{number} lacks image_path or binomial_name "
                f"({type(exc).__name__}: {exc})."
            ) from None
    return items
