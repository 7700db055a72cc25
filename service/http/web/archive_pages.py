"""Archive pages of the web form: one archive item with its footage, and editing and removing it.

``/archive/items/{id}`` shows the item's provenance (who says its date), every known upload of the same
footage oldest first with the seconds they share, and their timeline; editors correct the provenance
and remove the item there (CSRF-checked forms, the audit log records the key). Reading needs a reader
key, as ``GET /api/v1/archive/{id}`` does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from service.dates import parse_date
from service.errors import FirstseenError, NotFound
from service.http.services import Services
from service.models import ArchiveItem

__all__ = ["MAX_ITEM_ID", "footage_of", "router"]

router = APIRouter(include_in_schema=False)

EDIT_FIELDS = ("title", "published", "location", "event", "source_url", "factcheck_url", "notes", "platform",
               "uploader")
MAX_ITEM_ID = 2**31 - 1


def _fmt(seconds: float) -> str:
    m, s = divmod(max(0.0, float(seconds)), 60)
    return f"{int(m)}:{s:04.1f}"


def footage_of(services: Services, item_id: int) -> tuple[list[ArchiveItem], list[dict[str, str | int]]]:
    """The footage's uploads oldest first, and per shared segment the two uploads' spans as m:ss.s."""
    view = services.pipeline.archive.footage(item_id)
    shared: list[dict[str, str | int]] = [
        {"a": link.item, "b": link.shares_with, "a_span": f"{_fmt(s.query_start)}–{_fmt(s.query_end)}",
         "b_span": f"{_fmt(s.archive_start)}–{_fmt(s.archive_end)}"}
        for link in view.links for s in link.segments
    ]
    return list(view.members), shared


def _item_page(request: Request, item_id: int, status: int = 200, error: str | None = None,
               saved: bool = False, form: dict[str, str] | None = None) -> Response:
    from service.http.web.routes import logged_in, page

    services = request.app.state.services
    key = logged_in(request, services)
    if not 1 <= item_id <= MAX_ITEM_ID:
        return page(request, "error.html", key, status=404, message="There is no such archive item.")
    try:
        item = services.pipeline.archive.item(item_id)
    except NotFound:
        return page(request, "error.html", key, status=404,
                     message=f"There is no archive item #{item_id}: it may have been removed. "
                             "Search the archive for the footage instead.")
    members, shared = footage_of(services, item.id)
    return page(request, "item.html", key, status=status, item=item, members=members, shared=shared,
                 error=error, saved=saved, form=form or {f: getattr(item, f) or "" for f in EDIT_FIELDS})


@router.get("/archive/items/{item_id}", response_class=HTMLResponse, name="web_item")
def item_page(request: Request, item_id: int, saved: bool = False) -> Response:
    return _item_page(request, item_id, saved=saved)


@router.get("/archive/items/{item_id}/timeline.png", name="web_item_timeline")
def item_timeline(request: Request, item_id: int) -> Response:
    from service.http.web.routes import logged_in
    from service.timeline import entries_from_items, render_timeline_png

    services = request.app.state.services
    logged_in(request, services)
    members, _ = footage_of(services, item_id)
    return Response(render_timeline_png(entries_from_items(members, highlight_id=item_id)), media_type="image/png")


async def _editor_form(request: Request) -> tuple[Any, Any, dict[str, str]]:
    from service.http.web.routes import logged_in, posted_form

    services = request.app.state.services
    key = logged_in(request, services)
    if not key.can("editor"):
        raise PermissionError("changing the archive needs an editor key")
    fields, _ = await posted_form(request, services, None)
    return services, key, fields


@router.post("/archive/items/{item_id}/edit", name="web_item_edit")
async def edit_item(request: Request, item_id: int) -> Response:
    fields: dict[str, str] = {}
    try:
        services, key, fields = await _editor_form(request)
        changes = {f: (fields.get(f) or "").strip() or None for f in EDIT_FIELDS if f in fields}
        published = changes.get("published")
        if published:
            parse_date(published)  # BadInput: said on the page, the form kept
        await run_in_threadpool(services.pipeline.archive.update_item, item_id, changes, key.actor)
    except PermissionError as exc:
        return _item_page(request, item_id, status=403, error=str(exc), form=fields or None)
    except FirstseenError as exc:
        from service.http.errors import status_for

        return _item_page(request, item_id, status=status_for(exc), error=str(exc), form=fields or None)
    return RedirectResponse(str(request.url_for("web_item", item_id=item_id).path) + "?saved=1", status_code=303)


@router.post("/archive/items/{item_id}/remove", name="web_item_remove")
async def remove_item(request: Request, item_id: int) -> Response:
    try:
        services, key, fields = await _editor_form(request)
        if fields.get("confirm") != "yes":
            return _item_page(request, item_id, status=400,
                              error="Tick the box to confirm the removal; nothing was removed.")

        def remove() -> None:
            with services.archive_lock:
                services.pipeline.archive_remove(item_id, actor=key.actor)

        await run_in_threadpool(remove)
    except PermissionError as exc:
        return _item_page(request, item_id, status=403, error=str(exc))
    except FirstseenError as exc:
        from service.http.errors import status_for

        return _item_page(request, item_id, status=status_for(exc), error=str(exc))
    return RedirectResponse(str(request.url_for("web_archive").path) + f"?removed={item_id}", status_code=303)
