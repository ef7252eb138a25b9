"""Dataset JSONL loading and the converters of the paper's question files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rir.errors import ConfigurationError
from rir.eval.datasets import (
    SNAKECLEF_QUESTION,
    EvalItem,
    convert_infoseek,
    convert_snakeclef,
    load_dataset,
    write_dataset,
)
from tests.eval.helpers import write_jsonl
from tests.helpers import shared_path

INFOSEEK_SAMPLE = {
    "building": [
        {"data_id": "infoseek_val_00032004", "image_id": "oven_05018274.jpg",
         "question": "What country does this building belong to?", "answer": ["Bulgaria"],
         "answer_eval": ["BGR", "Bulgaria", "Cộng hòa Bulgaria"],
         "data_split": "val_unseen_entity", "entity_id": "Q207945"},
    ],
    "animal": [
        {"data_id": "infoseek_val_00040263", "image_id": "oven_05043250.JPEG",
         "question": "What is the length of a male of this animal in centimetre?",
         "answer": ["148"], "answer_eval": [{"wikidata": 148.0, "range": [133.2, 162.8]}],
         "data_split": "val_unseen_entity", "entity_id": "Q41407"},
    ],
}
SNAKE_SAMPLE = [
    {"observation_id": 145672947, "binomial_name": "Dendrelaphis kopsteini",
     "image_path": "2023/Dendrelaphis_kopsteini/250268107.jpeg", "code": "SG", "class_id": 493},
    {"observation_id": 145672947, "binomial_name": "Dendrelaphis kopsteini",
     "image_path": "2023/Dendrelaphis_kopsteini/250268100.jpeg", "code": "SG", "class_id": 493},
]


def test_load_dataset_resolves_images_and_keeps_extras(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d.jsonl", [
        {"id": 1, "image": "img/a.jpg", "question": "Who?", "answers": "Grace Hopper",
         "category": "people", "source": "museum"},
        {"id": "b", "image": "https://example.org/b.jpg", "question": "What?",
         "answers": ["cat", "kitten"], "aliases": ["tabby"]},
    ])
    items = load_dataset(tmp_path / "d.jsonl")
    assert [i.id for i in items] == ["1", "b"]
    assert items[0].image == str(tmp_path / "img" / "a.jpg")
    assert items[0].answers == ["Grace Hopper"]
    assert items[0].meta == {"source": "museum"}
    assert items[1].image == "https://example.org/b.jpg"
    rooted = load_dataset(tmp_path / "d.jsonl", image_root="https://cdn.example.org/set/")
    assert rooted[0].image == "https://cdn.example.org/set/img/a.jpg"


@pytest.mark.parametrize(("row", "message"), [
    ({"id": "x", "image": "a.jpg", "question": "Q?"}, r"d\.jsonl:1 .*answers"),
    ({"id": "x", "image": "a.jpg", "question": "Q?", "answers": ["  "]}, "non-blank answer"),
    ({"id": "x", "image": "a.jpg", "question": "", "answers": ["a"]}, "question"),
    ({"image": "a.jpg", "question": "Q?", "answers": ["a"]}, "id"),
])
def test_invalid_items_name_the_line_and_the_field(tmp_path: Path, row: dict,
                                                   message: str) -> None:
    write_jsonl(tmp_path / "d.jsonl", [row])
    with pytest.raises(ConfigurationError, match=message):
        load_dataset(tmp_path / "d.jsonl")


def test_bad_json_duplicates_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": "a"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"bad\.jsonl:1 is not valid JSON"):
        load_dataset(tmp_path / "bad.jsonl")
    row = {"id": "a", "image": "a.jpg", "question": "Q?", "answers": ["x"]}
    write_jsonl(tmp_path / "dup.jsonl", [row, row])
    with pytest.raises(ConfigurationError, match=r"dup\.jsonl:2 repeats the id 'a' of line 1"):
        load_dataset(tmp_path / "dup.jsonl")
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_dataset(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="has no items"):
        load_dataset(tmp_path / "empty.jsonl")


def test_write_and_reload_round_trip(tmp_path: Path) -> None:
    items = [EvalItem(id="q", image="x.jpg", question="¿Qué?", answers=["Ñandú"],
                      category="animal", meta={"k": 1})]
    path = write_dataset(items, tmp_path / "out" / "d.jsonl")
    assert "Ñandú" in path.read_text(encoding="utf-8")
    again = load_dataset(path, image_root=tmp_path)
    assert again[0].model_copy(update={"image": "x.jpg"}) == items[0]


def test_convert_infoseek_sample(tmp_path: Path) -> None:
    (tmp_path / "q.json").write_text(json.dumps(INFOSEEK_SAMPLE), encoding="utf-8")
    items = convert_infoseek(tmp_path / "q.json", image_root="/data/infoseek")
    assert [i.id for i in items] == ["infoseek_val_00032004", "infoseek_val_00040263"]
    assert [i.category for i in items] == ["building", "animal"]
    assert items[0].image == "/data/infoseek/oven_05018274.jpg"
    assert items[0].answers == ["Bulgaria"]
    assert items[0].aliases == ["BGR", "Bulgaria", "Cộng hòa Bulgaria"]
    assert items[1].aliases == []
    assert items[1].meta["answer_range"] == [133.2, 162.8]


def test_convert_snakeclef_sample_uses_unique_image_paths(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps(SNAKE_SAMPLE), encoding="utf-8")
    items = convert_snakeclef(tmp_path / "s.json")
    assert len({i.id for i in items}) == 2  # the observation id repeats, the path does not
    assert items[0].question == SNAKECLEF_QUESTION
    assert items[0].answers == ["Dendrelaphis kopsteini"]
    assert items[0].meta["observation_id"] == 145672947


def test_converters_reject_the_wrong_file(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps(SNAKE_SAMPLE), encoding="utf-8")
    (tmp_path / "q.json").write_text(json.dumps(INFOSEEK_SAMPLE), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not the paper's INFOSEEK file"):
        convert_infoseek(tmp_path / "s.json")
    with pytest.raises(ConfigurationError, match="not the paper's SnakeCLEF file"):
        convert_snakeclef(tmp_path / "q.json")


@pytest.mark.shared_data
def test_the_papers_question_files_convert() -> None:
    infoseek = convert_infoseek(shared_path("datasets", "infoseek_1650_questions.json"))
    assert len(infoseek) == 1650 and len({i.id for i in infoseek}) == 1650
    categories = {i.category for i in infoseek}
    assert len(categories) == 11
    assert all(sum(i.category == c for i in infoseek) == 150 for c in categories)
    assert sum("answer_range" in i.meta for i in infoseek) == 243
    snake = convert_snakeclef(shared_path("datasets", "snakeclef_300_questions.json"))
    assert len(snake) == 300 and len({i.id for i in snake}) == 300
    assert all(len(i.answers[0].split()) == 2 for i in snake)
