"""A stored report as anyone outside the server may see it: no path on the server's disk.

``Report.to_dict()`` keeps ``source.media_path`` and, for an upload, ``source.input`` as the file's path
under ``home/uploads``: the server needs both to draw evidence. Every answer and export (API, zip, PDF)
goes through ``public_report``: ``media_path`` is dropped, an upload's ``input`` becomes its file name, and
``source.kind`` says which it was.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from service.markup import is_http_url
from service.models import Report

__all__ = ["public_report"]


def public_report(report: Report) -> dict[str, Any]:
    """``report.to_dict()`` as anyone outside the server may see it."""
    shown = report.to_dict()
    source = {k: v for k, v in shown["source"].items() if k != "media_path"}
    given = str(source.get("input") or "")
    if is_http_url(given):
        source["kind"] = "link"
    else:
        source["kind"], source["input"] = "upload", PurePath(given).name or "upload"
    return {**shown, "source": source}
