"""Converting the paper's per-item logs (hand-made samples in their format) and scoring them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rir.errors import ConfigurationError
from rir.eval.paper import convert_paper_logs
from rir.eval.results import load_results
from tests.eval.helpers import read_jsonl
from tests.eval.test_datasets import INFOSEEK_SAMPLE

SNAKE_Q = ("What is the binomial name of the snake in the image (e.g. Psammophis namibensis, "
           "Lampropeltis annulata)? Please respond with the binomial name only.")


def response(content: str, model: str) -> str:
    return (f"ChatCompletion(id='chatcmpl-x', choices=[Choice(finish_reason='stop', index=0, "
            f"message=ChatCompletionMessage(content={content!r}, role='assistant'))], "
            f"created=1715767697, model='{model}', object='chat.completion', "
            "usage=CompletionUsage(completion_tokens=7, prompt_tokens=327, total_tokens=334))")


def snake_row(idx: int, answer: str, pred: str, em: bool, genus: bool) -> dict[str, Any]:
    return {"idx": idx, "binomial_em": em, "genus_em": genus, "observation_id": 1000 + idx,
            "image_path": f"2022/{answer.replace(' ', '_')}/{idx}.jpg", "image_width": 240,
            "image_height": 180, "question": SNAKE_Q, "answer": answer, "pred": pred,
            "completion_tokens": 7, "prompt_tokens": 327,
            "full_response": response(pred, "gpt-4o-2024-05-13")}


def infoseek_row(idx: int, sample: dict[str, Any], pred: str, hit: bool,
                 with_data_id: bool) -> dict[str, Any]:
    row = {"idx": idx, "answer_in_pred": hit, "image_id": sample["image_id"],
           "image_width": 800, "image_height": 600, "question": sample["question"],
           "answer": sample["answer"], "pred": pred, "answer_eval": sample["answer_eval"],
           "completion_tokens": 41, "prompt_tokens": 973,
           "full_response": response(pred, "gpt-4-turbo-2024-04-09")}
    if with_data_id:
        row["data_id"] = sample["data_id"]
    return row


def dump(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows, indent=4), encoding="utf-8")
    return path


@pytest.fixture
def snake_logs(tmp_path: Path) -> tuple[Path, Path]:
    base = dump(tmp_path / "logs_snake_gpt4o_300_0514.json", [
        snake_row(0, "Elaphe taeniura", "Thamnophis sirtalis", False, False),
        snake_row(1, "Crotalus scutulatus", "Crotalus atrox", False, True),
        snake_row(2, "Liasis olivaceus", "Liasis olivaceus", True, True),
        snake_row(3, "Imantodes cenchoa", "Erythrolamprus bizona.", False, False),
    ])
    rir = dump(tmp_path / "logs_snake_gpt4o_rir_300_0514.json", [
        snake_row(0, "Elaphe taeniura", "Elaphe taeniura", True, True),
        snake_row(1, "Crotalus scutulatus", "Crotalus scutulatus", True, True),
        snake_row(2, "Liasis olivaceus", "**Liasis olivaceus**", False, False),
        snake_row(3, "Imantodes cenchoa", "Imantodes cenchoa", True, True),
    ])
    return base, rir


def test_snake_logs_convert_agree_and_score(snake_logs: tuple[Path, Path], tmp_path: Path,
                                            cli: Any) -> None:
    base, rir = snake_logs
    conversion = convert_paper_logs([base])
    assert conversion.kind == "snakeclef"
    assert conversion.agreement == {"em": (4, 4), "genus_em": (4, 4)}
    record = conversion.records[0]
    assert record.id == "2022/Elaphe_taeniura/0.jpg"
    assert record.answers == ["Elaphe taeniura"] and record.prediction == "Thamnophis sirtalis"
    assert record.model == "gpt-4o-2024-05-13" and record.context == "none"
    assert (record.tokens_in, record.tokens_out) == (327, 7)
    assert convert_paper_logs([rir]).records[0].context == "screenshot"

    code, out, _ = cli("eval", "convert-paper-logs", base, "--out", tmp_path / "base.jsonl")
    assert code == 0
    assert "em: our metric agrees with the paper's logged verdict on 4/4 items" in out
    cli("eval", "convert-paper-logs", rir, "--out", tmp_path / "rir.jsonl")
    code, out, _ = cli("eval", "score", tmp_path / "base.jsonl", "--metric", "em")
    assert out.splitlines()[-1] == "em: 25.00% (1/4)"
    code, out, _ = cli("eval", "score", tmp_path / "rir.jsonl", "--metric", "genus_em")
    assert out.splitlines()[-1] == "genus_em: 75.00% (3/4)"
    code, out, _ = cli("eval", "compare", tmp_path / "base.jsonl", tmp_path / "rir.jsonl",
                       "--metric", "em", "--resamples", "200")
    assert code == 0
    assert "relative lift: +200.00%" in out
    assert "flipped: 3 wrong -> right, 1 right -> wrong" in out


def test_disagreement_is_reported_with_exit_code_1(tmp_path: Path, cli: Any) -> None:
    wrong = dump(tmp_path / "logs_snake_x.json", [
        snake_row(0, "Elaphe taeniura", "Elaphe taeniura", False, True)])  # a wrong log verdict
    conversion = convert_paper_logs([wrong])
    assert conversion.agreement["em"] == (0, 1)
    assert conversion.disagreements["em"] == ["2022/Elaphe_taeniura/0.jpg"]
    code, out, _ = cli("eval", "convert-paper-logs", wrong, "--out", tmp_path / "x.jsonl")
    assert code == 1 and "disagreeing ids: 2022/Elaphe_taeniura/0.jpg" in out


def test_infoseek_split_logs_with_question_file(tmp_path: Path) -> None:
    building = INFOSEEK_SAMPLE["building"][0]
    animal = INFOSEEK_SAMPLE["animal"][0]
    first = dump(tmp_path / "logs_infoseek_gpt4v_440_new.json", [
        infoseek_row(0, building, "This building belongs to Bulgaria.", True, False)])
    second = dump(tmp_path / "logs_infoseek_gpt4v_441_1650.json", [
        infoseek_row(1, animal, "A sea otter, about 120 to 150 cm.", False, True)])
    questions = tmp_path / "infoseek.json"
    questions.write_text(json.dumps(INFOSEEK_SAMPLE), encoding="utf-8")
    conversion = convert_paper_logs([first, second], questions=questions)
    assert conversion.kind == "infoseek"
    assert [r.id for r in conversion.records] == ["infoseek_val_00032004",
                                                  "infoseek_val_00040263"]
    assert [r.category for r in conversion.records] == ["building", "animal"]
    assert conversion.records[0].aliases == ["BGR", "Bulgaria", "Cộng hòa Bulgaria"]
    assert conversion.records[1].meta["answer_range"] == [133.2, 162.8]
    assert conversion.agreement == {"answer_in_pred": (2, 2)}
    assert "paper: 1/2 = 50.00%" in conversion.report()
    without = convert_paper_logs([first])  # no question file, no data_id: ids from idx
    assert without.records[0].id == "infoseek-0000" and without.records[0].category is None


def test_overlapping_or_mixed_logs_are_refused(tmp_path: Path,
                                               snake_logs: tuple[Path, Path]) -> None:
    base, _ = snake_logs
    with pytest.raises(ConfigurationError, match="appears in both"):
        convert_paper_logs([base, base])
    building = INFOSEEK_SAMPLE["building"][0]
    info = dump(tmp_path / "logs_infoseek.json", [infoseek_row(0, building, "x", False, True)])
    with pytest.raises(ConfigurationError, match="mix INFOSEEK and SnakeCLEF"):
        convert_paper_logs([base, info])
    other = dump(tmp_path / "other.json", [{"idx": 0, "pred": "x"}])
    with pytest.raises(ConfigurationError, match="neither 'answer_in_pred' nor 'binomial_em'"):
        convert_paper_logs([other])


def test_cli_refuses_to_overwrite_without_force(snake_logs: tuple[Path, Path], tmp_path: Path,
                                                cli: Any) -> None:
    base, _ = snake_logs
    out = tmp_path / "r.jsonl"
    assert cli("eval", "convert-paper-logs", base, "--out", out)[0] == 0
    code, _, err = cli("eval", "convert-paper-logs", base, "--out", out)
    assert code == 2 and "pass --force" in err
    assert cli("eval", "convert-paper-logs", base, "--out", out, "--force")[0] == 0
    assert len(read_jsonl(out)) == 4 and len(load_results(out)) == 4
