"""Browser discovery, engine options and session files (no browser needed)."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from rir.engines import get_engine
from rir.engines.google_lens import browser as browser_module
from rir.engines.google_lens import find_browser
from rir.engines.google_lens.engine import GoogleLensEngine, _outside_hosts_pattern
from rir.engines.google_lens.session import (
    default_storage_state_path,
    load_session,
    resolve_storage_path,
)
from rir.errors import ConfigurationError

SECRET = "s3cr3t-cookie-value"


@pytest.fixture
def fake_exe(tmp_path: Path) -> Path:
    exe = tmp_path / "my-chrome"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return exe


class TestDiscovery:
    def test_option_beats_everything(self, fake_exe: Path, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
        monkeypatch.setenv("RIR_BROWSER_PATH", str(tmp_path / "other"))
        assert find_browser(fake_exe, managed_path=str(fake_exe)) == str(fake_exe)

    def test_env_var_overrides_managed_and_system(self, fake_exe: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("RIR_BROWSER_PATH", str(fake_exe))
        assert find_browser(managed_path="/usr/bin/env") == str(fake_exe)

    def test_env_var_to_a_missing_file_is_named(self, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
        monkeypatch.setenv("RIR_BROWSER_PATH", str(tmp_path / "nope"))
        with pytest.raises(ConfigurationError, match=r"RIR_BROWSER_PATH.*nope"):
            find_browser()

    def test_managed_chromium_when_installed(self, fake_exe: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("RIR_BROWSER_PATH", raising=False)
        assert find_browser(managed_path=str(fake_exe)) is None  # None = Playwright's own

    def test_system_paths_next(self, fake_exe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("RIR_BROWSER_PATH", raising=False)
        monkeypatch.setattr(browser_module, "common_browser_paths",
                            lambda headless: [str(fake_exe)])
        assert find_browser(managed_path="/definitely/not/here") == str(fake_exe)

    @pytest.mark.skipif(sys.platform != "linux", reason="Linux install locations")
    def test_headless_shell_first_when_headless(self, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PATH", str(tmp_path))
        for name in ("chromium", "chromium-headless-shell"):
            (tmp_path / name).write_text("#!/bin/sh\n")
            (tmp_path / name).chmod(0o755)
        shell, full = str(tmp_path / "chromium-headless-shell"), str(tmp_path / "chromium")
        headless = browser_module.common_browser_paths(headless=True)
        assert headless.index(shell) < headless.index(full)
        # A visible window (headless=False, `rir login`) needs the full browser.
        headed = browser_module.common_browser_paths(headless=False)
        assert full in headed and not [p for p in headed if "headless" in Path(p).name]

    def test_nothing_found_names_both_ways(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("RIR_BROWSER_PATH", raising=False)
        monkeypatch.setattr(browser_module, "common_browser_paths", lambda headless: [])
        with pytest.raises(ConfigurationError) as caught:
            find_browser(managed_path=None)
        message = str(caught.value)
        assert "playwright install chromium" in message
        assert "apt-get install chromium" in message and "RIR_BROWSER_PATH" in message


class TestOptions:
    def test_defaults_and_cache_key(self) -> None:
        engine = GoogleLensEngine()
        assert engine.cache_key_options() == {"hl": "en", "country": None, "match_type": "all",
                                              "udm": "26", "screenshot": "off"}
        assert engine.options.allowed_hosts is None  # real Lens: unrestricted

    def test_string_values_from_the_cli(self) -> None:
        engine = get_engine("google_lens", headless="false", timeout_s="7.5",
                            max_concurrency="3", screenshot="FULL", match_type="exact",
                            country="DE", hl="de", base_url="http://127.0.0.1:9/s/x/")
        options = engine.options
        assert (options.headless, options.timeout_s, options.max_concurrency) == (False, 7.5, 3)
        assert (options.screenshot, options.match_type, options.country) == ("full", "exact", "de")
        assert options.locale == "de-DE"
        assert options.base_url == "http://127.0.0.1:9/s/x"
        # A local Lens may only load from itself.
        assert options.allowed_hosts == frozenset({"127.0.0.1"})
        assert engine.cache_key_options()["base_url"] == "http://127.0.0.1:9/s/x"

    @pytest.mark.parametrize(("key", "value"), [
        ("match_type", "shopping"), ("screenshot", "huge"), ("timeout_s", "soon"),
        ("max_concurrency", 0), ("hl", "english please"), ("country", "usa"),
        ("base_url", "lens.google.com"), ("headless", "maybe"),
    ])
    def test_bad_options_say_what_is_wrong(self, key: str, value: object) -> None:
        with pytest.raises(ConfigurationError, match=key):
            GoogleLensEngine(**{key: value})

    def test_repr_names_no_session(self, tmp_path: Path) -> None:
        session = tmp_path / "state.json"
        engine = GoogleLensEngine(storage_state=str(session))
        assert "state.json" not in repr(engine)

    def test_outside_hosts_pattern(self) -> None:
        pattern = _outside_hosts_pattern(frozenset({"127.0.0.1"}))
        assert not pattern.search("http://127.0.0.1:8080/search?q=1")
        assert pattern.search("https://www.google.com/")
        assert pattern.search("http://127.0.0.1.attacker.example/")
        assert pattern.search("http://203.0.113.5/pixel.png")
        assert not pattern.search("data:image/png;base64,AAAA")


class TestSessionFiles:
    def test_default_location_is_the_user_config_dir(self) -> None:
        path = default_storage_state_path()
        assert path.parts[-2:] == ("reverse-image-rag", "google-lens-storage-state.json")
        assert resolve_storage_path(None) is None  # nothing saved yet: no session
        with pytest.raises(ConfigurationError, match="rir login"):
            resolve_storage_path(True)

    def test_default_file_is_picked_up(self) -> None:
        path = default_storage_state_path()
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"cookies": [], "origins": []}))
        assert resolve_storage_path(None) == path
        assert resolve_storage_path(False) is None

    def test_missing_explicit_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match="does not exist"):
            resolve_storage_path(str(tmp_path / "missing.json"))

    def test_playwright_state_cookie_list_and_cookies_txt(self, tmp_path: Path) -> None:
        state = tmp_path / "state.json"
        state.write_text(json.dumps({"cookies": [{
            "name": "SOCS", "value": SECRET, "domain": ".google.com", "path": "/",
            "expires": 1900000000, "httpOnly": False, "secure": True, "sameSite": "Lax"}],
            "origins": []}))
        exported = tmp_path / "cookies.json"
        exported.write_text(json.dumps([{
            "name": "NID", "value": SECRET, "domain": ".google.com", "path": "/",
            "expirationDate": 1900000000.5, "secure": True, "httpOnly": True,
            "sameSite": "no_restriction"}]))
        netscape = tmp_path / "cookies.txt"
        netscape.write_text("# Netscape HTTP Cookie File\n"
                            f"#HttpOnly_.google.com\tTRUE\t/\tTRUE\t1900000000\tAEC\t{SECRET}\n")
        assert load_session(state)["cookies"][0]["sameSite"] == "Lax"
        assert load_session(exported)["cookies"][0] | {"value": "x"} == {
            "name": "NID", "value": "x", "domain": ".google.com", "path": "/",
            "secure": True, "httpOnly": True, "expires": 1900000000.5, "sameSite": "None"}
        cookie = load_session(netscape)["cookies"][0]
        assert (cookie["name"], cookie["httpOnly"], cookie["secure"]) == ("AEC", True, True)

    def test_broken_file_error_never_shows_contents(self, tmp_path: Path) -> None:
        broken = tmp_path / "cookies.txt"
        broken.write_text(f"google.com {SECRET} not tab separated\n")
        with pytest.raises(ConfigurationError) as caught:
            load_session(broken)
        assert SECRET not in str(caught.value) and "cookies.txt" in str(caught.value)
        broken.write_text(json.dumps([{"value": SECRET}]))
        with pytest.raises(ConfigurationError) as caught:
            load_session(broken)
        assert SECRET not in str(caught.value)

    def test_private_file_mode_helper(self, tmp_path: Path) -> None:
        from rir.engines.google_lens.login import _write_private

        target = tmp_path / "nested" / "state.json"
        _write_private(target, {"cookies": [], "origins": []})
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
