"""bench.load's core, small: 10 clients for a few seconds against a real `firstseen serve` on loopback.

No timing assertions (the machine is shared); what must hold at any speed is that nothing fails: every read
answers 200, every new check is accepted with 202, and none of them ends ``failed``.
"""

from __future__ import annotations

from pathlib import Path

from bench.load import LoadConfig, run_load


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
