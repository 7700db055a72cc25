"""What a video file says about itself: its container's tags and length, for uploads (no platform page).

Part of decode. A phone or an editor writes ``creation_time``, sometimes ``location`` (ISO 6709), ``make``,
``model``, ``title``, ``encoder`` into the container; an upload's report shows them beside what a platform
would say for a link (service/report/platform.py). They are the file's own claims, easily rewritten, so
they never count towards a verdict. Read through the same guarded opener as the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from service.decode.frames import open_media
from service.errors import DecodeError

__all__ = ["ContainerInfo", "MAX_TAG_CHARS", "container_info"]

# Tags kept (lower-cased keys), in the order a reader wants them; anything else is format noise.
KEPT_TAGS = ("creation_time", "title", "artist", "comment", "description", "location", "make", "model",
             "com.apple.quicktime.make", "com.apple.quicktime.model", "com.apple.quicktime.location.iso6709",
             "com.apple.quicktime.creationdate", "com.android.version", "encoder")
MAX_TAG_CHARS = 500  # a tag longer than this is cut: a hostile file can hold megabytes in one


@dataclass(frozen=True)
class ContainerInfo:
    duration: float | None
    tags: dict[str, str]


def container_info(path: Path) -> ContainerInfo:
    """The container's length (seconds) and kept tags; empty when the file cannot be opened (the decoder
    reports that with its own message)."""
    try:
        container = open_media(path)
    except DecodeError:
        return ContainerInfo(None, {})
    try:
        found: dict[str, str] = {}
        streams = list(container.streams.video[:1])
        for metadata in (container.metadata, *(s.metadata for s in streams)):
            for key, value in metadata.items():
                name = str(key).lower()
                if name in KEPT_TAGS and name not in found and str(value).strip():
                    found[name] = str(value).strip()[:MAX_TAG_CHARS]
        duration = float(container.duration) / 1e6 if container.duration else None
    finally:
        container.close()
    return ContainerInfo(round(duration, 3) if duration else None,
                         {k: found[k] for k in KEPT_TAGS if k in found})
