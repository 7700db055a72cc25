"""``firstseen footage show``: the life of a piece of footage, every known upload."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import out, plain, print_json, published, resources, run

if TYPE_CHECKING:
    pass

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

    view = run(lambda: resources(ctx).archive().footage(item_id))
    members = view.members
    if png is not None:
        from service.timeline import entries_from_items, render_timeline_png

        png.write_bytes(render_timeline_png(entries_from_items(members, highlight_id=item_id)))
    if as_json:
        print_json({
            "footage_id": view.footage_id,
            "uploads": [m.to_dict() for m in members],
            "links": [{"item": link.item, "shares_with": link.shares_with,
                       "segments": [s.to_dict() for s in link.segments]} for link in view.links],
        })
        return
    table = Table(title=f"Footage of item {item_id}: {len(members)} known upload(s)")
    for col in ("id", "published", "kind", "uploader / platform", "claimed as", "shares with"):
        table.add_column(col)
    for m in members:
        shared = "; ".join(
            f"#{link.shares_with} " + ", ".join(f"{s.query_start:.0f}–{s.query_end:.0f}s→{s.archive_start:.0f}–"
                                                f"{s.archive_end:.0f}s" for s in link.segments)
            for link in view.shared_by(m.id)
        )
        table.add_row(str(m.id), published(m), m.kind, plain(m.uploader or m.platform or ""),
                      plain(m.claimed_location or m.claimed_event or m.location or m.event or ""), shared)
    out.print(table)
    if png is not None:
        out.print(f"timeline written to {png}")
