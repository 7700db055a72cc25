"""API routers, one module per resource; ``api_router`` gathers them under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.routes import admin, archive, checks, jobs, reviews, sources

__all__ = ["api_router"]

api_router = APIRouter()
for module in (checks, reviews, jobs, archive, sources, admin):
    api_router.include_router(module.router)
