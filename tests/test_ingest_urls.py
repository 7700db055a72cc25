"""yt-dlp for real over loopback: a direct media link, a page with <video>, the download cache."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from tests.conftest import LoopbackServer, Media


def _publish(server: LoopbackServer, src: Path, name: str, date: str) -> str:
    """Serve ``src`` as ``name`` with a Last-Modified header of ``date`` (what yt-dlp reads as upload date)."""
    target = server.root / name
    target.write_bytes(src.read_bytes())
    stamp = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC).timestamp()
    os.utime(target, (stamp, stamp))
    return server.url(name)


def test_direct_media_link_is_downloaded_archived_with_its_metadata(cli, web_server: LoopbackServer,
                                                                   media: Media) -> None:
    url = _publish(web_server, media.original, "convoy.mp4", "2019-07-02T12:00:00")
    res = cli("archive", "add", url, "--title", "Convoy", "--location", "Idlib", "--json")
    assert res.exit_code == 0, res.stderr
    item = res.json()
    assert item["source_url"] == url
    assert item["published"] is not None and item["published"].startswith("2019-07-0")
    report = cli("check", media.excerpt_240p, "--claimed-date", "2021-03-11", "--json").json()
    assert report["verdict"] == "recycled" and report["earliest"]["archive_id"] == item["id"]


def test_page_with_video_tag_goes_through_the_generic_extractor(cli, web_server: LoopbackServer,
                                                               media: Media) -> None:
    (web_server.root / "media").mkdir()
    (web_server.root / "media" / "clip.mp4").write_bytes(media.original.read_bytes())
    (web_server.root / "story.html").write_text(
        "<!doctype html><html><head><title>Strike on the bridge</title></head><body>"
        "<h1>Strike on the bridge</h1><video controls src='media/clip.mp4'></video></body></html>")
    res = cli("check", web_server.url("story.html"), "--json", "--no-remember")
    assert res.exit_code == 0, res.stderr
    source = res.json()["source"]
    assert source["extractor"] and source["extractor"].lower() in ("generic", "html5mediaembed")
    assert source["title"].startswith("Strike on the bridge")
    assert source["webpage_url"] == web_server.url("story.html")
    assert "/media/clip.mp4" in web_server.requests


def test_second_check_of_the_same_link_uses_the_cache(cli, web_server: LoopbackServer, media: Media) -> None:
    url = _publish(web_server, media.reencode, "clip.mp4", "2020-01-01T00:00:00")
    first = cli("check", url, "--json", "--no-remember")
    assert first.exit_code == 0, first.stderr
    served = len(web_server.requests)
    assert served >= 1
    second = cli("check", url, "--json", "--no-remember")
    assert second.exit_code == 0, second.stderr
    assert len(web_server.requests) == served  # nothing fetched again
    assert second.json()["source"]["sha256"] == first.json()["source"]["sha256"]


def test_missing_link_and_a_page_without_video_exit_2(cli, web_server: LoopbackServer) -> None:
    (web_server.root / "empty.html").write_text("<html><head><title>nothing</title></head><body>hi</body></html>")
    for url in (web_server.url("gone.mp4"), web_server.url("empty.html")):
        res = cli("check", url)
        assert res.exit_code == 2 and "Traceback" not in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
