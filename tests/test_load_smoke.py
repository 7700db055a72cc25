"""bench.load's core, small: 10 clients for a few seconds against a real `firstseen serve` on loopback; and
bench.replicas's, small: two `firstseen serve` and two `firstseen worker` on one PostgreSQL and Redis.

No timing assertions (the machine is shared); what must hold at any speed is that nothing fails: every read
answers 200, every new check is accepted with 202, and none of them ends ``failed``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.load import LoadConfig, run_load
from bench.replicas import ReplicaConfig, run_replicas
from tests.conftest import PG_ADMIN_URL

REDIS_URL = os.environ.get("FIRSTSEEN_TEST_REDIS", "redis://127.0.0.1:6379/0")


def test_ten_clients_get_no_errors_and_every_new_check_is_accepted_and_queued(tmp_path: Path,
                                                                              database_url: str | None) -> None:
    # check_share 0.3 with the fixed seed: several clients' first request is a new check, at any speed
    config = LoadConfig(clients=10, duration_s=4.0, max_requests=400, check_share=0.3, drain_s=20.0, sources=1,
                        baseline_s=1.0, database_url=database_url)
    result = run_load(config, work=tmp_path)

    assert result["errors"] == 0, result["error_examples"]
    assert result["reads"]["count"] > 0
    checks = result["new_checks"]
    assert checks["submitted"] > 0 and checks["accepted"] == checks["submitted"]
    assert checks["failed"] == 0
    assert checks["done"] + checks["still_queued"] + checks["still_running"] == checks["accepted"]
    assert result["seed"]["evidence_pictures"] > 0


@pytest.mark.redis
@pytest.mark.postgres
def test_two_replicas_and_two_workers_answer_every_read_and_finish_every_accepted_check(tmp_path: Path) -> None:
    config = ReplicaConfig(clients=4, duration_s=3.0, max_requests=200, check_share=0.3, drain_s=120.0, sources=1,
                           pg_admin_url=PG_ADMIN_URL, redis_url=REDIS_URL)
    result = run_replicas(config, work=tmp_path)

    assert result["errors"] == 0, result["error_examples"]
    assert all(r["count"] > 0 for r in result["reads_by_replica"])  # both replicas answered reads
    checks = result["new_checks"]
    assert checks["accepted"] == checks["submitted"] > 0
    assert checks["all_done"] and checks["states"] == {"done": checks["accepted"]}
    # every job of the run (1 archive addition, 1 seed check, the new checks) was completed by a worker process
    assert sum(checks["completed_by_worker"]) == checks["accepted"] + 2
