"""Plain records are the models' data: the same fields, defaults, order, JSON and finishing."""

from __future__ import annotations

import json

import pytest

from rir.cli._common import print_result, result_json
from rir.engines.base import finalize_result
from rir.results.models import SearchHit, SearchResult
from rir.results.plain import finalize_record, hit_record, record_json_data, result_record


def test_empty_records_are_the_models_defaults_in_field_order() -> None:
    assert list(hit_record().items()) == list(SearchHit().model_dump().items())
    assert list(result_record().items()) == list(SearchResult().model_dump().items())


def test_records_do_not_share_their_lists_and_dicts() -> None:
    first, second = result_record(), result_record()
    first["metadata"]["x"] = 1
    first["hits"].append(hit_record())
    assert second["metadata"] == {} and second["hits"] == []
    assert hit_record()["metadata"] is not hit_record()["metadata"]


def test_a_field_the_models_do_not_have_is_refused() -> None:
    with pytest.raises(TypeError, match="'scroe'"):
        hit_record(scroe=0.5)
    with pytest.raises(TypeError, match="'hit'"):
        result_record(hit=[])


def _example() -> dict:
    hits = [hit_record(title=f"page {i}", url=f"https://example.org/{i}", score=1 - i / 10,
                       width=640, height=480, raw={"engine's": "payload"},
                       metadata={"page_id": str(i), "query_box": [1, 2, 3, 4]},
                       engine="other" if i == 2 else "")
            for i in range(4)]
    return result_record(hits=hits, best_guess="page 0", metadata={"index_size": 9},
                         screenshot=b"\x89PNG...")


def test_finishing_a_record_is_finishing_its_model() -> None:
    record = _example()
    finished = finalize_record(record, engine="local", query_sha256="ab" * 32, k=3,
                               elapsed_s=0.123456)
    model = finalize_result(SearchResult.model_validate(record), engine="local",
                            query_sha256="ab" * 32, k=3, elapsed_s=0.123456)
    assert SearchResult.model_validate(finished) == model
    assert [hit["position"] for hit in finished["hits"]] == [1, 2, 3]
    assert [hit["engine"] for hit in finished["hits"]] == ["local", "local", "other"]
    assert record["hits"][0]["position"] == 1 and len(record["hits"]) == 4  # not changed


def test_a_record_prints_as_its_model_does(capsys: pytest.CaptureFixture[str]) -> None:
    record = finalize_record(_example(), engine="local", query_sha256="", k=10, elapsed_s=0.5)
    record["failures"] = [{"engine": "serpapi", "error_type": "RateLimited", "message": "429"}]
    model = SearchResult.model_validate(record)
    assert result_json(record, query="q.jpg") == result_json(model, query="q.jpg")
    tables = []
    for result in (record, model):
        print_result(result, title="hits")
        tables.append(capsys.readouterr())
    assert tables[0] == tables[1] and "page 3" in tables[0].out and "RateLimited" in tables[0].err
    data = record_json_data(record)
    assert data["has_screenshot"] is True and "screenshot" not in data
    assert all("raw" not in hit for hit in data["hits"])
    assert json.loads(result_json(record, indent=None))["hits"][0]["metadata"]["query_box"] \
        == [1, 2, 3, 4]
