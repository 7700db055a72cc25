"""``firstseen archive …``: curate the archive of prior uploads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import err, fail, out, plain, print_item, print_json, progress_bar, resources, run
from service.cli.common import published as shown_date

if TYPE_CHECKING:
    from service.models import ArchiveItem

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Curate the archive of prior uploads.")


@app.command("add")
def archive_add(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Video file or link to archive.")],
    title: Annotated[str | None, typer.Option(help="Title of the footage.")] = None,
    published: Annotated[str | None, typer.Option(help="Earliest known upload, YYYY[-MM[-DD]].")] = None,
    location: Annotated[str | None, typer.Option(help="Where it was recorded.")] = None,
    event: Annotated[str | None, typer.Option(help="The event it shows.")] = None,
    source_url: Annotated[str | None, typer.Option(help="Where it was first published.")] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    factcheck_url: Annotated[str | None, typer.Option(help="A fact-check about it.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fingerprint a video and store it with its provenance."""
    from service.dates import parse_date
    from service.models import ArchiveMetadata

    def added() -> ArchiveItem:
        if published:
            parse_date(published)
        meta = ArchiveMetadata(title=title, published=published, location=location, event=event,
                               source_url=source_url, notes=notes, factcheck_url=factcheck_url)
        with progress_bar(not as_json, "archiving") as progress:
            return resources(ctx).pipeline().archive_add(source, meta, progress=progress)

    item = run(added)
    if as_json:
        print_json(item.to_dict())
    else:
        out.print(f"added archive item [bold]{item.id}[/]")
        print_item(item)


@app.command("export")
def archive_export(ctx: typer.Context,
                   file: Annotated[Path, typer.Argument(help="Output file (.jsonl or .jsonl.gz).")]) -> None:
    """Write the whole archive (metadata, fingerprints, footage links) to one file."""
    n_items, n_links = run(lambda: resources(ctx).archive().export_to(file))
    out.print(f"exported {n_items} item(s) and {n_links} footage link(s) to {file}")


@app.command("import")
def archive_import(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A folder of media (with --manifest) or an export file.")],
    manifest: Annotated[Path | None, typer.Option(help="CSV or JSON with a 'file' column and metadata.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bulk-add a folder of files described by a manifest, or restore an archive export."""
    if manifest is None:
        if source.is_dir():
            fail("importing a folder needs --manifest FILE")

        def restored() -> tuple[int, int]:
            res = resources(ctx)
            return res.archive().import_from(source, max_bytes=res.settings().max_import_bytes)

        n_items, n_links = run(restored)
        if as_json:
            print_json({"items": n_items, "links": n_links})
        else:
            out.print(f"imported {n_items} item(s) and {n_links} footage link(s)")
        return

    def imported(manifest: Path) -> list[ArchiveItem]:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        pipeline = resources(ctx).pipeline()
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err.rich_console, disable=as_json) as bar:
            task = bar.add_task("importing", total=None)

            def step(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=f"importing {name}")

            return pipeline.archive_import(source, manifest, progress=step)

    items = run(lambda: imported(manifest))
    if as_json:
        print_json([i.to_dict() for i in items])
    else:
        out.print(f"imported {len(items)} item(s)")


@app.command("list")
def archive_list(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Search title, place, event, notes.")] = None,
    kind: Annotated[str | None, typer.Option(help="curated or observed")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List archived footage."""
    from rich.table import Table

    items = run(lambda: resources(ctx).archive().items(q=query, kind=kind))
    if as_json:
        print_json([i.to_dict() for i in items])
        return
    table = Table()
    for col in ("id", "kind", "title", "published", "location", "event", "duration"):
        table.add_column(col)
    for i in items:
        table.add_row(str(i.id), i.kind, plain(i.title or ""), shown_date(i, ""), plain(i.location or ""),
                      plain(i.event or ""), f"{i.duration:.0f} s")
    out.print(table)


@app.command("audit")
def archive_audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Newest entries to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Who changed the archive, when, and what."""
    from rich.table import Table

    entries = run(lambda: resources(ctx).archive().audit_log(limit=limit))
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    table = Table()
    for col in ("at", "actor", "action", "item"):
        table.add_column(col)
    for e in entries:
        table.add_row(e.at, plain(e.actor), e.action, str(e.item_id or ""))
    out.print(table)


@app.command("show")
def archive_show(ctx: typer.Context, item_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one archive item."""
    item = run(lambda: resources(ctx).archive().item(item_id))
    if as_json:
        print_json(item.to_dict())
    else:
        print_item(item)


@app.command("remove")
def archive_remove(ctx: typer.Context, item_id: int,
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Delete an archive item and its fingerprints."""
    item = run(lambda: resources(ctx).pipeline().archive_remove(item_id))
    if as_json:
        print_json(item.to_dict())
    else:
        out.print(f"removed archive item {item.id} ({plain(item.title or 'untitled')})")
