"""Web sessions end on the server: a cookie saved before logout, or before its key was revoked, opens nothing."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.conftest import database_for_test
from tests.live_app import LiveApp, csrf_token, serve, web_login


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path_factory.mktemp("sessions-home"), db) as app:
        yield app


@contextmanager
def _logged_in(live: LiveApp, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as web:
        web_login(web, token)
        assert 'id="check-form"' in web.get("/").text
        yield web


def _replay(live: LiveApp, cookies: httpx.Cookies) -> tuple[httpx.Response, httpx.Response]:
    """An editor page and a JSON endpoint, asked with a saved cookie."""
    with httpx.Client(base_url=live.url, timeout=30, cookies=cookies) as thief:
        return thief.get("/archive"), thief.get("/jobs/0123/status.json")


def test_cookie_saved_before_logout_is_refused_after_it(live: LiveApp) -> None:
    with _logged_in(live, live.keys["editor"]) as web:
        saved = httpx.Cookies(web.cookies)
        r = web.post("/logout", data={"csrf": csrf_token(web.get("/").text)})
        assert r.status_code == 303
    page, status = _replay(live, saved)
    assert page.status_code == 303 and page.headers["location"] == "/"  # back to the login form
    assert status.status_code == 401 and status.json()["error"]["code"] == "unauthorized"


def test_logout_ends_only_its_own_session(live: LiveApp) -> None:
    """A newsroom shares a key between browsers: one journalist logging out does not log out the rest."""
    with _logged_in(live, live.keys["editor"]) as first, _logged_in(live, live.keys["editor"]) as second:
        first.post("/logout", data={"csrf": csrf_token(first.get("/").text)})
        assert second.get("/archive").status_code == 200


def test_revoking_the_key_ends_its_sessions(live: LiveApp) -> None:
    with live.client("admin") as admin:
        made = admin.post("/api/v1/keys", json={"role": "editor", "name": "night desk"}).json()
        with _logged_in(live, made["key"]) as web:
            saved = httpx.Cookies(web.cookies)
            assert admin.delete(f"/api/v1/keys/{made['id']}").status_code == 200
            assert web.get("/archive").status_code == 303
    page, status = _replay(live, saved)
    assert page.status_code == 303 and status.status_code == 401


def test_a_session_is_not_stored_in_a_usable_form(live: LiveApp) -> None:
    """The database keeps a digest of the session id, like API keys: a dump opens no session."""
    import sqlalchemy as sa

    from service.db.tables import web_sessions

    with _logged_in(live, live.keys["reader"]) as web:
        cookie = web.cookies["firstseen_session"]  # base64(JSON).timestamp.signature (Starlette sessions)
        token = json.loads(base64.b64decode(cookie.split(".")[0]))["sid"]
        engine = live.app.state.services.pipeline.store.engine
        with engine.connect() as c:
            stored = [r.id for r in c.execute(sa.select(web_sessions.c.id))]
        assert stored == [hashlib.sha256(token.encode()).hexdigest()]
        web.post("/logout", data={"csrf": csrf_token(web.get("/").text)})
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar() == 0
