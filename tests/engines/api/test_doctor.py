"""``rir doctor`` against the fake API servers: keys reported as set (never shown),
engines checked with the canary image, failures named with their fix."""

from __future__ import annotations

import json
import socket

import pytest

from rir.cli import main
from rir.engines.doctor import canary_image
from tests.engines.api.helpers import (
    SECRETS,
    SERPAPI_KEY,
    VISION_KEY,
    fixture_text,
)
from tests.helpers import LocalServer


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code = main(["doctor", "--json", *args])
    out, err = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in out and secret not in err
    return code, json.loads(out), err


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERPAPI_API_KEY", SERPAPI_KEY)
    monkeypatch.setenv("GOOGLE_CLOUD_VISION_API_KEY", VISION_KEY)


def test_the_canary_ships_with_the_package() -> None:
    data = canary_image()
    assert data[:3] == b"\xff\xd8\xff" and len(data) > 10_000


def test_both_api_engines_answer(api_server: LocalServer, keys: None,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    api_server.add("/image", fixture_text("serpapi/image_upload.json"), "application/json",
                   method="POST")
    api_server.add("/search.json", fixture_text("serpapi/lens_eiffel_all.json"),
                   "application/json")
    api_server.add("/v1/images:annotate",
                   fixture_text("cloud_vision/web_detection_golden_gate.json"),
                   "application/json", method="POST")
    code, report, _ = doctor(capsys, "--engine", "serpapi", "--engine", "cloud_vision",
                             "-o", f"serpapi.base_url={api_server.base_url}",
                             "-o", f"cloud_vision.base_url={api_server.base_url}")
    assert code == 0 and report["ok"] is True
    assert check(report, "SERPAPI_API_KEY")["status"] == "set"
    assert check(report, "GOOGLE_APPLICATION_CREDENTIALS")["status"] == "not set"
    serp, vision = check(report, "serpapi (upload)"), check(report, "cloud_vision (upload)")
    assert serp["status"] == "ok" and serp["data"]["hits"] > 0
    assert vision["status"] == "ok" and vision["data"]["hits"] > 0
    uploaded = next(r for r in api_server.requests if r.path == "/image")
    assert b"\xff\xd8\xff" in uploaded.body  # the canary went up


def test_a_rejected_key_fails_with_its_fix(api_server: LocalServer, keys: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    api_server.add("/v1/images:annotate",
                   fixture_text("cloud_vision/error_api_key_invalid.json"), "application/json",
                   status=400, method="POST")
    code, report, _ = doctor(capsys, "--engine", "cloud_vision",
                             "-o", f"cloud_vision.base_url={api_server.base_url}")
    assert code == 1 and report["ok"] is False
    vision = check(report, "cloud_vision (upload)")
    assert vision["status"] == "bad_key" and "check its value" in vision["fix"]


def test_unreachable_engines_are_named_not_a_crash(keys: None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--engine", "serpapi",
                 "-o", f"serpapi.base_url=http://127.0.0.1:{closed_port()}"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert "unreachable" in out and "network" in out  # the table wraps the fix text
    assert SERPAPI_KEY not in out + err


def test_an_engine_without_its_key_is_not_configured(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    code, report, _ = doctor(capsys, "--engine", "serpapi")
    assert code == 1
    serp = check(report, "serpapi (upload)")
    assert serp["status"] == "not_configured" and "SERPAPI_API_KEY" in serp["detail"]


def test_no_engine_at_all(monkeypatch: pytest.MonkeyPatch, tmp_path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RIR_BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    code, report, _ = doctor(capsys)
    assert code == 1
    assert check(report, "Chromium/Chrome")["status"] == "missing"
    assert check(report, "any engine")["status"] == "not_configured"
