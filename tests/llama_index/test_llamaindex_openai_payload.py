"""The request a real ``OpenAI(model="gpt-4o")`` would send, captured by an httpx transport.

Nothing leaves the process: the OpenAI client's HTTP layer is an ``httpx.MockTransport``
that records the request and answers with a canned chat completion.
"""

from __future__ import annotations

import base64
import json
import sys

import httpx
import pytest
from llama_index.core.schema import QueryBundle

from llama_index_rir import ReverseImageQueryEngine, ReverseImageRetriever, default_llm
from rir.errors import ConfigurationError
from rir.prompting.texts import FENCE_OPEN, SYSTEM_BY_MODE

openai_llms = pytest.importorskip("llama_index.llms.openai")

CANNED_COMPLETION = {
    "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "gpt-4o",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "That is Grace Hopper."}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=CANNED_COMPLETION)

    @property
    def payload(self) -> dict:
        return json.loads(self.requests[-1].content)


def _openai(recorder: Recorder):
    return openai_llms.OpenAI(
        model="gpt-4o", api_key="sk-test", max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(recorder)),
        async_http_client=httpx.AsyncClient(transport=httpx.MockTransport(recorder)))


def _check_payload(payload: dict, demo_image, mode: str) -> None:
    assert payload["model"] == "gpt-4o"
    system, user = payload["messages"]
    assert system["role"] == "system" and SYSTEM_BY_MODE[mode] in json.dumps(system["content"])
    assert user["role"] == "user"
    parts = user["content"]
    first = parts[0]
    assert first["type"] == "image_url"
    url = first["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,"), "the image goes inline, not as a URL"
    assert base64.b64decode(url.split(",", 1)[1]) == demo_image.data
    texts = [p["text"] for p in parts if p["type"] == "text"]
    assert texts[-1] == "Question: Who is this?"
    if mode == "text":
        assert any(FENCE_OPEN in t and "Grace Hopper" in t for t in texts)
    if mode in ("screenshot", "thumbnails"):
        assert sum(p["type"] == "image_url" for p in parts) == 2


@pytest.mark.parametrize("mode", ["text", "screenshot", "thumbnails", "none"])
def test_openai_request_carries_the_image_and_context(mode, demo_index, demo_image):
    recorder = Recorder()
    engine = ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False),
                                     _openai(recorder), context=mode)
    response = engine.query(QueryBundle("Who is this?", image_path=demo_image.as_data_uri()))
    assert str(response) == "That is Grace Hopper."
    assert len(recorder.requests) == 1
    request = recorder.requests[0]
    assert request.url.path.endswith("/chat/completions")
    _check_payload(recorder.payload, demo_image, mode)


async def test_openai_async_request(demo_index, demo_image):
    recorder = Recorder()
    engine = ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False),
                                     _openai(recorder))
    response = await engine.aquery(QueryBundle("Who is this?",
                                               image_path=demo_image.as_data_uri()))
    assert str(response) == "That is Grace Hopper."
    _check_payload(recorder.payload, demo_image, "text")


def test_the_key_stays_out_of_reprs(demo_index):
    engine = ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False),
                                     _openai(Recorder()))
    assert "sk-test" not in repr(engine) and "sk-test" not in repr(engine.retriever)


def test_default_llm_is_gpt4o_when_a_key_is_set(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    llm = default_llm()
    assert isinstance(llm, openai_llms.OpenAI) and llm.model == "gpt-4o"


def test_default_llm_without_a_key_says_what_to_do(monkeypatch, demo_index):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY") as caught:
        ReverseImageQueryEngine(ReverseImageRetriever(demo_index, cache=False))
    assert "llm=" in str(caught.value)


def test_default_llm_without_the_package_says_what_to_install(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setitem(sys.modules, "llama_index.llms.openai", None)
    with pytest.raises(ConfigurationError, match=r"reverse-image-rag\[openai\]"):
        default_llm()
