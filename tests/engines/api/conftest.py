"""Fixtures of the API-engine tests.

Every test here runs with all loggers at DEBUG, and afterwards the captured log
records are checked for the test keys, cookies and tokens: no test may leak one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from rir.engines.http import RetryPolicy
from rir.inputs.images import QueryImage, load_image
from tests.engines.api.helpers import (
    CREDENTIAL_VARIABLES,
    PUBLIC_IMAGE_URL,
    REAL_ENVIRONMENT,
    SECRETS,
    SleepRecorder,
)
from tests.helpers import LocalServer
from tests.images import noisy_jpeg


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real keys or gcloud config from the machine leak into a test."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))


@pytest.fixture
def real_environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Restore the machine's credential variables (for the live tests only)."""
    for name, value in REAL_ENVIRONMENT.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return dict(REAL_ENVIRONMENT)


@pytest.fixture(autouse=True)
def _no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        message = record.getMessage()
        for secret in SECRETS:
            assert secret not in message, f"secret leaked in a log line of {record.name}"


@pytest.fixture(scope="session")
def jpeg_bytes() -> bytes:
    return noisy_jpeg(320, 240)


@pytest.fixture
def local_image(jpeg_bytes: bytes) -> QueryImage:
    """An image from bytes (no public URL)."""
    return load_image(jpeg_bytes)


@pytest.fixture
def url_image(local_image: QueryImage) -> QueryImage:
    """The same image as if it had been loaded from a public URL."""
    return dataclasses.replace(local_image, url=PUBLIC_IMAGE_URL,
                               origin=f"URL '{PUBLIC_IMAGE_URL}'")


@pytest.fixture(scope="session")
def big_jpeg_bytes() -> bytes:
    data = noisy_jpeg(1800, 1350, quality=97)
    assert len(data) > 600_000
    return data


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def fast_retry(sleeps: SleepRecorder) -> RetryPolicy:
    return RetryPolicy(attempts=3, backoff_s=0.5, max_backoff_s=8.0, sleep=sleeps)


@pytest.fixture
def api_server() -> Iterator[LocalServer]:
    """The suite's loopback server, standing in for a provider's API (``base_url=``)."""
    server = LocalServer()
    yield server
    server.close()
