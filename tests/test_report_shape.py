"""One report shape: the ``Report`` a check makes reads the same through ``firstseen check --json``, the jobs
store and the API, and reports stored by earlier versions still read as a ``Report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from service.db.tables import jobs
from service.jobs import JobStore
from service.models import Report
from service.report.public import public_report
from tests.conftest import Media
from tests.live_app import serve


def _archive_two_uploads_and_check_an_excerpt(cli: Any, media: Media, *options: str) -> dict[str, Any]:
    """The real pipeline on real clips: the footage archived twice (so it has a history), an excerpt checked."""
    for path, title, published, location in ((media.original, "Convoy ambush", "2018-03-01", "Idlib"),
                                              (media.reencode, "Re-post", "2020-05-01", "Aleppo")):
        added = cli("archive", "add", path, "--title", title, "--published", published, "--location", location,
                    "--source-url", "https://example.org/v/1", "--json")
        assert added.exit_code == 0, added.stderr
    checked = cli("check", media.excerpt_240p, "--claimed-date", "2021-03-11", "--claimed-location", "Kyiv",
                  "--no-remember", "--json", *options)
    assert checked.exit_code == 0, checked.stderr
    printed: dict[str, Any] = checked.json()
    return printed


def test_a_report_serialises_identically_through_the_cli_the_jobs_store_and_the_api(
        cli: Any, home: Path, database_url: str | None, media: Media, tmp_path: Path) -> None:
    printed = _archive_two_uploads_and_check_an_excerpt(cli, media, "--evidence", str(tmp_path / "evidence"))
    report = Report.from_dict(printed)
    assert report.verdict == "recycled" and len(report.matches) == 2
    assert report.history and "Idlib" in report.history  # its own field, not glued to the explanation
    assert "History:" not in report.explanation
    assert report.to_dict() == printed  # the CLI's JSON is the whole Report

    with serve(home, database_url) as live:
        store: JobStore = live.app.state.services.jobs
        job, _ = store.create("check", {"source": report.source.input, "claims": report.claims.to_dict(),
                                        "remember": False})
        assert store.start(job.id)
        store.finish(job.id, report)
        stored = store.get(job.id).report
        assert stored == report
        assert stored.to_dict() == printed
        with live.client("reader") as c:
            answered = c.get(f"/api/v1/checks/{job.id}")
            assert answered.status_code == 200, answered.text
            exported = c.get(f"/api/v1/checks/{job.id}/export.zip")
            assert exported.status_code == 200
            pictures = [c.get(url).content for url in answered.json()["evidence"]]
    shown = answered.json()["report"]
    assert shown == public_report(report)
    # The API's report is the CLI's less the server's own path, and says the source was a file.
    assert {k: v for k, v in shown.items() if k != "source"} == {k: v for k, v in printed.items() if k != "source"}
    assert {k: v for k, v in shown["source"].items() if k not in ("kind", "input")} == {
        k: v for k, v in printed["source"].items() if k not in ("media_path", "input")}
    assert shown["source"]["kind"] == "upload" and shown["source"]["input"] == media.excerpt_240p.name
    # Evidence pictures are drawn one way: the CLI's files are the API's pictures, byte for byte.
    written = sorted((tmp_path / "evidence").glob("evidence_*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
    assert len(pictures) == len(written) == sum(len(m.segments) for m in report.matches) > 0
    assert [p.read_bytes() for p in written] == pictures


def _as_stored_before_history(printed: dict[str, Any]) -> dict[str, Any]:
    """The same report as versions before ``history`` (and ``searched``, date origins, match evidence) stored
    it: the history glued to the explanation."""
    old = {k: v for k, v in printed.items() if k not in ("history", "searched")}
    old["explanation"] = f"{printed['explanation']} History: {printed['history']}"
    drop = ("date_origin", "claimed_date", "claimed_location", "claimed_event")
    old["footage"] = [{k: v for k, v in i.items() if k not in drop} for i in printed["footage"]]
    old["matches"] = [{k: v for k, v in m.items() if k not in ("evidence", "date_origin")}
                      for m in printed["matches"]]
    old["earliest"] = {k: v for k, v in printed["earliest"].items() if k not in ("evidence", "date_origin")}
    old["source"] = {k: v for k, v in printed["source"].items() if k not in ("container", "duration")}
    return old


def test_a_report_stored_by_an_earlier_version_reads_back_with_its_history_split_off(
        cli: Any, home: Path, database_url: str | None, media: Media) -> None:
    printed = _archive_two_uploads_and_check_an_excerpt(cli, media)
    with serve(home, database_url) as live:
        store: JobStore = live.app.state.services.jobs
        job, _ = store.create("check", {"source": printed["source"]["input"], "remember": False})
        with store.engine.begin() as c:
            c.execute(jobs.update().where(jobs.c.id == job.id).values(
                state="done", result=json.dumps(_as_stored_before_history(printed))))
        report = store.get(job.id).report
        assert report.explanation == printed["explanation"] and report.history == printed["history"]
        assert report.searched is None and report.source.duration is None
        assert [m.item.id for m in report.matches] == [m["archive_id"] for m in printed["matches"]]
        assert all(m.evidence is None for m in report.matches)
        with live.client("reader") as c:
            shown = c.get(f"/api/v1/checks/{job.id}").json()["report"]
            timeline = c.get(f"/api/v1/checks/{job.id}/timeline.png")
    assert shown["history"] == printed["history"] and shown["explanation"] == printed["explanation"]
    assert timeline.status_code == 200 and timeline.headers["content-type"] == "image/png"
