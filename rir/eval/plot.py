"""Per-category bar chart of a :class:`~rir.eval.compare.Comparison` (matplotlib)."""

from __future__ import annotations

import os
from pathlib import Path

from rir._runtime import missing_extra
from rir.errors import ConfigurationError
from rir.eval.compare import Comparison

__all__ = ["plot_comparison"]


def plot_comparison(comparison: Comparison, path: str | os.PathLike[str], *,
                    title: str | None = None, dpi: int = 120) -> Path:
    """Draw baseline and treatment accuracy per category (plus overall) into ``path``.

    The format follows the file suffix (``.png``, ``.svg``, ``.pdf``). Uses
    matplotlib's Agg canvas, so it works without a display.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise missing_extra("matplotlib", extra="viz",
                            feature="Plotting a comparison (--plot)") from None

    out = Path(path)
    if out.suffix.lower() not in (".png", ".svg", ".pdf", ".jpg", ".jpeg"):
        raise ConfigurationError(f"Cannot tell the image format of '{out}'; end the file name "
                                 "in .png, .svg or .pdf.")
    names = [c.name for c in comparison.categories]
    base = [100 * c.baseline.rate for c in comparison.categories]
    treat = [100 * c.treatment.rate for c in comparison.categories]
    if len(names) > 1 or names != ["(none)"]:
        names.append("overall")
    else:
        names = ["overall"]
        base, treat = [], []
    base.append(100 * comparison.baseline.rate)
    treat.append(100 * comparison.treatment.rate)

    figure = Figure(figsize=(max(6.0, 0.9 * len(names) + 2), 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(names))
    bar = 0.38
    label_a, label_b = comparison.labels
    bars_a = axes.bar([p - bar / 2 for p in positions], base, bar, label=label_a,
                      color="#9aa5b1")
    bars_b = axes.bar([p + bar / 2 for p in positions], treat, bar, label=label_b,
                      color="#2f6db5")
    for bars in (bars_a, bars_b):
        axes.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    axes.set_xticks(list(positions), names, rotation=30 if len(names) > 5 else 0, ha="right"
                    if len(names) > 5 else "center")
    axes.set_ylabel(f"{comparison.metric} (%)")
    top = max([*base, *treat, 1.0])
    axes.set_ylim(0, min(112.0, top * 1.12 + 4))  # room for the value labels above 100
    axes.set_yticks([t for t in range(0, 101, 20) if t <= top * 1.12 + 4])
    lo, hi = comparison.absolute_ci
    axes.set_title(title or f"{label_b} vs {label_a}: {100 * comparison.absolute:+.1f} pp "
                   f"(95% CI {100 * lo:+.1f} to {100 * hi:+.1f})", fontsize=10)
    axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.spines[["top", "right"]].set_visible(False)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi)
    return out
