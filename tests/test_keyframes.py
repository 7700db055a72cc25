"""Keyframes for reverse image search and the platform panel: the fallback when the archive misses."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from service.decode.container import container_info
from service.keyframes import REVERSE_SEARCH, detect_shots, search_links
from service.models import SourceInfo
from service.report.platform import platform_rows, utc_upload_time
from tests.conftest import Media, database_for_test
from tests.live_app import LiveApp, serve
from tests.media import ffmpeg

HOSTILE_URL = 'https://ex.org/k/1.jpg?a=1&b="><script>x</script>#frag'


def _query_value(link: str) -> str:
    """The picture address a search link carries (TinEye, Google, Yandex: ``url``; Bing: ``q=imgurl:…``)."""
    query = parse_qs(urlsplit(link).query)
    if "url" in query:
        return query["url"][0]
    return query["q"][0].removeprefix("imgurl:")


@pytest.fixture(scope="module")
def tagged_upload(tmp_path_factory: pytest.TempPathFactory, media: Media) -> Path:
    """The compilation (three shots) with the tags a phone writes, one of them hostile."""
    out = tmp_path_factory.mktemp("tagged") / "phone.mp4"
    ffmpeg("-i", str(media.compilation), "-c", "copy", "-metadata", "creation_time=2024-05-01T12:34:56Z",
           "-metadata", "title=<img src=x onerror=alert(1)>", "-metadata", "location=+50.4501+030.5234/", str(out))
    return out


# -- shots, links, tags: units ---------------------------------------------------
def test_shots_of_a_compilation_start_at_its_cuts(media: Media) -> None:
    shots = detect_shots(media.compilation)  # other 0–5 s, original 2–9 s, unrelated 0–5 s: cuts at 5 and 12
    starts = [s.start for s in shots]
    assert starts[0] < 0.1 and abs(shots[-1].end - 17.0) < 0.2
    for cut in (5.0, 12.0):
        assert min(abs(s - cut) for s in starts) < 0.2, starts
    assert all(a.end == b.start and a.start < a.time < a.end for a, b in zip(shots, shots[1:], strict=False))


def test_a_clip_without_cuts_is_one_shot(tmp_path: Path) -> None:
    still = tmp_path / "still.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4", "-c:v", "libx264", str(still))
    shots = detect_shots(still)
    assert len(shots) == 1 and shots[0].start < 0.1 and abs(shots[0].end - 4.0) < 0.1


def test_search_links_carry_the_whole_address_encoded() -> None:
    links = search_links(HOSTILE_URL)
    assert [name for name, _ in links] == [name for name, _ in REVERSE_SEARCH]
    for _name, link in links:
        parts = urlsplit(link)
        assert parts.scheme == "https" and not parts.fragment and '"' not in link and "<" not in link
        assert _query_value(link) == HOSTILE_URL
    assert search_links("javascript:alert(1)") == [] and search_links("/relative.jpg") == []


def test_container_tags_and_length_of_an_upload(tagged_upload: Path) -> None:
    info = container_info(tagged_upload)
    assert info.duration is not None and abs(info.duration - 17.0) < 0.2
    assert info.tags["creation_time"].startswith("2024-05-01T12:34:56")
    assert info.tags["title"] == "<img src=x onerror=alert(1)>" and info.tags["location"] == "+50.4501+030.5234/"


def test_platform_panel_gives_the_upload_time_in_utc() -> None:
    source = SourceInfo(input="https://www.youtube.com/w", media_path="", sha256="", size_bytes=0,
                        extractor="Youtube", timestamp=1714566896, upload_date="20240501", uploader="Desk",
                        channel="Desk TV", webpage_url="https://www.youtube.com/w", duration=61.5,
                        description="line one\nline two", title="T")
    rows = {r.label: r for r in platform_rows(source)}
    assert rows["Uploaded (UTC)"].text == "2024-05-01 12:34:56 UTC" and rows["Page"].link == source.webpage_url
    assert rows["Channel"].text == "Desk TV" and rows["Uploader"].text == "Desk"
    assert rows["Duration"].text == "1:01.5 (61.5 s)"
    # Any other page only claims a time, and a javascript: address is never a link.
    page = {r.label: r for r in platform_rows(replace(source, extractor="Generic", webpage_url="javascript:x"))}
    assert "Uploaded (UTC)" not in page and "Page" not in page
    assert page["Upload time the page claims (UTC, not verified)"].text == "2024-05-01 12:34:56 UTC"
    day_only = replace(source, timestamp=None)
    assert utc_upload_time(day_only) == "2024-05-01 (the day only; the site gives no time)"


# -- through the API and the web form -----------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path_factory.mktemp("kf-home"), db,
                                          public_url="https://checks.example.org") as app:
        yield app


@pytest.fixture(scope="module")
def checked(live: LiveApp, tagged_upload: Path) -> dict[str, Any]:
    """The tagged compilation checked without remembering it: its upload is gone when the check ends."""
    with live.client("reader") as c:
        r = c.post("/api/v1/checks", files={"file": ("phone.mp4", tagged_upload.read_bytes(), "video/mp4")},
                   data={"remember": "false"})
        body = live.wait_job(c, r.json()["status_url"])
    assert body["status"] == "done", body
    return body


def test_upload_report_has_its_duration_and_container_tags(checked: dict[str, Any]) -> None:
    source = checked["report"]["source"]
    assert abs(source["duration"] - 17.0) < 0.2 and source["kind"] == "upload"
    assert source["container"]["creation_time"].startswith("2024-05-01T12:34:56")


def test_keyframes_with_reverse_search_links_and_public_pictures(live: LiveApp, checked: dict[str, Any]) -> None:
    with live.client("reader") as c:
        listing = c.get(f"/api/v1/checks/{checked['id']}/keyframes").json()
        assert listing["public"] is True and listing["note"] is None and len(listing["keyframes"]) >= 3
        for k in listing["keyframes"]:
            picture = c.get(k["image_url"])  # drawn before the upload was deleted
            assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size == (480, 270)
            public = k["public_image_url"]
            assert public.startswith("https://checks.example.org/public/keyframes/")
            assert [s["engine"] for s in k["search"]] == ["Google Lens", "Yandex", "Bing", "TinEye"]
            assert all(_query_value(s["url"]) == public for s in k["search"])
            # The public address opens without a key (a search engine has none); one changed character does not.
            path = public.removeprefix("https://checks.example.org")
            assert httpx.get(live.url + path).content == picture.content
            assert httpx.get(live.url + path[:-6] + ("0" if path[-5] != "0" else "1") + ".jpg").status_code == 404
        assert c.get(f"/api/v1/checks/{checked['id']}/keyframes/99.jpg").status_code == 404
    assert httpx.get(f"{live.url}/api/v1/checks/{checked['id']}/keyframes").status_code == 401


def test_without_a_public_url_the_keyframes_say_so_and_offer_the_download(tmp_path: Path, media: Media) -> None:
    with database_for_test() as db, serve(tmp_path / "home", db) as live, live.client("reader") as c:
        r = c.post("/api/v1/checks", files={"file": ("clip.mp4", media.original.read_bytes(), "video/mp4")},
                   data={"remember": "true"})
        job = live.wait_job(c, r.json()["status_url"])
        listing = c.get(f"/api/v1/checks/{job['id']}/keyframes").json()
    assert listing["public"] is False and "FIRSTSEEN_PUBLIC_URL" in listing["note"]
    assert listing["keyframes"] and all(k["search"] == [] and k["public_image_url"] is None
                                        for k in listing["keyframes"])


@pytest.mark.browser
def test_keyframes_page_and_platform_panel_on_desktop_and_phone(live: LiveApp, checked: dict[str, Any],
                                                                browser: Any) -> None:
    for width, height in ((1366, 900), (390, 844)):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(live.url + "/")
        page.fill("input[name=key]", live.keys["reader"])
        page.click("button[type=submit]")
        page.wait_for_selector("#check-form")
        page.goto(f"{live.url}/checks/{checked['id']}")
        panel = page.inner_text("#platform")
        assert "File created (its own claim)" in panel and "2024-05-01T12:34:56" in panel
        assert "<img src=x onerror=alert(1)>" in panel  # shown as text, not markup
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.click("#keyframes-link")
        page.wait_for_selector("ol.keyframes img")
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        links = page.eval_on_selector_all("a.reverse-search", "as => as.map(a => [a.dataset.engine, a.href])")
        frames = page.eval_on_selector_all("li.keyframe", "ls => ls.length")
        assert frames >= 3 and len(links) == 4 * frames
        for _engine, href in links:
            assert urlsplit(_query_value(href)).netloc == "checks.example.org"
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.close()
