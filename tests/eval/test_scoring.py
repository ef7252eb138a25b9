"""Results files, scoring output, comparison, bootstrap and plot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from rir.errors import ConfigurationError
from rir.eval.compare import compare_scores, format_comparison, paired_bootstrap
from rir.eval.plot import plot_comparison
from rir.eval.results import ResultRecord, ResultsWriter, finished_ids, load_results
from rir.eval.scoring import format_score, score_records
from tests.eval.helpers import write_jsonl


def rec(item_id: str, prediction: str | None, answers: list[str], category: str | None = None,
        error: str | None = None) -> dict:
    return {"id": item_id, "question": f"question {item_id}", "answers": answers,
            "category": category, "prediction": prediction, "error": error}


def test_writer_appends_whole_lines_and_repairs_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ResultsWriter(path) as writer:
        writer.write(ResultRecord(id="a", prediction="x"))
    with path.open("ab") as handle:  # a process killed in the middle of a line
        handle.write(b'{"id": "b", "predic')
    assert [r.id for r in load_results(path)] == ["a"]  # the torn line is ignored
    with ResultsWriter(path) as writer:  # ... and cut off before appending
        writer.write(ResultRecord(id="c", prediction="ü"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "c"]


def test_last_record_of_an_id_wins_and_finished_ids(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [
        rec("a", None, ["x"], error="ImageFetchError: 404"), rec("b", "x", ["x"]),
        rec("a", "x", ["x"]), rec("c", None, ["x"], error="TimeoutError"),
    ])
    records = load_results(path)
    assert [(r.id, r.ok) for r in records] == [("a", True), ("b", True), ("c", False)]
    assert len(load_results(path, keep_all=True)) == 4
    assert finished_ids(path) == {"a", "b"}
    assert finished_ids(path, include_failed=True) == {"a", "b", "c"}


def test_results_written_by_other_tools_are_accepted(tmp_path: Path) -> None:
    # e.g. the paper's logs converted by hand: int ids, one answer string, INFOSEEK ranges.
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"id": 0, "answers": "Elaphe taeniura", "prediction": "elaphe taeniura", "error": ""},
        {"id": 1, "answers": ["148"], "prediction": "148 cm",
         "aliases": [{"wikidata": 148.0, "range": [133.2, 162.8]}]},
    ])
    records = load_results(path)
    assert [r.id for r in records] == ["0", "1"] and all(r.ok for r in records)
    assert records[0].answers == ["Elaphe taeniura"]
    assert records[1].aliases == [] and records[1].meta["answer_range"] == [133.2, 162.8]
    assert format_score(score_records(records, "em")).splitlines()[-1] == "em: 50.00% (1/2)"


def test_invalid_results_line_is_reported(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text('{"id": "a"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"r\.jsonl:2 is not a results record"):
        load_results(tmp_path / "r.jsonl")


def test_score_table_and_exact_last_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [
        rec("1", "It is Bulgaria.", ["Bulgaria"], "building"),
        rec("2", "No idea", ["Germany"], "building"),
        rec("3", "A sea otter, AVERAGE: 135 cm", ["sea otter"], "animal"),
        rec("4", None, ["cat"], "animal", error="ImageFetchError: HTTP 404 for 'x.jpg'"),
    ])
    score = score_records(load_results(path), "answer_in_pred", source=str(path))
    text = format_score(score)
    lines = text.splitlines()
    assert lines[-1] == "answer_in_pred: 50.00% (2/4)"
    assert re.fullmatch(r"[a-z_]+: \d+\.\d\d% \(\d+/\d+\)", lines[-1])
    assert any(re.match(r"animal\s+1\s+2\s+50\.00%", line) for line in lines)
    assert any(re.match(r"building\s+1\s+2\s+50\.00%", line) for line in lines)
    assert "1 item(s) failed during the run (counted as wrong)" in text
    excluded = score_records(load_results(path), "answer_in_pred", exclude_errors=True)
    assert format_score(excluded).splitlines()[-1] == "answer_in_pred: 66.67% (2/3)"
    data = score.as_dict()
    assert data["hits"] == 2 and data["total"] == 4 and data["errors"] == 1
    assert data["categories"]["animal"] == {"hits": 1, "total": 2, "accuracy": 0.5}
    assert data["items"] == {"1": True, "2": False, "3": True, "4": False}


def test_uncategorised_results_print_only_overall(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [rec("1", "Crotalus atrox", ["Crotalus atrox"]),
                                             rec("2", "Crotalus x", ["Crotalus atrox"])])
    text = format_score(score_records(load_results(path), "em"))
    assert "(none)" not in text
    assert text.splitlines()[-1] == "em: 50.00% (1/2)"
    genus = format_score(score_records(load_results(path), "genus_em"))
    assert genus.splitlines()[-1] == "genus_em: 100.00% (2/2)"


def test_judge_metric_needs_the_judge() -> None:
    with pytest.raises(ConfigurationError, match="needs a model"):
        score_records([ResultRecord(id="a")], "judge")


def test_bootstrap_is_deterministic_with_a_seed() -> None:
    rng = np.random.default_rng(7)
    a = rng.random(300) < 0.3
    b = a | (rng.random(300) < 0.15)
    first = paired_bootstrap(a, b, n_resamples=2000, seed=42)
    assert paired_bootstrap(a, b, n_resamples=2000, seed=42) == first
    assert paired_bootstrap(a, b, n_resamples=2000, seed=43) != first
    (lo, hi), (rlo, rhi) = first
    observed = b.mean() - a.mean()
    assert lo < observed < hi and lo > 0
    assert rlo < b.mean() / a.mean() - 1 < rhi


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ConfigurationError):
        paired_bootstrap(np.array([True]), np.array([True, False]))
    with pytest.raises(ConfigurationError):
        paired_bootstrap(np.array([], dtype=bool), np.array([], dtype=bool))


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    base = write_jsonl(tmp_path / "base.jsonl", [
        rec("q1", "Germany", ["Germany"], "building"),  # right -> right
        rec("q2", "no idea", ["Japan"], "building"),    # wrong -> right
        rec("q3", "Oslo", ["Norway"], "place"),         # wrong -> wrong
        rec("q10", "cat", ["cat"], "place"),            # right -> wrong
        rec("q4", "no", ["Peru"], "place"),             # wrong -> right
        rec("only-base", "x", ["x"], "place"),
    ])
    treat = write_jsonl(tmp_path / "rir.jsonl", [
        rec("q4", "Peru", ["Peru"], "place"),
        rec("q1", "Germany", ["Germany"], "building"),
        rec("q2", "Japan", ["Japan"], "building"),
        rec("q3", "Oslo", ["Norway"], "place"),
        rec("q10", "dog", ["cat"], "place"),
        rec("only-rir", "x", ["x"], "place"),
    ])
    return base, treat


def test_compare_lifts_flips_and_categories(tmp_path: Path) -> None:
    base, treat = _pair(tmp_path)
    comparison = compare_scores(score_records(load_results(base), "answer_in_pred"),
                                score_records(load_results(treat), "answer_in_pred"),
                                n_resamples=500, seed=1)
    assert (comparison.baseline.hits, comparison.treatment.hits) == (2, 3)
    assert comparison.baseline.total == 5
    assert comparison.absolute == pytest.approx(0.2)
    assert comparison.relative == pytest.approx(0.5)
    assert comparison.gained == ["q2", "q4"]
    assert comparison.lost == ["q10"]
    assert comparison.only_in_baseline == ["only-base"]
    assert comparison.only_in_treatment == ["only-rir"]
    by_name = {c.name: c for c in comparison.categories}
    assert (by_name["building"].baseline.hits, by_name["building"].treatment.hits) == (1, 2)
    assert (by_name["place"].baseline.hits, by_name["place"].treatment.hits) == (1, 1)
    text = format_comparison(comparison, questions={"q2": "Which country?"})
    assert "baseline: 40.00% (2/5)" in text
    assert "rir: 60.00% (3/5)" in text
    assert "absolute lift: +20.00 pp (95% CI" in text
    assert "relative lift: +50.00% (95% CI" in text
    assert "paired bootstrap: 500 resamples, seed 1" in text
    assert "flipped: 2 wrong -> right, 1 right -> wrong" in text
    assert "q2  Which country?" in text
    assert "1 item(s) only in baseline were left out: only-base" in text
    again = compare_scores(score_records(load_results(base), "answer_in_pred"),
                           score_records(load_results(treat), "answer_in_pred"),
                           n_resamples=500, seed=1)
    assert again.as_dict() == comparison.as_dict()


def test_compare_reports_lifts_at_the_papers_scale(tmp_path: Path) -> None:
    # Counts consistent with INFOSEEK GPT-4 Turbo's published 33.0% -> 41.2% of 1650 items.
    base = [rec(f"i{n}", "yes" if n < 545 else "no", ["yes"]) for n in range(1650)]
    rir = [rec(f"i{n}", "yes" if n < 680 else "no", ["yes"]) for n in range(1650)]
    comparison = compare_scores(
        score_records(load_results(write_jsonl(tmp_path / "b.jsonl", base)), "answer_in_pred"),
        score_records(load_results(write_jsonl(tmp_path / "r.jsonl", rir)), "answer_in_pred"),
        n_resamples=200)
    text = format_comparison(comparison)
    assert "baseline: 33.03% (545/1650)" in text and "rir: 41.21% (680/1650)" in text
    assert "relative lift: +24.77%" in text and "absolute lift: +8.18 pp" in text


def test_compare_needs_shared_ids(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [rec("1", "x", ["x"])])
    b = write_jsonl(tmp_path / "b.jsonl", [rec("2", "x", ["x"])])
    with pytest.raises(ConfigurationError, match="share no item ids"):
        compare_scores(score_records(load_results(a), "em"), score_records(load_results(b), "em"))


def test_plot_writes_an_image(tmp_path: Path) -> None:
    base, treat = _pair(tmp_path)
    comparison = compare_scores(score_records(load_results(base), "answer_in_pred"),
                                score_records(load_results(treat), "answer_in_pred"),
                                n_resamples=100)
    out = plot_comparison(comparison, tmp_path / "plots" / "lift.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigurationError, match=r"end the file name in \.png"):
        plot_comparison(comparison, tmp_path / "lift.bmpx")
