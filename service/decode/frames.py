"""Decode: sample small greyscale frames from a media file at a fixed rate.

Second stage of the data flow (ingest → **decode** → fingerprint). Frames are
shrunk inside the decoder (PyAV's ``reformat`` runs swscale on the decoded
picture) so nothing full-size reaches Python, and only sampled frames are
converted at all. Sampling 2 of every 25 frames, most decoding work is for
frames nobody looks at: packets that fall before the next sample time are
decoded with ``skip_frame=NONREF``, so the decoder drops the frames no other
frame refers to (about half of an x264 stream's frames) and still builds every
reference picture, which leaves the sampled frames bit-identical. Limits
(duration, resolution, frame count, decode time) are checked here because this
is where a hostile file would cost us.

Pixels are limited before a frame is decoded, not after: a container's header
may say 64×64 while a later frame says 16000×16000 (a new H.264 SPS, a new
JPEG frame header), and the decoder allocates the big picture (gigabytes)
before Python sees it. So the header's size is checked first, and the decoder
itself gets ``max_pixels`` (libavcodec's own limit, checked when it parses a
frame's size) and refuses such a frame instead of allocating it. FFmpeg's
stream probing decodes too, with decoders nobody can give that limit for
formats whose streams only appear while probing (FLV, MPEG-PS); ``OPEN_OPTIONS``
keeps every decoder out of probing (``codec_whitelist`` naming none), so
nothing is decoded until our own, limited decoder runs.

Every file is opened with ``OPEN_OPTIONS``: FFmpeg may only pick one of the
self-contained ``VIDEO_CONTAINERS`` and only read through its ``file``
protocol. Without them an uploaded ``.m3u8`` or ffconcat list (or a link whose
body is one) naming a path or ``file://`` URL on the server is decoded, which
shows frames of a file nobody uploaded, and its error reveals whether a path
exists. FFmpeg checks the whitelist after probing and before the demuxer reads
anything, so a refused file gives the same error whatever it lists.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.video.reformatter
import numpy as np
import numpy.typing as npt
from PIL import Image

from service.errors import DecodeError, TooLarge

__all__ = ["DECODE_MAX_SIDE", "OPEN_OPTIONS", "VIDEO_CONTAINERS", "DecodeLimits", "grab_frame", "limit_pixels",
           "open_media", "sample_frames", "SampledVideo"]

log = logging.getLogger(__name__)

# Longest side of decoded frames. 256 px keeps a 40% picture-in-picture inset
# at ~100 px, still 3× the 32 px that pHash resamples to, and a 60-minute video
# at 2 fps under 300 MB of greyscale.
DECODE_MAX_SIDE = 256

# FFmpeg demuxers (by name) a video can arrive in, uploaded or downloaded: each holds its own
# media and opens no other file or link. "mov" is the MP4/MOV/3GP family (its references to
# other files, drefs, stay off: enable_drefs=0), "matroska" includes WebM, "mpegts" is what
# yt-dlp's HLS downloads hold, "gif" covers animated GIFs, and h264/hevc/m4v/ivf are raw
# streams. Left out on purpose: hls, dash, webm_dash_manifest and concat/ffconcat (lists of
# other files or links), image2 and the image pipes (numbered sequences of other files),
# sdp/rtsp (network sessions), and everything else FFmpeg can probe, which no video we check
# comes in.
VIDEO_CONTAINERS = ("mov", "matroska", "avi", "flv", "mpegts", "mpeg", "asf", "ogg", "gif",
                    "h264", "hevc", "m4v", "ivf")
# Passed to avformat_open_input (PyAV's ``container_options``).
OPEN_OPTIONS = {
    "format_whitelist": ",".join(VIDEO_CONTAINERS),
    "protocol_whitelist": "file",  # no http, tcp, data, subfile, crypto, concat, pipe ...
    "enable_drefs": "0",
    # Decoders FFmpeg may open while probing the streams: none (no decoder is named "none"). Probing
    # then reads sizes from headers and parsers only, and decodes nothing with unlimited pixels.
    "codec_whitelist": "none",
}


@dataclass(frozen=True)
class DecodeLimits:
    max_duration_s: float = 3600.0
    max_pixels: int = 8192 * 8192  # per frame, enforced by the decoder before it allocates one
    max_frames: int = 20_000
    # Wall-clock seconds one file may take to decode (Settings.max_decode_s says why not CPU time).
    max_decode_s: float = 900.0


@dataclass(frozen=True, eq=False)
class SampledVideo:
    """``frames[i]`` (greyscale, shrunk) was shown at ``times[i]`` seconds."""

    times: npt.NDArray[np.float32]
    frames: npt.NDArray[np.uint8]  # (n, h, w)
    duration: float
    width: int  # original size
    height: int
    fps: float


def open_media(path: Path) -> av.container.InputContainer:
    """Open ``path`` as one of ``VIDEO_CONTAINERS``, read through the file protocol only, decoding nothing."""
    # An absolute path starts with "/", so FFmpeg never reads a protocol ("subfile,", "concat:") into it.
    try:
        return av.open(str(path.absolute()), mode="r", timeout=30.0, container_options=OPEN_OPTIONS)
    except av.error.FFmpegError as exc:
        if exc.errno == errno.EINVAL:  # what FFmpeg answers for a format not on the whitelist
            raise DecodeError(f"{path.name} is not a readable video (not a video file; playlists and "
                              "lists of other files are refused)") from None
        raise DecodeError(f"{path.name} is not a readable video ({exc.strerror or exc})") from None
    except (OSError, ValueError) as exc:
        raise DecodeError(f"{path.name} is not a readable video ({exc})") from None


def limit_pixels(stream: av.video.stream.VideoStream, path: Path, max_pixels: int) -> None:
    """Refuse a header over ``max_pixels``, and make the decoder refuse any later frame over it."""
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > max_pixels:
        raise TooLarge(f"{path.name} is {width}x{height}, over the limit of {max_pixels} pixels")
    # Read by avcodec_open2 when the first packet is decoded; frame threads copy it.
    stream.codec_context.options = {**stream.codec_context.options, "max_pixels": str(max_pixels)}


def _refused_size(codec: av.video.codeccontext.VideoCodecContext | None, exc: av.error.FFmpegError,
                  max_pixels: int) -> str | None:
    """How a decoder's error says it refused a frame over ``max_pixels``; None for any other error.

    libavcodec has no error code for it, so this reads what each decoder family leaves behind:
    H.264 keeps the refused size in the context; decoders that set sizes through
    ``ff_set_dimensions`` (MPEG-1/2/4, VP8, VP9, MJPEG and most others) answer EINVAL and zero it;
    dav1d (AV1) answers ERANGE. HEVC drops the frames of a refused SPS without an error: the clip
    then ends where the refused part begins, which costs no memory either.
    """
    if codec is None:
        return None
    width, height = codec.width, codec.height
    if width * height > max_pixels:
        return f"a {width}x{height} frame"
    if (exc.errno == errno.EINVAL and width == height == 0) or exc.errno == errno.ERANGE:
        return "a frame"
    return None


def _shrunk_size(width: int, height: int) -> tuple[int, int]:
    scale = DECODE_MAX_SIDE / max(width, height)
    if scale >= 1.0:
        return width - width % 2, height - height % 2
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def sample_frames(
    path: Path,
    sample_fps: float,
    limits: DecodeLimits = DecodeLimits(),
    progress: Callable[[float], None] | None = None,
) -> SampledVideo:
    """Decode ``path`` and keep one shrunk greyscale frame every ``1/sample_fps`` s."""
    started = time.monotonic()
    container = open_media(path)
    frames: list[npt.NDArray[np.uint8]] = []
    codec: av.video.codeccontext.VideoCodecContext | None = None
    try:
        if not container.streams.video:
            raise DecodeError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        codec = stream.codec_context
        # 0x0 for the few streams that say their size only in the first frame (MPEG-4 Part 2 in MP4)
        width, height = codec.width, codec.height
        limit_pixels(stream, path, limits.max_pixels)
        duration = _container_duration(container, stream)
        if duration is not None and duration > limits.max_duration_s:
            raise TooLarge(
                f"{path.name} is {duration:.0f} s long, over the limit of {limits.max_duration_s:.0f} s"
            )
        stream.thread_type = "AUTO"
        out_w, out_h = _shrunk_size(width, height) if width and height else (0, 0)
        step = 1.0 / sample_fps
        next_t = 0.0
        times: list[float] = []
        last_t = 0.0
        fps = float(stream.average_rate) if stream.average_rate else 0.0
        time_base = stream.time_base or Fraction(1, 1000)
        # Seconds of a timestamp as ((pts - start) * num) / den: Python's int division rounds correctly,
        # so this is float(Fraction(...)) bit for bit, without a Fraction per packet.
        num, den = time_base.numerator, time_base.denominator
        start_pts = stream.start_time or 0
        # One scaler for every kept frame (a frame's own ``reformat`` sets up swscale again each time).
        scaler = av.video.reformatter.VideoReformatter()
        # A frame this far before the next sample time is never kept (slack for odd timestamps).
        slack = min(step / 2, 3.0 / fps) if fps else step / 2
        for packet in container.demux(stream):
            if time.monotonic() - started > limits.max_decode_s:
                raise TooLarge(f"{path.name} took over {limits.max_decode_s:g} s to decode, the limit")
            # before the next sample time: the decoder may drop it unless other frames refer to it
            before = packet.pts is not None and ((packet.pts - start_pts) * num) / den < next_t - slack
            codec.skip_frame = "NONREF" if before else "DEFAULT"
            for frame in packet.decode():
                pts = frame.pts
                t = last_t + (1.0 / fps if fps else step) if pts is None else ((pts - start_pts) * num) / den
                last_t = max(last_t, t)
                if t > limits.max_duration_s:
                    raise TooLarge(
                        f"{path.name} runs past {limits.max_duration_s:.0f} s, the duration limit"
                    )
                if t + 1e-6 < next_t:
                    continue
                if frame.width * frame.height > limits.max_pixels:  # the decoder should have refused it
                    raise TooLarge(f"{path.name} has a {frame.width}x{frame.height} frame, over the limit")
                if not width or not height:
                    width, height = frame.width, frame.height
                if (frame.width, frame.height) != (width, height) or not out_w:
                    out_w, out_h = _shrunk_size(frame.width, frame.height)
                    if frames and frames[0].shape != (out_h, out_w):
                        # Resolution changed mid-stream: keep the first geometry.
                        out_h, out_w = frames[0].shape
                gray = scaler.reformat(frame, width=out_w, height=out_h, format="gray").to_ndarray()
                times.append(t)
                frames.append(np.ascontiguousarray(gray[:out_h, :out_w]))
                if len(frames) > limits.max_frames:
                    raise TooLarge(f"{path.name} has more than {limits.max_frames} sampled frames")
                next_t = max(next_t + step, t + step * 0.5)
                if progress is not None and duration:
                    progress(min(1.0, t / duration))
    except av.error.FFmpegError as exc:
        refused = _refused_size(codec, exc, limits.max_pixels)
        if refused is not None:
            raise TooLarge(f"{path.name} has {refused} over the limit of {limits.max_pixels} pixels; "
                           "the decoder refused it") from None
        if not frames:
            raise DecodeError(f"{path.name} could not be decoded ({exc.strerror or exc})") from None
        log.warning("decoding %s stopped early at %.1f s: %s", path.name, last_t, exc)
    finally:
        container.close()
    if not frames:
        raise DecodeError(f"{path.name} contains no decodable video frames")
    total = max(duration or 0.0, last_t + (1.0 / fps if fps else step))
    return SampledVideo(
        times=np.asarray(times, dtype=np.float32),
        frames=np.stack(frames),
        duration=float(total),
        width=width,
        height=height,
        fps=fps,
    )


def _container_duration(container: av.container.InputContainer,
                        stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return None


def grab_frame(path: Path, t: float, max_side: int = 480,
               max_pixels: int = DecodeLimits.max_pixels) -> Image.Image:
    """One RGB frame near ``t`` seconds, for evidence pictures (seek, then decode forward)."""
    container = open_media(path)
    try:
        if not container.streams.video:
            raise DecodeError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        limit_pixels(stream, path, max_pixels)
        time_base = stream.time_base or Fraction(1, 1000)
        start_pts = stream.start_time or 0
        target = int(t / time_base) + start_pts
        container.seek(max(target, 0), stream=stream, backward=True, any_frame=False)
        best = None
        for frame in container.decode(stream):
            best = frame
            if frame.pts is not None and frame.pts >= target:
                break
        if best is None:
            raise DecodeError(f"no frame at {t:.1f} s in {path.name}")
        image: Image.Image = best.to_image()  # type: ignore[no-untyped-call]
        scale = max_side / max(image.size)
        if scale < 1.0:
            size = (max(2, round(image.width * scale)), max(2, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.BILINEAR)
        return image
    except av.error.FFmpegError as exc:
        raise DecodeError(f"cannot read a frame of {path.name} at {t:.1f} s ({exc})") from None
    finally:
        container.close()
