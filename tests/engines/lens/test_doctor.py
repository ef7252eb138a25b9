"""``rir doctor`` against the fake Lens: every page state, by upload and by URL, offline."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from rir.cli import main
from tests.engines.lens.fake_lens import FakeLens
from tests.images import jpeg_bytes

pytestmark = pytest.mark.browser


def doctor(capsys: pytest.CaptureFixture[str], base_url: str, *args: str) -> tuple[int, dict]:
    code = main(["doctor", "--json", "--engine", "google_lens", "-k", "10",
                 "-o", f"google_lens.base_url={base_url}", "-o", "google_lens.timeout_s=10",
                 *args])
    return code, json.loads(capsys.readouterr().out)


def lens_check(report: dict, how: str = "upload") -> dict:
    return next(c for c in report["checks"] if c["name"] == f"google_lens ({how})")


def test_a_working_lens(browser_path: str | None, fake: FakeLens, scenario, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    name = scenario("results")
    url = fake.add_image("doctor.jpg", jpeg_bytes())
    code, report = doctor(capsys, fake.base_url(name), "--url", url, "--allow-private-urls",
                          "--save-html", str(tmp_path / "pages"))
    assert code == 0 and report["ok"] is True
    upload, by_url = lens_check(report), lens_check(report, "by URL")
    for check in (upload, by_url):
        data = check["data"]
        assert check["status"] == "ok" and data["page_state"] == "results"
        assert data["view"] == "all" and data["complete"] is True
        assert data["hits"] == {"default": 3, "network_read": 3, "render": 3,
                                "render_scroll": 3, "overlap_default_rendered": 3}
        assert data["consent_clicks"] == 0 and data["read_from"] == "network"
    assert {r.path for r in fake.requests_for(name)} >= {"/v3/upload", "/uploadbyurl"}
    upload_post = next(r for r in fake.requests_for(name) if r.path == "/v3/upload")
    assert upload_post.upload_type == "image/jpeg"  # the canary
    saved = sorted((tmp_path / "pages").iterdir())
    assert len(saved) == 4 and all(p.name.startswith("lens-results-") for p in saved)
    browser = next(c for c in report["checks"] if c["kind"] == "browser")
    assert browser["status"] == "found"


def test_consent_is_passed_and_counted(browser_path: str | None, fake: FakeLens, scenario,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    name = scenario("consent")
    code, report = doctor(capsys, fake.base_url(name), "-o", "google_lens.storage_state=false")
    assert code == 0
    assert lens_check(report)["data"]["consent_clicks"] == 1


@pytest.mark.parametrize(("state", "status", "fix"), [
    ("sorry", "blocked", "rir login"),
    ("webonly", "degraded", "retry later"),
    ("unknown", "fail", "--save-html"),
    ("error500", "fail", "--save-html"),
])
def test_each_failing_state_names_its_fix(browser_path: str | None, fake: FakeLens, scenario,
                                          capsys: pytest.CaptureFixture[str], state: str,
                                          status: str, fix: str) -> None:
    name = scenario(state)
    code, report = doctor(capsys, fake.base_url(name))
    check = lens_check(report)
    assert code == 1 and report["ok"] is False
    assert check["status"] == status and fix in check["fix"]
    assert check["detail"]  # the engine's own message


def test_offline_says_unreachable(browser_path: str | None,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["doctor", "--engine", "google_lens", "-o",
                 f"google_lens.base_url=http://127.0.0.1:{port}"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert "unreachable" in out and "network" in out  # the table wraps the fix text
