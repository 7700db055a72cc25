"""The one exception tree of firstseen.

Domain code (pipeline and below) raises only these; front ends translate them:
the CLI into exit code 2 and a one-line message, the API into a 4xx JSON body.
Third-party errors (yt-dlp's ``DownloadError``, PyAV's ``FFmpegError``) are
wrapped at the boundary where they happen, with the URL or path as context.

    FirstseenError
    ├── BadInput          the caller gave us something we cannot use (exit 2 / HTTP 400)
    │   ├── FetchRefused  the link points where we must not go (SSRF guard, scheme)
    │   ├── FetchFailed   the link could not be fetched (unreachable, unsupported site)
    │   ├── DecodeError   the media is not a readable video
    │   └── TooLarge      over a configured limit: bytes, duration, resolution (HTTP 413)
    ├── NotFound          no such archive item / check / key (HTTP 404)
    ├── Conflict          the change contradicts stored state (HTTP 409)
    └── QuotaExceeded     a key has too much queued or stored already; try again later (HTTP 429)
"""

from __future__ import annotations

__all__ = [
    "BadInput",
    "Conflict",
    "DecodeError",
    "FetchFailed",
    "FetchRefused",
    "FirstseenError",
    "NotFound",
    "QuotaExceeded",
    "TooLarge",
]


class FirstseenError(Exception):
    """Base of every error firstseen raises on purpose."""


class BadInput(FirstseenError):
    """The input cannot be used; the message says why in one line."""


class FetchRefused(BadInput):
    """The link points somewhere we must not fetch from (scheme, private address)."""


class FetchFailed(BadInput):
    """The link could not be fetched or no video was found behind it."""


class DecodeError(BadInput):
    """The media could not be decoded as a video."""


class TooLarge(BadInput):
    """The media exceeds a configured limit (bytes, duration, resolution, frames)."""


class NotFound(FirstseenError):
    """The requested object does not exist."""


class Conflict(FirstseenError):
    """The request contradicts stored state (e.g. duplicate media)."""


class QuotaExceeded(FirstseenError):
    """A key is over its share (jobs queued or running, upload bytes on disk); it passes as they finish."""
