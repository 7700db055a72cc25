"""Multipart uploads streamed to disk with a hard size limit, for the API and the web form.

``BodyLimit`` is ASGI middleware: a request whose ``Content-Length`` is over the
limit is refused with 413 before its body is read; one without (chunked) is
counted as it arrives and stopped the moment it passes the limit. Forms are then
parsed by Starlette (files spooled to disk, never held whole in memory) and the
file is copied under ``home/uploads`` for the key that sent it (within its quota).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth import ApiKey
from service.errors import TooLarge
from service.http.services import Services, save_upload

__all__ = ["BodyLimit", "form_bool", "read_form"]

# Room for the form's other fields and multipart boundaries around the file.
FORM_OVERHEAD_BYTES = 64 * 1024
# Any other body (JSON: a link and its claims, a batch of links) is small.
MAX_OTHER_BODY_BYTES = 1024 * 1024
MAX_FIELD_BYTES = 16 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.limit = max_bytes + FORM_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.limit if multipart else MAX_OTHER_BODY_BYTES
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(f"request body is over the limit of {limit / 1e6:.1f} MB")
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"error": {"code": "too_large",
                                     "message": f"request body is over the limit of {limit / 1e6:.1f} MB"}})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body.encode()})


async def read_form(request: Request, services: Services,
                    key: ApiKey | None = None) -> tuple[dict[str, str], Path | None]:
    """(text fields, the ``file`` saved for ``key``, or None); more than one file or an oversized field is a 400.

    Without a key (the login form) a file is never saved: nobody unknown writes to the server's disk.
    """
    from starlette.concurrency import run_in_threadpool

    form = await request.form(max_files=1, max_fields=30, max_part_size=MAX_FIELD_BYTES)
    try:
        fields: dict[str, str] = {}
        upload: Path | None = None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name == "file" and value.filename and key is not None:
                    upload = await run_in_threadpool(save_upload, services, value.file, value.filename, key)
            else:
                fields[name] = value
        return fields, upload
    finally:
        await form.close()


def form_bool(fields: dict[str, Any], name: str, default: bool) -> bool:
    value = fields.get(name)
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")
