"""The edits recyclers make, each one ffmpeg command, with where the source ends up in time.

Every ``Edit`` turns a source clip into a query clip and returns its ``Truth``:
which query seconds show which source seconds (``archive_t = a0 + speed ·
(query_t − q0)``), so the benchmark can check both *that* the source was found
and *where*. Overlays (logos, captions, banners, a screen recorder's window
chrome) are drawn once with OpenCV into PNGs, so no font package is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bench.corpus import X264, Clip, ffmpeg

__all__ = ["EDITS", "EXTRA_EDITS", "PIP_LAYOUTS", "Context", "Edit", "PipLayout", "Span", "Truth", "apply_edit",
           "edit_by_name", "overlay_assets"]


@dataclass(frozen=True)
class Span:
    """Query seconds [q0, q1] show the source at ``a0 + speed · (t − q0)``."""

    q0: float
    q1: float
    a0: float
    speed: float = 1.0

    def archive_t(self, q: float) -> float:
        return self.a0 + self.speed * (q - self.q0)


Truth = tuple[Span, ...]


@dataclass(frozen=True)
class Context:
    """What edits draw on besides the source: overlay PNGs and other footage (fillers)."""

    assets: dict[str, Path]
    fillers: dict[str, Clip]


@dataclass(frozen=True)
class Edit:
    name: str
    group: str  # for the chart: geometry, overlay, colour, time, composite, combo
    make: Callable[[Clip, Path, Context], Truth]


def _even(expr: str) -> str:
    return f"trunc({expr}/2)*2"


def _vf(chain: str, extra: tuple[str, ...] = ()) -> Callable[[Clip, Path, Context], Truth]:
    """An edit that is one filter chain over the whole clip, time unchanged."""

    def make(src: Clip, out: Path, _ctx: Context) -> Truth:
        ffmpeg("-i", str(src.path), "-vf", chain, *X264, *extra, str(out))
        return (Span(0.0, src.duration, 0.0),)

    return make


def _speed(factor: float) -> Callable[[Clip, Path, Context], Truth]:
    def make(src: Clip, out: Path, _ctx: Context) -> Truth:
        ffmpeg("-i", str(src.path), "-vf", f"setpts=PTS/{factor},fps=25", *X264, str(out))
        return (Span(0.0, src.duration / factor, 0.0, factor),)

    return make


def _excerpt(start: float, length: float, chain: str = "null") -> Callable[[Clip, Path, Context], Truth]:
    def make(src: Clip, out: Path, _ctx: Context) -> Truth:
        end = min(src.duration, start + length)
        ffmpeg("-ss", f"{start}", "-i", str(src.path), "-t", f"{end - start}", "-vf", chain, *X264, str(out))
        return (Span(0.0, end - start, start),)

    return make


def _excerpt_middle(length: float) -> Callable[[Clip, Path, Context], Truth]:
    """``length`` seconds from the middle of the clip, re-encoded (what a repost of a long recording keeps)."""

    def make(src: Clip, out: Path, _ctx: Context) -> Truth:
        start = round(max(0.0, (src.duration - length) / 2), 1)
        end = min(src.duration, start + length)
        ffmpeg("-ss", f"{start}", "-i", str(src.path), "-t", f"{end - start}", *X264, str(out))
        return (Span(0.0, end - start, start),)

    return make


def _remux(src: Clip, out: Path, _ctx: Context) -> Truth:
    """The same streams, bit for bit, in a Matroska container: another file, the same pictures."""
    ffmpeg("-i", str(src.path), "-map", "0", "-c", "copy", "-f", "matroska", str(out))
    return (Span(0.0, src.duration, 0.0),)


def _overlay(asset: str, width: str, x: str, y: str, pre: str = "null") -> Callable[[Clip, Path, Context], Truth]:
    """Stamp a PNG (logo, caption, banner) sized relative to the video."""

    def make(src: Clip, out: Path, ctx: Context) -> Truth:
        ffmpeg(
            "-i", str(src.path), "-i", str(ctx.assets[asset]), "-filter_complex",
            f"[0:v]{pre}[base];[1:v][base]scale2ref=w={width}:h=ow/mdar[logo][v];"
            f"[v][logo]overlay=x={x}:y={y}:format=auto,format=yuv420p[o]",
            "-map", "[o]", *X264, str(out),
        )
        return (Span(0.0, src.duration, 0.0),)

    return make


def _banner(src: Clip, out: Path, ctx: Context) -> Truth:
    ffmpeg(
        "-i", str(src.path), "-i", str(ctx.assets["banner"]), "-filter_complex",
        "[1:v][0:v]scale2ref=w=iw:h=ih/4[b][v];[v][b]overlay=x=0:y=H-h,format=yuv420p[o]",
        "-map", "[o]", *X264, str(out),
    )
    return (Span(0.0, src.duration, 0.0),)


def _vertical(flip: bool) -> Callable[[Clip, Path, Context], Truth]:
    """A 9:16 repost: the clip across the middle, its own blurred enlargement as fill."""

    def make(src: Clip, out: Path, _ctx: Context) -> Truth:
        pre = "hflip," if flip else ""
        ffmpeg(
            "-i", str(src.path), "-filter_complex",
            f"[0:v]{pre}split[a][b];[a]scale=-2:240,crop=135:240,boxblur=6:2,scale=540:960[bg];"
            "[b]scale=540:-2[fg];[bg][fg]overlay=0:(H-h)/2,format=yuv420p[o]",
            "-map", "[o]", *X264, str(out),
        )
        return (Span(0.0, src.duration, 0.0),)

    return make


@dataclass(frozen=True)
class PipLayout:
    """Where a picture-in-picture edit puts the clip in its 960×540 picture of other footage."""

    scale: float  # the clip's width, as a share of 960 px
    border: int  # a white frame around it, px
    x: float  # share of the width between the picture's left edge (right, with ``from_right``) and the inset
    y: float  # share of the height between the top (bottom, with ``from_bottom``) and the inset
    from_right: bool = False
    from_bottom: bool = False

    def overlay_xy(self) -> tuple[str, str]:
        """ffmpeg's overlay position expressions (W, H the picture; w, h the framed inset)."""
        return (f"W-w-W*{self.x:g}" if self.from_right else f"W*{self.x:g}",
                f"H-h-H*{self.y:g}" if self.from_bottom else f"H*{self.y:g}")

    def footage(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The clip's own pixels (inside the frame) in the copy, for a clip of ``width`` × ``height``: (x0, y0,
        x1, y1), as ffmpeg places it (``scale=…:-2`` rounds the height to even; overlay truncates the position
        to even for 4:2:0)."""
        w = int(960 * self.scale / 2) * 2  # as _even: trunc(960*scale/2)*2
        h = int(round(height * w / width / 2)) * 2
        fw, fh = w + 2 * self.border, h + 2 * self.border
        x = 960 - fw - 960 * self.x if self.from_right else 960 * self.x
        y = 540 - fh - 540 * self.y if self.from_bottom else 540 * self.y
        x0, y0 = (int(x) & ~1) + self.border, (int(y) & ~1) + self.border
        return x0, y0, x0 + w, y0 + h


PIP_LAYOUTS: dict[str, PipLayout] = {
    "pip60": PipLayout(0.6, 0, 0.36, 0.08),
    "pip40": PipLayout(0.4, 3, 0.04, 0.06, from_right=True, from_bottom=True),
}


def _pip(layout: PipLayout) -> Callable[[Clip, Path, Context], Truth]:
    """The clip as an inset over other footage (a broadcast, a reaction video)."""

    def make(src: Clip, out: Path, ctx: Context) -> Truth:
        inset = f"scale={_even(f'960*{layout.scale:g}')}:-2"
        if layout.border:
            inset += f",pad=iw+{2 * layout.border}:ih+{2 * layout.border}:{layout.border}:{layout.border}:white"
        x, y = layout.overlay_xy()
        ffmpeg(
            "-i", str(ctx.fillers["filler_c"].path), "-i", str(src.path), "-filter_complex",
            f"[0:v]scale=960:540,setsar=1[bg];[1:v]{inset}[fg];"
            f"[bg][fg]overlay=x={x}:y={y}:shortest=1,format=yuv420p[o]",
            "-map", "[o]", *X264, str(out),
        )
        return (Span(0.0, src.duration, 0.0),)

    return make


def _screen(src: Clip, out: Path, ctx: Context) -> Truth:
    """A screen recording: the clip playing in a window of a desktop UI with text around it."""
    ffmpeg(
        "-i", str(src.path), "-i", str(ctx.assets["screen"]), "-filter_complex",
        "[0:v]scale=800:450:force_original_aspect_ratio=decrease,pad=800:450:(ow-iw)/2:(oh-ih)/2,"
        "pad=1280:720:300:110[v];[v][1:v]overlay=0:0,format=yuv420p[o]",
        "-map", "[o]", *X264, str(out),
    )
    return (Span(0.0, src.duration, 0.0),)


def _compilation(src: Clip, out: Path, ctx: Context) -> Truth:
    """4 s of other footage, 7 s of the clip (from 2 s), 4 s of other footage."""
    a, b = ctx.fillers["filler_a"], ctx.fillers["filler_b"]
    start, length = 2.0, min(7.0, src.duration - 2.0)
    size = "scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25"
    ffmpeg(
        "-i", str(a.path), "-i", str(src.path), "-i", str(b.path), "-filter_complex",
        f"[0:v]trim=0:4,setpts=PTS-STARTPTS,{size}[a];"
        f"[1:v]trim={start}:{start + length},setpts=PTS-STARTPTS,{size}[b];"
        f"[2:v]trim=0:4,setpts=PTS-STARTPTS,{size}[c];[a][b][c]concat=n=3:v=1[v]",
        "-map", "[v]", *X264, str(out),
    )
    return (Span(4.0, 4.0 + length, start),)


def _speed_logo(src: Clip, out: Path, ctx: Context) -> Truth:
    ffmpeg(
        "-i", str(src.path), "-i", str(ctx.assets["logo"]), "-filter_complex",
        "[0:v]setpts=PTS/1.25,fps=25[base];[1:v][base]scale2ref=w=iw*0.14:h=ow/mdar[logo][v];"
        "[v][logo]overlay=x=W-w-W*0.03:y=H*0.04,format=yuv420p[o]",
        "-map", "[o]", *X264, str(out),
    )
    return (Span(0.0, src.duration / 1.25, 0.0, 1.25),)


def _excerpt_caption(src: Clip, out: Path, ctx: Context) -> Truth:
    start, length = 2.0, min(8.0, src.duration - 2.0)
    ffmpeg(
        "-ss", f"{start}", "-i", str(src.path), "-i", str(ctx.assets["caption"]), "-t", f"{length}",
        "-filter_complex",
        "[1:v][0:v]scale2ref=w=iw*0.9:h=ow/mdar[c][v];[v][c]overlay=x=(W-w)/2:y=H-h-H*0.04,format=yuv420p[o]",
        "-map", "[o]", *X264, str(out),
    )
    return (Span(0.0, length, start),)


CROP80 = f"crop={_even('iw*0.8')}:{_even('ih*0.8')}"
CROP70 = f"crop={_even('iw*0.7')}:{_even('ih*0.7')}"
CROP60 = f"crop={_even('iw*0.6')}:{_even('ih*0.6')}"
SEPIA = "colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131"

EDITS: tuple[Edit, ...] = (
    Edit("reencode_low", "quality", _vf("null", ("-b:v", "120k", "-maxrate", "120k", "-bufsize", "240k"))),
    Edit("scale_240p", "quality", _vf("scale=-2:240", ("-b:v", "200k"))),
    Edit("crop80_centre", "geometry", _vf(CROP80)),
    Edit("crop80_offcentre", "geometry", _vf(f"{CROP80}:{_even('iw*0.2')}:0")),
    Edit("crop70_centre", "geometry", _vf(CROP70)),
    Edit("crop60_centre", "geometry", _vf(CROP60)),
    Edit("crop60_offcentre", "geometry", _vf(f"{CROP60}:0:{_even('ih*0.4')}")),
    Edit("letterbox", "geometry", _vf(f"pad=iw:{_even('ih*1.4')}:0:(oh-ih)/2:black")),
    Edit("pillarbox", "geometry", _vf(f"pad={_even('iw*1.4')}:ih:(ow-iw)/2:0:black")),
    Edit("vertical_9x16", "geometry", _vertical(flip=False)),
    Edit("hflip", "geometry", _vf("hflip")),
    Edit("rot90", "geometry", _vf("transpose=1")),
    Edit("logo_small", "overlay", _overlay("logo", "iw*0.12", "W-w-W*0.03", "H*0.04")),
    Edit("logo_large", "overlay", _overlay("logo", "iw*0.35", "W*0.08", "H*0.3")),
    Edit("caption", "overlay", _overlay("caption", "iw*0.9", "(W-w)/2", "H-h-H*0.04")),
    Edit("banner25", "overlay", _banner),
    Edit("grey", "colour", _vf("hue=s=0")),
    Edit("sepia", "colour", _vf(SEPIA)),
    Edit("contrast_gamma", "colour", _vf("eq=contrast=1.5:gamma=1.4:saturation=1.3")),
    Edit("noise", "quality", _vf("noise=alls=30:allf=t+u")),
    Edit("blur", "quality", _vf("gblur=sigma=4")),
    Edit("speed_0.75", "time", _speed(0.75)),
    Edit("speed_1.25", "time", _speed(1.25)),
    Edit("speed_1.5", "time", _speed(1.5)),
    Edit("fps_15", "time", _vf("fps=15")),
    Edit("excerpt_7s", "time", _excerpt(3.0, 7.0)),
    Edit("compilation", "composite", _compilation),
    Edit("pip60", "composite", _pip(PIP_LAYOUTS["pip60"])),
    Edit("pip40", "composite", _pip(PIP_LAYOUTS["pip40"])),
    Edit("screen_recording", "composite", _screen),
    Edit("flip_crop80", "combo", _vf(f"hflip,{CROP80}:{_even('iw*0.2')}:{_even('ih*0.2')}")),
    Edit("excerpt_caption", "combo", _excerpt_caption),
    Edit("speed1.25_logo", "combo", _speed_logo),
    Edit("vertical_flip", "combo", _vertical(flip=True)),
)


# Not applied to the generated corpus: the real corpus's copies of a whole recording and its
# excerpts of given lengths (a source must be at least 1 s longer than an excerpt of it).
EXTRA_EDITS: tuple[Edit, ...] = (
    Edit("remux_mkv", "identity", _remux),
    Edit("excerpt_4s", "excerpt", _excerpt_middle(4.0)),
    Edit("excerpt_10s", "excerpt", _excerpt_middle(10.0)),
    Edit("excerpt_20s", "excerpt", _excerpt_middle(20.0)),
    Edit("excerpt_60s", "excerpt", _excerpt_middle(60.0)),
)


def edit_by_name(name: str) -> Edit:
    """The edit called ``name`` among ``EDITS`` and ``EXTRA_EDITS``."""
    for edit in (*EDITS, *EXTRA_EDITS):
        if edit.name == name:
            return edit
    raise KeyError(name)


def apply_edit(edit: Edit, src: Clip, out: Path, ctx: Context) -> Truth:
    """Render ``edit`` of ``src`` to ``out`` (atomically) and return its truth."""
    tmp = out.with_name(f"{out.stem}.part{out.suffix}")
    truth = edit.make(src, tmp, ctx)
    tmp.rename(out)
    return truth


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color: tuple[int, ...],
          thick: int = 2) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_DUPLEX, scale, color, thick, cv2.LINE_AA)


def overlay_assets(folder: Path) -> dict[str, Path]:
    """Draw the logo, caption, banner and screen-recorder chrome once (RGBA PNGs)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.png" for name in ("logo", "caption", "banner", "screen")}
    if all(p.exists() for p in paths.values()):
        return paths
    logo = np.zeros((200, 400, 4), np.uint8)
    cv2.rectangle(logo, (0, 0), (399, 199), (30, 30, 200, 220), -1)
    cv2.circle(logo, (90, 100), 70, (255, 255, 255, 255), 10)
    _text(logo, "NEWS", (175, 125), 2.2, (255, 255, 255, 255), 5)
    cv2.imwrite(str(paths["logo"]), logo)
    caption = np.zeros((90, 900, 4), np.uint8)
    cv2.rectangle(caption, (0, 0), (899, 89), (0, 0, 0, 150), -1)
    _text(caption, "Footage shows the attack this morning", (30, 60), 1.4, (255, 255, 255, 255), 3)
    cv2.imwrite(str(paths["caption"]), caption)
    banner = np.zeros((180, 960, 4), np.uint8)
    banner[:] = (120, 40, 10, 255)
    cv2.rectangle(banner, (0, 0), (959, 40), (0, 0, 200, 255), -1)
    _text(banner, "BREAKING", (20, 31), 1.0, (255, 255, 255, 255), 2)
    _text(banner, "Strikes reported near the border", (20, 100), 1.5, (255, 255, 255, 255), 3)
    _text(banner, "LIVE  14:32  updates to follow", (20, 155), 1.0, (220, 220, 220, 255), 2)
    cv2.imwrite(str(paths["banner"]), banner)
    screen = np.zeros((720, 1280, 4), np.uint8)
    screen[:] = (235, 235, 235, 255)
    cv2.rectangle(screen, (0, 0), (1279, 50), (60, 60, 60, 255), -1)
    _text(screen, "Video Player - Chrome", (20, 34), 0.9, (255, 255, 255, 255), 2)
    cv2.rectangle(screen, (0, 51), (260, 719), (210, 215, 220, 255), -1)
    for k in range(12):
        _text(screen, f"Related video {k + 1}", (15, 100 + 50 * k), 0.7, (40, 40, 40, 255), 1)
    cv2.rectangle(screen, (290, 100), (1110, 570), (0, 0, 0, 255), -1)
    screen[110:560, 300:1100] = 0  # transparent: the video plays through this window
    _text(screen, "Watch: what happened last night", (300, 620), 1.0, (20, 20, 20, 255), 2)
    _text(screen, "1,204,331 views  12 comments", (300, 670), 0.8, (90, 90, 90, 255), 1)
    cv2.imwrite(str(paths["screen"]), screen)
    return paths
