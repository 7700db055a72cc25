"""Dates with their precision and uncertainty.

Upload dates come in several precisions: a UTC ``timestamp`` from yt-dlp is exact;
yt-dlp's ``upload_date`` (YYYYMMDD) can be a day off because sites report it in
their own time zone; an archivist may only know the year or the month. A
``KnownDate`` keeps the interval of days it could be, so a comparison with a
claimed date can say "before", "after" or "too close to call".
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from service.errors import BadInput

__all__ = ["KnownDate", "parse_date"]

# yt-dlp's upload_date is in the site's local time; UTC±14 h at most.
UPLOAD_DATE_SLACK_DAYS = 1


@dataclass(frozen=True)
class KnownDate:
    """A date known to lie in ``[earliest, latest]`` (inclusive days)."""

    earliest: dt.date
    latest: dt.date
    text: str  # what we show: "2018-03-01", "2018-03", "2018", "2018-03-01 ±1 day"

    def before(self, other: KnownDate) -> bool:
        """True when this date is certainly before ``other``."""
        return self.latest < other.earliest

    def days_before(self, other: KnownDate) -> int:
        return (other.earliest - self.latest).days

    @classmethod
    def from_timestamp(cls, timestamp: float) -> KnownDate:
        day = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date()
        return cls(day, day, day.isoformat())

    @classmethod
    def from_upload_date(cls, yyyymmdd: str) -> KnownDate:
        day = dt.datetime.strptime(yyyymmdd, "%Y%m%d").date()
        slack = dt.timedelta(days=UPLOAD_DATE_SLACK_DAYS)
        return cls(day - slack, day + slack, f"{day.isoformat()} ±{UPLOAD_DATE_SLACK_DAYS} day")


def parse_date(text: str) -> KnownDate:
    """Parse ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DD ±N day(s)``."""
    raw = text.strip()
    slack = 0
    if "±" in raw:
        raw, _, rest = raw.partition("±")
        raw = raw.strip()
        try:
            slack = int(rest.split()[0])
        except (ValueError, IndexError):
            raise BadInput(f"cannot read date {text!r}: expected YYYY-MM-DD") from None
    try:
        parts = [int(p) for p in raw.split("-")]
        if len(parts) == 1 and len(raw) == 4:
            return KnownDate(dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31), raw)
        if len(parts) == 2:
            last = calendar.monthrange(parts[0], parts[1])[1]
            return KnownDate(dt.date(parts[0], parts[1], 1), dt.date(parts[0], parts[1], last), raw)
        if len(parts) == 3:
            day = dt.date(parts[0], parts[1], parts[2])
            delta = dt.timedelta(days=slack)
            return KnownDate(day - delta, day + delta, text.strip())
    except ValueError:
        pass
    raise BadInput(f"cannot read date {text!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
