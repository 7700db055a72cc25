"""Security headers on every response, as one ASGI middleware that ``create_app`` installs outermost.

Pages of the web form (``text/html``) get a Content-Security-Policy that lets a page
load only this site's own script, styles and pictures: no inline script, no
``eval``, no plugins, no ``<base>``, forms posting only here, no framing. Text from
users and pages is escaped in the templates; the policy is the second wall, should
an escape ever be missed. The report's ClaimReview block is a data block
(``type="application/ld+json"``), which browsers never execute, so it needs no hash.

Every other response (API JSON, JSON-LD, pictures, static files) gets
``default-src 'none'``: it loads nothing, whatever a browser makes of it.

All responses carry ``X-Content-Type-Options: nosniff`` (JSON is never sniffed
into HTML), ``X-Frame-Options: DENY`` beside ``frame-ancestors 'none'`` (older
browsers), and ``Referrer-Policy: same-origin`` (check ids stay on the site).

A response that sets its own policy keeps it: the API docs page, whose Swagger UI
comes from a CDN, runs only its own inline bootstrap script, allowed by hash
(``docs_page``).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["OTHER_POLICY", "PAGE_POLICY", "SecurityHeaders", "docs_page"]

PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
OTHER_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# Swagger UI: its bundle and stylesheet from jsDelivr, inline styles and data: icons of its own
# (https://github.com/swagger-api/swagger-ui/issues/3370), the spec fetched from here. The page
# shows no user text; its one inline script is allowed by hash, not by 'unsafe-inline'.
DOCS_POLICY = ("default-src 'none'; script-src https://cdn.jsdelivr.net {hashes}; "
               "style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: https://fastapi.tiangolo.com; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
COMMON = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers["content-security-policy"] = PAGE_POLICY if html else OTHER_POLICY
            await send(message)

        await self.app(scope, receive, send_with_headers)


def docs_page(openapi_url: str, title: str) -> HTMLResponse:
    """FastAPI's Swagger UI page with a policy that allows its inline script by sha256, nothing else inline."""
    page = get_swagger_ui_html(openapi_url=openapi_url, title=title)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(bytes(page.body).decode()))
    page.headers["content-security-policy"] = DOCS_POLICY.format(hashes=hashes)
    return page
