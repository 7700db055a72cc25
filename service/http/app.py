"""``create_app(settings)``: the FastAPI app with the API under ``/api/v1`` and the web form at ``/``.

Everything is built here, once per app, from the injected ``Settings``: the
pipeline (reads and archive edits), the job store, the key store, the rate
limiter and the job queue (worker processes beside this one, or Redis, unless
another ``JobQueue`` is given). On start-up, jobs left queued or running by a previous
process are handed to the queue again, and a ``Pruner`` starts removing what
retention no longer keeps (service/retention.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from service.auth import KeyStore
from service.http.api.routes import api_router, public_router
from service.http.api.schemas import Health
from service.http.errors import install_error_handlers
from service.http.headers import SecurityHeaders, docs_page
from service.http.limits import limiter_for, submit_lock_for
from service.http.services import Services
from service.http.uploads import BodyLimit
from service.jobs import JobQueue, JobStore, queue_for, resume_unfinished
from service.retention import Pruner
from service.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)

DESCRIPTION = """Has this conflict footage been online before?

Send `Authorization: Bearer KEY` with a key from `firstseen keys create --role reader|editor|admin`.
Checks and archive additions run as jobs: `POST` answers 202 with a `status_url` to poll.
Errors are always `{"error": {"code": "...", "message": "..."}}`."""


def operation_id(route: APIRoute) -> str:
    """The route's name (``get_check``, ``check_evidence``): what a generated client calls its function."""
    return route.name


def create_app(settings: Settings, queue: JobQueue | None = None, workers: int = 1) -> FastAPI:
    from service.pipeline import Pipeline

    settings.ensure_dirs()
    pipeline = Pipeline.from_settings(settings)
    engine = pipeline.engine
    services = Services(
        settings=settings, pipeline=pipeline, jobs=JobStore(engine), keys=KeyStore(engine),
        limiter=limiter_for(settings), submit_lock=submit_lock_for(settings),  # in Redis when redis_url is set
        queue=queue if queue is not None else queue_for(settings, workers),  # Redis when redis_url is set
    )

    pruner = Pruner(settings, engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        resume_unfinished(services.jobs, services.queue)
        pruner.start()  # unremembered uploads and old downloads, every prune_every_s
        try:
            yield
        finally:
            pruner.stop()
            for part in (services.queue, services.limiter):
                stop = getattr(part, "stop", None) or getattr(part, "close", None)
                if stop is not None:
                    stop()
            pipeline.close()

    app = FastAPI(title="firstseen", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, generate_unique_id_function=operation_id)
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(public_router)

    @app.get("/healthz", tags=["health"], response_model=Health, summary="Liveness and database reachability")
    def healthz() -> Health:
        return Health(status="ok", archive_items=pipeline.archive.count())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return docs_page(request.scope.get("root_path", "") + (app.openapi_url or ""), f"{app.title} - Swagger UI")

    from service.http.web.routes import install_web

    install_web(app, services)
    app.add_middleware(SecurityHeaders)  # last added, outermost: every response passes through it
    return app
