"""``rir serve`` at the command line: what it refuses before binding, and a real HTTP run."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from rir.cli import main
from tests.serve.helpers import HOPPER_PAGE, REPO, free_socket, stdio_command


@pytest.mark.parametrize(("argv", "words"), [
    (["--host", "0.0.0.0"], "RIR_API_KEY"),
    (["--allow-dir", "/tmp"], "only with --stdio"),
    (["--index", "/no/such/index.rir"], "No index at"),
    (["--allow-write"], "needs an index"),
    (["--api-key", "secret-on-argv"], "unrecognized arguments"),
])
def test_refused_before_binding_with_one_line(argv, words, capsys, monkeypatch) -> None:
    monkeypatch.delenv("RIR_API_KEY", raising=False)
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


def test_rir_serve_answers_over_http(demo_index_path, hopper_uri) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # uvicorn binds it itself
    command, args, env = stdio_command()
    args = [a for a in args if a != "--stdio"] + ["--port", str(port), "--index",
                                                   str(demo_index_path)]
    env = {**env, "RIR_API_KEY": "cli-key-99887766"}
    process = subprocess.Popen([command, *args], env=env, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                up = httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:  # not listening yet
                up = False
            if up:
                break
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "rir serve did not start"
            time.sleep(0.2)
        found = httpx.post(f"{url}/v1/search", json={"data_uri": hopper_uri},
                           headers={"X-API-Key": "cli-key-99887766"}, timeout=30)
        refused = httpx.post(f"{url}/v1/search", json={"data_uri": hopper_uri}, timeout=30)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert found.status_code == 200 and found.json()["hits"][0]["url"] == HOPPER_PAGE
    assert refused.status_code == 401
    assert "cli-key-99887766" not in stderr
