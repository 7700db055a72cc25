"""API routers, one module per resource; ``api_router`` gathers them under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from service.http.api.routes import admin, archive, checks, export, jobs, keyframes, reviews, sources

__all__ = ["api_router", "public_router"]

public_router = keyframes.public_router  # outside /api/v1: what the open web may fetch (keyframes)
api_router = APIRouter()
for module in (checks, reviews, keyframes, export, jobs, archive, sources, admin):
    api_router.include_router(module.router)
