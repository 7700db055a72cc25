"""The app served by a real uvicorn on 127.0.0.1 (a free port, a thread), for API, docs and browser tests."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from service.auth import KeyStore
from service.http import create_app
from service.settings import Settings

STARTUP_TIMEOUT_S = 20.0
JOB_TIMEOUT_S = 60.0


@dataclass
class LiveApp:
    url: str
    settings: Settings
    keys: dict[str, str]  # role -> key
    app: Any

    def client(self, role: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kwargs)

    def wait_job(self, client: httpx.Client, status_url: str, timeout: float = JOB_TIMEOUT_S) -> dict[str, Any]:
        return wait_job(client, status_url, timeout)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a web page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def web_login(client: httpx.Client, token: str) -> None:
    """Log ``client`` in to the web form with an API key, as a browser would (its cookie jar keeps the session)."""
    r = client.post("/login", data={"csrf": csrf_token(client.get("/").text), "key": token})
    assert r.status_code == 303, r.text


def wait_job(client: httpx.Client, status_url: str, timeout: float = JOB_TIMEOUT_S) -> dict[str, Any]:
    """Poll (long-poll a few seconds at a time) until the job is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(status_url, params={"wait": 5})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, f"job still {body['status']} after {timeout} s: {body}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(home: Path, database_url: str | None, **overrides: Any) -> Iterator[LiveApp]:
    """create_app(settings) under uvicorn in a thread; one key per role made through the key store."""
    settings = Settings(home=home, database_url=database_url, **{"allow_hosts": ["127.0.0.0/8"], **overrides})
    app = create_app(settings)
    keys = KeyStore(app.state.services.pipeline.store.engine)
    tokens = {role: keys.create(role, name=f"test {role}")[1] for role in ("reader", "editor", "admin")}
    with run_uvicorn(app) as url:
        yield LiveApp(url, settings, tokens, app)


@contextmanager
def run_uvicorn(app: Any, name: str = "uvicorn") -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def start_serve_process(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """The real ``firstseen serve`` on 127.0.0.1:``port``, output to ``log``, once /healthz answers."""
    firstseen = str(Path(sys.executable).parent / "firstseen")
    with log.open("ab") as out:
        server = subprocess.Popen([firstseen, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise AssertionError("firstseen serve did not start")
        time.sleep(0.2)
