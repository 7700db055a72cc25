"""Limits that hold whatever a header or a container claims (issue 11, items 4, 5, 6 and 10).

Each test reproduces the attack the penetration test found: a download whose body has no length, a
stream that grows from 64×64 to a picture too large to allocate, a clip slower to decode than the
configured time, and an archive export whose one line decompresses to a gibibyte. Each is refused with
the documented one-line error, leaves nothing behind, and — where memory was the target — is measured
in a child process.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import json
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from service.archive.exchange import FORMAT, MAX_LINE_BYTES
from service.ingest.downloader import DOWNLOAD_BLOCK_BYTES
from service.settings import Settings
from tests.conftest import CliResult, archive_digest
from tests.media import ffmpeg, scene


def _one_line_refusal(res: CliResult, *needles: str) -> str:
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- item 4: bytes on disk while downloading, whatever the response says about its length -----------------

CAP = 2 * 1024**2
BODY = 20 * 1024**2
SEGMENT = 1024**2


@contextlib.contextmanager
def _body_without_a_length(framing: str) -> Iterator[str]:
    """A loopback server answering with 20 MB of "video/mp4" whose length is not announced: HTTP/1.0
    ended by closing the connection, HTTP/1.1 chunked, a small gzip body that inflates to it — or an HLS
    stream of 20 segments of 1 MiB, each with its length, which only add up to too much."""
    block = bytes(64 * 1024)
    inflated = gzip.compress(bytes(BODY), compresslevel=9)
    segments = BODY // SEGMENT
    playlist = "\n".join(["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:4", "#EXT-X-PLAYLIST-TYPE:VOD",
                          *(f"#EXTINF:4.0,\nseg{i}.ts" for i in range(segments)), "#EXT-X-ENDLIST", ""]).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, kind: str, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def do_GET(self) -> None:
            if framing == "hls":
                if self.path.endswith(".m3u8"):
                    self._send("application/vnd.apple.mpegurl", playlist)
                else:
                    self._send("video/mp2t", bytes(SEGMENT))
                return
            if framing == "chunked":
                self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Connection", "close")
            if framing == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
            if framing == "gzip":  # sent although yt-dlp asked for identity
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(inflated)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client hangs up once it has had enough
                if framing == "gzip":
                    self.wfile.write(inflated)
                    return
                for _ in range(BODY // len(block)):
                    if framing == "chunked":
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                    else:
                        self.wfile.write(block)
                if framing == "chunked":
                    self.wfile.write(b"0\r\n\r\n")

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/viral.{'m3u8' if framing == 'hls' else 'mp4'}"
    finally:
        server.shutdown()
        server.server_close()


class _MeasuredFile:
    """A file yt-dlp writes to; after each write, the bytes of every file in its folder are added up."""

    def __init__(self, fh: Any, path: Path, on_disk: list[int]) -> None:
        self._fh = fh
        self._folder = path.parent
        self._on_disk = on_disk

    def write(self, data: bytes) -> int:
        n = int(self._fh.write(data))
        self._fh.flush()
        self._on_disk.append(sum(p.stat().st_size for p in self._folder.iterdir() if p.is_file()))
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


@pytest.fixture
def bytes_on_disk(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """After every block yt-dlp's downloaders write (they all open their files through one function),
    how many bytes the download's folder holds: media, fragments and yt-dlp's own files."""
    from yt_dlp.downloader import common

    seen: list[int] = []
    original = common.sanitize_open

    def measured_open(filename: str, open_mode: str) -> tuple[Any, str]:
        fh, name = original(filename, open_mode)
        return _MeasuredFile(fh, Path(name).absolute(), seen), name

    monkeypatch.setattr(common, "sanitize_open", measured_open)
    return seen


@pytest.mark.parametrize("framing", ["close-delimited", "chunked", "gzip", "hls"])
def test_download_without_a_length_stops_at_the_byte_cap_and_leaves_nothing(
        cli, settings: Settings, monkeypatch: pytest.MonkeyPatch, bytes_on_disk: list[int], framing: str) -> None:
    monkeypatch.setenv("FIRSTSEEN_MAX_DOWNLOAD_BYTES", str(CAP))
    cli("archive", "list")
    before = archive_digest(settings)
    with _body_without_a_length(framing) as url:
        for args in (("check", url), ("archive", "add", url, "--title", "viral")):
            bytes_on_disk.clear()
            _one_line_refusal(cli(*args), "refused http://127.0.0.1:", "larger than the limit of 2 MB")
            peak = max(bytes_on_disk, default=0)
            # yt-dlp writes each HLS segment to a file of its own, then appends it to the video: while
            # it does, the segment is on disk twice.
            assert peak <= CAP + DOWNLOAD_BLOCK_BYTES + (SEGMENT if framing == "hls" else 0), (framing, peak)
            assert (peak > CAP / 2) == (framing != "gzip")  # gzip: refused while inflating, nothing written
    assert [p for p in settings.cache_dir.rglob("*") if p.is_file()] == []
    assert archive_digest(settings) == before


# -- item 5: pixels per frame, checked before a frame is decoded ---------------------------------------

SMALL_LIMIT = 256 * 256  # the tests' max_pixels where the big part is a moderate size

# Run in a child process: records its peak resident memory (VmHWM, KiB) in the file argv[1] when it
# exits. Not the rusage of the child: Linux starts a child's ru_maxrss at the parent's at fork.
PEAK = """
import atexit, sys
def record_peak(path=sys.argv[1]):
    with open("/proc/self/status") as fh:
        peak = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(peak)
