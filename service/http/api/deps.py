"""Request dependencies as ``Annotated`` aliases: the shared services and the caller's API key by role.

    @router.post("/archive")
    def add(services: ServicesDep, key: EditorKey) -> ...

No key (or an unknown/revoked one) is 401, a key below the route's role is 403,
a key over its per-minute budget is 429 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.auth import ApiKey
from service.http.errors import ApiError
from service.http.services import Services

__all__ = ["AdminKey", "EditorKey", "ReaderKey", "ServicesDep", "current_key", "require"]

bearer = HTTPBearer(auto_error=False, description="An API key from `firstseen keys create`.")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_key(services: ServicesDep,
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> ApiKey:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthorized", "send an API key as 'Authorization: Bearer KEY'",
                       {"WWW-Authenticate": "Bearer"})
    key = services.keys.authenticate(credentials.credentials)
    if key is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
    retry_after = services.limiter.hit(key.id)
    if retry_after is not None:
        raise ApiError(429, "rate_limited",
                       f"over {services.settings.rate_limit_per_minute} requests a minute for this key",
                       {"Retry-After": str(retry_after)})
    return key


def require(role: str) -> Callable[[ApiKey], ApiKey]:
    def dependency(key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
        if not key.can(role):
            raise ApiError(403, "forbidden", f"this needs an {role} key" if role[0] in "aeiou"
                           else f"this needs a {role} key")
        return key

    dependency.__name__ = f"require_{role}"
    return dependency


ReaderKey = Annotated[ApiKey, Depends(require("reader"))]
EditorKey = Annotated[ApiKey, Depends(require("editor"))]
AdminKey = Annotated[ApiKey, Depends(require("admin"))]
