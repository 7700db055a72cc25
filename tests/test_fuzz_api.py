"""Schemathesis against the app's own OpenAPI: no 500s, and every answer is one the schema documents.

The app runs under a real uvicorn on 127.0.0.1 with an **empty** ``allow_hosts``, so generated links to
loopback or private addresses are refused with 400 before anything is fetched. A generated link to a public
address would pass the guard and be queued, so the app gets a queue that keeps jobs ``queued`` in the
database and runs none (as a Redis queue with no worker attached would): the fuzzer tests the API, never
the network. Two passes over every ``/api/v1`` operation and ``/healthz``: with an admin key (every role's
routes; a key the fuzzer revokes through ``DELETE /keys/{id}`` is replaced before the next call), and with
no key, where every API answer must be 401.

Bounded for CI: ``MAX_EXAMPLES`` per operation and generation mode (valid data, and data that breaks the
schema), no deadline, no example database, derandomized so every run sends the same examples (about 1,300
calls, under two minutes on two busy CPUs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.auth import KeyStore
from service.http import create_app
from service.settings import Settings
from tests.conftest import database_for_test
from tests.live_app import run_uvicorn

MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


class HeldQueue:
    """A ``JobQueue`` with no worker: jobs stay ``queued`` in the database, nothing is downloaded."""

    def __init__(self) -> None:
        self.held: list[str] = []

    def enqueue(self, job_id: str) -> None:
        self.held.append(job_id)


@dataclass
class FuzzTarget:
    url: str
    settings: Settings
    keys: KeyStore
    queue: HeldQueue
    admin_id: int = 0
    admin_token: str = ""
    calls: dict[str, int] = field(default_factory=dict)

    def admin_headers(self) -> dict[str, str]:
        """An admin key that is still live (the fuzzer may have revoked the previous one)."""
        if not self.admin_token or self.keys.active(self.admin_id) is None:
            key, self.admin_token = self.keys.create("admin", name="fuzz admin")
            self.admin_id = key.id
        return {"Authorization": f"Bearer {self.admin_token}"}

    def count(self, pass_name: str) -> None:
        self.calls[pass_name] = self.calls.get(pass_name, 0) + 1


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    home: Path = tmp_path_factory.mktemp("fuzz-home")
    with database_for_test() as db:
        settings_ = Settings(home=home, database_url=db, allow_hosts=[], rate_limit_per_minute=1_000_000)
        assert settings_.allow_hosts == []  # never loopback, never an outside fetch
        queue = HeldQueue()
        app = create_app(settings_, queue=queue)
        with run_uvicorn(app, name="uvicorn-fuzz") as url:
            target = FuzzTarget(url, settings_, KeyStore(app.state.services.pipeline.store.engine), queue)
            yield target
        print(f"schemathesis calls: {target.calls}; jobs held, never run: {len(queue.held)}")


@pytest.fixture(scope="module")
def api_schema(fuzz_target: FuzzTarget) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_target.url}/openapi.json")


def fuzz(api_schema: Any, modes: tuple[GenerationMode, ...], call: Callable[[Any], None]) -> list[str]:
    """Run ``call`` on generated cases for every operation; one line per operation that failed."""
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in modes:
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                call(case)

            try:
                run()
            except Unsatisfiable:  # negative mode for an operation with nothing to break (GET /healthz)
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as exc:  # the message carries a curl line to reproduce
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


# -- what schemathesis found ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/api/v1/archive/{2**90}"), ("PATCH", f"/api/v1/archive/{2**63}"), ("DELETE", f"/api/v1/archive/{2**64}"),
    ("GET", f"/api/v1/footage/{2**70}"), ("DELETE", f"/api/v1/sources/{2**63}"),
    ("POST", f"/api/v1/sources/{2**63}/crawl"), ("DELETE", f"/api/v1/keys/{2**63}"),
    ("GET", f"/api/v1/archive?offset={2**63}"), ("GET", f"/api/v1/audit?offset={2**70}"),
])
def test_ids_and_offsets_past_the_database_integer_are_422_not_500(fuzz_target: FuzzTarget, method: str,
                                                                    path: str) -> None:
    """An id the driver cannot bind (SQLite raised OverflowError, a 500) is refused as malformed input."""
    with httpx.Client(base_url=fuzz_target.url, headers=fuzz_target.admin_headers(), timeout=30) as c:
        r = c.request(method, path, json={"title": "x"} if method == "PATCH" else None)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


def test_largest_storable_id_is_a_plain_404(fuzz_target: FuzzTarget) -> None:
    with httpx.Client(base_url=fuzz_target.url, headers=fuzz_target.admin_headers(), timeout=30) as c:
        for path in (f"/api/v1/archive/{2**31 - 1}", f"/api/v1/footage/{2**31 - 1}"):
            r = c.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
        assert c.get("/api/v1/archive", params={"offset": 2**31 - 1}).json()["items"] == []


def test_repeated_check_with_the_same_idempotency_key_is_a_documented_200(fuzz_target: FuzzTarget) -> None:
    """Schemathesis sent one Idempotency-Key twice: the second answer, 200, was not in the OpenAPI."""
    with httpx.Client(base_url=fuzz_target.url, headers=fuzz_target.admin_headers(), timeout=30) as c:
        documented = c.get("/openapi.json").json()["paths"]["/api/v1/checks"]["post"]["responses"]
        sent = [c.post("/api/v1/checks", headers={"Idempotency-Key": "fuzz-repeat"},
                       files={"file": ("clip.mp4", b"not really a video", "video/mp4")}) for _ in range(2)]
    assert [r.status_code for r in sent] == [202, 200]
    assert sent[0].json()["id"] == sent[1].json()["id"]
    assert {"200", "202"} <= set(documented)
    assert documented["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JobCreated"}


def test_admin_calls_get_no_server_error_and_only_documented_answers(api_schema: Any,
                                                                     fuzz_target: FuzzTarget) -> None:
    def call(case: Any) -> None:
        fuzz_target.count("admin")
        case.call_and_validate(headers=fuzz_target.admin_headers(), checks=CHECKS, timeout=30)

    failures = fuzz(api_schema, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE), call)
    assert not failures, "\n\n".join(failures)


def test_calls_without_a_key_are_all_401(api_schema: Any, fuzz_target: FuzzTarget) -> None:
    def call(case: Any) -> None:
        fuzz_target.count("no key")
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call_and_validate(checks=CHECKS, timeout=30)
        if case.path.startswith("/api/"):
            assert response.status_code == 401, (case.method, case.path, response.status_code, response.text[:300])
            assert response.json()["error"]["code"] == "unauthorized"

    failures = fuzz(api_schema, (GenerationMode.POSITIVE,), call)
    assert not failures, "\n\n".join(failures)
