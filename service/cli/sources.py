"""``firstseen sources …``, ``crawl`` and ``watch``: the channels and feeds the archive grows from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli.common import err, fail, out, plain, print_json, resources, run

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["app", "crawl", "watch"]

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Channels, playlists and feeds to crawl.")


@app.command("add")
def sources_add(ctx: typer.Context, url: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Register a channel, playlist, user page or feed for crawling."""
    source = run(lambda: resources(ctx).pipeline().add_source(url))
    if as_json:
        print_json(source.to_dict())
    else:
        out.print(f"added source [bold]{source.id}[/] {plain(source.url)}")


@app.command("list")
def sources_list(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List crawl sources and how their last crawl went."""
    from rich.table import Table

    sources = run(lambda: resources(ctx).archive().sources())
    if as_json:
        print_json([s.to_dict() for s in sources])
        return
    table = Table()
    for col in ("id", "url", "title", "seen", "last crawl", "status"):
        table.add_column(col)
    for s in sources:
        table.add_row(str(s.id), plain(s.url), plain(s.title or ""), str(s.entries_seen),
                      s.last_crawled_at or "never", plain(s.last_status or ""))
    out.print(table)


@app.command("remove")
def sources_remove(ctx: typer.Context, source_id: int) -> None:
    """Stop crawling a source (what it added stays in the archive)."""
    run(lambda: resources(ctx).archive().remove_source(source_id))
    out.print(f"removed source {source_id}")


def _crawl_all(pipeline: Pipeline, source_id: int | None, keep_media: bool, as_json: bool) -> list[dict[str, Any]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from service.crawl import crawl

    ids = [source_id] if source_id is not None else [s.id for s in pipeline.archive.sources()]
    summaries: list[dict[str, Any]] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err.rich_console, disable=as_json) as bar:
        for sid in ids:
            url = pipeline.archive.source(sid).url
            task = bar.add_task(f"source {sid}", total=None)

            def step(done: int, total: int, name: str, task: Any = task, sid: int = sid) -> None:
                bar.update(task, completed=done, total=total, description=f"source {sid}: {name[:40]}")

            summary = crawl(pipeline, sid, keep_media=keep_media, progress=step)
            summaries.append({"source_id": sid, "url": url, "listed": summary.listed, "new": summary.new,
                              "added": list(summary.added),
                              "failed": [{"url": u, "reason": r} for u, r in summary.failed]})
    return summaries


def crawl(
    ctx: typer.Context,
    source: Annotated[int | None, typer.Option(help="Only this source id.")] = None,
    keep_media: Annotated[bool, typer.Option(help="Keep downloaded media (default: fingerprints only).")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fetch new uploads from the registered sources and remember them."""
    summaries = run(lambda: _crawl_all(resources(ctx).pipeline(), source, keep_media, as_json))
    if as_json:
        print_json(summaries)
        return
    for s in summaries:
        out.print(f"source {s['source_id']} ({plain(s['url'])}): {s['listed']} listed, {s['new']} new, "
                  f"{len(s['added'])} added, {len(s['failed'])} failed")
        for f in s["failed"]:
            out.print(f"  [yellow]skipped[/] {plain(f['url'])}: {plain(f['reason'])}", highlight=False)


def watch(
    ctx: typer.Context,
    every: Annotated[str, typer.Option(help="Interval: 30m, 1h, 6h, 1d.")] = "1h",
    keep_media: Annotated[bool, typer.Option()] = False,
    times: Annotated[int, typer.Option(help="Stop after this many crawls (0: forever).")] = 0,
) -> None:
    """Crawl all sources now and then again every interval."""
    import time

    seconds = _parse_interval(every)
    n = 0
    while True:
        # One pipeline for every round: its index picks up what other processes added meanwhile.
        for s in run(lambda: _crawl_all(resources(ctx).pipeline(), None, keep_media, False)):
            out.print(f"source {s['source_id']}: {len(s['added'])} added, {len(s['failed'])} failed")
        n += 1
        if times and n >= times:
            return
        time.sleep(seconds)


def _parse_interval(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        fail(f"cannot read interval {text!r}: use e.g. 30m, 1h, 1d")
    if value < 1:
        fail(f"interval {text!r} is too short")
    return value
