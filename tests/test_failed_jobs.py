"""A failed check or archive addition says what happened in plain words and what to do next, and runs again.

Real yt-dlp against a loopback ``http.server`` (a 404, then the same link once the file is there),
the app under uvicorn, and Debian's Chromium at desktop and phone sizes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LoopbackServer, Media, database_for_test
from tests.live_app import LiveApp, serve

JOB_TIMEOUT_MS = 90_000
VIEWPORTS = [{"width": 1366, "height": 900}, {"width": 390, "height": 844}]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path / "home", db) as app:
        yield app


def _plain(message: str) -> None:
    """One sentence for people: none of yt-dlp's own words."""
    assert "\n" not in message and message.endswith(".")
    for raw in ("[generic]", "HTTP Error", "caused by", "Unable to download", "ERROR", "File not found"):
        assert raw not in message, message


def test_a_404_link_fails_in_one_plain_sentence_everywhere(cli: Any, live: LiveApp,
                                                           web_server: LoopbackServer) -> None:
    url = web_server.url("gone.mp4")
    expected = f"The page at 127.0.0.1:{web_server.port} answered 404 Not Found: the video may have been removed"
    with live.client("reader") as c:
        failed = live.wait_job(c, c.post("/api/v1/checks", json={"url": url}).json()["status_url"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "bad_input"
    assert failed["error"]["message"].startswith(expected)
    _plain(failed["error"]["message"])

    result = cli("check", url)
    assert result.exit_code == 2 and expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    _plain(result.stderr.strip().removeprefix("error: "))

    refused = cli("check", f"http://127.0.0.1:{_closed_port()}/x.mp4")
    assert refused.exit_code == 2 and "could not be reached" in refused.stderr


def _closed_port() -> int:
    from tests.live_app import free_port

    return free_port()  # nothing listens on it once the probe socket is closed


def test_api_retries_a_failed_check_with_the_same_input(live: LiveApp, media: Media,
                                                        web_server: LoopbackServer) -> None:
    url = web_server.url("late.mp4")
    with live.client("reader") as c, live.client("editor") as ed:
        first = c.post("/api/v1/checks", json={"url": url, "claimed_date": "2024-02-24", "remember": False}).json()
        assert live.wait_job(c, first["status_url"])["status"] == "failed"

        shutil.copy(media.original, web_server.root / "late.mp4")  # the site is back
        retried = c.post(f"/api/v1/jobs/{first['id']}/retry")
        assert retried.status_code == 202, retried.text
        again = retried.json()
        assert again["id"] != first["id"] and again["kind"] == "check"
        report = live.wait_job(c, again["status_url"])
        assert report["status"] == "done"
        assert report["report"]["source"]["input"] == url
        assert report["report"]["claims"]["date"] == "2024-02-24"

        # the failed job stays as the record of what went wrong; a finished job is not retried
        assert c.get(f"/api/v1/jobs/{first['id']}").json()["status"] == "failed"
        done = c.post(f"/api/v1/jobs/{again['id']}/retry")
        assert done.status_code == 409 and done.json()["error"]["code"] == "conflict"
        assert c.post("/api/v1/jobs/0123456789abcdef/retry").status_code == 404

        # an archive addition needs an editor key to retry, as to submit it
        added = ed.post("/api/v1/archive", json={"url": web_server.url("missing.mp4"), "title": "Convoy"}).json()
        assert live.wait_job(ed, added["status_url"])["status"] == "failed"
        refused = c.post(f"/api/v1/jobs/{added['id']}/retry")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert ed.post(f"/api/v1/jobs/{added['id']}/retry").status_code == 202


def _log_in(page: Any, live: LiveApp, role: str) -> None:
    page.goto(live.url + "/")
    page.fill("input[name=key]", live.keys[role])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["desktop", "phone"])
def test_failed_archive_add_page_says_what_to_do_next_and_tries_again(
        live: LiveApp, browser: Any, media: Media, web_server: LoopbackServer, viewport: dict[str, int]) -> None:
    page = browser.new_page(viewport=viewport)
    _log_in(page, live, "editor")
    url = web_server.url("convoy.mp4")
    page.goto(live.url + "/archive")
    page.fill("#archive-form input[name=url]", url)
    page.fill("#archive-form input[name=title]", "Convoy ambush")
    page.fill("#archive-form input[name=published]", "2018-03-01")
    page.click("#archive-form button[type=submit]")
    page.wait_for_selector("#next-steps", timeout=JOB_TIMEOUT_MS)  # polled, then the failed page itself
    failed_url = page.url
    error = page.inner_text("#job-error")
    assert "answered 404 Not Found" in error
    _plain(error)
    assert "Check another video" not in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1

    # back to the add form with what was entered
    page.click("#correct")
    page.wait_for_selector("#archive-form")
    assert page.input_value("#archive-form input[name=url]") == url
    assert page.input_value("#archive-form input[name=title]") == "Convoy ambush"
    assert page.input_value("#archive-form input[name=published]") == "2018-03-01"
    assert "answered 404 Not Found" in page.inner_text(".error")

    # the file appears at the link: try again from the failed page
    shutil.copy(media.original, web_server.root / "convoy.mp4")
    page.goto(failed_url)
    page.click("#retry")
    page.wait_for_selector("#added", timeout=JOB_TIMEOUT_MS)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    page.click("#added a")
    assert "Convoy ambush" in page.inner_text("main")


@pytest.mark.browser
def test_failed_check_page_retries_for_a_reader_without_javascript(live: LiveApp, browser: Any, media: Media,
                                                                   web_server: LoopbackServer) -> None:
    context = browser.new_context(viewport=VIEWPORTS[1], java_script_enabled=False)
    page = context.new_page()
    _log_in(page, live, "reader")
    page.fill("#check-form input[name=url]", web_server.url("clip.mp4"))
    page.fill("input[name=claimed_date]", "2024-02-24")
    page.click("#check-form button[type=submit]")
    page.wait_for_selector("#next-steps", timeout=JOB_TIMEOUT_MS)  # <noscript> refresh until it fails
    _plain(page.inner_text("#job-error"))

    page.click("#correct")
    assert page.input_value("#check-form input[name=url]") == web_server.url("clip.mp4")
    assert page.input_value("input[name=claimed_date]") == "2024-02-24"
    page.go_back()

    shutil.copy(media.original, web_server.root / "clip.mp4")
    page.click("#retry")
    page.wait_for_selector("#verdict", timeout=JOB_TIMEOUT_MS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    context.close()


def test_an_upload_failed_by_its_input_asks_for_the_file_again(live: LiveApp, media: Media) -> None:
    from tests.live_app import csrf_token, web_login

    with live.client("reader") as c:
        r = c.post("/api/v1/checks", files={"file": ("notes.mp4", media.not_video.read_bytes())})
        assert live.wait_job(c, r.json()["status_url"])["status"] == "failed"
        refused = c.post(f"/api/v1/jobs/{r.json()['id']}/retry")
    assert refused.status_code == 409 and "choose the file again" in refused.json()["error"]["message"]

    with live.client() as web:
        web_login(web, live.keys["reader"])
        page = web.get(f"/checks/{r.json()['id']}").text
        assert 'id="next-steps"' in page and 'id="retry"' not in page and "Choose the file again" in page
        missing = web.get("/checks/0123456789abcdef")
        assert missing.status_code == 404 and 'id="next-steps"' in missing.text
        assert "go back to the check form" in missing.text
        again = web.get(f"/jobs/{r.json()['id']}/again")
        assert again.status_code == 200 and "Choose the file again." in again.text
        assert csrf_token(again.text)


def test_an_upload_failed_by_the_server_is_kept_for_a_retry_then_pruned(live: LiveApp, media: Media) -> None:
    import time
    import uuid

    from service.jobs.runner import _drop_upload
    from service.retention import KEEP_FAILED_UPLOAD_S, prune

    services = live.app.state.services

    def failed_upload(name: str) -> tuple[str, Path]:
        folder = live.settings.uploads_dir / f"k1-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        upload = folder / name
        shutil.copy(media.original, upload)
        job, _ = services.jobs.create("check", {"source": str(upload), "remember": False, "upload": True,
                                                "claims": {}}, owner="test")
        services.jobs.start(job.id)
        services.jobs.fail(job.id, "the worker process died 3 times while running this job", "internal")
        _drop_upload(live.settings, services.jobs.get(job.id))
        return job.id, upload

    job_id, upload = failed_upload("clip.mp4")
    assert upload.is_file() and prune(live.settings, services.pipeline.store.engine).uploads == 0
    with live.client("reader") as c:
        retried = c.post(f"/api/v1/jobs/{job_id}/retry")
        assert retried.status_code == 202
        assert c.post(f"/api/v1/jobs/{job_id}/retry").json()["id"] == retried.json()["id"]  # already queued
        done = live.wait_job(c, retried.json()["status_url"])
    assert done["status"] == "done" and done["report"]["source"]["input"] == "clip.mp4"
    assert not upload.parent.exists()  # the retry's own end removed it, as any check's

    _, unretried = failed_upload("other.mp4")
    later = time.time() + KEEP_FAILED_UPLOAD_S + 1
    assert prune(live.settings, services.pipeline.store.engine, now=later).uploads == 1
    assert not unretried.parent.exists()
