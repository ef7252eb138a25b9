"""Converting the paper's released per-item logs into results JSONL.

The paper's repository (github.com/mi92/reverse-image-rag, ``records/*/logs_*.json``)
stores each run as one JSON list. INFOSEEK items carry ``idx``,
``answer_in_pred``, ``image_id``, ``question``, ``answer`` (a list),
``answer_eval``, ``pred``, token counts and ``full_response`` (sometimes
``data_id``; judged logs add ``judge_correct``). SnakeCLEF items carry ``idx``,
``binomial_em``, ``genus_em``, ``observation_id``, ``image_path``, ``answer``
(one string) and ``pred``. A run may be split over several files (GPT-4V:
items 0-439 and 440-1649); pass them together.

Every converted record keeps the paper's own verdicts in ``paper_metrics``, and
:func:`convert_paper_logs` reports how often :mod:`rir.eval.metrics` agrees with
them item by item, so a reproduction can be checked, not just hoped for.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rir.errors import ConfigurationError
from rir.eval.datasets import EvalItem, convert_infoseek, infoseek_aliases
from rir.eval.metrics import METRICS
from rir.eval.results import ResultRecord

__all__ = ["PaperConversion", "convert_paper_logs", "paper_log_kind"]

# The paper's boolean fields and the metric of ours each one corresponds to.
_PAPER_FIELDS = {"answer_in_pred": "answer_in_pred", "binomial_em": "em",
                 "genus_em": "genus_em", "judge_correct": "judge"}
_MODEL = re.compile(r"model='([^']+)'")


@dataclass
class PaperConversion:
    """Converted records plus the item-level agreement with the paper's verdicts."""

    kind: str
    records: list[ResultRecord]
    agreement: dict[str, tuple[int, int]] = field(default_factory=dict)
    disagreements: dict[str, list[str]] = field(default_factory=dict)

    def report(self) -> str:
        lines = [f"{len(self.records)} {self.kind} records converted"]
        for metric, (agree, total) in self.agreement.items():
            paper_hits = sum(bool(r.model_extra and r.model_extra.get("paper_metrics", {})
                                  .get(metric)) for r in self.records)
            lines.append(f"{metric}: our metric agrees with the paper's logged verdict on "
                         f"{agree}/{total} items (paper: {paper_hits}/{total} = "
                         f"{100 * paper_hits / total:.2f}%)")
            ids = self.disagreements.get(metric, [])
            if ids:
                lines.append(f"  disagreeing ids: {', '.join(ids[:10])}"
                             f"{' ...' if len(ids) > 10 else ''}")
        return "\n".join(lines)


def paper_log_kind(rows: Sequence[Any], path: Path) -> str:
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise ConfigurationError(f"'{path}' is not one of the paper's logs: expected a JSON list "
                                 "of per-item objects.")
    first = rows[0]
    if "binomial_em" in first:
        return "snakeclef"
    if "answer_in_pred" in first:
        return "infoseek"
    raise ConfigurationError(
        f"'{path}' is not one of the paper's INFOSEEK or SnakeCLEF logs: its items have neither "
        f"'answer_in_pred' nor 'binomial_em' (keys: {', '.join(sorted(first)[:12])})."
    )


def _guess_context(path: Path) -> str:
    # The paper names its retrieval-augmented runs *_rir_* and used screenshot context.
    return "screenshot" if "rir" in path.stem.lower().split("_") else "none"


def _model_of(row: dict[str, Any]) -> str | None:
    match = _MODEL.search(str(row.get("full_response", "")))
    return match.group(1) if match else None


def _infoseek_record(row: dict[str, Any], lookup: dict[Any, EvalItem]) -> ResultRecord:
    item = (lookup.get(row.get("data_id")) or lookup.get((row.get("image_id"), row.get("question")))
            or lookup.get(("idx", row.get("idx"))))
    answers = row["answer"] if isinstance(row["answer"], list) else [row["answer"]]
    aliases, answer_range = infoseek_aliases(row.get("answer_eval") or [])
    item_id = row.get("data_id") or (item.id if item else f"infoseek-{int(row['idx']):04d}")
    meta: dict[str, Any] = {"idx": row.get("idx"), "image_id": row.get("image_id")}
    if answer_range is not None:
        meta["answer_range"] = answer_range
    return ResultRecord(id=str(item_id), question=row.get("question", ""), answers=answers,
                        aliases=aliases, category=item.category if item else None,
                        prediction=row.get("pred"), tokens_in=row.get("prompt_tokens"),
                        tokens_out=row.get("completion_tokens"), model=_model_of(row), meta=meta)


