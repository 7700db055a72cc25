"""Provenance links (``source_url``, ``factcheck_url``) are http(s) or refused, at every edge;
a link of another scheme already stored is shown as text, never as a live link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from service.db.tables import items
from service.settings import Settings
from tests.conftest import Media, archive_digest, database_for_test
from tests.live_app import LiveApp, csrf_token, serve, web_login

REFUSED = [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "\x01javascript:alert(1)",
    "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
    "file:///etc/passwd", "//evil.example/x", "/relative/path", "https:///no-host", "http://exa mple.org/",
    "example.org/v/1",
]
ACCEPTED = ["https://example.org/v/1", "http://example.org", "HTTPS://EXAMPLE.ORG/A?b=c#d",
            'https://example.org/"><img/src=x/onerror=alert(1)>']  # an address; escaped where shown


@pytest.mark.parametrize("url", REFUSED)
def test_only_http_links_are_links(url: str) -> None:
    from service.errors import BadInput
    from service.markup import http_link
    from service.models import ArchiveMetadata

    assert http_link(url) is None
    with pytest.raises(BadInput, match="source_url"):
        ArchiveMetadata(source_url=url)
    with pytest.raises(BadInput, match="factcheck_url"):
        ArchiveMetadata(factcheck_url=url)


@pytest.mark.parametrize("url", ACCEPTED)
def test_http_links_are_kept_as_given(url: str) -> None:
    from service.markup import http_link
    from service.models import ArchiveMetadata

    assert http_link(url) == url
    assert ArchiveMetadata(source_url=url, factcheck_url=url).source_url == url


def test_cli_refuses_a_javascript_link_with_one_line(cli, settings: Settings, media: Media) -> None:
    before = archive_digest(settings)
    for option in ("--source-url", "--factcheck-url"):
        res = cli("archive", "add", media.original, option, "javascript:alert(1)")
        assert res.exit_code == 2, res.stdout
        assert len(res.stderr.strip().splitlines()) == 1 and "http" in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    assert archive_digest(settings) == before


def test_manifest_and_archive_import_refuse_a_javascript_link_and_add_nothing(cli, settings: Settings,
                                                                             media: Media, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,title,source_url\n"
                        f"{media.original.name},Fine,https://example.org/v/1\n"
                        f"{media.other.name},Bad,javascript:alert(1)\n")
    res = cli("archive", "import", media.original.parent, "--manifest", manifest)
    assert res.exit_code == 2 and "source_url" in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert cli("archive", "list", "--json").json() == []  # the good first row was not added either

    assert cli("archive", "add", media.original, "--title", "Fine").exit_code == 0
    dump = tmp_path / "archive.jsonl"
    assert cli("archive", "export", dump).exit_code == 0
    header, item = dump.read_text().splitlines()[:2]
    record = json.loads(item)
    record["factcheck_url"] = "javascript:alert(1)"
    dump.write_text(header + "\n" + json.dumps(record) + "\n")
    before = archive_digest(settings)
    res = cli("archive", "import", dump)
    assert res.exit_code == 2 and "factcheck_url" in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert archive_digest(settings) == before


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with database_for_test() as db, serve(tmp_path_factory.mktemp("links-home"), db,
                                          rate_limit_per_minute=100_000) as app:
        yield app


def test_api_refuses_javascript_links_with_422(live: LiveApp, media: Media) -> None:
    with live.client("editor") as c:
        before = len(live.app.state.services.jobs.recent(kind="archive_add", limit=1000))
        as_json = c.post("/api/v1/archive", json={"url": "https://example.org/v.mp4",
                                                  "source_url": "javascript:alert(1)"})
        as_form = c.post("/api/v1/archive", files={"file": ("o.mp4", media.original.read_bytes(), "video/mp4")},
                         data={"factcheck_url": "JAVASCRIPT:alert(1)"})
        after = len(live.app.state.services.jobs.recent(kind="archive_add", limit=1000))
    for r in (as_json, as_form):
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "validation_error"
        assert "_url" in r.json()["error"]["message"] and "http" in r.json()["error"]["message"]
    assert after == before  # nothing was queued


def test_api_refuses_a_javascript_link_in_an_edit(live: LiveApp, media: Media) -> None:
    with live.client("editor") as c:
        r = c.post("/api/v1/archive", params={"wait": 60},
                   files={"file": ("o.mp4", media.original.read_bytes(), "video/mp4")},
                   data={"title": "Convoy", "source_url": "https://example.org/v/1"})
        assert r.status_code == 201, r.text
        item = r.json()["result"]
        for field in ("source_url", "factcheck_url"):
            bad = c.patch(f"/api/v1/archive/{item['id']}", json={field: "javascript:alert(1)"})
            assert bad.status_code == 422 and field in bad.json()["error"]["message"], bad.text
        assert c.get(f"/api/v1/archive/{item['id']}").json()["source_url"] == "https://example.org/v/1"
        ok = c.patch(f"/api/v1/archive/{item['id']}", json={"factcheck_url": "https://example.org/fc"})
        assert ok.status_code == 200 and ok.json()["factcheck_url"] == "https://example.org/fc"


def test_web_form_refuses_a_javascript_link(live: LiveApp, media: Media) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as web:
        web_login(web, live.keys["editor"])
        page = web.get("/archive")
        r = web.post("/archive", data={"csrf": csrf_token(page.text), "title": "Harbour",
                                       "source_url": "javascript:alert(1)"},
                     files={"file": ("o.mp4", media.other.read_bytes(), "video/mp4")})
    assert r.status_code == 400, r.text
    assert "source_url" in r.text and "http" in r.text
    assert 'href="javascript:' not in r.text.lower()


def test_stored_javascript_links_render_as_text(live: LiveApp, media: Media) -> None:
    with live.client("editor") as c:
        r = c.post("/api/v1/archive", params={"wait": 60},
                   files={"file": ("u.mp4", media.unrelated.read_bytes(), "video/mp4")},
                   data={"title": "Legacy row"})
        assert r.status_code == 201, r.text
    item_id = r.json()["result"]["id"]
    with live.app.state.services.pipeline.store.engine.begin() as conn:  # stored before links were checked
        conn.execute(sa.update(items).where(items.c.id == item_id).values(source_url="javascript:alert(1)"))
    with httpx.Client(base_url=live.url, timeout=30) as web:
        web_login(web, live.keys["editor"])
        page = web.get("/archive", params={"q": "legacy"})
    assert page.status_code == 200 and "Legacy row" in page.text
    assert "javascript:" not in page.text.lower()
