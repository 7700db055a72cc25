"""The footage page: every known upload of one piece of footage, what each claims, and their timeline.

``/archive/items/{id}/footage`` (readers and up, as ``GET /api/v1/footage/{id}``) is reached from any
member's item page. Footage is named by one of its items because a footage id changes when uploads
are joined or one is removed; any member's address shows the same footage. Beside the list (oldest
first, with who vouches for each date) it sets the claims side by side: where the uploads agree on a
place or event and where they differ, and the seconds each shares with another.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from service.errors import NotFound
from service.http.web.archive_pages import MAX_ITEM_ID, footage_of
from service.models import ArchiveItem

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

CLAIM_FIELDS = (("published", "First published"), ("location", "Place recorded"), ("event", "Event"))


def _claims(members: list[ArchiveItem]) -> list[dict[str, Any]]:
    """Per claim, each distinct value with the uploads that give it (first seen first)."""
    rows = []
    for field, label in CLAIM_FIELDS:
        values: dict[str, list[int]] = {}
        for m in members:
            value = getattr(m, field)
            if value:
                values.setdefault(str(value), []).append(m.id)
        if values:
            rows.append({"label": label, "seen": [{"value": v, "ids": ids} for v, ids in values.items()],
                         "agree": len(values) == 1, "silent": len(members) - sum(map(len, values.values()))})
    return rows


@router.get("/archive/items/{item_id}/footage", response_class=HTMLResponse, name="web_footage")
def footage_page(request: Request, item_id: int) -> Response:
    from service.http.web.routes import logged_in, page

    services = request.app.state.services
    key = logged_in(request, services)
    try:
        if not 1 <= item_id <= MAX_ITEM_ID:
            raise NotFound(f"no archive item {item_id}")
        item = services.pipeline.archive.item(item_id)
    except NotFound:
        return page(request, "error.html", key, status=404,
                     message=f"There is no archive item #{item_id}: it may have been removed. "
                             "Search the archive for the footage instead.")
    members, shared = footage_of(services, item.id)
    return page(request, "footage.html", key, item=item, members=members, shared=shared, claims=_claims(members))
