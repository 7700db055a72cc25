"""Text from users and fetched pages, made safe where it ends up: links and JSON inside HTML.

Titles, places, events, notes and claims come from editors, readers and any web page
a check fetches (``og:title``); all of them may carry markup. The web templates
autoescape every value; two outputs need more than that, and both go through here:

- ``json_for_html``: JSON that may sit inside ``<script type="application/ld+json">``
  (the report page's ClaimReview block, and the ``/claimreview`` text journalists
  paste into their articles). ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``,
  ``\\u0026`` (and U+2028/2029 their escapes), so no ``</script>`` or ``<!--`` can
  end the block; the result is still JSON that parses to the same value.
- ``http_link``: only absolute http(s) addresses are links. ``ArchiveMetadata``
  refuses anything else at the edge (``javascript:``, ``data:``, relative,
  host-less); templates and ClaimReview call it again when they render, so a row
  stored before that check never becomes a live link.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeGuard
from urllib.parse import urlsplit

__all__ = ["is_http_url", "http_link", "json_for_html"]

_HTML_SIGNIFICANT = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                     0x2028: "\\u2028", 0x2029: "\\u2029"}
# Whitespace or control characters anywhere: browsers strip or skip some of them ("java\tscript:").
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\s]")


def json_for_html(data: Any, indent: int | None = 2) -> str:
    """``data`` as JSON with nothing an HTML parser reads as markup (still valid JSON for the same value).

    The replaced characters can only occur inside JSON strings, where their ``\\uXXXX`` escapes mean
    the same text.
    """
    return json.dumps(data, ensure_ascii=False, indent=indent).translate(_HTML_SIGNIFICANT)


def is_http_url(value: object) -> TypeGuard[str]:
    """An absolute ``http://`` or ``https://`` address with a host, and no whitespace or control characters."""
    if not isinstance(value, str) or not value or _INVISIBLE.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def http_link(value: object) -> str | None:
    """``value`` when it is safe as a link target, else None (show it as text, or not at all)."""
    return value if is_http_url(value) else None
