"""Archive item pages in Chromium: an editor reads an item and its footage, corrects it and removes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Media, database_for_test
from tests.live_app import LiveApp, serve, web_login

pytestmark = pytest.mark.browser

LONG = "Convoy " + "y" * 90
HOSTILE = '<img src=x onerror="document.title=1">'


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path / "home", db) as app:
        yield app


def _add(live: LiveApp, clip: Path, **fields: str) -> dict[str, Any]:
    with live.client("editor") as c:
        r = c.post("/api/v1/archive", params={"wait": 60}, files={"file": (clip.name, clip.read_bytes(), "video/mp4")},
                   data=fields)
    assert r.status_code == 201, r.text
    item: dict[str, Any] = r.json()["result"]
    return item


def test_editor_reads_edits_and_removes_an_item_from_its_page(live: LiveApp, media: Media, browser: Any) -> None:
    first = _add(live, media.original, title=LONG, published="2018-03-01", location="Idlib",
                 source_url="https://example.org/v/1")
    excerpt = _add(live, media.excerpt_240p, title="excerpt", published="2019-05-01")
    for width, height in ((1366, 900), (390, 844)):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(live.url + "/")
        page.fill("input[name=key]", live.keys["editor"])
        page.click("button[type=submit]")
        page.wait_for_selector("#check-form")
        page.goto(live.url + "/archive")
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.click(f"a.item-link[href$='/archive/items/{excerpt['id']}']")
        page.wait_for_selector("#footage")
        uploads = page.locator("ol.uploads li").all_inner_texts()
        assert len(uploads) == 2 and f"#{first['id']}" in uploads[0]  # the oldest first, the same footage
        assert "shows" in page.inner_text("ul.shared")
        page.wait_for_function("() => document.querySelector('img.timeline').naturalWidth > 0")
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.close()

    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(live.url + "/")
    page.fill("input[name=key]", live.keys["editor"])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")
    page.goto(f"{live.url}/archive/items/{excerpt['id']}")
    page.fill("#edit-form input[name=title]", HOSTILE)
    page.fill("#edit-form input[name=published]", "not a date")
    page.click("#edit-form button[type=submit]")
    assert "not a date" in page.inner_text(".error") and page.input_value("#edit-form input[name=title]") == HOSTILE
    page.fill("#edit-form input[name=published]", "2019-04-30")
    page.click("#edit-form button[type=submit]")
    page.wait_for_selector("#saved")
    assert page.inner_text("h1") == f"#{excerpt['id']} {HOSTILE}" and page.title() != "1"
    page.click("#remove-form button[type=submit]")  # the confirmation box is required: nothing happens
    assert page.url.endswith(f"/archive/items/{excerpt['id']}?saved=1")
    page.check("#remove-form input[name=confirm]")
    page.click("#remove-form button[type=submit]")
    page.wait_for_selector("#removed")
    page.goto(f"{live.url}/archive/items/{excerpt['id']}")
    assert "may have been removed" in page.inner_text("main")
    page.close()
    with live.client("admin") as c:
        log = [(e["action"], e["item_id"], e["actor"]) for e in c.get("/api/v1/audit").json()]
    assert log[0][:2] == ("remove", excerpt["id"]) and log[1][:2] == ("update", excerpt["id"])


def test_readers_see_items_but_cannot_change_them(live: LiveApp, media: Media) -> None:
    item = _add(live, media.original, title="kept")
    with live.client() as web:
        web_login(web, live.keys["reader"])
        page = web.get(f"/archive/items/{item['id']}")
        assert page.status_code == 200 and "edit-form" not in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        refused = web.post(f"/archive/items/{item['id']}/remove", data={"csrf": csrf, "confirm": "yes"})
        assert refused.status_code == 403
    assert httpx.get(f"{live.url}/archive/items/{item['id']}", follow_redirects=False).status_code == 303
    with live.client("reader") as c:
        assert c.get(f"/api/v1/archive/{item['id']}").json()["title"] == "kept"


def test_recent_checks_say_what_was_claimed_and_found_and_long_links_wrap_on_a_phone(
        live: LiveApp, media: Media, browser: Any, web_server: Any) -> None:
    import shutil

    _add(live, media.original, title="Convoy", published="2018-03-01")
    name = "viral-" + "z" * 120 + ".mp4"
    shutil.copy(media.reencode, web_server.root / name)
    link = web_server.url(name)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(live.url + "/")
    page.fill("input[name=key]", live.keys["reader"])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")
    page.fill("#check-form input[name=url]", link)
    page.fill("input[name=claimed_date]", "2021-03-11")
    page.fill("input[name=claimed_location]", "Kyiv")
    page.click("#check-form button[type=submit]")
    page.wait_for_selector("#verdict", timeout=90_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    page.click("text=Check a video")
    recent = page.inner_text("ul.recent li")
    assert "claimed Kyiv, 2021-03-11" in recent and "recycled" in recent and "viral-zzz" in recent
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    page.close()