atexit.register(record_peak)
del sys.argv[1]
"""
# firstseen's command line, as the installed `firstseen` script runs it.
FIRSTSEEN = PEAK + """
sys.argv[0] = "firstseen"
from service.cli import main
main()
"""
# Decodes one file with a pixel limit; exits with the error it was refused with.
DECODE = PEAK + """
from pathlib import Path
from service.decode.frames import DecodeLimits, sample_frames
from service.errors import FirstseenError
try:
    video = sample_frames(Path(sys.argv[1]), 2.0, DecodeLimits(max_pixels=int(sys.argv[2])))
except FirstseenError as exc:
    sys.exit(f"{type(exc).__name__}: {exc}")
"""


def _run_measured(code: str, args: list[str], tmp_path: Path) -> tuple[int, str, float]:
    """Run Python ``code`` with ``args`` in a child process: exit code, stderr, peak resident memory in MB."""
    peak = tmp_path / f"peak-{time.monotonic_ns()}"
    proc = subprocess.run([sys.executable, "-c", code, str(peak), *args], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=300)
    return proc.returncode, proc.stderr, int(peak.read_text()) / 1024


def _decode_measured(path: Path, max_pixels: int, tmp_path: Path) -> tuple[str, float]:
    code, err, peak = _run_measured(DECODE, [str(path), str(max_pixels)], tmp_path)
    return (err.strip() if code else "decoded"), peak


def _jpeg(width: int, height: int) -> bytes:
    """A valid baseline JPEG of a flat grey picture, 4:4:4, built by hand: every 8×8 block is two bits
    (DC difference 0, end of block), so a 16000×16000 picture is 3 MB and costs nothing to make."""

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15)  # a Huffman table holding one code of one bit
    blocks = (width // 8) * (height // 8) * 3
    return b"".join([
        b"\xff\xd8",
        segment(0xDB, b"\x00" + b"\x01" * 64),  # quantisation table 0
        segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"),
        segment(0xC4, b"\x00" + one_code + b"\x00" + b"\x10" + one_code + b"\x00"),  # DC: 0; AC: end of block
        segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00"),
        bytes((blocks * 2 + 7) // 8),
        b"\xff\xd9",
    ])


def _mjpeg_mkv(path: Path, pictures: list[bytes], width: int, height: int) -> Path:
    """Mux JPEG pictures as they are into Matroska, the header saying ``width``×``height``."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=5)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj444p"
        for i, picture in enumerate(pictures):
            packet = av.Packet(picture)
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, Fraction(1, 5)
            out.mux(packet)
    return path


