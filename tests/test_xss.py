"""Stored XSS: hostile text from users and fetched pages stays text on every page and in every JSON output.

The payloads go in through the real front ends (API, web form, a fetched page's ``og:title``); the
``javascript:`` links are written straight into the database as well, as rows stored before link
schemes were checked would be. Then Chromium visits every page.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from service.db.tables import items, jobs
from tests.conftest import Media, database_for_test, serve_directory
from tests.live_app import LiveApp, serve, web_login

SCRIPT = "</script><script>window.__pwned=1</script>"
ATTRIBUTE = '"><img src=x onerror=window.__pwned=1>'
JS_URL = "javascript:window.__pwned=1"
MATH = "$\\pwned$"  # matplotlib mathtext: an unknown command fails the whole picture unless labels are plain
SEPARATORS = "\u2028\u2029"


def hostile(name: str) -> str:
    """A field value carrying every payload, tagged with the field's name to tell them apart."""
    return f"{name} {SCRIPT} {ATTRIBUTE} {MATH} {SEPARATORS}'&amp;"


@dataclass
class Hostile:
    live: LiveApp
    archived_id: int
    remembered_id: int
    check_id: str
    archive_job_id: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, media: Media) -> Iterator[Hostile]:
    home = tmp_path_factory.mktemp("xss-home")
    www = tmp_path_factory.mktemp("xss-www")
    (www / "media").mkdir()
    shutil.copy(media.excerpt_240p, www / "media" / "clip.mp4")
    (www / "story.html").write_text(
        "<!doctype html><html><head>"
        f'<meta property="og:title" content="{html.escape(hostile("og:title"))}">'
        f"<title>{html.escape(hostile('title'))}</title></head><body>"
        "<video controls src='media/clip.mp4'></video></body></html>")
    with database_for_test() as db, serve(home, db, rate_limit_per_minute=100_000) as live, \
            serve_directory(www) as pages:
        engine = live.app.state.services.pipeline.store.engine
        with live.client("editor") as ed:
            r = ed.post("/api/v1/archive", params={"wait": 60},
                        files={"file": ("original.mp4", media.original.read_bytes(), "video/mp4")},
                        data={"title": hostile("title"), "published": "2018-03-01",
                              "location": hostile("location"), "event": hostile("event"),
                              "notes": hostile("notes"), "source_url": "https://example.org/v/1",
                              "factcheck_url": "https://example.org/fc/1"})
            assert r.status_code == 201, r.text
            archived = r.json()
        # Rows stored before link schemes were checked at the edge.
        with engine.begin() as c:
            c.execute(items.update().where(items.c.id == archived["result"]["id"])
                      .values(source_url=JS_URL, factcheck_url=" " + JS_URL.upper()))
        with live.client("reader") as rd:
            r = rd.post("/api/v1/checks", json={
                "url": pages.url("story.html"), "claimed_date": "2021-03-11", "remember": True,
                "claimed_location": hostile("claimed_location"), "claimed_event": hostile("claimed_event")})
            assert r.status_code == 202, r.text
            done = live.wait_job(rd, r.json()["status_url"], timeout=120)
        assert done["status"] == "done", done
        report = done["report"]
        assert report["verdict"] == "recycled" and report["earliest"]["source_url"] == JS_URL
        assert SCRIPT in report["source"]["title"], report["source"]  # the page's og:title came through
        # A page or an extractor that names a javascript: address as the video's page.
        with engine.begin() as c:
            c.execute(items.update().where(items.c.id == report["remembered_id"]).values(source_url=JS_URL))
            result = json.loads(c.execute(sa.select(jobs.c.result).where(jobs.c.id == done["id"])).scalar_one())
            result["source"]["webpage_url"] = JS_URL
            c.execute(jobs.update().where(jobs.c.id == done["id"]).values(result=json.dumps(result)))
        yield Hostile(live, archived["result"]["id"], report["remembered_id"], done["id"], archived["id"])


# -- the JSON helper ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [SCRIPT, ATTRIBUTE, SEPARATORS, "a & b <!-- c --> ]]>", "plain"])
def test_json_for_html_is_still_json_and_has_nothing_html_reads(value: str) -> None:
    from service.markup import json_for_html

    data = {"text": value, value: [value, 1, None]}
    out = json_for_html(data)
    assert json.loads(out) == data
    assert not set(out) & set("<>&\u2028\u2029"), out


