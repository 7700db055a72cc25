"""Media that points somewhere else: an HLS stream yt-dlp would hand to ffmpeg (whose sockets pass
no guard), and playlists or file lists that would make the decoder read other files on the server.

The reproductions of issue 11's two high findings: canary servers on 127.0.0.2 and [::1] see no
connection at all, no program is started while a link is fetched, and a playlist naming a server
file is refused with the same line whether that file exists or not.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest

from service.decode.frames import OPEN_OPTIONS, VIDEO_CONTAINERS, grab_frame, sample_frames
from service.errors import DecodeError, FetchRefused
from service.ingest.downloader import LocalOrYtDlpDownloader
from service.ingest.safety import guarded_youtube_dl
from service.settings import Settings
from tests.conftest import LoopbackServer, Media, archive_digest
from tests.media import ffmpeg

FOOTAGE = Path("/work/shared/footage")

# Every program this process starts while `_spawns` is armed (the interpreter's own audit events,
# so a program started by any library is seen).
_spawns: list[object] = []
_armed = threading.Event()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _armed.is_set() and event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork"):
        _spawns.append((event, args))


sys.addaudithook(_audit)


@pytest.fixture
def spawns() -> Iterator[list[object]]:
    _spawns.clear()
    _armed.set()
    try:
        yield _spawns
    finally:
        _armed.clear()


# -- 1. SSRF: yt-dlp must not hand a stream to ffmpeg (or any program) --------------------------------


@dataclass
class Canary:
    """A server at an address the link guard must never reach, which would happily serve the stream."""

    base: str  # http://127.0.0.2:port or http://[::1]:port
    hits: list[str]  # each connection ("connect from …") and request ("GET /path")


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _recording_server(cls: type[http.server.ThreadingHTTPServer], host: str, root: Path, hits: list[str],
                      types: dict[str, str] | None = None) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **(types or {})}

        def do_GET(self) -> None:
            hits.append(f"GET {self.path}")
            super().do_GET()

        def do_HEAD(self) -> None:
            hits.append(f"HEAD {self.path}")
            super().do_HEAD()

        def log_message(self, format: str, *args: object) -> None:
            return None

    class Server(cls):  # type: ignore[valid-type, misc]
        def verify_request(self, request: Any, client_address: Any) -> bool:
            hits.append(f"connect from {client_address[0]}")
            return True

    server = Server((host, 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory, media: Media) -> Path:
    """Four seconds of the original clip as an MPEG-TS segment (what an HLS stream is made of)."""
    path = tmp_path_factory.mktemp("hls") / "seg.ts"
    ffmpeg("-i", str(media.original), "-t", "4", "-c:v", "libx264", "-an", "-f", "mpegts", str(path))
    return path


@pytest.fixture
def canaries(tmp_path: Path, segment: Path) -> Iterator[list[Canary]]:
    """Canaries on 127.0.0.2 and, where the host has IPv6 loopback, on [::1]; each serves the segment and a key."""
    root = tmp_path / "canary"
    root.mkdir()
    (root / "seg.ts").write_bytes(segment.read_bytes())
    (root / "key").write_bytes(bytes(range(16)))
    servers: list[http.server.ThreadingHTTPServer] = []
    found: list[Canary] = []
    for cls, host, shown in ((http.server.ThreadingHTTPServer, "127.0.0.2", "127.0.0.2"),
                             (_V6Server, "::1", "[::1]")):
        hits: list[str] = []
        try:
            server = _recording_server(cls, host, root, hits)
        except OSError:  # no IPv6 loopback here
            continue
        servers.append(server)
        found.append(Canary(f"http://{shown}:{server.server_address[1]}", hits))
    try:
        yield found
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _hls(segments: list[str], key: str | None = None, method: str = "AES-128") -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:4", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-PLAYLIST-TYPE:VOD"]
    if key is not None:
        lines.append(f'#EXT-X-KEY:METHOD={method},URI="{key}"')
    for url in segments:
        lines += ["#EXTINF:4.0,", url]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


# FOO-BAR: a method yt-dlp's own HLS downloader does not know, so it delegated to ffmpeg.
# AES-128: without pycryptodomex, yt-dlp delegated the decryption to ffmpeg when ffmpeg was installed.
@pytest.mark.parametrize("method", ["FOO-BAR", "AES-128"])
def test_hls_stream_that_only_ffmpeg_would_fetch_is_refused_and_the_canaries_see_nothing(
        cli, web_server: LoopbackServer, canaries: list[Canary], settings: Settings,
        monkeypatch: pytest.MonkeyPatch, spawns: list[object], method: str) -> None:
    # Only the playlist's host is allowed: the canaries are what an attacker would reach through ffmpeg.
    monkeypatch.setenv("FIRSTSEEN_ALLOW_HOSTS", json.dumps(["127.0.0.1"]))
    (web_server.root / "stream.m3u8").write_text(
        _hls([f"{c.base}/seg.ts" for c in canaries], key=f"{canaries[0].base}/key?from=ffmpeg", method=method))
    cli("archive", "list")
    before = archive_digest(settings)
    url = web_server.url("stream.m3u8")
    for args in (("check", url), ("archive", "add", url, "--title", "stream")):
        res = cli(*args)
        lines = res.stderr.strip().splitlines()
        assert res.exit_code == 2, (args, res.stdout, res.stderr)
        assert len(lines) == 1 and "refused" in lines[0] and "Traceback" not in res.stderr, res.stderr
    assert "/stream.m3u8" in web_server.requests  # the playlist was read: the guard stopped what came next
    assert [c.hits for c in canaries] == [[] for _ in canaries]
    assert spawns == []
    assert archive_digest(settings) == before


def test_ffmpeg_fallback_is_refused_by_name_with_one_line(web_server: LoopbackServer, canaries: list[Canary],
                                                          settings: Settings, spawns: list[object]) -> None:
    (web_server.root / "stream.m3u8").write_text(
        _hls([f"{c.base}/seg.ts" for c in canaries], key=f"{canaries[0].base}/key", method="FOO-BAR"))
    downloader = LocalOrYtDlpDownloader(settings.model_copy(update={"allow_hosts": ["127.0.0.1"]}))
    with pytest.raises(FetchRefused) as refused:
        downloader.fetch(web_server.url("stream.m3u8"))
    assert str(refused.value) == (f"refused {web_server.url('stream.m3u8')}: this video can only be downloaded by "
                                  "ffmpeg, an outside program whose connections would bypass the link guard")
    assert [c.hits for c in canaries] == [[] for _ in canaries] and spawns == []


def test_every_program_yt_dlp_could_start_is_refused(spawns: list[object]) -> None:
    from yt_dlp.downloader import get_suitable_downloader
    from yt_dlp.downloader.external import FFmpegFD, get_external_downloader, list_external_downloaders
    from yt_dlp.downloader.rtmp import RtmpFD
    from yt_dlp.utils import Popen

    asked = {"external_downloader": "ffmpeg", "hls_prefer_native": False, "fixup": "force",
             "postprocessors": [{"key": "FFmpegVideoConvertor", "preferedformat": "mkv"}]}
    with guarded_youtube_dl(asked, ["127.0.0.1"]) as ydl:
        assert ydl.params["external_downloader"] == {"default": "native"} and ydl.params["fixup"] == "never"
        assert not any(ydl._pps.values())  # no postprocessor at any stage
        assert not FFmpegFD.available()  # asked without our params (as HlsFD does): no ffmpeg, and no probe
        for protocol in ("http", "https", "m3u8", "m3u8_native", "http_dash_segments", "f4m"):
            chosen = get_suitable_downloader({"url": "http://127.0.0.1/v", "protocol": protocol}, ydl.params)
            assert chosen is not FFmpegFD and chosen.__module__ != "yt_dlp.downloader.external", protocol
        info = {"url": "http://127.0.0.2/v.m3u8", "webpage_url": "http://127.0.0.1/page", "protocol": "m3u8"}
        for fd in [*(get_external_downloader(name) for name in list_external_downloaders()), RtmpFD]:
            with pytest.raises(FetchRefused, match=r"^refused http://127\.0\.0\.1/page: .* outside program"):
                fd(ydl, ydl.params).real_download("out.mp4", dict(info))
        with pytest.raises(FetchRefused, match="firstseen starts no program"):
            Popen.run(["ffmpeg", "-version"])
    assert spawns == []


def test_hls_from_the_allowed_host_still_downloads_plain_and_aes_128(cli, web_server: LoopbackServer,
                                                                     media: Media, spawns: list[object]) -> None:
    """The guard refuses programs, not HLS: yt-dlp fetches the segments and the key and decrypts them itself."""
    cli("archive", "add", media.original, "--title", "original")
    www = web_server.root
    (www / "enc.key").write_bytes(os.urandom(16))
    (www / "keyinfo").write_text(f"{web_server.url('enc.key')}\n{www / 'enc.key'}\n")
    # Six seconds: yt-dlp decrypts AES-128 in pure Python when pycryptodomex is absent.
    hls = ("-i", str(media.original), "-t", "6", "-c:v", "copy", "-an", "-f", "hls", "-hls_time", "2",
           "-hls_playlist_type", "vod")
    ffmpeg(*hls, "-hls_segment_filename", str(www / "plain%d.ts"), str(www / "plain.m3u8"))
    ffmpeg(*hls, "-hls_key_info_file", str(www / "keyinfo"), "-hls_segment_filename", str(www / "enc%d.ts"),
           str(www / "enc.m3u8"))
    assert "METHOD=AES-128" in (www / "enc.m3u8").read_text()
    spawns.clear()
    for name in ("plain.m3u8", "enc.m3u8"):
        res = cli("check", web_server.url(name), "--no-remember", "--json")
        assert res.exit_code == 0, res.stderr
        assert [m["title"] for m in res.json()["matches"]] == ["original"]  # type: ignore[index]
    assert "/enc.key" in web_server.requests
    assert spawns == []


# -- 2. Local files: the decoder opens self-contained video containers only ------------------------------


def _playlists(folder: Path, target: Path) -> dict[str, Path]:
    """Files that make FFmpeg read ``target`` (a file on the server nobody uploaded) or other files."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "hls_absolute_path": folder / "list.m3u8",
        "hls_file_url": folder / "url.m3u8",
        "m3u_named_playlist": folder / "clip.m3u",
        "ffconcat_list": folder / "clip.ffconcat",
    }
    out["hls_absolute_path"].write_text(_hls([str(target)]))
    out["hls_file_url"].write_text(_hls([target.as_uri()]))
    out["m3u_named_playlist"].write_text(_hls([str(target)]))
    # The concat demuxer's "safe" mode refuses absolute paths, not a name beside the list.
    out["ffconcat_list"].write_text(f"ffconcat version 1.0\nfile '{target.name}'\n")
    return out


