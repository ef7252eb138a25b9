"""The optional LLM judge: a chat model decides whether each prediction is correct.

String metrics miss paraphrases ("the Big Apple") and cannot check numbers
("about 1.2 m" for 118 cm). Like the paper (which judged INFOSEEK with GPT-4
Turbo), the judge sees the question, the gold answers, the other acceptable
answers or the acceptable numeric range (``meta["answer_range"]``) and the
prediction, and answers yes or no. The exact prompt is :data:`JUDGE_SYSTEM`
plus :data:`JUDGE_TEMPLATE`; a reply whose first word is "yes" counts as correct.

Verdicts are cached in a JSONL file beside the results (keyed by judge model,
question, answers and prediction), so rescoring costs nothing and an
interrupted judging run continues where it stopped. Failed items and empty
predictions are wrong without asking the judge.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rir.errors import EngineError
from rir.eval.item import describe_error
from rir.eval.model_backend import get_backend
from rir.eval.results import ResultRecord, ResultsWriter

__all__ = ["JUDGE_SYSTEM", "JUDGE_TEMPLATE", "ajudge_records", "judge_cache_path",
           "judge_prompt", "parse_verdict"]

JUDGE_SYSTEM = (
    "You judge answers to questions about images. You are given a question, the gold "
    "answer(s), other acceptable answers (for a question asking for a quantity: an acceptable "
    "numeric range) and a model's answer. The model's answer is correct when it gives the gold "
    "answer or one of the acceptable answers, in any wording, spelling, alias or abbreviation; "
    "for a quantity, when its estimate (an explicit average, else its single value) lies "
    "inside the range. It is not correct when it names a different answer, hedges between "
    "several candidates without choosing, or says it cannot tell. Reply with one word: yes or no."
)
JUDGE_TEMPLATE = (
    "Question: {question}\n"
    "Gold answer(s): {answers}\n"
    "Other acceptable answers: {acceptable}\n"
    'Model answer: "{prediction}"\n'
    "Is the model answer correct? (yes/no)"
)
_FIRST_WORD = re.compile(r"[a-z]+")


def judge_prompt(record: ResultRecord) -> tuple[str, str]:
    """``(system, user)`` texts the judge is sent for ``record``."""
    answer_range = record.meta.get("answer_range")
    if isinstance(answer_range, (list, tuple)) and len(answer_range) == 2:
        acceptable = f"a number between {answer_range[0]:g} and {answer_range[1]:g}"
    else:
        acceptable = json.dumps(record.aliases, ensure_ascii=False) if record.aliases else "none"
    user = JUDGE_TEMPLATE.format(question=record.question,
                                 answers=json.dumps(record.answers, ensure_ascii=False),
                                 acceptable=acceptable, prediction=record.prediction or "")
    return JUDGE_SYSTEM, user


def parse_verdict(reply: str) -> bool:
    """True when the reply's first word is "yes" (case and punctuation ignored)."""
    match = _FIRST_WORD.search(reply.lower())
    return bool(match) and match.group(0) == "yes"


def judge_cache_path(results: str | os.PathLike[str]) -> Path:
    path = Path(results)
    return path.with_name(path.stem + ".judge.jsonl")


def _key(judge: str, record: ResultRecord) -> str:
    blob = json.dumps([judge, record.question, record.answers, record.aliases,
                       record.meta.get("answer_range"), record.prediction], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _load_cache(path: Path) -> dict[str, bool]:
    if not path.exists():
        return {}
    cached: dict[str, bool] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            cached[row["key"]] = bool(row["verdict"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a torn line from an interrupted run: that item is judged again
    return cached


async def ajudge_records(
    records: Sequence[ResultRecord],
    model: Any,
    *,
    model_name: str | None = None,
    cache_path: str | os.PathLike[str] | None = None,
    concurrency: int = 4,
    backend: str = "langchain",
) -> dict[str, bool]:
    """Verdicts ``{id: correct}`` from the judge ``model`` (a name or a chat model of
    ``backend``, see :mod:`rir.eval.model_backend`).

    Raises :class:`~rir.errors.EngineError` if some judge calls failed; the verdicts
    obtained so far are cached, so running again continues.
    """
    name = model_name or (model if isinstance(model, str) else type(model).__name__)
    call_judge = get_backend(backend).judge(model)
    cache_file = Path(cache_path) if cache_path is not None else None
    cached = _load_cache(cache_file) if cache_file is not None else {}
    verdicts: dict[str, bool] = {}
    to_ask: list[tuple[ResultRecord, str]] = []
    for record in records:
        if not record.ok or not (record.prediction or "").strip():
            verdicts[record.id] = False
            continue
        key = _key(name, record)
        if key in cached:
            verdicts[record.id] = cached[key]
        else:
            to_ask.append((record, key))
    failures: list[str] = []
    semaphore = asyncio.Semaphore(max(1, concurrency))
    writer = ResultsWriter(cache_file) if cache_file is not None and to_ask else None

    async def ask(record: ResultRecord, key: str) -> None:
        system, user = judge_prompt(record)
        async with semaphore:
            try:
                text = await call_judge(system, user)
            except Exception as exc:  # noqa: BLE001 - report every failed call together
                failures.append(f"{record.id}: {describe_error(exc)}")
                return
        verdicts[record.id] = parse_verdict(text)
        if writer is not None:
            writer.write({"key": key, "id": record.id, "judge": name,
                          "verdict": verdicts[record.id], "reply": text[:200]})

    try:
        await asyncio.gather(*(ask(record, key) for record, key in to_ask))
    finally:
        if writer is not None:
            writer.close()
    if failures:
        raise EngineError(f"The judge {name} failed on {len(failures)} of {len(to_ask)} "
                          f"item(s) (first: {failures[0]}); verdicts so far are cached, run "
                          "the command again to continue.", engine=name)
    return verdicts
