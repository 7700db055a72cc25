"""The platform panel: when, by whom and where the checked video was put online, in UTC.

YouTube DataViewer's move: the exact upload time in UTC, uploader and channel, next to the description
and the duration, from yt-dlp's info for a link. An upload has no platform; its container's own tags
(service/decode/container.py) stand in, labelled as the file's claims. Rows are (label, text, link) with
link None or an http(s) address; every text is shown escaped by whoever renders it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from service.dates import fetched_date_origin
from service.markup import http_link
from service.models import SourceInfo

__all__ = ["PanelRow", "platform_rows", "utc_upload_time"]

CONTAINER_LABELS = {
    "creation_time": "File created (its own claim)", "com.apple.quicktime.creationdate": "Recorded (its own claim)",
    "location": "Location tag", "com.apple.quicktime.location.iso6709": "Location tag",
    "make": "Camera make", "com.apple.quicktime.make": "Camera make",
    "model": "Camera model", "com.apple.quicktime.model": "Camera model",
    "com.android.version": "Android version", "title": "Title tag", "artist": "Artist tag",
    "comment": "Comment tag", "description": "Description tag", "encoder": "Encoder",
}


@dataclass(frozen=True)
class PanelRow:
    label: str
    text: str
    link: str | None = None


def utc_upload_time(source: SourceInfo) -> str | None:
    """The upload time as the platform gives it, in UTC: to the second from a timestamp, else the day."""
    if source.timestamp is not None:
        try:
            moment = dt.datetime.fromtimestamp(float(source.timestamp), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    day = str(source.upload_date or "")
    if len(day) == 8 and day.isdigit():
        return f"{day[:4]}-{day[4:6]}-{day[6:]} (the day only; the site gives no time)"
    return None


def _duration(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float) or seconds <= 0:
        return None
    m, s = divmod(float(seconds), 60)
    h, m = divmod(int(m), 60)
    return (f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}") + f" ({float(seconds):.1f} s)"


def platform_rows(source: SourceInfo) -> list[PanelRow]:
    """The panel's rows for a report's ``source``, most telling first; rows with nothing to say are left out."""
    is_link = bool(source.extractor)
    rows: list[PanelRow] = []

    def add(label: str, text: Any, link: str | None = None) -> None:
        if text not in (None, ""):
            rows.append(PanelRow(label, str(text), link))

    if is_link:
        # A known platform's own upload time, or only what the page says (service/dates.py): labelled apart.
        platform_says = fetched_date_origin(source.extractor, source.webpage_url) == "platform"
        add("Uploaded (UTC)" if platform_says else "Upload time the page claims (UTC, not verified)",
            utc_upload_time(source))
        add("Uploader", source.uploader)
        if source.channel and source.channel != source.uploader:
            add("Channel", source.channel)
        add("Platform", source.extractor)
        page = http_link(source.webpage_url)
        add("Page", page, page)
        add("Video id", source.video_id)
    else:
        add("Uploaded file", source.title)
    add("Duration", _duration(source.duration))
    if is_link:
        add("Title", source.title)
        add("Description", source.description)
    for key, value in (source.container or {}).items():
        add(CONTAINER_LABELS.get(key, key), value)
    return rows
