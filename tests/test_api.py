"""The HTTP API against a live uvicorn: every endpoint, every role, every error code."""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from typer.testing import CliRunner

from service.cli import app as cli_app
from service.jobs import JobStore, run_job
from tests.conftest import LoopbackServer, Media, database_for_test
from tests.live_app import LiveApp, free_port, serve, start_serve_process, wait_job

REPORT_KEYS = {"footage", "verdict", "explanation", "source", "claims", "earliest", "matches", "checked_at",
               "remembered_id", "searched", "history"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """One server for the module (checks are slow to repeat); tests never assume ids or counts."""
    with database_for_test() as db, serve(tmp_path_factory.mktemp("api-home"), db,
                                          rate_limit_per_minute=100_000) as app:
        yield app


@pytest.fixture(scope="module")
def archived(live: LiveApp, media: Media) -> dict[str, Any]:
    """The original clip, added by an editor with its provenance."""
    with live.client("editor") as c:
        r = c.post("/api/v1/archive", params={"wait": 60},
                   files={"file": ("original.mp4", media.original.read_bytes(), "video/mp4")},
                   data={"title": "Convoy ambush", "published": "2018-03-01", "location": "Idlib",
                         "source_url": "https://example.org/v/1"})
    assert r.status_code == 201, r.text
    item: dict[str, Any] = r.json()["result"]
    return item


@pytest.fixture(scope="module")
def recycled_check(live: LiveApp, media: Media, archived: dict[str, Any]) -> dict[str, Any]:
    with live.client("reader") as c:
        r = c.post("/api/v1/checks", files={"file": ("viral.mp4", media.excerpt_240p.read_bytes(), "video/mp4")},
                   data={"claimed_date": "2021-03-11", "claimed_location": "Kyiv", "remember": "false"})
        assert r.status_code == 202, r.text
        body = live.wait_job(c, r.json()["status_url"])
    assert body["status"] == "done", body
    return body


# -- the done-when flow ------------------------------------------------------------
def test_firstseen_serve_editor_key_upload_then_check_says_recycled_and_no_key_is_401(
        tmp_path: Path, media: Media) -> None:
    """The issue's acceptance run, with the real `firstseen serve` and `firstseen keys create` commands."""
    firstseen = str(Path(sys.executable).parent / "firstseen")
    with database_for_test() as db:
        env = {**os.environ, "FIRSTSEEN_HOME": str(tmp_path / "home")}
        env.pop("FIRSTSEEN_DATABASE_URL", None)
        if db:
            env["FIRSTSEEN_DATABASE_URL"] = db
        made = subprocess.run([firstseen, "keys", "create", "--role", "editor", "--json"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        key = json.loads(made.stdout)
        assert key["role"] == "editor" and key["key"].startswith("fs_") and key["id"]
        port = free_port()
        server = start_serve_process(env, port, tmp_path / "serve.log")
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key['key']}"}, timeout=30) as c:
                added = c.post("/api/v1/archive", files={"file": ("original.mp4", media.original.read_bytes())},
                               data={"title": "Convoy ambush", "published": "2018-03-01"})
                assert added.status_code == 202, added.text
                assert set(added.json()) >= {"id", "status", "status_url"}
                check = c.post("/api/v1/checks", files={"file": ("original.mp4", media.original.read_bytes())},
                               data={"claimed_date": "2021-03-11"})
                assert check.status_code == 202, check.text
                job = check.json()
                assert set(job) >= {"id", "status", "status_url"} and job["status"] == "queued"
                report = wait_job(c, job["status_url"])
                assert report["status"] == "done" and report["progress"] == 1.0
                assert report["report"]["verdict"] == "recycled"
                assert set(report["report"]) == REPORT_KEYS  # exactly Report.to_dict(), as `firstseen check --json`
                # the upload was remembered, so its own copy was dropped; the evidence uses the archived one
                assert report["report"]["remembered_id"] and not list((tmp_path / "home" / "uploads").iterdir())
                assert c.get(report["evidence"][0]).headers["content-type"] == "image/jpeg"
            assert httpx.get(f"{url}{job['status_url']}").status_code == 401
            assert httpx.post(f"{url}/api/v1/checks", json={"url": "https://example.org/v"}).status_code == 401
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        assert "Traceback" not in (tmp_path / "serve.log").read_text()


# -- checks ---------------------------------------------------------------------
def test_excerpt_check_reports_archive_seconds_and_progress(recycled_check: dict[str, Any],
                                                            archived: dict[str, Any]) -> None:
    report = recycled_check["report"]
    assert report["verdict"] == "recycled" and report["earliest"]["archive_id"] == archived["id"]
    assert report["claims"] == {"date": "2021-03-11", "location": "Kyiv", "event": None}
    seg = report["matches"][0]["segments"][0]
    assert abs(seg["archive_start"] - 4.0) <= 1.0 and abs(seg["archive_end"] - 10.0) <= 1.0
    assert report["remembered_id"] is None
    assert recycled_check["stage"] == "done" and recycled_check["error"] is None
    assert recycled_check["evidence"] and recycled_check["timeline_url"] and recycled_check["claimreview_url"]


def test_evidence_timeline_and_claimreview(live: LiveApp, recycled_check: dict[str, Any]) -> None:
    with live.client("reader") as c:
        for url in recycled_check["evidence"]:
            r = c.get(url)
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
            image = Image.open(io.BytesIO(r.content))
            assert image.format == "JPEG" and image.width > image.height > 100  # two frames side by side
        missing = c.get(f"/api/v1/checks/{recycled_check['id']}/evidence/99.jpg")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        timeline = c.get(recycled_check["timeline_url"])
        assert timeline.status_code == 200 and Image.open(io.BytesIO(timeline.content)).format == "PNG"
        review = c.get(recycled_check["claimreview_url"])
        media_review = c.get(f"/api/v1/checks/{recycled_check['id']}/mediareview").json()
    assert review.status_code == 200 and review.headers["content-type"].startswith("application/ld+json")
    data = review.json()
    assert data["@context"] == "https://schema.org" and data["@type"] == "ClaimReview"
    assert data["reviewRating"]["ratingValue"] == 1 and "Kyiv" in data["claimReviewed"]
    # The original footage is MediaReview's: where and when it was first online (the claim's own first
    # appearance is the editor's to give, service/reviews.py).
    assert media_review["mediaAuthenticityCategory"] == "DecontextualizedContent"
    assert "2018-03-01" in media_review["originalMediaContextDescription"]
    assert media_review["originalMediaLink"] == "https://example.org/v/1"


def test_check_a_link_and_a_batch_of_links(live: LiveApp, media: Media, web_server: LoopbackServer,
                                           archived: dict[str, Any]) -> None:
    shutil.copy(media.flipped, web_server.root / "flipped.mp4")
    shutil.copy(media.unrelated, web_server.root / "unrelated.mp4")
    with live.client("reader") as c:
        r = c.post("/api/v1/checks", json={"url": web_server.url("flipped.mp4"), "claimed_date": "2020-01-01",
                                           "remember": False})
        assert r.status_code == 202, r.text
        one = live.wait_job(c, r.json()["status_url"])
        batch = c.post("/api/v1/checks/batch", json={"urls": [web_server.url("flipped.mp4"),
                                                               web_server.url("unrelated.mp4")],
                                                      "remember": False})
        assert batch.status_code == 202, batch.text
        jobs = batch.json()["jobs"]
        assert len(jobs) == 2 and len({j["id"] for j in jobs}) == 2
        results = [live.wait_job(c, j["status_url"]) for j in jobs]
    assert one["report"]["verdict"] == "recycled" and one["report"]["matches"][0]["flipped"] is True
    assert [r["report"]["verdict"] for r in results] == ["recycled", "no_prior_match"]  # served today


def test_progress_as_server_sent_events(live: LiveApp, media: Media, archived: dict[str, Any]) -> None:
    with live.client("reader") as c:
        r = c.post("/api/v1/checks", files={"file": ("clip.mp4", media.reencode.read_bytes())},
                   data={"remember": "false", "claimed_date": "2020-06-01"})
        events: list[tuple[str, dict[str, Any]]] = []
        with c.stream("GET", f"/api/v1/checks/{r.json()['id']}/events", timeout=90) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[len("data: "):])))
    assert [n for n, _ in events[:-1]] == ["progress"] * (len(events) - 1)
    progress = [e["progress"] for _, e in events[:-1]]
    assert progress == sorted(progress)
    last_name, last = events[-1]
    assert last_name == "done" and last["report"]["verdict"] == "recycled" and last["progress"] == 1.0