def test_templates_escape_everything_and_mark_nothing_safe() -> None:
    from service.http.web.routes import HERE, templates

    assert templates.env.autoescape is True
    for template in (HERE / "templates").glob("*.html"):
        text = re.sub(r"\s+", "", template.read_text()).lower()
        for marker in ("|safe", "autoescapefalse", "markup("):
            assert marker not in text, f"{template.name} has {marker}"


# -- JSON-LD and /claimreview -----------------------------------------------------------------------------
def _ld_blocks(page: str) -> list[str]:
    return re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, flags=re.S)


def test_report_page_json_ld_parses_and_never_closes_its_script(world: Hostile) -> None:
    with httpx.Client(base_url=world.live.url, timeout=30) as web:
        web_login(web, world.live.keys["reader"])
        page = web.get(f"/checks/{world.check_id}")
    assert page.status_code == 200
    blocks = _ld_blocks(page.text)
    assert len(blocks) == 1
    review = json.loads(blocks[0])
    assert "</script" not in blocks[0].lower() and "<" not in blocks[0]
    assert hostile("claimed_event") in review["claimReviewed"]  # escaped, not lost
    assert review["itemReviewed"]["appearance"]["name"].startswith(hostile("og:title"))
    assert page.text.count("<script") == 3  # the JSON-LD block, app.js and evidence.js, nothing injected
    box = re.search(r'<textarea id="mediareview"[^>]*>(.*?)</textarea>', page.text, flags=re.S)
    assert box is not None and "<" not in box.group(1)
    media_review = json.loads(html.unescape(box.group(1)))
    assert hostile("title") in media_review["originalMediaContextDescription"]
    assert "originalMediaLink" not in media_review  # a javascript: link is no link


def test_claimreview_output_is_safe_to_paste_into_a_page(world: Hostile) -> None:
    with world.live.client("reader") as c:
        r = c.get(f"/api/v1/checks/{world.check_id}/claimreview")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    assert not set(r.text) & set("<>&\u2028\u2029"), r.text
    review = r.json()
    assert hostile("claimed_location") in review["claimReviewed"]
    assert review["itemReviewed"]["appearance"]["name"].startswith(hostile("og:title"))  # yt-dlp adds " (1)"
    with world.live.client("reader") as c:
        media = c.get(f"/api/v1/checks/{world.check_id}/mediareview")
    assert media.status_code == 200 and not set(media.text) & set("<>&\u2028\u2029"), media.text
    assert hostile("title") in media.json()["originalMediaContextDescription"]
    # the page named a javascript: address as its own: the link that was checked stands instead
    assert review["itemReviewed"]["appearance"]["url"].endswith("/story.html")


def test_timeline_picture_draws_user_text_literally(world: Hostile) -> None:
    with world.live.client("reader") as c:
        r = c.get(f"/api/v1/checks/{world.check_id}/timeline.png")
    assert r.status_code == 200, r.text
    assert Image.open(io.BytesIO(r.content)).format == "PNG"


# -- every page in Chromium ---------------------------------------------------------------------------------
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
                          e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""

INERT = """() => ({
  pwned: window.__pwned === undefined ? null : String(window.__pwned),
  csp: window.__csp || [],
  jsLinks: [...document.querySelectorAll("a[href], area[href]")]
           .filter(a => a.protocol === "javascript:").map(a => a.getAttribute("href")),
  inlineScripts: [...document.querySelectorAll("script:not([src])")]
                 .filter(s => s.type !== "application/ld+json").length,
  handlers: [...document.querySelectorAll("*")]
            .flatMap(e => [...e.attributes].filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name)),
  jsonLd: [...document.querySelectorAll('script[type="application/ld+json"]')].map(s => {
    try { JSON.parse(s.textContent); return "ok"; } catch (err) { return String(err); } }),
})"""


def _assert_inert(page: Any, dialogs: list[str], where: str) -> dict[str, Any]:
    page.wait_for_load_state("load")
    state: dict[str, Any] = page.evaluate(INERT)
    assert state["pwned"] is None, f"script ran on {where}"
    assert dialogs == [], f"dialog on {where}: {dialogs}"
    assert page.locator('a[href^="javascript:" i]').count() == 0, where
    assert state["jsLinks"] == [], f"javascript: links on {where}: {state['jsLinks']}"
    assert state["inlineScripts"] == 0 and state["handlers"] == [], f"markup injected on {where}: {state}"
    assert state["csp"] == [], f"content security policy violated on {where}: {state['csp']}"
    assert all(r == "ok" for r in state["jsonLd"]), f"JSON-LD broken on {where}: {state['jsonLd']}"
    return state


