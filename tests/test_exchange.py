"""Whole-archive export/import round-trips metadata, fingerprints and footage links."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.conftest import Media


def test_export_then_import_into_a_new_home_round_trips(cli, media: Media, tmp_path: Path, monkeypatch) -> None:
    cli("archive", "add", media.original, "--title", "Ambush", "--published", "2018-03-01", "--location", "Idlib")
    cli("archive", "add", media.other, "--title", "Strike", "--event", "air strike")
    # A check remembered as an observed upload links to the first item's footage.
    cli("check", media.reencode, "--claimed-date", "2021-01-01", "--json")
    before_items = cli("archive", "list", "--json").json()
    before_report = cli("check", media.excerpt_240p, "--no-remember", "--json").json()

    dump = tmp_path / "archive.jsonl.gz"
    res = cli("archive", "export", dump)
    assert res.exit_code == 0, res.stderr
    with gzip.open(dump, "rt") as fh:
        header = json.loads(fh.readline())
        first = json.loads(fh.readline())
    assert header["format"] == "firstseen-archive" and header["items"] == 3
    # What stays still in the footage travels with it (a short check is judged against it).
    assert first["fingerprint"]["backgrounds"]["views"][0] == "full"

    monkeypatch.setenv("FIRSTSEEN_HOME", str(tmp_path / "second-home"))
    monkeypatch.delenv("FIRSTSEEN_DATABASE_URL", raising=False)
    assert cli("archive", "list", "--json").json() == []
    res = cli("archive", "import", dump)
    assert res.exit_code == 0, res.stderr

    keep = ("kind", "title", "published", "location", "event", "sha256", "duration", "frame_count")
    after_items = cli("archive", "list", "--json").json()
    assert [{k: i[k] for k in keep} for i in after_items] == [{k: i[k] for k in keep} for i in before_items]
    # Footage clusters survive: the observed copy is still grouped with the original.
    assert after_items[0]["footage_id"] == after_items[2]["footage_id"] != after_items[1]["footage_id"]
    after_report = cli("check", media.excerpt_240p, "--no-remember", "--json").json()
    assert after_report["verdict"] == before_report["verdict"]
    assert [m["title"] for m in after_report["matches"]] == [m["title"] for m in before_report["matches"]]
    assert after_report["matches"][0]["segments"] == before_report["matches"][0]["segments"]
    assert after_report["matches"][0]["evidence"] == before_report["matches"][0]["evidence"]


def test_import_of_a_corrupt_dump_adds_nothing(cli, media: Media, tmp_path: Path) -> None:
    cli("archive", "add", media.original, "--title", "Ambush")
    dump = tmp_path / "archive.jsonl"
    assert cli("archive", "export", dump).exit_code == 0
    lines = dump.read_text().splitlines()
    dump.write_text("\n".join([*lines, lines[1], '{"type": "item", "title": "broken"'] ) + "\n")
    res = cli("archive", "import", dump)
    assert res.exit_code == 2 and "Traceback" not in res.stderr
    assert len(cli("archive", "list", "--json").json()) == 1
