"""docs/api.md's curl examples run, in order, against the app served by uvicorn."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import LoopbackServer, Media, database_for_test
from tests.live_app import serve

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def _blocks() -> list[str]:
    return [b for b in BLOCK.findall(DOC.read_text()) if "firstseen serve" not in b]


def _method(command: str) -> str:
    explicit = re.search(r"-X ([A-Z]+)", command)
    if explicit:
        return explicit.group(1)
    return "POST" if re.search(r" (-d|-F) ", command) else "GET"


def test_docs_cover_every_api_route(tmp_path: Path) -> None:
    with database_for_test() as db, serve(tmp_path / "home", db) as live:
        paths = live.app.openapi()["paths"]
    commands = [c for c in "\n".join(_blocks()).replace("\\\n", " ").splitlines() if "curl " in c]
    shown = set()
    for command in commands:
        for path in paths:
            pattern = re.sub(r"\\\{[a-z_]+\\\}", r"[^/\\s\"?]+", re.escape(path))
            if re.search(r"\$FIRSTSEEN" + pattern + r"[\"?\s]", command):
                shown.add((_method(command), path))
    expected = {(m.upper(), path) for path, ops in paths.items() for m in ops}
    assert expected <= shown, f"docs/api.md has no curl example for {sorted(expected - shown)}"


def test_curl_examples_in_docs_run(tmp_path: Path, media: Media, web_server: LoopbackServer) -> None:
    shutil.copy(media.original, tmp_path / "original.mp4")
    shutil.copy(media.excerpt_240p, tmp_path / "viral.mp4")
    links = {"viral.mp4": media.flipped, "harbour.mp4": media.other, "channel.mp4": media.unrelated}
    for name, clip in links.items():
        shutil.copy(clip, web_server.root / name)
    script = "\n".join(_blocks())
    for name in [*links, "removed.mp4"]:  # removed.mp4: a link that answers 404
        script = script.replace(f"https://example.org/{name}", web_server.url(name))
    assert shutil.which("jq") and shutil.which("curl"), "the examples need curl and jq"
    with database_for_test() as db, serve(tmp_path / "home", db) as live:
        script = script.replace("http://127.0.0.1:8000", live.url)
        env = {**os.environ, "FIRSTSEEN_HOME": str(live.settings.home),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        if db:
            env["FIRSTSEEN_DATABASE_URL"] = db
        else:
            env.pop("FIRSTSEEN_DATABASE_URL", None)
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
        assert '"verdict": "recycled"' in done.stdout
        assert "answered 404 Not Found: the video may have been removed" in done.stdout
        assert (tmp_path / "evidence-0.jpg").stat().st_size > 1000
        assert (tmp_path / "timeline.png").read_bytes()[:4] == b"\x89PNG"
