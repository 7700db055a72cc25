"""``firstseen footage show``: the life of a piece of footage, every known upload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import out, plain, print_json, published, resources, run

if TYPE_CHECKING:
    from service.models import ArchiveItem

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                  help="The life of a piece of footage: every known upload.")


@app.command("show")
def footage_show(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="Any archive item of the footage.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    png: Annotated[Path | None, typer.Option(help="Also draw the timeline into this PNG file.")] = None,
) -> None:
    """Every known upload of the footage, oldest first, with its claim and shared seconds."""
    from rich.table import Table

    from service.dates import sort_by_date

    def uploads() -> tuple[list[ArchiveItem], list[tuple[int, int, float, str]]]:
        store = resources(ctx).store()
        item = store.get(item_id)
        members = store.footage(item.footage_id) if item.footage_id else [item]
        links = store.links_among([m.id for m in members])
        return sort_by_date(members), links

    members, links = run(uploads)
    if png is not None:
        from service.timeline import entries_from_items, render_timeline_png

        png.write_bytes(render_timeline_png(entries_from_items(members, highlight_id=item_id)))
    shares = {(a, b): json.loads(seg) for a, b, _score, seg in links}
    if as_json:
        print_json({
            "footage_id": members[0].footage_id or members[0].id,
            "uploads": [m.to_dict() for m in members],
            "links": [{"item": a, "shares_with": b, "segments": segs} for (a, b), segs in shares.items()],
        })
        return
    table = Table(title=f"Footage of item {item_id}: {len(members)} known upload(s)")
    for col in ("id", "published", "kind", "uploader / platform", "claimed as", "shares with"):
        table.add_column(col)
    for m in members:
        shared = "; ".join(
            f"#{b} " + ", ".join(f"{s['query_start']:.0f}–{s['query_end']:.0f}s→{s['archive_start']:.0f}–"
                                 f"{s['archive_end']:.0f}s" for s in segs)
            for (a, b), segs in shares.items() if a == m.id
        )
        table.add_row(str(m.id), published(m), m.kind, plain(m.uploader or m.platform or ""),
                      plain(m.claimed_location or m.claimed_event or m.location or m.event or ""), shared)
    out.print(table)
    if png is not None:
        out.print(f"timeline written to {png}")