@pytest.fixture(scope="module")
def server_file(tmp_path_factory: pytest.TempPathFactory, media: Media) -> Path:
    """A video on the server nobody uploaded here: another link's cached HLS download (MPEG-TS, which
    FFmpeg's HLS demuxer plays as a segment)."""
    path = tmp_path_factory.mktemp("server") / "private.ts"
    ffmpeg("-i", str(media.unrelated), "-c", "copy", "-f", "mpegts", str(path))
    return path


@pytest.mark.parametrize("kind", ["hls_absolute_path", "hls_file_url", "m3u_named_playlist", "ffconcat_list"])
def test_playlist_naming_a_server_file_is_refused_with_the_same_line_whether_it_exists(
        tmp_path: Path, server_file: Path, kind: str) -> None:
    present = _playlists(server_file.parent, server_file)[kind]
    absent = _playlists(tmp_path / "absent", tmp_path / "absent" / server_file.name)[kind]
    messages = []
    for playlist in (present, absent):
        with pytest.raises(DecodeError) as refused:
            sample_frames(playlist, 2.0)
        messages.append(str(refused.value))
        with pytest.raises(DecodeError):
            grab_frame(playlist, 1.0)
    assert messages[0] == messages[1]
    assert messages[0] == (f"{present.name} is not a readable video "
                           "(not a video file; playlists and lists of other files are refused)")


