"""Command line front end: ``firstseen check``, ``firstseen archive …``.

A thin layer over ``service.pipeline``: parse arguments, build ``Settings``
once, show rich progress, print text or JSON, and turn ``BadInput`` into exit
code 2 with one line on stderr (never a traceback).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.errors import BadInput, FirstseenError, NotFound
from service.models import ArchiveItem, ArchiveMetadata, Claims, Report
from service.settings import Settings

__all__ = ["app", "main"]

log = logging.getLogger(__name__)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="firstseen: has this footage been online before?")
archive_app = typer.Typer(no_args_is_help=True, help="Curate the archive of prior uploads.")
app.add_typer(archive_app, name="archive")

out = Console()
err = Console(stderr=True)

T = TypeVar("T")


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _run(fn: Callable[[], T]) -> T:
    """Domain errors become one line and an exit code; nothing else is caught."""
    try:
        return fn()
    except (BadInput, NotFound) as exc:
        _fail(str(exc), 2)
    except FirstseenError as exc:
        _fail(str(exc), 1)


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[float, str], None]]:
    if not enabled:
        yield lambda _f, _s: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda f, stage: bar.update(task, completed=f, description=f"{label}: {stage}")


def _pipeline() -> Any:
    from service.pipeline import Pipeline

    return Pipeline.from_settings(Settings())


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _print_item(item: ArchiveItem) -> None:
    table = Table(show_header=False, box=None)
    for key, value in item.to_dict().items():
        if value not in (None, ""):
            table.add_row(f"[bold]{key}[/]", str(value))
    out.print(table)


VERDICT_STYLE = {"recycled": "bold white on red", "misattributed": "bold white on dark_orange",
                 "seen_before": "bold black on yellow", "no_prior_match": "bold white on green"}


def _print_report(report: Report) -> None:
    out.print(f"[{VERDICT_STYLE[report.verdict]}] {report.verdict.replace('_', ' ').upper()} [/]  "
              f"{report.explanation}", highlight=False)
    if not report.matches:
        return
    table = Table(title="Matches", show_lines=False)
    for col in ("id", "title", "published", "location", "score", "coverage", "seen as", "segments (query → archive, s)"):
        table.add_column(col)
    for m in report.matches:
        segs = ", ".join(f"{s.query_start:.1f}–{s.query_end:.1f} → {s.archive_start:.1f}–{s.archive_end:.1f}"
                         + (f" ×{s.speed:.2f}" if abs(s.speed - 1) > 0.05 else "") for s in m.segments)
        table.add_row(str(m.item.id), m.item.title or "", m.item.published or "?", m.item.location or "",
                      f"{m.score:.2f}", f"{m.coverage:.0%}", m.transform, segs)
    out.print(table)


# --- check -------------------------------------------------------------------
@app.command()
def check(
    source: Annotated[str, typer.Argument(help="Video link (anything yt-dlp fetches) or local file.")],
    claimed_date: Annotated[str | None, typer.Option(help="Date the uploader claims, YYYY-MM-DD.")] = None,
    claimed_location: Annotated[str | None, typer.Option(help="Place the uploader claims.")] = None,
    claimed_event: Annotated[str | None, typer.Option(help="Event the uploader claims.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    remember: Annotated[bool, typer.Option(help="Keep this upload in the archive as observed.")] = True,
    evidence: Annotated[Path | None, typer.Option(help="Write side-by-side frames into this folder.")] = None,
) -> None:
    """Check whether a video's footage is already in the archive."""
    from service.dates import parse_date

    def run() -> Report:
        if claimed_date:
            parse_date(claimed_date)  # fail before downloading anything
        pipeline = _pipeline()
        with _progress(not as_json, "checking") as progress:
            report = pipeline.check(source, Claims(claimed_date, claimed_location, claimed_event),
                                    remember=remember, progress=progress)
        if evidence is not None:
            _write_evidence(pipeline, report, evidence)
        return report

    report = _run(run)
    if as_json:
        _print_json(report.to_dict())
    else:
        _print_report(report)


def _write_evidence(pipeline: Any, report: Report, folder: Path) -> None:
    from service.evidence import evidence_jpeg

    folder.mkdir(parents=True, exist_ok=True)
    for n, match in enumerate(report.matches):
        media = pipeline.store.media_path(match.item.id)
        if media:
            data = evidence_jpeg(Path(report.source.media_path), Path(media), match)
            (folder / f"evidence_{n}.jpg").write_bytes(data)


# --- archive -----------------------------------------------------------------
@archive_app.command("add")
def archive_add(
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

    def run() -> ArchiveItem:
        if published:
            parse_date(published)
        meta = ArchiveMetadata(title=title, published=published, location=location, event=event,
                               source_url=source_url, notes=notes, factcheck_url=factcheck_url)
        with _progress(not as_json, "archiving") as progress:
            item: ArchiveItem = _pipeline().archive_add(source, meta, progress=progress)
        return item

    item = _run(run)
    if as_json:
        _print_json(item.to_dict())
    else:
        out.print(f"added archive item [bold]{item.id}[/]")
        _print_item(item)


@archive_app.command("import")
def archive_import(
    folder: Annotated[Path, typer.Argument(help="Folder holding the media files.")],
    manifest: Annotated[Path, typer.Option(help="CSV or JSON with a 'file' column and metadata.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bulk-add a folder of files described by a manifest."""

    def run() -> list[ArchiveItem]:
        pipeline = _pipeline()
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err, disable=as_json) as bar:
            task = bar.add_task("importing", total=None)

            def step(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=f"importing {name}")

            items: list[ArchiveItem] = pipeline.archive_import(folder, manifest, progress=step)
        return items

    items = _run(run)
    if as_json:
        _print_json([i.to_dict() for i in items])
    else:
        out.print(f"imported {len(items)} item(s)")


@archive_app.command("list")
def archive_list(
    query: Annotated[str | None, typer.Option("--query", "-q", help="Search title, place, event, notes.")] = None,
    kind: Annotated[str | None, typer.Option(help="curated or observed")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List archived footage."""
    items = _run(lambda: _pipeline().store.list(q=query, kind=kind))
    if as_json:
        _print_json([i.to_dict() for i in items])
        return
    table = Table()
    for col in ("id", "kind", "title", "published", "location", "event", "duration"):
        table.add_column(col)
    for i in items:
        table.add_row(str(i.id), i.kind, i.title or "", i.published or "", i.location or "", i.event or "",
                      f"{i.duration:.0f} s")
    out.print(table)


@archive_app.command("show")
def archive_show(item_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one archive item."""
    item = _run(lambda: _pipeline().store.get(item_id))
    if as_json:
        _print_json(item.to_dict())
    else:
        _print_item(item)


@archive_app.command("remove")
def archive_remove(item_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Delete an archive item and its fingerprints."""
    item = _run(lambda: _pipeline().archive_remove(item_id))
    if as_json:
        _print_json(item.to_dict())
    else:
        out.print(f"removed archive item {item.id} ({item.title or 'untitled'})")


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("PIL").setLevel(logging.WARNING)


def main() -> None:
    app()
