"""Issue 7: every check remembered, crawled sources, footage history and timeline."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from service.settings import Settings
from tests.conftest import LoopbackServer, Media, archive_digest


def _serve(server: LoopbackServer, src: Path, name: str, date: str) -> str:
    target = server.root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(src.read_bytes())
    stamp = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC).timestamp()
    os.utime(target, (stamp, stamp))
    return server.url(name)


def _media_requests(server: LoopbackServer) -> list[str]:
    return [p for p in server.requests if p.endswith(".mp4")]


def test_check_of_a_2019_upload_then_an_edited_copy_claimed_2021_finds_it_without_archive_add(
        cli, web_server: LoopbackServer, media: Media) -> None:
    url_a = _serve(web_server, media.original, "channel-x/idlib.mp4", "2019-07-02T09:30:00")
    first = cli("check", url_a, "--claimed-location", "Idlib", "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json()["verdict"] == "no_prior_match"
    remembered = first.json()["remembered_id"]

    second = cli("check", media.excerpt_240p, "--claimed-date", "2021-03-11", "--claimed-location", "Fallujah",
                 "--json").json()
    # The 2019 date is only the server's Last-Modified, remembered by a reader: a claim, shown as one
    # (a platform's date would make it recycled: tests/test_date_trust.py).
    assert second["verdict"] == "seen_before"
    assert second["earliest"]["archive_id"] == remembered
    assert second["earliest"]["published"].startswith("2019-07-0")
    assert second["earliest"]["date_origin"] == "claimed"
    assert "A web page claims it was uploaded on 2019-07-0" in second["explanation"]
    assert second["earliest"]["source_url"] == url_a
    shown = cli("archive", "show", str(remembered), "--json").json()
    assert shown["kind"] == "observed" and shown["location"] is None and shown["claimed_location"] == "Idlib"


def test_no_remember_leaves_the_archive_byte_for_byte_unchanged(cli, media: Media, settings: Settings) -> None:
    cli("archive", "add", media.original, "--title", "A", "--published", "2018-03-01")
    db = settings.home / "archive.sqlite3"
    before_digest, before_bytes = archive_digest(settings), db.read_bytes() if db.exists() else b""
    res = cli("check", media.flipped, "--claimed-date", "2022-01-01", "--no-remember", "--json")
    assert res.exit_code == 0 and res.json()["verdict"] == "recycled"
    assert res.json()["remembered_id"] is None
    assert archive_digest(settings) == before_digest
    if not settings.database_url:
        assert db.read_bytes() == before_bytes


def test_three_uploads_with_changing_claims_make_one_history(cli, media: Media, tmp_path: Path) -> None:
    cli("archive", "add", media.original, "--title", "Channel X", "--published", "2019-07-02",
        "--location", "Idlib", "--event", "convoy ambush")
    second = cli("check", media.reencode, "--claimed-date", "2020-05-01", "--claimed-location", "Aleppo",
                 "--json").json()
    assert second["verdict"] == "recycled"
    third = cli("check", media.flipped, "--claimed-date", "2021-03-11", "--claimed-location", "Fallujah",
                "--json").json()
    assert third["verdict"] == "recycled"
    assert third["earliest"]["archive_id"] == 1 and third["earliest"]["location"] == "Idlib"
    assert "Idlib" in third["explanation"] and "Aleppo" in third["history"]

    footage = cli("footage", "show", "1", "--json", "--png", tmp_path / "life.png").json()
    uploads = footage["uploads"]
    assert [u["location"] for u in uploads] == ["Idlib", None, None]  # provenance: only the editor's
    assert [u["claimed_location"] for u in uploads] == [None, "Aleppo", "Fallujah"]  # each upload's own claim
    assert [u["claimed_date"] for u in uploads] == [None, "2020-05-01", "2021-03-11"]
    assert len({u["footage_id"] for u in uploads}) == 1
    assert footage["links"] and all(link["segments"] for link in footage["links"])

    picture = Image.open(io.BytesIO((tmp_path / "life.png").read_bytes())).convert("L")
    assert picture.width >= 600 and picture.height >= 200
    pixels = np.asarray(picture)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.005  # drawn on, not a blank canvas


def _page(server: LoopbackServer, names: list[str]) -> str:
    videos = "".join(f"<h2>{n}</h2><video controls src='{n}'></video>" for n in names)
    (server.root / "channel.html").write_text(
        f"<!doctype html><html><head><title>Militia media wing</title></head><body>{videos}</body></html>")
    return server.url("channel.html")


def test_crawl_a_page_of_videos_incrementally(cli, web_server: LoopbackServer, media: Media,
                                              settings: Settings) -> None:
    _serve(web_server, media.original, "a.mp4", "2019-01-01T00:00:00")
    _serve(web_server, media.other, "b.mp4", "2019-02-01T00:00:00")
    url = _page(web_server, ["a.mp4", "b.mp4"])
    source = cli("sources", "add", url, "--json").json()

    first = cli("crawl", "--json").json()
    assert first[0]["listed"] == 2 and len(first[0]["added"]) == 2 and first[0]["failed"] == []
    assert set(_media_requests(web_server)) == {"/a.mp4", "/b.mp4"}
    # Fingerprints kept, media dropped.
    assert not any((settings.cache_dir / "downloads").glob("*/media.*"))

    served = len(_media_requests(web_server))
    again = cli("crawl", "--source", str(source["id"]), "--json").json()
    assert again[0]["new"] == 0 and again[0]["added"] == []
    assert len(_media_requests(web_server)) == served

    _serve(web_server, media.unrelated, "c.mp4", "2020-01-01T00:00:00")
    _page(web_server, ["c.mp4", "a.mp4", "b.mp4"])  # newest first, as channels list them
    third = cli("crawl", "--json").json()
    assert third[0]["new"] == 1 and len(third[0]["added"]) == 1
    assert set(_media_requests(web_server)[served:]) == {"/c.mp4"}
    items = cli("archive", "list", "--json").json()
    assert len(items) == 3 and {i["kind"] for i in items} == {"observed"}
    listed = cli("sources", "list", "--json").json()
    assert listed[0]["entries_seen"] == 3


def test_crawl_an_rss_feed_with_enclosures(cli, web_server: LoopbackServer, media: Media) -> None:
    def feed(items: list[tuple[str, str, str]]) -> None:
        body = "".join(
            f"<item><title>{title}</title><guid>{guid}</guid><pubDate>{date}</pubDate>"
            f"<enclosure url='{web_server.url(guid + '.mp4')}' type='video/mp4' length='1'/></item>"
            for guid, title, date in items)
        (web_server.root / "feed.xml").write_text(
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>Aggregator feed</title>{body}</channel></rss>")

    _serve(web_server, media.original, "ep1.mp4", "2019-01-01T00:00:00")
    _serve(web_server, media.real, "ep2.mp4", "2019-01-01T00:00:00")
    feed([("ep2", "Bikes", "Sat, 02 Mar 2019 10:00:00 +0000"), ("ep1", "Ambush", "Tue, 02 Jul 2019 09:00:00 +0000")])
    cli("sources", "add", web_server.url("feed.xml"))
    first = cli("crawl", "--json").json()
    assert len(first[0]["added"]) == 2, first
    items = {i["title"]: i for i in cli("archive", "list", "--json").json()}
    assert items["Ambush"]["published"].startswith("2019-07-02")
    assert items["Bikes"]["published"].startswith("2019-03-02")

    assert cli("crawl", "--json").json()[0]["added"] == []
    _serve(web_server, media.other, "ep3.mp4", "2020-01-01T00:00:00")
    feed([("ep3", "Strike", "Wed, 01 Jan 2020 08:00:00 +0000"), ("ep2", "Bikes", "Sat, 02 Mar 2019 10:00:00 +0000"),
          ("ep1", "Ambush", "Tue, 02 Jul 2019 09:00:00 +0000")])
    third = cli("crawl", "--json").json()
    assert third[0]["new"] == 1 and len(third[0]["added"]) == 1
    # A crawled upload is evidence like any other: the ambush footage is first seen on the feed.
    report = cli("check", media.excerpt_240p, "--claimed-date", "2021-01-01", "--no-remember", "--json").json()
    assert report["verdict"] == "recycled" and report["earliest"]["title"] == "Ambush"


def test_one_broken_entry_is_skipped_and_the_crawl_goes_on(cli, web_server: LoopbackServer, media: Media) -> None:
    _serve(web_server, media.original, "good.mp4", "2019-01-01T00:00:00")
    (web_server.root / "broken.mp4").write_text("this is not a video")
    cli("sources", "add", _page(web_server, ["broken.mp4", "good.mp4"]))
    res = cli("crawl", "--json")
    assert res.exit_code == 0, res.stderr
    summary = res.json()[0]
    assert len(summary["added"]) == 1 and len(summary["failed"]) == 1
    assert "broken.mp4" in summary["failed"][0]["url"]
