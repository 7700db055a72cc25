"""``firstseen serve`` and ``firstseen worker``: the HTTP API and web form, and workers fed from Redis."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import fail, resources, run

__all__ = ["serve", "worker"]


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes running jobs beside the API (without Redis).")] = 1,
) -> None:
    """Serve the HTTP API (/api/v1, docs at /docs) and the web form (/) with uvicorn."""
    import uvicorn

    from service.http import create_app

    application = run(lambda: create_app(resources(ctx).settings(), workers=workers))
    uvicorn.run(application, host=host, port=port, log_level="info")


def worker(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option(help="Jobs run at once in this process.")] = 1,
) -> None:
    """Run checks and archive additions queued on Redis (FIRSTSEEN_REDIS_URL) until stopped."""
    settings = resources(ctx).settings()
    if not settings.redis_url:
        fail("firstseen worker needs FIRSTSEEN_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    if threads < 1:
        fail("use --threads ≥ 1")
    import logging

    from service.jobs.redis_queue import run_worker

    logging.getLogger("service.jobs.redis_queue").setLevel(logging.INFO)
    run(lambda: run_worker(settings, threads))