def _snake_record(row: dict[str, Any]) -> ResultRecord:
    item_id = row.get("image_path") or f"snakeclef-{int(row['idx']):03d}"
    return ResultRecord(id=str(item_id), question=row.get("question", ""),
                        answers=[row["answer"]], prediction=row.get("pred"),
                        tokens_in=row.get("prompt_tokens"), tokens_out=row.get("completion_tokens"),
                        model=_model_of(row),
                        meta={"idx": row.get("idx"), "observation_id": row.get("observation_id")})


def _questions_lookup(path: str | os.PathLike[str] | None) -> dict[Any, EvalItem]:
    if path is None:
        return {}
    items = convert_infoseek(path)
    lookup: dict[Any, EvalItem] = {}
    for position, item in enumerate(items):
        lookup[item.id] = item
        lookup[(item.meta.get("image_id"), item.question)] = item
        lookup[("idx", position)] = item
    return lookup


def convert_paper_logs(
    paths: Sequence[str | os.PathLike[str]],
    *,
    questions: str | os.PathLike[str] | None = None,
    context: str | None = None,
    engine: str | None = None,
) -> PaperConversion:
    """Convert one run's log files (same benchmark) to :class:`ResultRecord` objects.

    ``questions``: the paper's INFOSEEK question file, to recover ``data_id`` ids and
    categories (older logs lack both). ``context`` defaults to ``screenshot`` for files
    named ``*_rir_*`` and ``none`` otherwise; ``engine`` defaults to ``google_lens`` for
    screenshot runs (the paper drove Google's search by image).
    """
    if not paths:
        raise ConfigurationError("Give at least one of the paper's log files.")
    lookup = _questions_lookup(questions)
    kinds: set[str] = set()
    records: list[ResultRecord] = []
    origin: dict[str, Path] = {}
    for raw_path in paths:
        path = Path(raw_path)
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(f"The log file '{path}' does not exist.") from None
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"The log file '{path}' is not valid JSON: {exc}") from None
        kind = paper_log_kind(rows, path)
        kinds.add(kind)
        mode = context or _guess_context(path)
        for number, row in enumerate(rows):
            try:
                record = _infoseek_record(row, lookup) if kind == "infoseek" else _snake_record(row)
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigurationError(f"'{path}' item #{number} lacks a field the conversion "
                                         f"needs ({type(exc).__name__}: {exc}).") from None
            if record.id in origin:
                raise ConfigurationError(
                    f"Item {record.id!r} appears in both '{origin[record.id]}' and '{path}'; "
                    "pass the files of one run only, without overlaps."
                )
            origin[record.id] = path
            paper = {ours: bool(row[theirs]) for theirs, ours in _PAPER_FIELDS.items()
                     if theirs in row}
            record.context = mode
            record.engine = engine or ("google_lens" if mode != "none" else None)
            extra = {"paper_metrics": paper, "source": path.name}
            records.append(record.model_copy(update=extra))
    if len(kinds) > 1:
        raise ConfigurationError("The files mix INFOSEEK and SnakeCLEF logs; convert each "
                                 "benchmark's run separately.")
    conversion = PaperConversion(kind=kinds.pop(), records=records)
    for metric in dict.fromkeys(m for r in records for m in (r.model_extra or {})
                                .get("paper_metrics", {})):
        if metric not in METRICS:
            continue
        function = METRICS[metric]
        compared = [(r.id, function(r.prediction, r.answers, r.aliases),
                     r.model_extra["paper_metrics"][metric]) for r in records
                    if metric in (r.model_extra or {}).get("paper_metrics", {})]
        conversion.agreement[metric] = (sum(ours == theirs for _, ours, theirs in compared),
                                        len(compared))
        conversion.disagreements[metric] = [i for i, ours, theirs in compared if ours != theirs]
    return conversion
