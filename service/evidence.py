"""Evidence pictures: the query frame and the archive frame side by side.

Used by the CLI (``check --evidence DIR``), the API (``/evidence/{n}.jpg``) and
the web report. Frames are re-decoded from the media at the matched seconds
(the pipeline keeps only tiny greyscale frames in memory).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from service.decode.frames import grab_frame
from service.models import Match, Segment

__all__ = ["evidence_jpeg", "side_by_side"]

PANEL_HEIGHT = 240
LABEL_HEIGHT = 22


def _fit(image: Image.Image, height: int) -> Image.Image:
    scale = height / image.height
    return image.convert("RGB").resize((max(2, round(image.width * scale)), height), Image.Resampling.BILINEAR)


def side_by_side(query_media: Path, archive_media: Path, segment: Segment, flipped: bool,
                 query_label: str = "checked video", archive_label: str = "archive") -> Image.Image:
    """Middle of the segment: query frame left, archive frame right, labelled with times."""
    q_t = (segment.query_start + segment.query_end) / 2
    a_t = segment.archive_start + (q_t - segment.query_start) * segment.speed
    left = _fit(grab_frame(query_media, q_t), PANEL_HEIGHT)
    right = _fit(grab_frame(archive_media, a_t), PANEL_HEIGHT)
    gap = 8
    canvas = Image.new("RGB", (left.width + right.width + gap, PANEL_HEIGHT + LABEL_HEIGHT), "white")
    canvas.paste(left, (0, LABEL_HEIGHT))
    canvas.paste(right, (left.width + gap, LABEL_HEIGHT))
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 4), f"{query_label} @ {q_t:.1f} s", fill="black")
    note = " (mirrored)" if flipped else ""
    draw.text((left.width + gap + 4, 4), f"{archive_label} @ {a_t:.1f} s{note}", fill="black")
    return canvas


def evidence_jpeg(query_media: Path, archive_media: Path, match: Match, segment_index: int = 0) -> bytes:
    segment = match.segments[segment_index]
    image = side_by_side(query_media, archive_media, segment, match.flipped,
                         archive_label=f"archive #{match.item.id}")
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    return buf.getvalue()
