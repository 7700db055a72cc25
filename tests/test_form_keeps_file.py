"""A date refused in the web form does not drop the chosen file: the re-shown form keeps it on the server.

Debian's Chromium at desktop and phone sizes, with and without JavaScript, against the app under uvicorn;
a kept file is the uploading key's alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Media, database_for_test
from tests.live_app import LiveApp, csrf_token, serve, web_login

VERDICT_TIMEOUT_MS = 90_000


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path / "home", db) as app:
        yield app


def _log_in(page: Any, live: LiveApp, role: str) -> None:
    page.goto(live.url + "/")
    page.fill("input[name=key]", live.keys[role])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_a_future_claimed_date_keeps_the_chosen_file_for_the_corrected_form(
        live: LiveApp, browser: Any, media: Media, viewport: dict[str, int]) -> None:
    page = browser.new_page(viewport=viewport)
    _log_in(page, live, "reader")
    page.set_input_files("#check-form input[name=file]", str(media.excerpt_240p))
    page.fill("input[name=claimed_date]", "2999-01-01")
    page.fill("input[name=claimed_location]", "Kyiv")
    page.click("#check-form button[type=submit]")
    assert "claimed_date" in page.inner_text(".error")
    kept = page.inner_text("#kept-file")
    assert media.excerpt_240p.name in kept and "is kept" in kept
    assert page.input_value("input[name=claimed_location]") == "Kyiv"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1

    page.fill("input[name=claimed_date]", "2021-03-11")  # no file chosen again
    page.click("#check-form button[type=submit]")
    page.wait_for_selector("#verdict", timeout=VERDICT_TIMEOUT_MS)
    with live.client("reader") as c:
        report = c.get(f"/api/v1/checks/{page.url.rsplit('/', 1)[1]}").json()["report"]
    assert report["source"]["kind"] == "upload" and report["source"]["input"] == media.excerpt_240p.name
    assert report["claims"]["date"] == "2021-03-11" and report["claims"]["location"] == "Kyiv"


@pytest.mark.browser
def test_a_malformed_published_date_keeps_the_file_without_javascript(live: LiveApp, browser: Any,
                                                                      media: Media) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    _log_in(page, live, "editor")
    page.goto(live.url + "/archive")
    page.set_input_files("#archive-form input[name=file]", str(media.original))
    page.fill("#archive-form input[name=title]", "Convoy ambush")
    page.fill("#archive-form input[name=published]", "early March 2018")
    page.click("#archive-form button[type=submit]")
    assert "published" in page.inner_text(".error")
    assert media.original.name in page.inner_text("#kept-file")
    assert page.input_value("#archive-form input[name=title]") == "Convoy ambush"

    page.fill("#archive-form input[name=published]", "2018-03-01")
    page.click("#archive-form button[type=submit]")
    page.wait_for_selector("#added", timeout=VERDICT_TIMEOUT_MS)  # <noscript> refresh until it is added
    page.click("#added a")
    assert "Convoy ambush" in page.inner_text("main") and "2018-03-01" in page.inner_text("main")
    context.close()


def test_a_kept_file_is_only_the_uploading_keys(live: LiveApp, media: Media) -> None:
    with live.client() as editor, live.client() as reader:
        web_login(editor, live.keys["editor"])
        web_login(reader, live.keys["reader"])
        shown = editor.post("/check", data={"csrf": csrf_token(editor.get("/").text), "claimed_date": "tomorrow"},
                            files={"file": ("clip.mp4", media.original.read_bytes(), "video/mp4")})
        assert shown.status_code == 400 and "is kept" in shown.text
        token = re.search(r'name="kept_upload" value="([^"]+)"', shown.text)
        assert token is not None
        folder = live.settings.uploads_dir / token.group(1)
        assert (folder / "clip.mp4").is_file()

        # another key cannot use it, nor can a made-up name reach outside the uploads folder
        for forged in (token.group(1), "../../secret_key", token.group(1).replace("k", "k9", 1)):
            r = reader.post("/check", data={"csrf": csrf_token(reader.get("/").text), "kept_upload": forged})
            assert r.status_code == 400 and "give either a link" in r.text and "is kept" not in r.text
        assert (folder / "clip.mp4").is_file()

        # a new file chosen instead wins, and the kept one goes
        r = editor.post("/check", data={"csrf": csrf_token(editor.get("/").text), "kept_upload": token.group(1),
                                        "remember": ""},
                        files={"file": ("other.mp4", media.other.read_bytes(), "video/mp4")})
        assert r.status_code == 303
        assert not folder.exists()