def _parts(folder: Path, name: str, codec: tuple[str, ...], sizes: list[tuple[int, float]], ext: str) -> Path:
    """One video stream made of a part at each (side, seconds): the resolution changes mid-stream."""
    parts = []
    for i, (side, seconds) in enumerate(sizes):
        part = folder / f"{name}-{i}.{ext}"
        ffmpeg("-f", "lavfi", "-i", f"testsrc=size={side}x{side}:rate=25:duration={seconds}", *codec, str(part))
        parts.append(part)
    if ext == "h264":  # raw H.264: each part brings its own SPS; MP4 keeps them in the samples
        joined = folder / f"{name}.h264"
        joined.write_bytes(b"".join(p.read_bytes() for p in parts))
        ffmpeg("-r", "25", "-f", "h264", "-i", str(joined), "-c", "copy", str(folder / f"{name}.mp4"))
        return folder / f"{name}.mp4"
    listing = folder / f"{name}.txt"
    listing.write_text("".join(f"file '{p.name}'\n" for p in parts))
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(folder / f"{name}.{ext}"))
    return folder / f"{name}.{ext}"


H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-bsf:v", "h264_mp4toannexb", "-f", "h264")
AV1 = ("-c:v", "libaom-av1", "-cpu-used", "8", "-usage", "realtime")


@pytest.fixture(scope="module")
def growing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Streams whose header and first second say 64×64 and whose later frames are bigger."""
    d = tmp_path_factory.mktemp("growing")
    small = _jpeg(64, 64)
    return {
        "small_h264": _parts(d, "small_h264", H264, [(64, 1.0)], "h264"),
        "h264_64_to_4000": _parts(d, "h264_64_to_4000", H264, [(64, 1.0), (4000, 0.4)], "h264"),
        "av1_64_to_2000": _parts(d, "av1_64_to_2000", AV1, [(64, 1.0), (2000, 0.4)], "mkv"),
        "mjpeg_64_to_16000": _mjpeg_mkv(d / "mjpeg_64_to_16000.mkv", [small] * 10 + [_jpeg(16000, 16000)] * 3, 64, 64),
    }


@pytest.mark.parametrize("name", ["h264_64_to_4000", "av1_64_to_2000"])
def test_frames_that_grow_past_the_pixel_limit_are_refused_before_they_are_decoded(
        growing: dict[str, Path], tmp_path: Path, name: str) -> None:
    control, control_peak = _decode_measured(growing["small_h264"], SMALL_LIMIT, tmp_path)
    assert control == "decoded"
    refused, peak = _decode_measured(growing[name], SMALL_LIMIT, tmp_path)
    # Decoded, the big part's pictures alone take well over this (4000x4000: 24 MB each, several in flight).
    assert peak < control_peak + 40, (peak, control_peak)
    assert refused.startswith(f"TooLarge: {name}.") and refused.endswith(
        f"over the limit of {SMALL_LIMIT} pixels; the decoder refused it"), refused
    assert "\n" not in refused


def test_cli_refuses_a_stream_that_grows_past_the_pixel_limit_and_archives_nothing(
        cli, growing: dict[str, Path], settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRSTSEEN_MAX_PIXELS", str(SMALL_LIMIT))
    cli("archive", "list")
    before = archive_digest(settings)
    for args in (("check",), ("archive", "add")):
        _one_line_refusal(cli(*args, growing["h264_64_to_4000"]), "h264_64_to_4000.mp4 has a 4000x4000 frame",
                          f"over the limit of {SMALL_LIMIT} pixels")
    assert archive_digest(settings) == before


def test_a_16000x16000_frame_after_64x64_ones_stays_under_500_mb(
        growing: dict[str, Path], tmp_path: Path, home: Path, settings: Settings) -> None:
    """The pen test's pixel attack at its real size, with the default limit, through the real CLI."""
    assert _run_measured(FIRSTSEEN, ["archive", "list"], tmp_path)[0] == 0
    before = archive_digest(settings)
    for args in (("check",), ("archive", "add")):
        code, err, peak = _run_measured(FIRSTSEEN, [*args, str(growing["mjpeg_64_to_16000"])], tmp_path)
        assert peak < 500, peak  # decoded, one 16000x16000 4:4:4 picture is 768 MB
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
        assert "mjpeg_64_to_16000.mkv has a frame over the limit of 67108864 pixels" in lines[0], lines[0]
    assert archive_digest(settings) == before


