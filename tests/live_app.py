"""The app served by a real uvicorn on 127.0.0.1 (a free port, a thread), for API, docs and browser tests."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from service.api import create_app
from service.auth import KeyStore
from service.settings import Settings
from tests.conftest import PG_ADMIN_URL, fresh_pg_database

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
def database_for_test() -> Iterator[str | None]:
    """A fresh PostgreSQL database under FIRSTSEEN_TEST_DB=postgres, else None (embedded SQLite)."""
    if os.environ.get("FIRSTSEEN_TEST_DB", "sqlite") != "postgres":
        yield None
        return
    with fresh_pg_database(PG_ADMIN_URL) as url:
        yield url


@contextmanager
def serve(home: Path, database_url: str | None, **overrides: Any) -> Iterator[LiveApp]:
    """create_app(settings) under uvicorn in a thread; one key per role made through the key store."""
    settings = Settings(home=home, database_url=database_url, **{"allow_hosts": ["127.0.0.0/8"], **overrides})
    app = create_app(settings)
    keys = KeyStore(app.state.services.pipeline.store.engine)
    tokens = {role: keys.create(role, name=f"test {role}")[1] for role in ("reader", "editor", "admin")}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", settings, tokens, app)
    finally:
        server.should_exit = True
        thread.join(30)
