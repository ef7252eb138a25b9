"""Comparing two runs item by item: lift, paired bootstrap interval, flips.

The runs are paired by item id (ids in only one file are reported and left
out). The 95% interval comes from a paired bootstrap: resample the paired
items with replacement ``n_resamples`` times (numpy's ``default_rng(seed)``),
recompute both accuracies on each resample, and take the 2.5th and 97.5th
percentiles of the absolute and relative differences. Same inputs and seed,
same interval.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rir.errors import ConfigurationError
from rir.eval.scoring import Accuracy, Score

__all__ = ["CategoryLift", "Comparison", "compare_scores", "format_comparison",
           "paired_bootstrap"]

_CHUNK = 1000


def paired_bootstrap(
    baseline: np.ndarray, treatment: np.ndarray, *, n_resamples: int = 10_000, seed: int = 0,
    confidence: float = 0.95,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """95% intervals of ``acc(treatment) - acc(baseline)`` and of ``acc(t) / acc(b) - 1``.

    Resamples where the baseline accuracy is 0 have no relative lift and are left
    out of the relative interval (NaN when none remain).
    """
    if baseline.shape != treatment.shape or baseline.ndim != 1 or baseline.size == 0:
        raise ConfigurationError("paired_bootstrap needs two equally long, non-empty arrays.")
    if n_resamples < 1:
        raise ConfigurationError(f"n_resamples must be >= 1, got {n_resamples}.")
    rng = np.random.default_rng(seed)
    a, b = baseline.astype(np.float64), treatment.astype(np.float64)
    n = a.size
    diffs, ratios = [], []
    for start in range(0, n_resamples, _CHUNK):
        rows = min(_CHUNK, n_resamples - start)
        index = rng.integers(0, n, size=(rows, n))
        acc_a, acc_b = a[index].mean(axis=1), b[index].mean(axis=1)
        diffs.append(acc_b - acc_a)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios.append(np.where(acc_a > 0, acc_b / acc_a - 1.0, np.nan))
    tail = 100 * (1 - confidence) / 2
    diff = np.concatenate(diffs)
    ratio = np.concatenate(ratios)
    ratio = ratio[~np.isnan(ratio)]
    abs_ci = (float(np.percentile(diff, tail)), float(np.percentile(diff, 100 - tail)))
    rel_ci = ((float(np.percentile(ratio, tail)), float(np.percentile(ratio, 100 - tail)))
              if ratio.size else (math.nan, math.nan))
    return abs_ci, rel_ci


def _relative(base: Accuracy, treat: Accuracy) -> float:
    return treat.rate / base.rate - 1.0 if base.rate > 0 else math.nan


@dataclass(frozen=True)
class CategoryLift:
    name: str
    baseline: Accuracy
    treatment: Accuracy

    @property
    def absolute(self) -> float:
        return self.treatment.rate - self.baseline.rate

    @property
    def relative(self) -> float:
        return _relative(self.baseline, self.treatment)


@dataclass
class Comparison:
    """Two runs scored with one metric, paired by id."""

    metric: str
    labels: tuple[str, str]
    baseline: Accuracy
    treatment: Accuracy
    absolute_ci: tuple[float, float]
    relative_ci: tuple[float, float]
    categories: list[CategoryLift]
    gained: list[str]
    lost: list[str]
    n_resamples: int
    seed: int
    only_in_baseline: list[str] = field(default_factory=list)
    only_in_treatment: list[str] = field(default_factory=list)

    @property
    def absolute(self) -> float:
        return self.treatment.rate - self.baseline.rate

    @property
    def relative(self) -> float:
        return _relative(self.baseline, self.treatment)

    def as_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {
            "metric": self.metric,
            "labels": list(self.labels),
            "paired_items": self.baseline.total,
            "baseline": self.baseline.as_dict(),
            "treatment": self.treatment.as_dict(),
            "absolute_lift": self.absolute,
            "absolute_lift_ci95": list(self.absolute_ci),
            "relative_lift": num(self.relative),
            "relative_lift_ci95": [num(x) for x in self.relative_ci],
            "bootstrap": {"resamples": self.n_resamples, "seed": self.seed},
            "categories": {
                c.name: {"baseline": c.baseline.as_dict(), "treatment": c.treatment.as_dict(),
                         "absolute_lift": c.absolute, "relative_lift": num(c.relative)}
                for c in self.categories
            },
            "gained": self.gained,
            "lost": self.lost,
            "only_in_baseline": self.only_in_baseline,
            "only_in_treatment": self.only_in_treatment,
        }


def compare_scores(
    baseline: Score, treatment: Score, *, labels: tuple[str, str] = ("baseline", "rir"),
    n_resamples: int = 10_000, seed: int = 0,
) -> Comparison:
    """Pair two scores by id and compute lifts, the bootstrap interval and the flips."""
    if baseline.metric != treatment.metric:
        raise ConfigurationError(f"Cannot compare scores of different metrics "
                                 f"({baseline.metric} vs {treatment.metric}).")
    # Natural id order ("q2" before "q10"), whatever order the items finished in.
    ids = sorted((i for i in baseline.verdicts if i in treatment.verdicts), key=_natural)
    if not ids:
        raise ConfigurationError(
            f"The two results files share no item ids ({labels[0]}: {len(baseline.verdicts)} "
            f"items, {labels[1]}: {len(treatment.verdicts)}); compare runs of one dataset."
        )
    a = np.array([baseline.verdicts[i] for i in ids], dtype=bool)
    b = np.array([treatment.verdicts[i] for i in ids], dtype=bool)
    abs_ci, rel_ci = paired_bootstrap(a, b, n_resamples=n_resamples, seed=seed)
    groups: dict[str, list[int]] = {}
    for position, item_id in enumerate(ids):
        name = baseline.categories.get(item_id) or treatment.categories[item_id]
        groups.setdefault(name, []).append(position)
    categories = [
        CategoryLift(name, Accuracy(int(a[rows].sum()), len(rows)),
                     Accuracy(int(b[rows].sum()), len(rows)))
        for name, rows in sorted(groups.items())
    ]
    return Comparison(
        metric=baseline.metric, labels=labels,
        baseline=Accuracy(int(a.sum()), len(ids)), treatment=Accuracy(int(b.sum()), len(ids)),
        absolute_ci=abs_ci, relative_ci=rel_ci, categories=categories,
        gained=[i for i, x, y in zip(ids, a, b, strict=True) if y and not x],
        lost=[i for i, x, y in zip(ids, a, b, strict=True) if x and not y],
        n_resamples=n_resamples, seed=seed,
        only_in_baseline=[i for i in baseline.verdicts if i not in treatment.verdicts],
        only_in_treatment=[i for i in treatment.verdicts if i not in baseline.verdicts],
    )


def _natural(item_id: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", item_id) if part]


def _pp(x: float) -> str:
    return f"{100 * x:+.2f} pp"


def _rel(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:+.2f}%"


def format_comparison(comparison: Comparison, *, show_flips: int = 10,
                      questions: dict[str, str] | None = None) -> str:
    """A plain-text report: per-category table, both accuracies, lifts with CIs, flips."""
    c = comparison
    base_label, treat_label = c.labels
    rows = list(c.categories)
    width = max([len("category"), len("overall"), *(len(r.name) for r in rows)])
    col = max(9, len(base_label), len(treat_label))
    header = (f"{'category':<{width}}  {'n':>5}  {base_label:>{col}}  {treat_label:>{col}}  "
              f"{'lift':>10}  {'relative':>9}")
    lines = [f"metric: {c.metric}, {c.baseline.total} paired items", header, "-" * len(header)]

    def row(name: str, base: Accuracy, treat: Accuracy, absolute: float, relative: float) -> str:
        return (f"{name:<{width}}  {base.total:>5}  {base.percent:>{col}}  "
                f"{treat.percent:>{col}}  {_pp(absolute):>10}  {_rel(relative):>9}")

    if not (len(rows) == 1 and rows[0].name == "(none)"):
        lines += [row(r.name, r.baseline, r.treatment, r.absolute, r.relative) for r in rows]
        lines.append("-" * len(header))
    lines.append(row("overall", c.baseline, c.treatment, c.absolute, c.relative))
    lines.append("")
    lines.append(f"{base_label}: {c.baseline.percent} ({c.baseline.hits}/{c.baseline.total})")
    lines.append(f"{treat_label}: {c.treatment.percent} ({c.treatment.hits}/{c.treatment.total})")
    lo, hi = c.absolute_ci
    lines.append(f"absolute lift: {_pp(c.absolute)} (95% CI {_pp(lo)} to {_pp(hi)})")
    rlo, rhi = c.relative_ci
    if math.isnan(c.relative):
        lines.append(f"relative lift: n/a ({base_label} accuracy is 0)")
    else:
        lines.append(f"relative lift: {_rel(c.relative)} (95% CI {_rel(rlo)} to {_rel(rhi)})")
    lines.append(f"paired bootstrap: {c.n_resamples} resamples, seed {c.seed}")
    for label, ids in ((f"only in {base_label}", c.only_in_baseline),
                       (f"only in {treat_label}", c.only_in_treatment)):
        if ids:
            lines.append(f"{len(ids)} item(s) {label} were left out: {', '.join(ids[:5])}"
                         f"{' ...' if len(ids) > 5 else ''}")
    lines.append(f"flipped: {len(c.gained)} wrong -> right, {len(c.lost)} right -> wrong")
    for title, ids in (("wrong -> right", c.gained), ("right -> wrong", c.lost)):
        if ids and show_flips > 0:
            lines.append(f"  {title}:")
            for item_id in ids[:show_flips]:
                question = (questions or {}).get(item_id, "")
                lines.append(f"    {item_id}" + (f"  {_clip(question, 70)}" if question else ""))
            if len(ids) > show_flips:
                lines.append(f"    ... and {len(ids) - show_flips} more (--show-flips N, --json)")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
