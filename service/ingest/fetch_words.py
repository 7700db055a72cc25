"""Ingest: what a failed download means, in one plain sentence, instead of yt-dlp's own text.

yt-dlp reports every failure as a ``DownloadError`` whose message is written for developers
("[generic] missing: Unable to download webpage: HTTP Error 404: File not found (caused by
<HTTPError 404: File not found>)"). ``plain_fetch_error`` reads what it wrapped (the HTTP status,
a refused or timed-out connection, a page with no video) and says what happened and what to do
next. The CLI, the API and the web form all show this sentence (``FetchFailed``'s message); the raw
text goes to the log at INFO. The server's own reason phrase is never repeated: the standard
phrase of its status is used, so a hostile server cannot put words in the sentence.
"""

from __future__ import annotations

import http
from urllib.parse import urlsplit

from service.ingest.safety import exception_chain

__all__ = ["plain_fetch_error"]

# What to do next, by HTTP status; any other 4xx reads like a 404, any 5xx like a 500.
_NEXT_BY_STATUS = {
    401: "the video may be private or need a login; upload the file instead",
    403: "the video may be private, age-restricted or blocked for this server; upload the file instead",
    404: "the video may have been removed or the link mistyped",
    410: "the video has been removed; look for another copy or upload the file",
    429: "the site is limiting requests; try again in a few minutes",
}
_NEXT_CLIENT_ERROR = "check the link in a browser, or upload the file instead"
_NEXT_SERVER_ERROR = "the site is having trouble; try again later"


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.rpartition("@")[2] or url
    except ValueError:
        return url


def _status_words(host: str, status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    advice = _NEXT_BY_STATUS.get(status) or (_NEXT_SERVER_ERROR if status >= 500 else _NEXT_CLIENT_ERROR)
    return f"The page at {host} answered {status} {phrase}".rstrip() + f": {advice}."


def plain_fetch_error(url: str, exc: BaseException) -> str:
    """One sentence saying why ``url`` gave no video and what to do next (``exc``: what yt-dlp raised)."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import UnsupportedError

    host = _host(url)
    chain = list(exception_chain(exc))
    status = next((e.status for e in chain if isinstance(e, HTTPError) and isinstance(e.status, int)), None)
    if status is not None:
        return _status_words(host, status)
    if any(isinstance(e, UnsupportedError) for e in chain):
        return (f"No video was found at {host}: link the page that plays the video itself, "
                "or download it and upload the file.")
    if any(isinstance(e, TimeoutError) or "timed out" in str(e).lower() for e in chain):
        return f"The site at {host} did not answer in time: try again later, or upload the file instead."
    if any(isinstance(e, TransportError | ConnectionError | OSError) for e in chain):
        return f"The site at {host} could not be reached: check the link for typos, or try again later."
    return (f"No video could be downloaded from {host}: open the link in a browser to see whether the video "
            "is still there, or upload the file instead.")
