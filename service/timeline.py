"""Timeline picture of a piece of footage's life: every known upload by date.

Drawn with matplotlib (Agg, no display). Uploads are points on a date axis,
labelled with platform/uploader, the claim they came with and where their date
came from (an editor, the platform, a crawl source); the checked upload is
highlighted. A date only a web page claims is drawn hollow and labelled "date
claimed by page"; an upload with no date of its own stands at the date it
claimed, hollow, labelled "date claimed by the upload": neither reads as an
attested upload.
Used by ``firstseen footage show --png``, and for a check's report (``report_timeline_png``) by the web
report, the API and the PDF export.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.models import Report

__all__ = ["TimelineEntry", "checked_entry", "entries_from_items", "render_timeline_png", "report_timeline_png"]


@dataclass(frozen=True)
class TimelineEntry:
    day: dt.date
    label: str
    highlighted: bool = False
    uncertain_days: int = 0
    claimed: bool = False  # the date is only a web page's claim (service.dates): drawn hollow


def entries_from_items(items: Sequence[object], highlight_id: int | None = None) -> list[TimelineEntry]:
    from service.dates import date_trusted, item_date
    from service.models import ArchiveItem

    entries: list[TimelineEntry] = []
    for item in items:
        assert isinstance(item, ArchiveItem)
        known = item_date(item)
        origin = DATE_FROM.get(item.date_origin or "", "") if known else ""
        if known is None and item.claimed_date:
            known, origin = _claimed_day(item.claimed_date), "date claimed by the upload"
        if known is None:
            continue
        mid = known.earliest + (known.latest - known.earliest) / 2
        who = item.uploader or item.platform or item.kind
        claim = item.location or item.event or ""
        own = ", ".join(c for c in (item.claimed_location, item.claimed_event, item.claimed_date) if c)
        claimed = not date_trusted(item)
        label = (f"#{item.id} {who}" + (f" · {claim}" if claim else "") + (f" · claims {own}" if own else "")
                 + f" ({origin or 'date claimed by page'})")
        entries.append(TimelineEntry(mid, label, item.id == highlight_id, (known.latest - known.earliest).days // 2,
                                     claimed))
    return sorted(entries, key=lambda e: e.day)


# Where a date on the timeline came from (service.dates.DateOrigin), in the label's words.
DATE_FROM = {"curated": "editor's date", "platform": "platform's date", "source": "crawl source's date",
             "claimed": "date claimed by page"}


def _claimed_day(text: str) -> Any:
    from service.dates import parse_date
    from service.errors import BadInput

    try:
        return parse_date(text)
    except BadInput:
        return None


def checked_entry(report: Report) -> TimelineEntry | None:
    """The checked upload itself, at its claimed date (or its site's date), when it is not archived."""
    from service.dates import KnownDate
    from service.errors import BadInput

    claims, source = report.claims, report.source
    known: KnownDate | None = None
    try:
        if claims.date:
            known = claims.date
        elif source.timestamp is not None:
            known = KnownDate.from_timestamp(float(source.timestamp))
        elif source.upload_date:
            known = KnownDate.from_upload_date(source.upload_date)
    except (BadInput, ValueError):
        known = None
    if known is None:
        return None
    claim = claims.location or claims.event
    origin = "claimed" if claims.date else "upload date"
    label = "this check" + (f" · {claim}" if claim else "") + f" ({origin})"
    return TimelineEntry(known.earliest + (known.latest - known.earliest) / 2, label, True,
                         (known.latest - known.earliest).days // 2)


def report_timeline_png(report: Report) -> bytes:
    """A check's timeline: every known upload of the matched footage by date, and the checked upload at its
    claimed date (itself, when the check remembered it, only once)."""
    items = [i for i in report.footage if i.id != report.remembered_id]
    entries = entries_from_items(items)
    checked = checked_entry(report)
    if checked is not None:
        entries = sorted([*entries, checked], key=lambda e: e.day)
    return render_timeline_png(entries)


def render_timeline_png(entries: Sequence[TimelineEntry], title: str = "Known uploads of this footage") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 2.8), dpi=100)
    try:
        if entries:
            days = [e.day for e in entries]
            ax.axhline(0, color="#888", lw=1, zorder=1)
            for n, e in enumerate(entries):
                colour = "#d62728" if e.highlighted else "#1f77b4"
                if e.uncertain_days:
                    span = dt.timedelta(days=e.uncertain_days)
                    ax.plot([e.day - span, e.day + span], [0, 0], color=colour, lw=6, alpha=0.35,  # type: ignore[arg-type]
                            zorder=2)
                ax.scatter([e.day], [0], s=90 if e.highlighted else 55, zorder=3,  # type: ignore[arg-type]
                           color="white" if e.claimed else colour, linewidths=1.5,
                           edgecolors="black" if e.highlighted else colour if e.claimed else "none")
                y = 0.55 if n % 2 == 0 else -0.55
                # parse_math=False: labels carry user text, and "$...$" would be read as mathtext
                ax.annotate(f"{e.label}\n{e.day.isoformat()}", (e.day, 0), xytext=(e.day, y), ha="center",
                            va="center", fontsize=8, color=colour, parse_math=False,
                            arrowprops={"arrowstyle": "-", "color": "#bbb"})
            # At least a few months either side, so one upload still sits on a readable axis.
            pad = max(dt.timedelta(days=120), (max(days) - min(days)) * 0.15)
            ax.set_xlim(min(days) - pad, max(days) + pad)  # type: ignore[arg-type]
            locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        else:
            ax.text(0.5, 0.5, "no dated uploads", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylim(-1, 1)
        ax.get_yaxis().set_visible(False)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        ax.set_title(title, fontsize=10, parse_math=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
