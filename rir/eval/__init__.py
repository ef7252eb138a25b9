"""Measure what reverse image RAG buys: datasets, runs, metrics, comparisons.

    >>> from rir.eval import RunConfig, load_dataset, run_eval, load_results, score_records
    >>> items = load_dataset("questions.jsonl", image_root="images/")
    >>> run_eval(items, "base.jsonl", RunConfig(model="openai:gpt-4o", context="none"))
    >>> run_eval(items, "rir.jsonl", RunConfig(model="openai:gpt-4o", engine="google_lens"))
    >>> print(format_score(score_records(load_results("rir.jsonl"), "answer_in_pred")))

The command line is ``rir eval run | score | compare | convert | convert-paper-logs |
make-demo``. Datasets, metrics, scoring and comparison are framework-free; running
items uses the LangChain chain (:func:`langchain_rir.chain.create_rir_chain`),
imported only when a run starts. Public names: ``__all__`` (imported on first use;
``plot_comparison`` needs matplotlib).
"""

from typing import TYPE_CHECKING

from rir import _moved

if TYPE_CHECKING:
    from rir.eval.compare import Comparison, compare_scores, format_comparison, paired_bootstrap
    from rir.eval.datasets import (
        SNAKECLEF_QUESTION,
        EvalItem,
        convert_infoseek,
        convert_snakeclef,
        load_dataset,
        write_dataset,
    )
    from rir.eval.demo_dataset import build_demo_dataset
    from rir.eval.item import ItemRunner
    from rir.eval.metrics import (
        METRICS,
        answer_in_pred,
        answer_in_pred_aliases,
        em,
        genus_em,
        metric_names,
    )
    from rir.eval.plot import plot_comparison
    from rir.eval.results import ResultRecord, ResultsWriter, load_results
    from rir.eval.run_config import RunConfig
    from rir.eval.runner import RunSummary, arun_eval, run_eval
    from rir.eval.scoring import Accuracy, Score, format_score, score_records, summary_line

__all__ = [
    "METRICS",
    "SNAKECLEF_QUESTION",
    "Accuracy",
    "Comparison",
    "EvalItem",
    "ItemRunner",
    "ResultRecord",
    "ResultsWriter",
    "RunConfig",
    "RunSummary",
    "Score",
    "answer_in_pred",
    "answer_in_pred_aliases",
    "arun_eval",
    "build_demo_dataset",
    "compare_scores",
    "convert_infoseek",
    "convert_snakeclef",
    "em",
    "format_comparison",
    "format_score",
    "genus_em",
    "load_dataset",
    "load_results",
    "metric_names",
    "paired_bootstrap",
    "plot_comparison",
    "run_eval",
    "score_records",
    "summary_line",
    "write_dataset",
]

__getattr__, __dir__ = _moved.lazy_exports(__name__, {
    "rir.eval.compare": ["Comparison", "compare_scores", "format_comparison", "paired_bootstrap"],
    "rir.eval.datasets": [
        "SNAKECLEF_QUESTION", "EvalItem", "convert_infoseek", "convert_snakeclef", "load_dataset",
        "write_dataset"],
    "rir.eval.demo_dataset": ["build_demo_dataset"],
    "rir.eval.item": ["ItemRunner"],
    "rir.eval.metrics": [
        "METRICS", "answer_in_pred", "answer_in_pred_aliases", "em", "genus_em", "metric_names"],
    "rir.eval.plot": ["plot_comparison"],
    "rir.eval.results": ["ResultRecord", "ResultsWriter", "load_results"],
    "rir.eval.run_config": ["RunConfig"],
    "rir.eval.runner": ["RunSummary", "arun_eval", "run_eval"],
    "rir.eval.scoring": ["Accuracy", "Score", "format_score", "score_records", "summary_line"],
})