@pytest.mark.browser
def test_no_payload_runs_and_no_javascript_link_lives_on_any_page(world: Hostile, browser: Any,
                                                                  media: Media) -> None:
    live = world.live
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(live.url + "/")
    page.fill("input[name=key]", live.keys["editor"])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")
    _assert_inert(page, dialogs, "the home page")

    # the report: claims, the page's og:title, the archived item's title, place and links
    page.goto(f"{live.url}/checks/{world.check_id}")
    page.wait_for_selector("#verdict")
    state = _assert_inert(page, dialogs, "the report")
    assert state["jsonLd"] == ["ok"]
    review = json.loads(page.eval_on_selector('script[type="application/ld+json"]', "s => s.textContent"))
    assert hostile("claimed_event") in review["claimReviewed"]
    assert hostile("og:title") in page.inner_text(".facts")  # shown as text
    assert hostile("title").split(" $")[0] in page.inner_text(".match h3")
    assert json.loads(page.input_value("#claimreview")) == review

    # the archive list and a search that echoes the payload back into the form
    for url in (f"{live.url}/archive", f"{live.url}/archive?q={httpx.QueryParams({'q': SCRIPT})['q']}",
                f"{live.url}/archive?added={world.archived_id}", f"{live.url}/jobs/{world.archive_job_id}"):
        page.goto(url)
        _assert_inert(page, dialogs, url)
    page.goto(f"{live.url}/archive")
    assert hostile("title").split(" $")[0] in page.inner_text("table.items")  # shown as text

    # the forms echo what was typed when they refuse it
    page.goto(live.url + "/")
    page.set_input_files("#check-form input[name=file]", str(media.original))
    for name in ("claimed_location", "claimed_event"):
        page.fill(f"input[name={name}]", hostile(name))
    page.fill("input[name=claimed_date]", SCRIPT)
    page.click("#check-form button[type=submit]")
    page.wait_for_selector(".error")
    _assert_inert(page, dialogs, "the refused check form")
    assert page.input_value("input[name=claimed_event]") == hostile("claimed_event")

    page.goto(live.url + "/archive")
    page.set_input_files("#archive-form input[name=file]", str(media.unrelated))
    for name in ("title", "location", "event", "notes"):
        selector = f"#archive-form {'textarea' if name == 'notes' else 'input'}[name={name}]"
        page.fill(selector, hostile(name))
    for name in ("source_url", "factcheck_url"):  # type=url inputs: the browser would refuse to submit
        page.eval_on_selector(f"#archive-form input[name={name}]", "(e, v) => { e.type = 'text'; e.value = v; }",
                              JS_URL)
    page.fill("#archive-form input[name=published]", "2017")
    page.click("#archive-form button[type=submit]")
    page.wait_for_load_state("load")
    _assert_inert(page, dialogs, "the archive form after submitting javascript: links")

    # the JSON the API gives for the same items, opened in the browser as a journalist would
    api = browser.new_context(extra_http_headers={"Authorization": f"Bearer {live.keys['editor']}"})
    api.add_init_script(WATCH)
    api_page = api.new_page()
    api_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in (f"/api/v1/checks/{world.check_id}/claimreview", f"/api/v1/footage/{world.archived_id}",
                 f"/api/v1/archive/{world.remembered_id}", "/api/v1/archive", f"/api/v1/checks/{world.check_id}"):
        response = api_page.goto(live.url + path)
        assert response is not None and response.status == 200, path
        _assert_inert(api_page, dialogs, path)
    api.close()
    context.close()


# -- the terminal -------------------------------------------------------------------------------------------
TERMINAL = "Harbour [/] [link=https://evil.example]click[/link] \x1b[2J\x1b]0;owned\x07"


def test_cli_prints_user_text_as_text(cli, media: Media) -> None:
    """Rich reads ``[...]`` as markup (an unmatched ``[/]`` raised a traceback) and passes ESC to the terminal."""
    added = cli("archive", "add", media.original, "--title", TERMINAL, "--location", "[bold]Idlib")
    assert added.exit_code == 0, added.stderr
    for args in (("archive", "list"), ("archive", "show", "1"),
                 ("check", media.excerpt_240p, "--no-remember", "--claimed-date", "2021-03-11")):
        res = cli(*args)
        assert res.exit_code == 0, res.stderr
        assert "[/]" in res.stdout and "[bold]Idlib" in res.stdout.replace("\n", "")
        assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    refused = cli("archive", "add", media.original, "--source-url", "[/]\x1b[2J")
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "[/]" in refused.stderr and "\x1b" not in refused.stderr
