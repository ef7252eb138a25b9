"""What a user touches: `rir search --engine google_lens`, `--show`, `rir login`, the debug view."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from PIL import Image

from rir.cli import main
from rir.engines.google_lens import GoogleLensEngine, alogin
from rir.inputs.images import load_image
from rir.results.debug_view import show_result
from rir.results.models import SearchHit, SearchResult
from tests.engines.lens.fake_lens import FakeLens
from tests.engines.lens.helpers import page, run
from tests.images import jpeg_bytes


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg_bytes((180, 60, 60), (320, 240)))
    return path


class TestViz:
    def _result(self) -> SearchResult:
        from rir.engines.google_lens import parse_lens_html

        hits = parse_lens_html(page("few-cards")).hits
        local = SearchHit(title="A thumbnail on a private address", url="https://example.org/",
                          thumbnail_url="http://127.0.0.1:9/thumb.jpg", position=4)
        return SearchResult(hits=[hits[0], hits[2], local], best_guess="Eiffel Tower",
                            engine="google_lens")

    def test_saves_a_png_without_a_display(self, no_display: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
        query = load_image(jpeg_bytes())
        with caplog.at_level(logging.INFO):
            path = show_result(query, self._result())
        assert path == no_display / f"rir-show-{query.sha256[:12]}.png"
        with Image.open(path) as picture:
            assert picture.format == "PNG" and picture.width > 800
        # The private-address thumbnail went to the SSRF guard and was refused.
        assert any("loopback" in record.getMessage() for record in caplog.records)

    def test_save_to_and_empty_results(self, no_display: Path) -> None:
        query = load_image(jpeg_bytes())
        target = no_display / "out" / "view.png"
        assert show_result(query, SearchResult(engine="google_lens"), save_to=target) == target
        assert target.read_bytes().startswith(b"\x89PNG")


@pytest.mark.browser
class TestCommandLine:
    def test_search_json_and_show(self, browser_path: str | None, fake: FakeLens, scenario,
                                  photo: Path, no_display: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
        scenario("results")
        code = main(["search", str(photo), "--engine", "google_lens", "-o",
                     f"base_url={fake.base_url()}", "--json", "--show", "--no-cache", "-k", "2"])
        out = capsys.readouterr().out
        assert code == 0
        data = json.loads(out)
        assert data["engine"] == "google_lens"
        assert [h["url"] for h in data["hits"]] == [
            "https://commons.wikimedia.org/wiki/File:Tour_Eiffel_Wikimedia_Commons.jpg",
            "https://www.travel-example.com/paris/eiffel-tower-at-dusk"]
        assert len(list(no_display.glob("rir-show-*.png"))) == 1

    def test_blocked_and_saved_page(self, browser_path: str | None, fake: FakeLens, scenario,
                                    photo: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
        scenario("sorry")
        saved = tmp_path / "page.html"
        code = main(["search", str(photo), "--engine", "google_lens", "-o",
                     f"base_url={fake.base_url()}", "--no-cache", "--save-html", str(saved)])
        err = capsys.readouterr().err
        assert code == 1
        assert "engine error" in err and "refused" in err and "rir login" in err
        assert "unusual traffic" in saved.read_text()

    def test_no_browser_is_a_clear_configuration_error(
            self, photo: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("RIR_BROWSER_PATH", "/nonexistent/chromium")
        code = main(["search", str(photo), "--engine", "google_lens", "--no-cache", "-o",
                     "base_url=http://127.0.0.1:9"])
        err = capsys.readouterr().err
        assert code == 2
        assert "RIR_BROWSER_PATH" in err and "/nonexistent/chromium" in err


class TestLogin:
    def test_needs_a_display(self, no_display: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["login"]) == 2
        assert "no display" in capsys.readouterr().err

    @pytest.mark.browser
    def test_saves_the_session_the_engine_then_sends(self, browser_path: str | None,
                                                     fake: FakeLens, scenario,
                                                     tmp_path: Path) -> None:
        target = tmp_path / "session" / "state.json"

        async def user_is_done(lens_page) -> None:
            await lens_page.wait_for_load_state("load")

        path = run(alogin(output=target, base_url=fake.base_url("results"), headless=True,
                          wait_for_user=user_is_done))
        assert path == target and stat.S_IMODE(target.stat().st_mode) == 0o600
        cookies = json.loads(target.read_text())["cookies"]
        assert [(c["name"], c["domain"]) for c in cookies] == [("NID", "127.0.0.1")]

        name = scenario("results+tag=session")
        with GoogleLensEngine(base_url=fake.base_url(), storage_state=str(target)) as engine:
            assert len(engine.search(jpeg_bytes()).hits) == 3
        search = next(r for r in fake.requests_for(name) if r.path == "/search")
        assert "NID=fake-session" in search.headers.get("cookie", "")
