"""The optional LLM judge, with LangChain fake chat models standing in for the judge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rir.errors import EngineError
from rir.eval.judge import ajudge_records, judge_cache_path, judge_prompt, parse_verdict
from rir.eval.results import ResultRecord
from rir.eval.scoring import format_score, score_with_verdicts


class FailingJudge(GenericFakeChatModel):
    async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("judge unavailable")


RECORDS = [
    ResultRecord(id="a", question="What country does this building belong to?",
                 answers=["Germany"], aliases=["BRD", "Deutschland"],
                 prediction="It is the Cologne Cathedral in Deutschland."),
    ResultRecord(id="b", question="What is the length of a male of this animal in centimetre?",
                 answers=["148"], meta={"answer_range": [133.2, 162.8]},
                 prediction="A sea otter. AVERAGE: 135 cm"),
    ResultRecord(id="c", question="Who?", answers=["x"], prediction=""),
    ResultRecord(id="d", question="Who?", answers=["x"], error="ImageFetchError: 404"),
]


def test_prompt_shows_aliases_or_the_numeric_range() -> None:
    system, user = judge_prompt(RECORDS[0])
    assert "Reply with one word: yes or no" in system
    assert 'Gold answer(s): ["Germany"]' in user
    assert 'Other acceptable answers: ["BRD", "Deutschland"]' in user
    assert 'Model answer: "It is the Cologne Cathedral in Deutschland."' in user
    assert "a number between 133.2 and 162.8" in judge_prompt(RECORDS[1])[1]


@pytest.mark.parametrize(("reply", "verdict"), [
    ("yes", True), ("Yes.", True), (" YES, it is", True), ("no", False), ("No.", False),
    ("", False), ("The answer is yes", False),
])
def test_parse_verdict(reply: str, verdict: bool) -> None:
    assert parse_verdict(reply) is verdict


async def test_judge_scores_caches_and_skips_failed_items(tmp_path: Path) -> None:
    cache = judge_cache_path(tmp_path / "rir.jsonl")
    assert cache.name == "rir.judge.jsonl"
    judge = GenericFakeChatModel(messages=iter([AIMessage("yes"), AIMessage("No.")]))
    verdicts = await ajudge_records(RECORDS, judge, model_name="fake-judge", cache_path=cache,
                                    concurrency=1)
    assert verdicts == {"a": True, "b": False, "c": False, "d": False}
    score = score_with_verdicts(RECORDS, "judge", verdicts)
    assert format_score(score).splitlines()[-1] == "judge: 25.00% (1/4)"

    # Rescoring reads the cache: the judge is not asked again.
    again = await ajudge_records(RECORDS, FailingJudge(messages=iter([])),
                                 model_name="fake-judge", cache_path=cache)
    assert again == verdicts


async def test_judge_failures_are_reported_together(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"failed on 2 of 2 item\(s\).*judge unavailable"):
        await ajudge_records(RECORDS, FailingJudge(messages=iter([])), model_name="broken",
                             cache_path=tmp_path / "j.jsonl")
