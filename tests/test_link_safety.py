"""Hostile links are refused before any connection, and on every redirect inside yt-dlp."""

from __future__ import annotations

import http.server
import json
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.errors import FetchFailed, FetchRefused
from service.ingest.safety import LinkPolicy, check_url, parse_ip_literal, why_not_public
from service.settings import Settings
from tests.conftest import LoopbackServer, Media, archive_digest

# Every socket connect this process attempts while `_connects` is armed (an audit hook is the
# interpreter's own record of connections, so nothing can slip past it).
_connects: list[object] = []
_armed = threading.Event()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.connect" and _armed.is_set():
        _connects.append(args[1])


sys.addaudithook(_audit)


@pytest.fixture
def connections() -> Iterator[list[object]]:
    _connects.clear()
    _armed.set()
    try:
        yield _connects
    finally:
        _armed.clear()


@pytest.fixture
def production_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No allow-list: what a real deployment runs with."""
    monkeypatch.setenv("FIRSTSEEN_ALLOW_HOSTS", "[]")


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://127.0.0.1:9/x.mp4", "loopback"),
        ("http://10.0.0.1/v.mp4", "private"),
        ("http://[::1]/v.mp4", "loopback"),
        ("file:///etc/passwd", "only http and https"),
        ("http://2130706433/v.mp4", "loopback"),
        ("http://0177.0.0.1/v.mp4", "loopback"),
        ("http://0x7f.1/v.mp4", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://100.64.0.1/v.mp4", "non-public"),
        ("ftp://example.org/v.mp4", "only http and https"),
        ("data:video/mp4;base64,AAAA", "refused"),
    ],
)
def test_cli_refuses_internal_links_without_connecting(cli, settings: Settings, production_env: None,
                                                       connections: list[object], url: str, words: str) -> None:
    cli("archive", "list")
    before = archive_digest(settings)
    res = cli("check", url, "--json")
    assert res.exit_code == 2, res.stdout
    assert words in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert connections == []
    assert archive_digest(settings) == before


def test_public_looking_name_that_resolves_to_a_private_address(cli, production_env: None,
                                                                connections: list[object],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def dns(host: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host == "cdn.news-example.com":  # the DNS answer an attacker controls
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    res = cli("check", "http://cdn.news-example.com/clip.mp4")
    assert res.exit_code == 2
    assert "cdn.news-example.com resolves to 10.20.30.40" in res.stderr
    assert connections == []


def test_unresolvable_host_is_a_clear_fetch_failure() -> None:
    with pytest.raises(FetchFailed, match="cannot resolve host"):
        check_url("http://no-such-host.invalid/v.mp4")


@pytest.mark.parametrize("host", ["8.8.8.8", "2606:4700:4700::1111", "2002:0808:0808::1", "64:ff9b::808:808"])
def test_public_addresses_pass(host: str) -> None:
    assert why_not_public(parse_ip_literal(host)) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["0.0.0.0", "224.0.0.1", "192.168.1.1", "172.16.0.1", "fe80::1", "fc00::1",
                                  "2002:7f00:1::1", "64:ff9b::a00:1", "fd00:ec2::254", "240.0.0.1"])
def test_internal_addresses_are_named(host: str) -> None:
    assert why_not_public(parse_ip_literal(host))  # type: ignore[arg-type]


def test_allow_list_admits_networks_and_names_only() -> None:
    policy = LinkPolicy.of(["127.0.0.1", "media.intranet"])
    assert check_url("http://127.0.0.1:8000/x.mp4", policy)
    with pytest.raises(FetchRefused, match="127.0.0.2 is a loopback"):
        check_url("http://127.0.0.2:8000/x.mp4", policy)


class _RedirectTo(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


def test_redirect_to_another_internal_address_is_refused_inside_yt_dlp(
        cli, web_server: LoopbackServer, media: Media, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # The target: a real server on 127.0.0.2 that would happily serve the clip.
    (web_server.root / "clip.mp4").write_bytes(media.original.read_bytes())
    inner_hits: list[str] = []

    class Inner(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            inner_hits.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            return None

    inner = http.server.ThreadingHTTPServer(("127.0.0.2", 0),
                                            lambda *a: Inner(*a, directory=str(web_server.root)))
    outer = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RedirectTo)
    _RedirectTo.target = f"http://127.0.0.2:{inner.server_address[1]}/clip.mp4"
    for server in (inner, outer):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # Only 127.0.0.1 is allowed: the first hop passes the pre-check, the redirect must not.
        monkeypatch.setenv("FIRSTSEEN_ALLOW_HOSTS", json.dumps(["127.0.0.1"]))
        cli("archive", "list")
        before = archive_digest(settings)
        res = cli("archive", "add", f"http://127.0.0.1:{outer.server_address[1]}/clip.mp4", "--title", "x")
        assert res.exit_code == 2, res.stdout
        assert "127.0.0.2 is a loopback address" in res.stderr
        assert inner_hits == []
        assert archive_digest(settings) == before
        # With the target allowed too, the same redirect is followed: the guard, not a broken fetch, refused it.
        monkeypatch.setenv("FIRSTSEEN_ALLOW_HOSTS", json.dumps(["127.0.0.1", "127.0.0.2"]))
        res = cli("archive", "add", f"http://127.0.0.1:{outer.server_address[1]}/clip.mp4", "--title", "x")
        assert res.exit_code == 0, res.stderr
        assert inner_hits and set(inner_hits) == {"/clip.mp4"}
    finally:
        for server in (inner, outer):
            server.shutdown()
            server.server_close()


def test_api_answers_400_for_each_hostile_link_without_connecting(tmp_path: Path, connections: list[object],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import database_for_test
    from tests.live_app import serve

    real = socket.getaddrinfo

    def dns(host: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host == "cdn.news-example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.7.7", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    hostile = ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/x.mp4", "http://10.0.0.1/v.mp4",
               "http://[::1]/v.mp4", "file:///etc/passwd", "http://cdn.news-example.com/clip.mp4"]
    with database_for_test() as db, serve(tmp_path / "home", db, allow_hosts=[]) as live, \
            live.client("editor") as client:
        app_address = ("127.0.0.1", int(live.url.rsplit(":", 1)[1]))
        for url in hostile:
            for path, body in (("/api/v1/checks", {"url": url}), ("/api/v1/archive", {"url": url, "title": "x"}),
                               ("/api/v1/sources", {"url": url})):
                _connects.clear()
                r = client.post(path, json=body)
                assert r.status_code == 400, (path, url, r.text)
                message = r.json()["error"]["message"]
                assert r.json()["error"]["code"] == "bad_input" and ("refused" in message or "http" in message)
                # The only connection made is the test's own to the app.
                assert all(tuple(a) == app_address for a in connections), connections  # type: ignore[arg-type]
        assert client.get("/api/v1/archive").json()["items"] == []
