"""One error shape for every API response: ``{"error": {"code", "message"}}`` with the right status.

Domain errors map by class (``BadInput`` 400, ``TooLarge`` 413, ``NotFound`` 404,
``Conflict`` 409, ``QuotaExceeded`` 429); request validation is 422; anything unexpected is a 500 with
no traceback in the body (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import Conflict, FirstseenError, NotFound, QuotaExceeded, TooLarge
from service.jobs import error_code

__all__ = ["ApiError", "error_response", "install_error_handlers", "status_for"]

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP-level refusal (401, 403, 415, 429) raised by dependencies and routes."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def status_for(exc: FirstseenError) -> int:
    if isinstance(exc, TooLarge):
        return 413
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, QuotaExceeded):
        return 429
    return 400  # BadInput and its kin; any other domain error is still the caller's input


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header")) or "request"


async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = "; ".join(f"{_field(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in exc.errors())
    return error_response(422, "validation_error", problems or "invalid request")


async def _domain(_request: Request, exc: FirstseenError) -> JSONResponse:
    return error_response(status_for(exc), error_code(exc), str(exc))


async def _api(_request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(FirstseenError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, _api)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
