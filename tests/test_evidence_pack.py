"""The evidence pack a desk can publish: three frame pairs per segment, mirrored copies flipped back, both
videos side by side, and the PDF and zip export from the web form, the API and the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps
from pypdf import PdfReader
from typer.testing import CliRunner

from service.cli import app as cli_app
from tests.conftest import Media, database_for_test
from tests.live_app import LiveApp, serve
from tests.media import ffmpeg, scene

HOSTILE_TITLE = '<script>alert(1)</script> Convoy "ambush" & Київ'


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path_factory.mktemp("pack-home"), db) as app:
        yield app


@pytest.fixture(scope="module")
def mirrored_check(live: LiveApp, media: Media) -> dict[str, Any]:
    """The original archived with a hostile title; its mirrored copy checked (kept, so it can play)."""
    with live.client("editor") as c:
        r = c.post("/api/v1/archive", params={"wait": 60},
                   files={"file": ("original.mp4", media.original.read_bytes(), "video/mp4")},
                   data={"title": HOSTILE_TITLE + " " + "x" * 90, "published": "2018-03-01", "location": "Idlib"})
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/checks", files={"file": ("mirrored.mp4", media.flipped.read_bytes(), "video/mp4")},
                   data={"claimed_date": "2021-03-11", "claimed_location": "Kyiv", "remember": "true"})
        body = live.wait_job(c, r.json()["status_url"])
    assert body["status"] == "done" and body["report"]["verdict"] == "recycled", body
    assert body["report"]["earliest"]["flipped"] is True
    return body


def _image(data: bytes, size: tuple[int, int] = (160, 90)) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L").resize(size, Image.Resampling.BOX), dtype=np.float32)


def test_three_pairs_per_segment_and_mirrored_frames_flipped_back(live: LiveApp,
                                                                  mirrored_check: dict[str, Any]) -> None:
    segments = [s for m in mirrored_check["report"]["matches"] for s in m["segments"]]
    with live.client("reader") as c:
        for n, _segment in enumerate(segments):
            for position in ("start", "middle", "end"):
                sides = {side: c.get(f"/api/v1/checks/{mirrored_check['id']}/evidence/{n}/{position}/{side}.jpg")
                         for side in ("checked", "unmirrored", "archive")}
                assert all(r.status_code == 200 for r in sides.values())
                back = _image(sides["unmirrored"].content)
                assert Image.open(io.BytesIO(sides["archive"].content)).size == (480, 270)  # full size
                mirror = np.asarray(ImageOps.mirror(Image.open(io.BytesIO(sides["checked"].content)).convert("L"))
                                    .resize((160, 90)), dtype=np.float32)
                assert np.abs(back - mirror).mean() < 3  # flipped back is the upload mirrored
                # and lines up with the archive's frame (coarsely: matched seconds are known to a sampled frame)
                coarse = {s: _image(sides[s].content, (24, 14)) for s in ("checked", "unmirrored", "archive")}
                assert (np.abs(coarse["unmirrored"] - coarse["archive"]).mean()
                        < np.abs(coarse["checked"] - coarse["archive"]).mean() / 2)
        bad = c.get(f"/api/v1/checks/{mirrored_check['id']}/evidence/0/middle/other.jpg")
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def _pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, sum(len(page.images) for page in reader.pages)


def test_pdf_and_zip_from_the_api(live: LiveApp, mirrored_check: dict[str, Any]) -> None:
    segments = sum(len(m["segments"]) for m in mirrored_check["report"]["matches"])
    with live.client("reader") as c:
        pdf = c.get(f"/api/v1/checks/{mirrored_check['id']}/report.pdf")
        packed = c.get(f"/api/v1/checks/{mirrored_check['id']}/export.zip")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text, images = _pdf_text(pdf.content)
    assert "Verdict: Recycled footage" in text and "Kyiv" in text
    assert HOSTILE_TITLE in " ".join(text.split()) and "flipped back" in text
    assert "recorded by an editor" in text or "editor" in text  # the date's origin
    assert images >= 6 * segments + 1  # three pairs per segment and the timeline
    names = zipfile.ZipFile(io.BytesIO(packed.content)).namelist()
    assert {"report.pdf", "report.json", "timeline.png", "evidence/segment-1-start-checked.jpg",
            "evidence/segment-1-end-unmirrored.jpg", "evidence/segment-1-middle-archive.jpg"} <= set(names)
    shown = zipfile.ZipFile(io.BytesIO(packed.content)).read("report.json").decode()
    assert json.loads(shown)["source"]["input"] == "mirrored.mp4" and "media_path" not in shown
    assert str(live.settings.home) not in shown


def test_cli_report_writes_the_pdf_and_the_zip(live: LiveApp, mirrored_check: dict[str, Any], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRSTSEEN_HOME", str(live.settings.home))
    if live.settings.database_url:
        monkeypatch.setenv("FIRSTSEEN_DATABASE_URL", live.settings.database_url)
    else:
        monkeypatch.delenv("FIRSTSEEN_DATABASE_URL", raising=False)
    runner = CliRunner()
    done = runner.invoke(cli_app, ["report", mirrored_check["id"], "--pdf", "--zip", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    text, images = _pdf_text((tmp_path / f"firstseen-{mirrored_check['id']}.pdf").read_bytes())
    assert "recycled" in text and images >= 7
    assert zipfile.ZipFile(tmp_path / f"firstseen-{mirrored_check['id']}.zip").testzip() is None
    shown = runner.invoke(cli_app, ["report", mirrored_check["id"]])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["verdict"] == "recycled"
    missing = runner.invoke(cli_app, ["report", "0" * 32, "--pdf"])
    assert missing.exit_code == 2 and "Traceback" not in missing.output


def test_a_sixty_second_upload_bar_spans_its_whole_length(live: LiveApp, tmp_path: Path) -> None:
    """40 s of archived footage inside a 60 s upload: the bar says 0–1:00.0 and fills two thirds."""
    footage = scene(tmp_path / "long.mp4", seed=11, seconds=40)
    tail = scene(tmp_path / "tail.mp4", seed=12, seconds=20)
    upload = tmp_path / "sixty.mp4"
    ffmpeg("-i", str(footage), "-i", str(tail), "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
           "-c:v", "libx264", "-preset", "veryfast", str(upload))
    with live.client("editor") as c:
        r = c.post("/api/v1/archive", params={"wait": 60},
                   files={"file": ("long.mp4", footage.read_bytes(), "video/mp4")}, data={"title": "long"})
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/checks", files={"file": ("sixty.mp4", upload.read_bytes(), "video/mp4")},
                   data={"remember": "false"})
        body = live.wait_job(c, r.json()["status_url"])
    assert body["status"] == "done" and abs(body["report"]["source"]["duration"] - 60.0) < 0.5
    from tests.live_app import web_login

    with live.client() as web:
        web_login(web, live.keys["editor"])
        page = web.get(f"/checks/{body['id']}").text
    assert "checked video (0–1:00.0)" in page
    hits = [float(w) for w in __import__("re").findall(r'<svg class="bar" [^>]*><rect class="hit" x="[^"]+" '
                                                       r'width="([0-9.]+)"', page)]
    assert hits and 60 <= sum(hits) <= 72  # 40 of 60 seconds


@pytest.mark.browser
def test_evidence_pack_in_chromium_desktop_and_phone(live: LiveApp, mirrored_check: dict[str, Any],
                                                     browser: Any, tmp_path: Path) -> None:
    report = mirrored_check["report"]
    segments = sum(len(m["segments"]) for m in report["matches"])
    first = report["matches"][0]["segments"][0]
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        page = context.new_page()
        page.goto(live.url + "/")
        page.fill("input[name=key]", live.keys["reader"])
        page.click("button[type=submit]")
        page.wait_for_selector("#check-form")
        page.goto(f"{live.url}/checks/{mirrored_check['id']}")
        assert page.locator("figure.pair").count() == 3 * segments
        page.wait_for_function("() => [...document.querySelectorAll('img.frame')].every(i => i.complete && "
                               "i.naturalWidth > 0)")
        labels = page.locator(".pack").first.inner_text()
        assert "Checked video at" in labels and "(flipped back)" in labels and "Archive #" in labels
        font = page.eval_on_selector(".frame-label", "e => parseFloat(getComputedStyle(e).fontSize)")
        assert font >= 14  # readable, not burned-in captions
        # The un-mirror toggle shows the upload as published, and back.
        img = page.locator("img.frame.checked").first
        flipped_back = img.get_attribute("src")
        page.locator(".unmirror-toggle").first.click()
        assert img.get_attribute("src") != flipped_back and "checked.jpg" in (img.get_attribute("src") or "")
        page.locator(".unmirror-toggle").first.click()
        assert img.get_attribute("src") == flipped_back
        # Both videos, side by side, seek together to the matched seconds.
        page.locator("details.players summary").first.click()
        page.locator(".sync-play").first.click()
        page.wait_for_function(
            "([q, a]) => { const v = document.querySelectorAll('.pack')[0].querySelectorAll('video');"
            " return v[0].readyState >= 1 && v[1].readyState >= 1 && Math.abs(v[0].currentTime - q) < 1.5"
            " && Math.abs(v[1].currentTime - a) < 1.5; }", arg=[first["query_start"], first["archive_start"]])
        times = page.evaluate("[...document.querySelector('.pack').querySelectorAll('video')].map(v => v.currentTime)")
        offset = times[1] - times[0]
        assert abs(offset - (first["archive_start"] - first["query_start"])) < 1.0
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        # One click exports the PDF; it opens with the verdict and the frames in it.
        with page.expect_download() as download:
            page.click("#export a[href$='export.pdf']")
        saved = tmp_path / f"{width}.pdf"
        download.value.save_as(saved)
        text, images = _pdf_text(saved.read_bytes())
        assert "Verdict: Recycled footage" in text and images >= 6 * segments
        context.close()


def test_pdf_text_is_text_whatever_it_holds() -> None:
    """Control characters, terminal escapes and glyphs the font lacks never reach the PDF as themselves."""
    from service.report.export import _Pdf

    pdf = _Pdf()
    cleaned = pdf.clean("a\x00b\x1b[31mc\u202e 🎥 <b>Київ</b>\nnext")
    assert cleaned == "a?b?[31mc? ? <b>Київ</b>\nnext"
    pdf.text(cleaned)
    text, _ = _pdf_text(pdf.bytes())
    assert "<b>Київ</b>" in text
