"""The peers firstseen is measured against, each with its own default matching rule.

* **vPDQ** (Meta, ``pip install vpdq``): one PDQ hash per second of video with a
  quality score. ThreatExchange's matcher (python-threatexchange
  ``vpdq_brute_matcher`` / ``vpdq_util``) drops features under quality 50,
  de-duplicates identical hashes, counts the query features that have *some*
  archive feature within Hamming 31 of 256, and calls it a match when that
  query-match share reaches 80% (the index's default; the archive-side share
  threshold is 0%). The top match is the archive video with the highest
  query-match share (ties: the higher archive-side share).
* **videohash** (``pip install videohash``): one 64-bit hash per video (a
  wavelet hash of a collage of frames taken every second); similar at
  Hamming ≤ 10. videohash 3.0.1 still calls ``PIL.Image.ANTIALIAS``, removed in
  Pillow 10, so we alias it to LANCZOS (the same filter) before importing it.
* tmkpy (TMK+PDQF) does not build from PyPI here (no wheel, its sdist fails), so
  it is left out.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["PeerResult", "VideoHashPeer", "VpdqPeer"]

VPDQ_QUALITY = 50
VPDQ_DISTANCE = 31
VPDQ_QUERY_MATCH_PERCENT = 80.0
VIDEOHASH_SIMILAR_BITS = 10


@dataclass(frozen=True)
class PeerResult:
    top: str | None  # best-matching archive name, None when nothing matches
    matched: tuple[str, ...]  # every archive name the rule calls a match
    score: float  # the rule's figure for the top match (vPDQ: query-match %, videohash: bits)
    seconds: float  # hashing time of the query


def _popcount_rows(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return np.bitwise_count(x).sum(axis=-1).astype(np.int64)


class VpdqPeer:
    """vPDQ with ThreatExchange's default brute-force matching."""

    name = "vpdq"

    def __init__(self) -> None:
        import vpdq  # optional dependency: the `bench` extra

        self._vpdq = vpdq
        self._archive: dict[str, npt.NDArray[np.uint64]] = {}

    def hash(self, path: Path) -> tuple[npt.NDArray[np.uint64], float]:
        """Quality-filtered, de-duplicated features as (n, 4) uint64 words; and the seconds it took."""
        started = time.perf_counter()
        features = self._vpdq.computeHash(str(path))  # ThreatExchange's hash_from_file: 1 hash/s
        seconds = time.perf_counter() - started
        seen: set[str] = set()
        words: list[list[int]] = []
        for f in features:
            if f.quality < VPDQ_QUALITY or f.hex in seen:
                continue
            seen.add(f.hex)
            words.append([int(f.hex[k : k + 16], 16) for k in range(0, 64, 16)])
        return np.asarray(words, dtype=np.uint64).reshape(-1, 4), seconds

    def add(self, name: str, path: Path) -> float:
        self._archive[name], seconds = self.hash(path)
        return seconds

    def query(self, path: Path) -> PeerResult:
        q, seconds = self.hash(path)
        best: tuple[float, float, str] | None = None
        matched: list[str] = []
        for name, a in self._archive.items():
            if len(q) == 0 or len(a) == 0:
                continue
            dist = _popcount_rows(q[:, None, :] ^ a[None, :, :])  # (nq, na)
            near = dist <= VPDQ_DISTANCE
            q_pct = 100.0 * near.any(axis=1).mean()
            a_pct = 100.0 * near.any(axis=0).mean()
            if q_pct >= VPDQ_QUERY_MATCH_PERCENT:
                matched.append(name)
                if best is None or (q_pct, a_pct) > best[:2]:
                    best = (q_pct, a_pct, name)
        return PeerResult(best[2] if best else None, tuple(matched), best[0] if best else 0.0, seconds)


class VideoHashPeer:
    """videohash's 64-bit video hash; hashes are cached per file (it is slow: a collage per video)."""

    name = "videohash"

    def __init__(self, cache: Path) -> None:
        from PIL import Image

        if not hasattr(Image, "ANTIALIAS"):
            Image.ANTIALIAS = Image.Resampling.LANCZOS  # type: ignore[attr-defined]
        from videohash import VideoHash

        self._cls = VideoHash
        self._cache_path = cache / "videohash.json"
        self._cache = self._load()
        self._archive: dict[str, int] = {}

    def _key(self, path: Path) -> str:
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def _load(self) -> dict[str, tuple[str, float]]:
        try:
            return dict(json.loads(self._cache_path.read_text())) if self._cache_path.exists() else {}
        except ValueError:  # a run stopped mid-write: start over
            return {}

    def hash(self, path: Path) -> tuple[int, float]:
        key = self._key(path)
        if key not in self._cache:
            self._cache.update(self._load())  # another process may have hashed it meanwhile
        if key not in self._cache:
            started = time.perf_counter()
            vh = self._cls(path=str(path))
            seconds = time.perf_counter() - started
            vh.delete_storage_path()
            self._cache = {**self._load(), **self._cache, key: (vh.hash_hex, seconds)}
            tmp = self._cache_path.with_suffix(".part")
            tmp.write_text(json.dumps(self._cache))
            tmp.replace(self._cache_path)
        hex_, seconds = self._cache[key]
        return int(hex_, 16), float(seconds)

    def add(self, name: str, path: Path) -> float:
        self._archive[name], seconds = self.hash(path)
        return seconds

    def query(self, path: Path) -> PeerResult:
        h, seconds = self.hash(path)
        dists = sorted((int(h ^ a).bit_count(), name) for name, a in self._archive.items())
        matched = tuple(name for d, name in dists if d <= VIDEOHASH_SIMILAR_BITS)
        top = dists[0] if dists and dists[0][0] <= VIDEOHASH_SIMILAR_BITS else None
        return PeerResult(top[1] if top else None, matched, float(top[0]) if top else 64.0, seconds)

