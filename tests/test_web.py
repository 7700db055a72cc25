"""The fact-checker's web form in a real Chromium (Debian's, headless) against the app under uvicorn."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LoopbackServer, Media, database_for_test
from tests.live_app import LiveApp, serve

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "report.png"
VERDICT_TIMEOUT_MS = 90_000


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path / "home", db) as app:
        yield app


def _log_in(page: object, live: LiveApp, role: str) -> None:
    page.goto(live.url + "/")  # type: ignore[attr-defined]
    page.fill("input[name=key]", live.keys[role])  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#check-form")  # type: ignore[attr-defined]


def _evidence_loaded(page: object) -> list[int]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined,no-any-return]
        "img.frame, img.timeline", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


def test_fact_checker_archives_then_checks_a_file_and_a_link(live: LiveApp, browser: object, media: Media,
                                                             web_server: LoopbackServer, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    _log_in(page, live, "editor")

    # an editor adds the original with its provenance on the archive page
    page.click("nav a[href='/archive']")
    page.set_input_files("#archive-form input[name=file]", str(media.original))
    page.fill("#archive-form input[name=title]", "Convoy ambush")
    page.fill("#archive-form input[name=published]", "2018-03-01")
    page.fill("#archive-form input[name=location]", "Idlib")
    page.fill("#archive-form input[name=source_url]", "https://example.org/v/1")
    page.click("#archive-form button[type=submit]")
    page.wait_for_selector("#added", timeout=VERDICT_TIMEOUT_MS)
    page.fill("input[name=q]", "idlib")
    page.click("form.search button")
    assert "Convoy ambush" in page.inner_text("table.items")

    # a fact-checker uploads an excerpt claimed as new
    page.click("text=Check a video")
    page.set_input_files("#check-form input[name=file]", str(media.excerpt_240p))
    page.fill("input[name=claimed_date]", "2021-03-11")
    page.fill("input[name=claimed_location]", "Kyiv")
    page.click("#check-form button[type=submit]")
    page.wait_for_selector("#verdict", timeout=VERDICT_TIMEOUT_MS)
    assert page.get_attribute(".badge", "data-verdict") == "recycled"
    assert "Recycled footage" in page.inner_text(".badge")
    assert "three years before the claimed date" in page.inner_text(".explanation")
    assert page.get_attribute("#earliest a", "href") == "https://example.org/v/1"
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    widths = _evidence_loaded(page)
    assert len(widths) >= 2 and all(w > 0 for w in widths), widths
    assert page.locator(".bar .hit").count() >= 2
    claimreview = page.input_value("#claimreview")
    assert '"@type": "ClaimReview"' in claimreview
    page.click("#copy-claimreview")
    page.wait_for_selector("#copy-status:has-text('Copied')")
    page.screenshot(path=str(shots / "report-file.png"), full_page=True)
    if os.environ.get("FIRSTSEEN_UPDATE_DOCS"):  # refresh docs/img/report.png on request, not on every CI run
        shutil.copy(shots / "report-file.png", DOCS_SCREENSHOT)

    # and pastes a link to a mirrored copy
    shutil.copy(media.flipped, web_server.root / "viral.mp4")
    page.click("text=Check a video")
    page.fill("input[name=url]", web_server.url("viral.mp4"))
    page.fill("input[name=claimed_date]", "2020-01-01")
    page.click("#check-form button[type=submit]")
    page.wait_for_selector("#verdict", timeout=VERDICT_TIMEOUT_MS)
    assert page.get_attribute(".badge", "data-verdict") == "recycled"
    assert "mirrored" in page.inner_text(".match")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    assert all(w > 0 for w in _evidence_loaded(page))
    page.screenshot(path=str(shots / "report-link.png"), full_page=True)
    report_url = page.url
    page.click("nav a[href='/']")
    assert page.locator("ul.recent li").count() == 2 and "recycled" in page.inner_text("ul.recent")

    # on a phone-width screen the report still fits
    phone = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    phone.context.add_cookies(page.context.cookies())
    phone.goto(report_url)
    phone.wait_for_selector("#verdict")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    phone.screenshot(path=str(shots / "report-phone.png"), full_page=True)
    assert {p.name for p in shots.iterdir()} == {"report-file.png", "report-link.png", "report-phone.png"}


def test_login_csrf_and_roles_in_the_browser(live: LiveApp, browser: object, media: Media) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(live.url + "/")
    page.fill("input[name=key]", "fs_not-a-key")
    page.click("button[type=submit]")
    assert "unknown or revoked" in page.inner_text(".error")

    _log_in(page, live, "reader")
    assert page.locator("nav a[href='/archive']").count() == 0  # readers do not curate
    assert page.goto(live.url + "/archive").status == 403

    # a form posted without the session's CSRF token is refused
    page.goto(live.url + "/")
    page.eval_on_selector("#check-form input[name=csrf]", "e => e.value = 'forged'")
    page.set_input_files("#check-form input[name=file]", str(media.original))
    page.click("#check-form button[type=submit]")
    assert "did not come from this site" in page.inner_text(".error")

    # a bad claimed date is explained on the form, not as a failed job
    page.goto(live.url + "/")
    page.set_input_files("#check-form input[name=file]", str(media.original))
    page.fill("input[name=claimed_date]", "last spring")
    page.click("#check-form button[type=submit]")
    assert "claimed_date" in page.inner_text(".error")

    missing = page.goto(live.url + "/checks/0123")
    assert missing.status == 404 and "no such check" in page.inner_text(".error")

    page.click("text=Log out")
    page.wait_for_selector("input[name=key]")
    assert page.goto(live.url + "/archive").url.rstrip("/") == live.url
