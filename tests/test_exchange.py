"""Whole-archive export/import round-trips metadata, fingerprints and footage links."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import numpy as np

from service.archive.video_record import video_fingerprint
from service.signals.base import SignalRecord
from tests.conftest import Media


def _as_version_1(line: str) -> str:
    """An item line as firstseen wrote it before signal types: one pHash ``fingerprint`` object."""
    record = json.loads(line)
    if record.get("type") != "item":
        return line
    (raw,) = record.pop("signals")
    fp = video_fingerprint(SignalRecord(raw["signal"], raw["version"], base64.b64decode(raw["payload_b64"]),
                                        base64.b64decode(raw["detail_b64"]) if raw["detail_b64"] else None))
    b64 = lambda a, t: base64.b64encode(np.asarray(a, t).tobytes()).decode()  # noqa: E731
    record["fingerprint"] = {"hasher": fp.hasher, "views": list(fp.views), "duration": fp.duration,
                             "times_f32le": b64(fp.times, "<f4"), "hashes_u64le": b64(fp.hashes, "<u8")}
    if fp.backgrounds is not None:
        record["fingerprint"]["backgrounds"] = {
            "views": list(fp.backgrounds.views), "block_starts_i32le": b64(fp.backgrounds.block_starts, "<i4"),
            "coefficients_f32le": b64(fp.backgrounds.coefficients, "<f4")}
    return json.dumps(record)


def test_an_export_from_before_signal_types_still_imports_and_matches(cli, media: Media, tmp_path: Path,
                                                                      monkeypatch) -> None:
    cli("archive", "add", media.original, "--title", "Ambush", "--published", "2018-03-01")
    before = cli("check", media.excerpt_240p, "--no-remember", "--json").json()
    dump = tmp_path / "archive.jsonl"
    assert cli("archive", "export", dump).exit_code == 0
    header, *rest = dump.read_text().splitlines()
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join([json.dumps({**json.loads(header), "version": 1}), *map(_as_version_1, rest)]) + "\n")
    assert '"fingerprint"' in old.read_text() and '"signals"' not in old.read_text()

    monkeypatch.setenv("FIRSTSEEN_HOME", str(tmp_path / "second-home"))
    monkeypatch.delenv("FIRSTSEEN_DATABASE_URL", raising=False)
    res = cli("archive", "import", old)
    assert res.exit_code == 0, res.stderr
    after = cli("check", media.excerpt_240p, "--no-remember", "--json").json()
    assert after["verdict"] == before["verdict"]
    assert after["matches"][0]["segments"] == before["matches"][0]["segments"]
    assert after["matches"][0]["evidence"] == before["matches"][0]["evidence"]


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
    # Every signal's record travels as stored; what stays still in the footage (the video record's detail,
    # a short check is judged against it) with it.
    assert [s["signal"] for s in first["signals"]] == ["video-phash"]
    video = video_fingerprint(SignalRecord(**{k: first["signals"][0][k] for k in ("signal", "version")},
                                           payload=base64.b64decode(first["signals"][0]["payload_b64"]),
                                           detail=base64.b64decode(first["signals"][0]["detail_b64"])))
    assert video.backgrounds is not None and video.backgrounds.views[0] == "full"

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
