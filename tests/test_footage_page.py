"""The footage page in Chromium: every upload of one footage, their claims side by side, the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Media, database_for_test
from tests.live_app import LiveApp, serve

pytestmark = pytest.mark.browser

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


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_footage_page_lists_every_upload_and_where_their_claims_differ(
        live: LiveApp, media: Media, browser: Any, viewport: dict[str, int]) -> None:
    first = _add(live, media.original, title="Convoy ambush", published="2018-03-01", location="Idlib",
                 event=HOSTILE)
    excerpt = _add(live, media.excerpt_240p, title="Kyiv today", published="2022-03-01", location="Kyiv")
    page = browser.new_page(viewport=viewport)
    page.goto(live.url + "/")
    page.fill("input[name=key]", live.keys["reader"])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")
    page.goto(f"{live.url}/archive/items/{excerpt['id']}")
    page.click("#footage-page")
    page.wait_for_selector("#footage-uploads")

    rows = page.locator("#footage-uploads tbody tr").all_inner_texts()
    assert len(rows) == 2 and rows[0].split()[:2] == [str(first["id"]), "earliest"] and "Kyiv today" in rows[1]
    claims = page.inner_text("#footage-claims")
    assert f"they differ: Idlib (#{first['id']}); Kyiv (#{excerpt['id']})" in claims
    assert f"{HOSTILE} (#{first['id']}); 1 say nothing" in claims  # shown as text, never run
    assert page.title() != "1"
    assert "shows" in page.inner_text("ul.shared")
    page.wait_for_function("() => document.querySelector('img.timeline').naturalWidth > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1

    assert page.goto(f"{live.url}/archive/items/99999/footage").status == 404
    page.close()
