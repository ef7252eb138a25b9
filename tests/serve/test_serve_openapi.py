"""Property tests over the served OpenAPI schema (schemathesis, bounded examples): no 500s,
every status documented, every response body matching its schema, schema-violating
requests refused with a 4xx."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from tests.serve.helpers import RunningServer, free_socket

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

KEY = "openapi-key-3b8e1f6a2c9d"
ENGINE_SECRET = "serp-openapi-secret-4d7a"
EXAMPLES = int(os.environ.get("RIR_FUZZ_EXAMPLES", "0")) or 25  # make fuzz: many more


@pytest.fixture(scope="module")
def served(demo_index_path) -> Iterator[RunningServer]:
    from rir.serve import ServeConfig, create_app

    patch = pytest.MonkeyPatch()
    patch.setenv("SERPAPI_API_KEY", ENGINE_SECRET)  # configured, so never to be shown
    sock = free_socket()
    config = ServeConfig(port=sock.getsockname()[1], index=demo_index_path, cache=False,
                         rate_limit_per_minute=0, max_bytes=200_000, api_key=KEY)
    server = RunningServer(create_app(config), sock)
    yield server
    server.close()
    patch.undo()


@pytest.fixture(scope="module")
def api_schema(served: RunningServer):
    return schemathesis.openapi.from_url(f"{served.url}/openapi.json",
                                         headers={"X-API-Key": KEY})


@pytest.mark.fuzz
def test_every_operation_holds_to_its_schema(api_schema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/search", "/v1/engines", "/healthz"}
    statuses: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def holds(case) -> None:
            # Schema-valid is not image-valid: a generated image_url is rarely a public
            # picture, so a 4xx for valid-looking input is right here, not a failure.
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance],
                                              headers={"X-API-Key": KEY})
            assert "Traceback" not in response.text and KEY not in response.text
            assert ENGINE_SECRET not in response.text
            statuses.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)

        holds()
    # The search was really exercised: refused input (4xx), and 200 for the tiny real
    # PNG/JPEG files schemathesis makes for binary fields; never a 5xx.
    assert statuses["GET /healthz"] == {200}
    assert statuses["POST /v1/search"] and all(400 <= s < 500 or s == 200
                                               for s in statuses["POST /v1/search"])
