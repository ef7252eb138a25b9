"""A copied placeholder is never a key (issue 22): one rule for every place keys are read."""

from __future__ import annotations

import pytest

from rir.engines import get_engine
from rir.engines.auto import choose_engine
from rir.engines.doctor import _key_checks
from rir.engines.http.secrets import configured_env, looks_like_placeholder
from rir.errors import EngineUnavailableError

PLACEHOLDERS = ["", "   ", "<your key>", "<SERPAPI_API_KEY>", "YOUR_API_KEY", "your-serpapi-key",
                "sk-...", "sk-xxxx", "xxx", "****", "changeme", "${SERPAPI_API_KEY}",
                "$SERPAPI_API_KEY", "{{ serpapi_key }}", "optional: a web engine for serpapi",
                "paste your key here", "abc…"]
KEYS = ["3f9c2a7b1d0e4f6a8b9c", "test-key-123", "sk-proj-AbC123xyz", "AIzaSyD-1234567890abc"]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_are_not_keys(value: str) -> None:
    assert looks_like_placeholder(value)


@pytest.mark.parametrize("value", KEYS)
def test_real_looking_keys_are_keys(value: str) -> None:
    assert not looks_like_placeholder(value)


@pytest.mark.parametrize("value", ["<your key>", "YOUR_API_KEY", " "])
def test_auto_doctor_and_the_engine_agree_a_placeholder_is_unset(
        value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERPAPI_API_KEY", value)
    monkeypatch.delenv("GOOGLE_CLOUD_VISION_API_KEY", raising=False)
    monkeypatch.setattr("rir.engines.cloud_vision.adc_available", lambda: False)
    assert configured_env("SERPAPI_API_KEY") is None
    assert choose_engine()[0] == "google_lens"
    assert {c.name: c.status for c in _key_checks()}["SERPAPI_API_KEY"] == "not set"
    with pytest.raises(EngineUnavailableError, match="SERPAPI_API_KEY"):
        get_engine("serpapi")


def test_a_real_key_still_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERPAPI_API_KEY", "3f9c2a7b1d0e4f6a8b9c")
    assert choose_engine()[0] == "serpapi"


def test_a_credentials_path_is_not_judged_as_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/home/Jane Doe/adc.json")
    assert configured_env("GOOGLE_APPLICATION_CREDENTIALS") == "/home/Jane Doe/adc.json"