def test_idempotency_key_gives_the_same_job(live: LiveApp, web_server: LoopbackServer) -> None:
    with live.client("reader") as c:
        body = {"url": web_server.url("nothing-here.mp4"), "remember": False}
        first = c.post("/api/v1/checks", json=body, headers={"Idempotency-Key": "abc-1"})
        again = c.post("/api/v1/checks", json=body, headers={"Idempotency-Key": "abc-1"})
        other = c.post("/api/v1/checks", json=body, headers={"Idempotency-Key": "abc-2"})
        assert (first.status_code, again.status_code, other.status_code) == (202, 200, 202)
        assert first.json()["id"] == again.json()["id"] != other.json()["id"]
        failed = live.wait_job(c, first.json()["status_url"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "bad_input" and failed["report"] is None


def test_not_a_video_fails_the_job_with_a_clear_message(live: LiveApp, media: Media) -> None:
    with live.client("reader") as c:
        r = c.post("/api/v1/checks", files={"file": ("notes.mp4", media.not_video.read_bytes())})
        assert r.status_code == 202
        body = live.wait_job(c, r.json()["status_url"])
    assert body["status"] == "failed"
    assert body["error"]["code"] == "bad_input" and "not a readable video" in body["error"]["message"]
    assert "Traceback" not in json.dumps(body)


# -- archive, footage, audit -------------------------------------------------------------
def test_archive_list_page_search_edit_delete_and_audit(live: LiveApp, media: Media,
                                                        archived: dict[str, Any]) -> None:
    with live.client("editor") as ed, live.client("reader") as rd, live.client("admin") as ad:
        r = ed.post("/api/v1/archive", params={"wait": 60},
                    files={"file": ("other.mp4", media.other.read_bytes())},
                    data={"title": "Harbour fire", "published": "2019", "location": "Mosul", "notes": "x"})
        assert r.status_code == 201, r.text
        other = r.json()["result"]
        assert other["location"] == "Mosul" and other["kind"] == "curated"
        assert ed.get(r.json()["status_url"]).json()["result"]["id"] == other["id"]
        assert "other.mp4" not in [p.name for p in (live.settings.home / "uploads").glob("*/*")]

        page = rd.get("/api/v1/archive", params={"limit": 1})
        assert page.status_code == 200 and len(page.json()["items"]) == 1 and page.json()["next_offset"] == 1
        found = rd.get("/api/v1/archive", params={"q": "mosul"}).json()["items"]
        assert [i["id"] for i in found] == [other["id"]]
        assert rd.get(f"/api/v1/archive/{other['id']}").json()["title"] == "Harbour fire"

        patched = ed.patch(f"/api/v1/archive/{other['id']}", json={"location": "Basra", "notes": None})
        assert patched.status_code == 200 and patched.json()["location"] == "Basra"
        assert ed.patch(f"/api/v1/archive/{other['id']}", json={"published": "soon"}).status_code == 400
        assert ed.patch(f"/api/v1/archive/{other['id']}", json={"sha256": "x"}).status_code == 422

        footage = rd.get(f"/api/v1/footage/{archived['id']}")
        assert footage.status_code == 200 and archived["id"] in [u["id"] for u in footage.json()["uploads"]]

        assert ed.delete(f"/api/v1/archive/{other['id']}").status_code == 200
        gone = rd.get(f"/api/v1/archive/{other['id']}")
        assert gone.status_code == 404 and gone.json() == {
            "error": {"code": "not_found", "message": f"no archive item {other['id']}"}}
        assert ed.delete(f"/api/v1/archive/{other['id']}").status_code == 404

        audit = ad.get("/api/v1/audit", params={"limit": 50}).json()
    mine = [(e["action"], e["actor"]) for e in audit if e["item_id"] == other["id"]]
    assert mine == [("remove", "key 2 (test editor)"), ("update", "key 2 (test editor)"),
                    ("add", "key 2 (test editor)")]


def test_archive_add_by_link(live: LiveApp, media: Media, web_server: LoopbackServer) -> None:
    shutil.copy(media.unrelated, web_server.root / "field.mp4")
    with live.client("editor") as c:
        r = c.post("/api/v1/archive", json={"url": web_server.url("field.mp4"), "title": "Field",
                                            "published": "2017-05"})
        assert r.status_code == 202
        job = live.wait_job(c, r.json()["status_url"])
    assert job["status"] == "done" and job["kind"] == "archive_add"
    assert job["result"]["title"] == "Field" and job["result"]["published"] == "2017-05"


# -- sources -------------------------------------------------------------------
def test_sources_add_list_crawl_remove(live: LiveApp, media: Media, web_server: LoopbackServer) -> None:
    shutil.copy(media.reencode, web_server.root / "feed-clip.mp4")
    url = web_server.url("feed-clip.mp4")
    with live.client("editor") as c:
        added = c.post("/api/v1/sources", json={"url": url})
        assert added.status_code == 201, added.text
        source = added.json()
        assert c.post("/api/v1/sources", json={"url": url}).status_code == 409
        assert c.post("/api/v1/sources", json={"url": "ftp://example.org/x"}).status_code == 400
        assert [s["url"] for s in c.get("/api/v1/sources").json()] == [url]
        crawl = c.post(f"/api/v1/sources/{source['id']}/crawl")
        assert crawl.status_code == 202 and crawl.json()["kind"] == "crawl"
        job = live.wait_job(c, crawl.json()["status_url"])
        assert job["status"] == "done" and job["result"]["source_id"] == source["id"]
        assert job["result"]["listed"] == 1 and len(job["result"]["added"]) == 1
        assert c.get("/api/v1/sources").json()[0]["last_crawled_at"]
        assert c.post("/api/v1/sources/9999/crawl").status_code == 404
        assert c.delete(f"/api/v1/sources/{source['id']}").status_code == 204
        assert c.delete(f"/api/v1/sources/{source['id']}").status_code == 404


# -- keys ------------------------------------------------------------------------
def test_admin_creates_lists_and_revokes_keys(live: LiveApp) -> None:
    with live.client("admin") as ad:
        made = ad.post("/api/v1/keys", json={"role": "reader", "name": "wire desk"})
        assert made.status_code == 201
        key = made.json()
        assert key["key"].startswith("fs_") and key["role"] == "reader"
        listed = ad.get("/api/v1/keys").json()
        assert key["id"] in [k["id"] for k in listed] and all("key" not in k for k in listed)
        assert ad.post("/api/v1/keys", json={"role": "owner"}).status_code == 422
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key['key']}"}) as new:
            assert new.get("/api/v1/archive").status_code == 200
            assert ad.delete(f"/api/v1/keys/{key['id']}").json()["revoked_at"]
            revoked = new.get("/api/v1/archive")
        assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "unauthorized"
        assert ad.delete("/api/v1/keys/9999").status_code == 404


# -- errors ----------------------------------------------------------------------
def test_error_codes_have_one_shape(live: LiveApp) -> None:
    def check(r: httpx.Response, status: int, code: str) -> None:
        assert r.status_code == status, r.text
        assert set(r.json()) == {"error"} and set(r.json()["error"]) == {"code", "message"}
        assert r.json()["error"]["code"] == code and "Traceback" not in r.text

    uploads = live.settings.home / "uploads"
    kept_before = sorted(uploads.iterdir())
    with live.client("reader") as rd, live.client() as anon, live.client("editor") as ed:
        check(anon.get("/api/v1/archive"), 401, "unauthorized")
        check(anon.get("/api/v1/archive", headers={"Authorization": "Bearer fs_nope"}), 401, "unauthorized")
        check(anon.get("/api/v1/archive", headers={"Authorization": "Basic eDp5"}), 401, "unauthorized")
        check(rd.post("/api/v1/archive", json={"url": "https://example.org/v"}), 403, "forbidden")
        check(rd.get("/api/v1/audit"), 403, "forbidden")
        check(ed.get("/api/v1/keys"), 403, "forbidden")
        check(rd.get("/api/v1/checks/0123456789abcdef"), 404, "not_found")
        check(rd.get("/api/v1/nothing"), 404, "not_found")
        check(rd.put("/api/v1/checks"), 405, "method_not_allowed")
        check(rd.post("/api/v1/checks", json={"url": "file:///etc/passwd"}), 400, "bad_input")
        check(rd.post("/api/v1/checks", json={"url": "/etc/passwd"}), 400, "bad_input")
        check(rd.post("/api/v1/checks", json={"url": "http://169.254.169.254/latest/meta-data"}), 400,
              "bad_input")
        check(rd.post("/api/v1/checks", json={"url": "https://example.org/v", "claimed_date": "last week"}),
              400, "bad_input")
        check(rd.post("/api/v1/checks", files={"file": ("x.mp4", b"")}), 400, "bad_input")
        check(rd.post("/api/v1/checks", data={"claimed_date": "2020"}, files={"other": ("x", b"1")}), 400,
              "bad_input")
        check(rd.post("/api/v1/checks/batch", json={"urls": ["https://example.org/a", "file:///etc/passwd"]}),
              400, "bad_input")
        check(rd.post("/api/v1/checks", content=b"url=x", headers={"content-type": "text/plain"}), 415,
              "unsupported_media_type")
        check(rd.post("/api/v1/checks", json={}), 422, "validation_error")
        check(rd.post("/api/v1/checks", json={"url": "https://example.org/v", "colour": "red"}), 422,
              "validation_error")
        check(rd.post("/api/v1/checks", content=b"{not json", headers={"content-type": "application/json"}),
              422, "validation_error")
        check(rd.post("/api/v1/checks/batch", json={"urls": []}), 422, "validation_error")
        check(rd.get("/api/v1/archive", params={"limit": 0}), 422, "validation_error")
        check(rd.get("/api/v1/archive/abc"), 422, "validation_error")
        check(ed.post("/api/v1/archive", json={"url": "gopher://x"}), 400, "bad_input")
        check(ed.post("/api/v1/archive", data={"title": "x", "colour": "red"}, files={"file": ("x.mp4", b"1")}),
              400, "bad_input")
        check(ed.post("/api/v1/archive", data={"published": "whenever"}, files={"file": ("x.mp4", b"1")}),
              400, "bad_input")
        check(rd.post("/api/v1/checks", data={"claimed_date": "someday"}, files={"file": ("x.mp4", b"1")}),
              400, "bad_input")
        check(rd.post("/api/v1/checks", data={"remember": "perhaps"}, files={"file": ("x.mp4", b"1")}),
              422, "validation_error")
        check(rd.post("/api/v1/checks/batch", json={"urls": ["https://example.org/" + "x" * 1000] * 1100}),
              413, "too_large")
    assert sorted(uploads.iterdir()) == kept_before  # nothing refused was kept


def test_size_and_duration_limits_413_and_rate_limit_429(tmp_path: Path, media: Media) -> None:
    size = media.original.stat().st_size
    with database_for_test() as db, serve(tmp_path / "home", db, max_upload_bytes=size * 3 // 2, max_duration_s=8,
                                          rate_limit_per_minute=5) as live, live.client("reader") as c:
        too_long = c.post("/api/v1/checks", files={"file": ("long.mp4", media.original.read_bytes())})
        assert too_long.status_code == 202
        failed = c.get(too_long.json()["status_url"], params={"wait": 60}).json()
        assert failed["status"] == "failed" and failed["error"]["code"] == "too_large", failed
        assert "duration" in failed["error"]["message"] or "long" in failed["error"]["message"]

        too_big = c.post("/api/v1/checks", files={"file": ("big.mp4", media.original.read_bytes() * 3)})
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: stopped while streaming
            data = media.original.read_bytes() * 3
            for i in range(0, len(data), 16384):
                yield data[i:i + 16384]

        head = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n'
        streamed = c.post("/api/v1/checks", content=itertools.chain([head], chunks(), [b"\r\n--xyz--\r\n"]),
                          headers={"content-type": "multipart/form-data; boundary=xyz"})
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
        assert list((live.settings.home / "uploads").glob("*/*")) == []  # nothing kept of any of them

        statuses = [c.get("/api/v1/archive").status_code for _ in range(5)]
        assert 429 in statuses and set(statuses[statuses.index(429):]) == {429}, statuses
        limited = c.get("/api/v1/archive")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        with live.client("editor") as other:  # the limit is per key
            assert other.get("/api/v1/archive").status_code == 200


# -- roles: every route, every role -------------------------------------------------
ROUTE_ROLES = {  # the least role each API route needs
    ("POST", "/api/v1/checks"): "reader",
    ("POST", "/api/v1/checks/batch"): "reader",
    ("GET", "/api/v1/checks/{job_id}"): "reader",
    ("GET", "/api/v1/checks/{job_id}/evidence/{n}.jpg"): "reader",
    ("GET", "/api/v1/checks/{job_id}/timeline.png"): "reader",
    ("GET", "/api/v1/checks/{job_id}/claimreview"): "reader",
    ("GET", "/api/v1/checks/{job_id}/mediareview"): "reader",
    ("GET", "/api/v1/checks/{job_id}/review"): "reader",
    ("PUT", "/api/v1/checks/{job_id}/review"): "editor",
    ("GET", "/api/v1/checks/{job_id}/keyframes"): "reader",
    ("GET", "/api/v1/checks/{job_id}/keyframes/{n}.jpg"): "reader",
    ("GET", "/api/v1/checks/{job_id}/evidence/{n}/{position}/{side}.jpg"): "reader",
    ("GET", "/api/v1/checks/{job_id}/report.pdf"): "reader",
    ("GET", "/api/v1/checks/{job_id}/export.zip"): "reader",
    ("GET", "/api/v1/checks/{job_id}/events"): "reader",
    ("GET", "/api/v1/jobs/{job_id}"): "reader",
    ("POST", "/api/v1/jobs/{job_id}/retry"): "reader",
    ("GET", "/api/v1/archive"): "reader",
    ("GET", "/api/v1/archive/{item_id}"): "reader",
    ("GET", "/api/v1/footage/{item_id}"): "reader",
    ("POST", "/api/v1/archive"): "editor",
    ("PATCH", "/api/v1/archive/{item_id}"): "editor",
    ("DELETE", "/api/v1/archive/{item_id}"): "editor",
    ("GET", "/api/v1/sources"): "editor",
    ("POST", "/api/v1/sources"): "editor",
    ("DELETE", "/api/v1/sources/{source_id}"): "editor",
    ("POST", "/api/v1/sources/{source_id}/crawl"): "editor",
    ("GET", "/api/v1/keys"): "admin",
    ("POST", "/api/v1/keys"): "admin",
    ("DELETE", "/api/v1/keys/{key_id}"): "admin",
    ("GET", "/api/v1/audit"): "admin",
    ("GET", "/healthz"): "",
}
PLACEHOLDERS = {"job_id": "0" * 32, "n": "0", "position": "start", "side": "archive", "item_id": "999999",
                "source_id": "999999", "key_id": "999999"}


def test_every_route_with_every_role(live: LiveApp) -> None:
    spec = live.app.openapi()["paths"]  # every API route (FastAPI nests included routers; the spec lists all)
    routes = {(m.upper(), path) for path, ops in spec.items() for m in ops}
    assert routes == set(ROUTE_ROLES), "a route was added or removed: list the role it needs in ROUTE_ROLES"
    order = ["", "reader", "editor", "admin"]
    for (method, path), needed in sorted(ROUTE_ROLES.items()):
        url = path.format(**PLACEHOLDERS)
        for role in ("none", "reader", "editor", "admin"):
            with live.client(None if role == "none" else role) as c:
                # an empty JSON object: allowed calls fail validation or lookup, never reach real work
                r = c.request(method, url, json={} if method in ("POST", "PATCH") else None)
            if needed and role == "none":
                expected: Any = {401}
            elif needed and order.index(role if role != "none" else "") < order.index(needed):
                expected = {403}
            else:
                expected = {200, 204, 400, 404, 422}
            assert r.status_code in expected, f"{method} {path} as {role}: {r.status_code} {r.text[:200]}"
            assert r.status_code != 500


def test_docs_openapi_and_health(live: LiveApp) -> None:
    assert httpx.get(f"{live.url}/healthz").json()["status"] == "ok"
    docs = httpx.get(f"{live.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = httpx.get(f"{live.url}/openapi.json").json()
    assert "/api/v1/checks" in spec["paths"] and "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "multipart/form-data" in spec["paths"]["/api/v1/checks"]["post"]["requestBody"]["content"]


# -- jobs survive a restart ----------------------------------------------------------
def test_jobs_left_queued_or_running_are_resumed_on_start(tmp_path: Path, media: Media) -> None:
    from service.db.engine import open_database
    from service.settings import Settings

    with database_for_test() as db:
        settings = Settings(home=tmp_path / "home", database_url=db)
        settings.ensure_dirs()
        engine = open_database(settings.resolved_database_url)
        jobs = JobStore(engine)
        queued, _ = jobs.create("archive_add", {"source": str(media.original), "meta": {"title": "A"}})
        crashed, _ = jobs.create("check", {"source": str(media.excerpt_240p), "claims": {}, "remember": False})
        assert jobs.start(crashed.id)  # a worker took it, then the process died
        engine.dispose()
        with serve(settings.home, db) as live, live.client("reader") as c:
            done = live.wait_job(c, f"/api/v1/jobs/{queued.id}")
            check = live.wait_job(c, f"/api/v1/checks/{crashed.id}")
        assert done["status"] == "done" and done["result"]["title"] == "A"
        assert check["status"] == "done" and check["report"]["verdict"] == "seen_before"

        from service.pipeline import Pipeline

        with Pipeline.from_settings(settings) as pipeline:  # done is done: not redone
            again = run_job(pipeline, crashed.id)
            assert again.attempts == 2 and again.state == "done"
            assert pipeline.store.count() == 1


def test_keys_cli_create_list_revoke(tmp_path: Path) -> None:
    with database_for_test() as db:
        env = {"FIRSTSEEN_HOME": str(tmp_path / "home"), "FIRSTSEEN_DATABASE_URL": db or ""}
        runner = CliRunner()

        def run(*args: str) -> Any:
            return runner.invoke(cli_app, ["keys", *args], env=env, catch_exceptions=False)

        made = run("create", "--role", "reader", "--name", "night desk")
        assert made.exit_code == 0 and made.stdout.strip().splitlines()[-1].startswith("fs_")
        token = made.stdout.strip().splitlines()[-1]
        listed = json.loads(run("list", "--json").stdout)
        assert [(k["name"], k["role"], k["revoked_at"]) for k in listed] == [("night desk", "reader", None)]
        assert token not in run("list").stdout and token not in json.dumps(listed)
        assert run("create", "--role", "owner").exit_code == 2
        assert run("revoke", str(listed[0]["id"])).exit_code == 0
        assert json.loads(run("list", "--json").stdout)[0]["revoked_at"]
        missing = run("revoke", "999")
        assert missing.exit_code == 2 and "no key 999" in missing.stderr


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_is_http_only_and_secure_when_asked(tmp_path: Path, secure: bool) -> None:
    with database_for_test() as db, serve(tmp_path / "home", db, secure_cookies=secure) as live:
        cookie = httpx.get(f"{live.url}/").headers.get("set-cookie", "")
    assert cookie.startswith("firstseen_session=") and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert ("; secure" in cookie.lower()) is secure
