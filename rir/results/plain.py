"""A search result as plain data, for paths that must not wait for pydantic.

A *record* is a dict holding every field of :class:`~rir.results.models.SearchResult`,
its ``hits`` dicts holding every field of :class:`~rir.results.models.SearchHit`: what
``model_dump()`` gives, and ``SearchResult.model_validate(record)`` is the model. The local
index builds its results this way, so ``rir index search`` (a fresh process per call in
scripts) prints them without importing pydantic, which costs more than the search.
``tests/results/test_plain_records.py`` pins these fields to the models'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["finalize_record", "hit_record", "record_json_data", "result_record"]

_HIT_DEFAULTS: dict[str, Any] = {
    "title": "", "url": None, "source": None, "image_url": None, "thumbnail_url": None,
    "snippet": None, "position": 1, "match_type": "visual", "score": None, "width": None,
    "height": None, "engine": "", "metadata": None, "raw": None,
}
_RESULT_DEFAULTS: dict[str, Any] = {
    "hits": None, "best_guess": None, "entities": None, "engine": "", "query_sha256": "",
    "elapsed_s": 0.0, "from_cache": False, "screenshot": None, "page_url": None,
    "failures": None, "metadata": None,
}
_FRESH = {"metadata": dict, "hits": list, "entities": list, "failures": list}  # not shared


def _filled(defaults: Mapping[str, Any], fields: Mapping[str, Any], kind: str) -> dict[str, Any]:
    unknown = set(fields) - set(defaults)
    if unknown:
        raise TypeError(f"{kind} has no field {sorted(unknown)[0]!r}")
    record = {**defaults, **fields}
    for name, make in _FRESH.items():
        if name in record and record[name] is None:
            record[name] = make()
    return record


def hit_record(**fields: Any) -> dict[str, Any]:
    """A hit: ``fields`` (SearchHit's names) over SearchHit's defaults."""
    return _filled(_HIT_DEFAULTS, fields, "SearchHit")


def result_record(**fields: Any) -> dict[str, Any]:
    """A result: ``fields`` (SearchResult's names; hits as :func:`hit_record` makes them)
    over SearchResult's defaults."""
    return _filled(_RESULT_DEFAULTS, fields, "SearchResult")


def finalize_record(record: Mapping[str, Any], *, engine: str, query_sha256: str, k: int,
                    elapsed_s: float) -> dict[str, Any]:
    """What :func:`rir.engines.base.finalize_result` does to a model, for a record: trim to
    ``k`` hits, number them 1..n and stamp engine, hash and timing."""
    hits = [{**hit, "position": i, "engine": hit["engine"] or engine}
            for i, hit in enumerate(record["hits"][:k], start=1)]
    return {**record, "hits": hits, "engine": record["engine"] or engine,
            "query_sha256": query_sha256, "elapsed_s": round(elapsed_s, 4)}


def record_json_data(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the CLI prints it (``rir.cli._common.result_json`` of the model):
    without the screenshot's bytes and the hits' raw payloads, ``has_screenshot`` added."""
    data = {name: value for name, value in record.items() if name != "screenshot"}
    data["hits"] = [{name: value for name, value in hit.items() if name != "raw"}
                    for hit in record["hits"]]
    data["has_screenshot"] = record["screenshot"] is not None
    return data
