"""A corpus of broken and hostile media, made on the spot (see test_broken_media.py)."""

from __future__ import annotations

from pathlib import Path

from tests.media import ffmpeg


def _patch_mjpeg_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite every baseline JPEG frame header (SOF0) to claim another picture size."""
    out = bytearray(data)
    i = out.find(b"\xff\xc0")
    while i != -1:
        out[i + 5 : i + 7] = height.to_bytes(2, "big")
        out[i + 7 : i + 9] = width.to_bytes(2, "big")
        i = out.find(b"\xff\xc0", i + 2)
    return bytes(out)


def make_broken_corpus(d: Path, original: Path) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["empty"] = d / "empty.mp4"
    files["empty"].write_bytes(b"")
    files["text_as_mp4"] = d / "notes.mp4"
    files["text_as_mp4"].write_text("not a video\n" * 100)
    files["truncated_no_moov"] = d / "truncated.mp4"
    files["truncated_no_moov"].write_bytes(original.read_bytes()[: original.stat().st_size // 2])
    files["audio_only"] = d / "audio_only.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", str(files["audio_only"]))
    files["single_frame"] = d / "single_frame.mp4"
    ffmpeg("-i", str(original), "-frames:v", "1", "-c:v", "libx264", str(files["single_frame"]))
    small = d / "small.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-frames:v", "3", "-c:v", "mjpeg", str(small))
    files["huge_frame_header"] = d / "huge_16000.avi"
    files["huge_frame_header"].write_bytes(_patch_mjpeg_size(small.read_bytes(), 16000, 16000))
    files["variable_frame_rate"] = d / "vfr.mp4"
    ffmpeg("-i", str(original), "-vf", "setpts='PTS+0.013*mod(N,7)/TB'", "-fps_mode", "vfr", "-c:v", "libx264",
           str(files["variable_frame_rate"]))
    files["rotated_metadata"] = d / "phone_rotated.mp4"
    ffmpeg("-i", str(original), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(files["rotated_metadata"]))
    files["clip_0_2s"] = d / "short.mp4"
    ffmpeg("-i", str(original), "-t", "0.2", "-c:v", "libx264", str(files["clip_0_2s"]))
    files["three_hours_sparse"] = d / "three_hours.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=1:duration=10800", "-c:v", "libx264", "-preset",
           "ultrafast", "-g", "600", str(files["three_hours_sparse"]))
    files["timestamp_bomb"] = d / "timestamp_bomb.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=25:duration=1", "-vf",
           "setpts='PTS+gte(N\\,10)*360000/TB'", "-fps_mode", "passthrough", "-c:v", "libx264",
           str(files["timestamp_bomb"]))
    return files
