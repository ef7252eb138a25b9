"""Helpers shared by the API-engine tests: recorded payloads, test secrets, fake servers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).parent / "data"
SERPAPI_KEY = "serp-TEST-key-4f1d9a7c2e8b6d3a0c5e"
VISION_KEY = "AIzaTEST-vision-key-7b3c9e1f5a2d8c4e6b0a"
OAUTH_TOKEN = "ya29.TEST-oauth-token-c1d2e3f4a5b6c7d8e9f0"
COOKIE_VALUE = "TESTcookie-value-8e7d6c5b4a39281706"
SECRETS = (SERPAPI_KEY, VISION_KEY, OAUTH_TOKEN, COOKIE_VALUE)
PUBLIC_IMAGE_URL = "https://upload.wikimedia.org/wikipedia/commons/8/85/Tour_Eiffel.jpg"
# The real environment, captured before the autouse fixture hides it from offline tests;
# only the live tests read it.
CREDENTIAL_VARIABLES = ("SERPAPI_API_KEY", "GOOGLE_CLOUD_VISION_API_KEY",
                        "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG")
REAL_ENVIRONMENT = {name: os.environ.get(name) for name in CREDENTIAL_VARIABLES}


def fixture_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


def json_response(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


@dataclass
class SleepRecorder:
    """An injectable sleep that records the waits instead of waiting."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Recorder:
    """An httpx MockTransport whose handler answers from a script and records requests."""

    def __init__(self, handler: Callable[[httpx.Request], Any]) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler

        async def handle(request: httpx.Request) -> httpx.Response:
            await request.aread()
            self.requests.append(request)
            answer = self._handler(request)
            if hasattr(answer, "__await__"):
                answer = await answer
            return answer

        self.transport = httpx.MockTransport(handle)

    @classmethod
    def sequence(cls, *answers: httpx.Response | Exception) -> Recorder:
        """Answer the n-th request with the n-th answer (the last one repeats)."""
        queue = list(answers)
        calls = {"n": 0}

        def handler(request: httpx.Request) -> httpx.Response:
            answer = queue[min(calls["n"], len(queue) - 1)]
            calls["n"] += 1
            if isinstance(answer, Exception):
                raise answer
            # a fresh Response per request: httpx binds a response to its request
            return httpx.Response(answer.status_code, headers=answer.headers,
                                  content=answer.content)

        return cls(handler)

    @property
    def count(self) -> int:
        return len(self.requests)
