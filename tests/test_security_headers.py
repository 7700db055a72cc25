"""Every response says how a browser may use it: a Content-Security-Policy without inline script on every
page, no framing, no MIME sniffing, no referrer leaving the site."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import database_for_test
from tests.live_app import LiveApp, serve, web_login

COMMON = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path_factory.mktemp("headers-home"), db) as app:
        yield app


def policy(response: httpx.Response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"no Content-Security-Policy on {response.request.url}"
    directives = [d.split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def assert_common(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, f"{name} on {response.request.url}: {response.headers}"
    assert policy(response)["frame-ancestors"] == ["'none'"]


def test_every_page_has_a_strict_policy(live: LiveApp) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as web:
        pages = [web.get("/")]  # the login page, before any session
        web_login(web, live.keys["editor"])
        pages += [web.get("/"), web.get("/archive"), web.get("/checks/0123"), web.get("/jobs/0123")]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert_common(page)
        csp = policy(page)
        assert csp["default-src"] == ["'self'"]
        assert csp.get("script-src", csp["default-src"]) == ["'self'"]  # no inline script, no eval
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        assert csp["form-action"] == ["'self'"]
        assert "'unsafe-inline'" not in csp.get("style-src", [])


def test_api_and_static_responses_are_not_sniffed_or_framed(live: LiveApp) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as anon, live.client("reader") as reader:
        responses = [anon.get("/healthz"), anon.get("/api/v1/archive"), anon.get("/openapi.json"),
                     anon.get("/static/app.js"), anon.get("/no/such/page"),
                     reader.get("/api/v1/archive"), reader.get("/api/v1/checks/0123"),
                     reader.post("/api/v1/checks", json={"url": "javascript:alert(1)"})]
    assert [r.status_code for r in responses] == [200, 401, 200, 200, 404, 200, 404, 400]
    for r in responses:
        assert_common(r)
    assert policy(responses[0])["default-src"] == ["'none'"]  # JSON loads nothing


def test_api_docs_run_only_their_own_hashed_script(live: LiveApp) -> None:
    docs = httpx.get(f"{live.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert_common(docs)
    allowed = policy(docs)["script-src"]
    assert "'unsafe-inline'" not in allowed and "'unsafe-eval'" not in allowed
    inline = re.findall(r"<script>(.*?)</script>", docs.text, flags=re.S)
    assert inline, "the docs page is expected to configure Swagger UI inline"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed


@pytest.mark.browser
def test_the_policy_does_not_break_the_pages(live: LiveApp, browser: object) -> None:
    """Chromium reports no violation on the login page and the logged-in form (the report page is covered
    by tests/test_xss.py, the bars and evidence pictures by tests/test_web.py)."""
    page = browser.new_page()  # type: ignore[attr-defined]
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                         "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto(live.url + "/")
    assert page.evaluate("window.__csp") == []
    page.fill("input[name=key]", live.keys["editor"])
    page.click("button[type=submit]")
    page.wait_for_selector("#check-form")
    page.goto(live.url + "/archive")
    assert page.evaluate("window.__csp") == []
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"  # style.css applied