def test_numbered_image_sequence_is_refused(tmp_path: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", str(tmp_path / "frame%03d.png"))
    with pytest.raises(DecodeError, match="not a readable video"):
        sample_frames(tmp_path / "frame%03d.png", 2.0)  # FFmpeg's image2 would read frame001.png …
    with pytest.raises(DecodeError, match="not a readable video"):
        sample_frames(tmp_path / "frame001.png", 2.0)


def test_pyav_applies_the_format_and_protocol_whitelists(media: Media, tmp_path: Path) -> None:
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(_hls([str(media.original)]))
    with av.open(str(playlist)) as container:  # without the options FFmpeg follows the playlist
        assert container.format.name == "hls"
    with pytest.raises(av.error.FFmpegError):
        av.open(str(playlist), container_options=OPEN_OPTIONS)
    window = f"subfile,,start,0,end,0,,:{media.original}"
    with av.open(window) as container:  # the subfile protocol reads another file
        assert container.streams.video
    with pytest.raises(av.error.FFmpegError):
        av.open(window, container_options=OPEN_OPTIONS)
    with av.open(str(media.original), container_options=OPEN_OPTIONS) as container:
        assert container.format.name.split(",")[0] in VIDEO_CONTAINERS


def test_cli_refuses_a_playlist_upload_and_archives_nothing(cli, server_file: Path, settings: Settings,
                                                            media: Media) -> None:
    cli("archive", "add", media.original, "--title", "original")
    before = archive_digest(settings)
    for playlist in _playlists(server_file.parent, server_file).values():
        for verb in (("check",), ("archive", "add")):
            res = cli(*verb, playlist)
            lines = res.stderr.strip().splitlines()
            assert res.exit_code == 2, (playlist.name, res.stdout)
            assert len(lines) == 1 and "not a readable video" in lines[0] and "Traceback" not in res.stderr
            assert str(server_file.parent) not in res.stderr
    assert archive_digest(settings) == before


def test_link_serving_a_playlist_as_video_mp4_is_refused(cli, tmp_path: Path, server_file: Path,
                                                         settings: Settings) -> None:
    root = tmp_path / "www"
    root.mkdir()
    (root / "clip.m3u").write_text(_hls([str(server_file)]))
    hits: list[str] = []
    server = _recording_server(http.server.ThreadingHTTPServer, "127.0.0.1", root, hits, {".m3u": "video/mp4"})
    try:
        cli("archive", "list")
        before = archive_digest(settings)
        res = cli("check", f"http://127.0.0.1:{server.server_address[1]}/clip.m3u")
        lines = res.stderr.strip().splitlines()
        assert res.exit_code == 2, res.stdout
        assert len(lines) == 1 and "not a readable video" in lines[0] and "Traceback" not in res.stderr
        assert "GET /clip.m3u" in hits  # downloaded, then refused by the decoder
        assert archive_digest(settings) == before
    finally:
        server.shutdown()
        server.server_close()


# -- what must still open -------------------------------------------------------------------------------

CONTAINERS = {
    "mp4": ("-c:v", "libx264"),
    "mov": ("-c:v", "libx264"),
    "mkv": ("-c:v", "libx264"),
    "webm": ("-c:v", "libvpx", "-b:v", "300k"),
    "avi": ("-c:v", "mjpeg"),
    "flv": ("-c:v", "flv"),
    "ts": ("-c:v", "libx264"),
    "mpg": ("-c:v", "mpeg2video"),
    "wmv": ("-c:v", "wmv2"),
    "ogv": ("-c:v", "libtheora"),
    "gif": (),
    "3gp": ("-c:v", "libx264"),
    "h264": ("-c:v", "libx264"),
    "ivf": ("-c:v", "libvpx-vp9", "-b:v", "300k"),
}


@pytest.mark.parametrize("ext", sorted(CONTAINERS))
def test_ordinary_video_containers_still_decode(tmp_path: Path, media: Media, ext: str) -> None:
    path = tmp_path / f"clip.{ext}"
    ffmpeg("-i", str(media.original), "-t", "2", "-an", "-vf", "scale=160:-2", *CONTAINERS[ext], str(path))
    video = sample_frames(path, 2.0)
    assert len(video.frames) >= 3 and video.width == 160


def test_real_footage_still_opens() -> None:
    """Debian's opencv-doc clips (installed by scripts/system-deps.sh test), and shared/footage where it exists."""
    debian = [Path("/usr/share/doc/opencv-doc/examples/data") / name for name in ("vtest.avi", "tree.avi")]
    assert all(p.is_file() for p in debian), "scripts/system-deps.sh test installs Debian's opencv-doc"
    for clip in [*debian, *sorted(FOOTAGE.glob("*.mp4"))]:
        assert grab_frame(clip, 0.5).size[0] > 0, clip.name