@pytest.mark.parametrize("ext", ["flv", "mkv"])
def test_a_header_over_the_pixel_limit_is_refused_before_anything_is_decoded(tmp_path: Path, ext: str) -> None:
    """FFmpeg's stream probing decoded the first frames before the header could be checked; in FLV the
    stream only appears while probing, so no decoder option could reach it."""
    clip = tmp_path / f"big.{ext}"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=4000x4000:rate=25:duration=0.2", "-c:v", "libx264", "-preset",
           "ultrafast", str(clip))
    small = tmp_path / f"small.{ext}"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=25:duration=0.2", "-c:v", "libx264", str(small))
    _, control_peak = _decode_measured(small, SMALL_LIMIT, tmp_path)
    refused, peak = _decode_measured(clip, SMALL_LIMIT, tmp_path)
    assert peak < control_peak + 40, (peak, control_peak)  # probing decoded 4000x4000 frames: 70+ MB
    assert refused == f"TooLarge: big.{ext} is 4000x4000, over the limit of {SMALL_LIMIT} pixels"


# -- item 6: decode time per file, a setting -------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene(tmp_path_factory.mktemp("clip") / "clip.mp4", seed=5, seconds=3.0, size=(320, 180))


def test_decode_time_per_file_is_a_setting_and_refuses_with_one_line(
        cli, clip: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("archive", "list")
    before = archive_digest(settings)
    monkeypatch.setenv("FIRSTSEEN_MAX_DECODE_S", "0.001")
    for args in (("check",), ("archive", "add")):
        _one_line_refusal(cli(*args, clip), "clip.mp4 took over 0.001 s to decode, the limit")
    assert archive_digest(settings) == before
    monkeypatch.setenv("FIRSTSEEN_MAX_DECODE_S", "120")
    res = cli("check", clip, "--no-remember")
    assert res.exit_code == 0, res.stderr


# -- item 10: archive import, whatever the file holds ------------------------------------------------------


def _header() -> str:
    return json.dumps({"format": FORMAT, "version": 1, "exported_at": "2026-01-01T00:00:00+00:00"})


def test_import_of_a_gzip_bomb_line_is_refused_and_stays_under_500_mb(
        tmp_path: Path, home: Path, settings: Settings) -> None:
    """1 MiB of gzip holding a line of one gibibyte: gzip members of 1 MiB of 'a' each, one after another."""
    bomb = tmp_path / "archive.jsonl.gz"
    mebibyte = gzip.compress(b"a" * 1024**2, compresslevel=9)
    with bomb.open("wb") as fh:
        fh.write(gzip.compress(f'{_header()}\n{{"type": "item", "title": "'.encode()))
        for _ in range(1024):
            fh.write(mebibyte)
        fh.write(gzip.compress(b'"}\n'))
    assert bomb.stat().st_size < 1.1 * 1024**2
    assert _run_measured(FIRSTSEEN, ["archive", "list"], tmp_path)[0] == 0
    before = archive_digest(settings)
    code, err, peak = _run_measured(FIRSTSEEN, ["archive", "import", str(bomb)], tmp_path)
    assert peak < 500, peak  # read whole, the line took 2.2 GB
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"archive.jsonl.gz line 2 is longer than {MAX_LINE_BYTES // 1024**2} MiB" in lines[0], lines[0]
    assert archive_digest(settings) == before


def test_import_stops_at_the_decompressed_size_limit(cli, tmp_path: Path, settings: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRSTSEEN_MAX_IMPORT_BYTES", str(10**7))
    dump = tmp_path / "blank.jsonl.gz"
    dump.write_bytes(gzip.compress(f"{_header()}\n".encode() + b"\n" * (2 * 10**7)))
    cli("archive", "list")
    before = archive_digest(settings)
    _one_line_refusal(cli("archive", "import", dump), "blank.jsonl.gz inflates to more than 10 MB, the import limit")
    assert archive_digest(settings) == before


def _item_with(line: str, **changes: Any) -> str:
    """The export's item line with fields changed; ``sig_x`` changes field x of its first signal record."""
    record = json.loads(line)
    for key, value in changes.items():
        target = record["signals"][0] if key.startswith("sig_") else record
        target[key.removeprefix("sig_")] = value
    return json.dumps(record)


# name -> (what replaces the export's item line or follows it, what the one line says)
BAD_RECORDS: dict[str, tuple[Any, str]] = {
    "list": ("[1, 2]", "line 3 is not a JSON object"),
    "text": ('"item"', "line 3 is not a JSON object"),
    "number": ("42", "line 3 is not a JSON object"),
    "null": ("null", "line 3 is not a JSON object"),
    "nested_too_deeply": ("[" * 100_000, "line 3 is not JSON: nested too deeply"),
    "not_utf8": (b'{"type": "item", "title": "\xff"}', "line 3 is not JSON"),
    "title_list": (lambda item: _item_with(item, title=["x"]), "title must be text or null, not a list"),
    "id_text": (lambda item: _item_with(item, id="7"), "id must be an integer, not text"),
    "id_boolean": (lambda item: _item_with(item, id=True), "id must be an integer, not true or false"),
    "duration_text": (lambda item: _item_with(item, duration="3"), "duration must be an integer or a number, not text"),
    "signals_missing": (lambda item: _item_with(item, signals=None), "signals must be a list"),
    "signal_not_object": (lambda item: _item_with(item, signals=["video-phash"]), "signals[0] must be an object"),
    "signal_version_text": (lambda item: _item_with(item, sig_version="1"),
                            "signals[0].version must be an integer, not text"),
    "signal_payload_not_base64": (lambda item: _item_with(item, sig_payload_b64="not base64!"), "base64"),
    "signal_payload_not_video": (lambda item: _item_with(item, sig_payload_b64="AAAA"),
                                 "malformed item: signals[0] (video-phash): not a firstseen signal record"),
    "link_score_text": ('{"type": "link", "item_a": 1, "item_b": 1, "score": "high", "segments": []}',
                        "score must be an integer or a number, not text"),
    "link_segments_numbers": ('{"type": "link", "item_a": 1, "item_b": 1, "score": 1, "segments": [1]}',
                              "segments must be a list of objects"),
}


@pytest.mark.parametrize("name", sorted(BAD_RECORDS))
def test_import_refuses_a_record_that_is_not_what_export_writes_and_adds_nothing(
        cli, clip: Path, tmp_path: Path, settings: Settings, name: str) -> None:
    assert cli("archive", "add", clip, "--title", "clip").exit_code == 0
    dump = tmp_path / "archive.jsonl"
    assert cli("archive", "export", dump).exit_code == 0
    header, item = dump.read_text().splitlines()[:2]
    bad, says = BAD_RECORDS[name]
    bad = bad(item) if callable(bad) else bad
    bad = bad if isinstance(bad, bytes) else bad.encode()
    # A good item first: the refused file must add nothing, not the part before the bad line.
    dump.write_bytes(b"\n".join([header.encode(), item.encode(), bad, b""]))
    before = archive_digest(settings)
    _one_line_refusal(cli("archive", "import", dump), says)
    assert archive_digest(settings) == before


def test_import_refuses_a_header_that_is_not_an_object(cli, tmp_path: Path) -> None:
    dump = tmp_path / "archive.jsonl"
    dump.write_text("[1]\n")
    _one_line_refusal(cli("archive", "import", dump), "archive.jsonl line 1 is not a JSON object")
