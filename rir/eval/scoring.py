"""Scoring a results file: per-item verdicts, overall and per-category accuracy.

:func:`score_records` applies a string metric; :func:`score_with_verdicts`
takes verdicts computed elsewhere (the LLM judge). A failed item (``error``
set) counts as wrong unless ``exclude_errors=True``. :func:`format_score`
renders the table whose last line is exactly ``METRIC: XX.XX% (hits/total)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rir.errors import ConfigurationError
from rir.eval.metrics import METRICS, check_metric
from rir.eval.results import ResultRecord

__all__ = [
    "UNCATEGORISED",
    "Accuracy",
    "Score",
    "format_score",
    "score_records",
    "score_with_verdicts",
    "summary_line",
]

UNCATEGORISED = "(none)"


@dataclass(frozen=True)
class Accuracy:
    hits: int
    total: int

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0

    @property
    def percent(self) -> str:
        return f"{100 * self.rate:.2f}%"

    def as_dict(self) -> dict[str, Any]:
        return {"hits": self.hits, "total": self.total, "accuracy": self.rate}


@dataclass
class Score:
    """Verdicts for one results file under one metric."""

    metric: str
    verdicts: dict[str, bool]
    categories: dict[str, str]
    errors: list[str] = field(default_factory=list)
    excluded_errors: bool = False
    source: str | None = None

    @property
    def overall(self) -> Accuracy:
        return Accuracy(sum(self.verdicts.values()), len(self.verdicts))

    def by_category(self) -> dict[str, Accuracy]:
        groups: dict[str, list[bool]] = {}
        for item_id, verdict in self.verdicts.items():
            groups.setdefault(self.categories[item_id], []).append(verdict)
        return {name: Accuracy(sum(v), len(v)) for name, v in sorted(groups.items())}

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "source": self.source,
            **self.overall.as_dict(),
            "errors": len(self.errors),
            "errors_excluded": self.excluded_errors,
            "categories": {k: v.as_dict() for k, v in self.by_category().items()},
            "items": {k: v for k, v in self.verdicts.items()},
        }


def _category(record: ResultRecord) -> str:
    return record.category or UNCATEGORISED


def score_records(
    records: Sequence[ResultRecord],
    metric: str,
    *,
    exclude_errors: bool = False,
    source: str | None = None,
) -> Score:
    """Apply the string ``metric`` to every record (the last record of each id)."""
    check_metric(metric)
    if metric not in METRICS:
        raise ConfigurationError(f"The metric {metric!r} needs a model; use "
                                 "rir.eval.judge.ajudge_records (or 'rir eval score "
                                 "--metric judge --judge-model ...').")
    function = METRICS[metric]
    verdicts = {r.id: r.ok and function(r.prediction, r.answers, r.aliases) for r in records}
    return score_with_verdicts(records, metric, verdicts, exclude_errors=exclude_errors,
                               source=source)


def score_with_verdicts(
    records: Sequence[ResultRecord],
    metric: str,
    verdicts: Mapping[str, bool],
    *,
    exclude_errors: bool = False,
    source: str | None = None,
) -> Score:
    if not records:
        raise ConfigurationError(f"No results to score{f' in {source}' if source else ''}.")
    errors = [r.id for r in records if not r.ok]
    kept = [r for r in records if r.ok or not exclude_errors]
    return Score(
        metric=metric,
        verdicts={r.id: bool(verdicts.get(r.id, False)) and r.ok for r in kept},
        categories={r.id: _category(r) for r in kept},
        errors=errors,
        excluded_errors=exclude_errors,
        source=source,
    )


def summary_line(score: Score) -> str:
    """``METRIC: XX.XX% (hits/total)``."""
    overall = score.overall
    return f"{score.metric}: {overall.percent} ({overall.hits}/{overall.total})"


def format_score(score: Score) -> str:
    """A plain-text table (categories, then overall) ending in :func:`summary_line`."""
    rows = [(name, acc) for name, acc in score.by_category().items()]
    show_categories = not (len(rows) == 1 and rows[0][0] == UNCATEGORISED)
    width = max([len("category"), len("overall"), *(len(name) for name, _ in rows)])
    lines = []
    if score.source:
        lines.append(f"{score.source}")
    header = f"{'category':<{width}}  {'hits':>6}  {'total':>6}  {'accuracy':>8}"
    lines += [header, "-" * len(header)]
    if show_categories:
        for name, acc in rows:
            lines.append(f"{name:<{width}}  {acc.hits:>6}  {acc.total:>6}  {acc.percent:>8}")
        lines.append("-" * len(header))
    overall = score.overall
    lines.append(f"{'overall':<{width}}  {overall.hits:>6}  {overall.total:>6}  "
                 f"{overall.percent:>8}")
    if score.errors:
        how = "left out" if score.excluded_errors else "counted as wrong"
        lines.append(f"{len(score.errors)} item(s) failed during the run ({how}); rerun "
                     "'rir eval run' with the same --out to retry them.")
    lines.append(summary_line(score))
    return "\n".join(lines)
