"""Command line front end: ``firstseen check``, ``firstseen archive …``.

A thin layer over ``service.pipeline``: parse arguments, build ``Settings``
once, show rich progress, print text or JSON, and turn ``BadInput`` into exit
code 2 with one line on stderr (never a traceback).

Only typer is imported up front: each command imports what it needs when it runs
(settings, models, rich, numpy), so ``--help`` and small commands start at once
(``python -m bench.startup`` measures it). Help is plain click text for the same reason.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from service.errors import BadInput, FirstseenError, NotFound

if TYPE_CHECKING:
    from rich.console import Console

    from service.models import ArchiveItem, Report
    from service.pipeline import Pipeline

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="firstseen: has this footage been online before?")
archive_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Curate the archive of prior uploads.")
app.add_typer(archive_app, name="archive")



class _LazyConsole:
    """A rich ``Console`` made on first use: importing rich is time ``--help`` does not need."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def rich_console(self) -> Console:
        """The console itself, for rich classes that take one (``Progress``)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich_console, name)


out: Any = _LazyConsole()
err: Any = _LazyConsole(stderr=True)

T = TypeVar("T")


# Control characters (ESC starts terminal commands), except newline and tab.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(value: object) -> str:
    """Text from users and pages for rich: no markup (``[/]`` would crash it), no terminal escapes."""
    from rich.markup import escape

    return escape(_CONTROL.sub("\ufffd", str(value)))


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {_plain(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


_open_pipelines: list[Any] = []


def _run(fn: Callable[[], T]) -> T:
    """Domain errors become one line and an exit code; nothing else is caught."""
    try:
        return fn()
    except (BadInput, NotFound) as exc:
        _fail(str(exc), 2)
    except FirstseenError as exc:
        _fail(str(exc), 1)
    finally:
        while _open_pipelines:
            _open_pipelines.pop().close()


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[float, str], None]]:
    if not enabled:
        yield lambda _f, _s: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err.rich_console, transient=True) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda f, stage: bar.update(task, completed=f, description=f"{label}: {stage}")


def _pipeline() -> Any:
    from service.pipeline import Pipeline
    from service.settings import Settings

    pipeline = Pipeline.from_settings(Settings())
    _open_pipelines.append(pipeline)
    return pipeline


def _settings() -> Any:
    from service.settings import Settings

    settings = Settings()
    settings.ensure_dirs()
    return settings


def _store() -> Any:
    """The archive's tables alone, for commands that only read or edit rows.

    No ``Pipeline``: importing it imports every stage (yt-dlp, PyAV, OpenCV, the index), about a second
    that ``archive list`` never uses (tests/test_cli.py checks they stay out).
    """
    from service.archive.store import ArchiveStore, create_db_engine

    store = ArchiveStore(create_db_engine(_settings().resolved_database_url))
    _open_pipelines.append(_EngineOwner(store.engine))
    return store


def _sources() -> Any:
    from service.archive.sources import SourceStore

    return SourceStore(_store().engine)


class _EngineOwner:
    """Lets ``_run`` release a store's connections like a pipeline's."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _print_item(item: ArchiveItem) -> None:
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in item.to_dict().items():
        if value not in (None, ""):
            table.add_row(f"[bold]{key}[/]", _plain(value))
    out.print(table)


def _published(item: ArchiveItem, unknown: str = "?") -> str:
    """An archived date for a table; one only a web page claims says so (service/dates.py)."""
    from service.dates import TRUSTED_DATE_ORIGINS

    if not item.published:
        return unknown
    claimed = item.date_origin not in TRUSTED_DATE_ORIGINS
    return _plain(item.published) + (" (page claim)" if claimed else "")


# A miss is no all-clear: neutral, never green.
VERDICT_STYLE = {"recycled": "bold white on red", "misattributed": "bold white on dark_orange",
                 "seen_before": "bold black on yellow", "no_prior_match": "bold black on white"}


def _print_report(report: Report) -> None:
    out.print(f"[{VERDICT_STYLE[report.verdict]}] {report.verdict.replace('_', ' ').upper()} [/]  "
              f"{_plain(report.explanation)}", highlight=False)
    if report.history:
        out.print(f"History: {_plain(report.history)}", highlight=False)
    if not report.matches:
        return
    from rich.table import Table

    table = Table(title="Matches", show_lines=False)
    columns = ("id", "title", "published", "location", "score", "coverage", "seen as", "segments (query → archive, s)")
    for col in columns:
        table.add_column(col)
    for m in report.matches:
        segs = ", ".join(f"{s.query_start:.1f}–{s.query_end:.1f} → {s.archive_start:.1f}–{s.archive_end:.1f}"
                         + (f" ×{s.speed:.2f}" if abs(s.speed - 1) > 0.05 else "") for s in m.segments)
        table.add_row(str(m.item.id), _plain(m.item.title or ""), _published(m.item), _plain(m.item.location or ""),
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
    from service.dates import parse_claimed_date
    from service.models import Claims

    def run() -> Report:
        if claimed_date:
            parse_claimed_date(claimed_date)  # fail before downloading anything (a bad or future date)
        pipeline = _pipeline()
        with _progress(not as_json, "checking") as progress:
            report: Report = pipeline.check(source, Claims(claimed_date, claimed_location, claimed_event),
                                    remember=remember, progress=progress)
        if evidence is not None:
            _write_evidence(pipeline, report, evidence)
        return report

    report = _run(run)
    if as_json:
        _print_json(report.to_dict())
    else:
        _print_report(report)


def _write_evidence(pipeline: Pipeline, report: Report, folder: Path) -> None:
    """evidence_N.jpg for matched segment N (the API's /evidence/N.jpg) whose media is still kept."""
    from service.report.evidence import evidence_count, evidence_jpeg

    folder.mkdir(parents=True, exist_ok=True)
    for n in range(evidence_count(report)):
        with contextlib.suppress(NotFound):  # the archived media is no longer kept
            (folder / f"evidence_{n}.jpg").write_bytes(evidence_jpeg(pipeline, report, n))


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
    from service.models import ArchiveMetadata

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


@archive_app.command("export")
def archive_export(file: Annotated[Path, typer.Argument(help="Output file (.jsonl or .jsonl.gz).")]) -> None:
    """Write the whole archive (metadata, fingerprints, footage links) to one file."""
    from service.archive.exchange import export_archive

    n_items, n_links = _run(lambda: export_archive(_store(), file))
    out.print(f"exported {n_items} item(s) and {n_links} footage link(s) to {file}")


@archive_app.command("import")
def archive_import(
    source: Annotated[Path, typer.Argument(help="A folder of media (with --manifest) or an export file.")],
    manifest: Annotated[Path | None, typer.Option(help="CSV or JSON with a 'file' column and metadata.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bulk-add a folder of files described by a manifest, or restore an archive export."""
    folder = source
    if manifest is None:
        from service.archive.exchange import import_archive

        if source.is_dir():
            _fail("importing a folder needs --manifest FILE")
        def restore() -> tuple[int, int]:
            return import_archive(_store(), source, max_bytes=_settings().max_import_bytes)

        n_items, n_links = _run(restore)
        if as_json:
            _print_json({"items": n_items, "links": n_links})
        else:
            out.print(f"imported {n_items} item(s) and {n_links} footage link(s)")
        return

    def run() -> list[ArchiveItem]:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        pipeline = _pipeline()
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err.rich_console, disable=as_json) as bar:
            task = bar.add_task("importing", total=None)

            def step(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=f"importing {name}")

            assert manifest is not None
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
    from rich.table import Table

    items = _run(lambda: _store().list(q=query, kind=kind))
    if as_json:
        _print_json([i.to_dict() for i in items])
        return
    table = Table()
    for col in ("id", "kind", "title", "published", "location", "event", "duration"):
        table.add_column(col)
    for i in items:
        table.add_row(str(i.id), i.kind, _plain(i.title or ""), _published(i, ""), _plain(i.location or ""),
                      _plain(i.event or ""), f"{i.duration:.0f} s")
    out.print(table)


@archive_app.command("audit")
def archive_audit(
    limit: Annotated[int, typer.Option(help="Newest entries to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Who changed the archive, when, and what."""
    from rich.table import Table

    entries = _run(lambda: _store().audit_log(limit=limit))
    if as_json:
        _print_json(entries)
        return
    table = Table()
    for col in ("at", "actor", "action", "item"):
        table.add_column(col)
    for e in entries:
        table.add_row(e["at"], _plain(e["actor"]), e["action"], str(e["item_id"] or ""))
    out.print(table)


@archive_app.command("show")
def archive_show(item_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one archive item."""
    item = _run(lambda: _store().get(item_id))
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
        out.print(f"removed archive item {item.id} ({_plain(item.title or 'untitled')})")


# --- footage, sources, crawl --------------------------------------------------
footage_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                          help="The life of a piece of footage: every known upload.")
sources_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Channels, playlists and feeds to crawl.")
app.add_typer(footage_app, name="footage")
app.add_typer(sources_app, name="sources")


@footage_app.command("show")
def footage_show(
    item_id: Annotated[int, typer.Argument(help="Any archive item of the footage.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    png: Annotated[Path | None, typer.Option(help="Also draw the timeline into this PNG file.")] = None,
) -> None:
    """Every known upload of the footage, oldest first, with its claim and shared seconds."""
    from rich.table import Table

    from service.match.verdict import sort_by_date

    def run() -> tuple[list[ArchiveItem], list[tuple[int, int, float, str]]]:
        store = _store()
        item = store.get(item_id)
        members = store.footage(item.footage_id) if item.footage_id else [item]
        links = store.links_among([m.id for m in members])
        return sort_by_date(members), links

    members, links = _run(run)
    if png is not None:
        from service.timeline import entries_from_items, render_timeline_png

        png.write_bytes(render_timeline_png(entries_from_items(members, highlight_id=item_id)))
    shares = {(a, b): json.loads(seg) for a, b, _score, seg in links}
    if as_json:
        _print_json({
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
        table.add_row(str(m.id), _published(m), m.kind, _plain(m.uploader or m.platform or ""),
                      _plain(m.claimed_location or m.claimed_event or m.location or m.event or ""), shared)
    out.print(table)
    if png is not None:
        out.print(f"timeline written to {png}")


@sources_app.command("add")
def sources_add(url: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Register a channel, playlist, user page or feed for crawling."""
    source = _run(lambda: _pipeline().add_source(url))
    if as_json:
        _print_json(source.to_dict())
    else:
        out.print(f"added source [bold]{source.id}[/] {_plain(source.url)}")


@sources_app.command("list")
def sources_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List crawl sources and how their last crawl went."""
    from rich.table import Table

    sources = _run(lambda: _sources().list())
    if as_json:
        _print_json([s.to_dict() for s in sources])
        return
    table = Table()
    for col in ("id", "url", "title", "seen", "last crawl", "status"):
        table.add_column(col)
    for s in sources:
        table.add_row(str(s.id), _plain(s.url), _plain(s.title or ""), str(s.entries_seen),
                      s.last_crawled_at or "never", _plain(s.last_status or ""))
    out.print(table)


@sources_app.command("remove")
def sources_remove(source_id: int) -> None:
    """Stop crawling a source (what it added stays in the archive)."""
    _run(lambda: _sources().remove(source_id))
    out.print(f"removed source {source_id}")


def _crawl_all(source_id: int | None, keep_media: bool, as_json: bool) -> list[dict[str, Any]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    pipeline = _pipeline()
    ids = [source_id] if source_id is not None else [s.id for s in pipeline.sources.list()]
    summaries: list[dict[str, Any]] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err.rich_console, disable=as_json) as bar:
        for sid in ids:
            url = pipeline.sources.get(sid).url
            task = bar.add_task(f"source {sid}", total=None)

            def step(done: int, total: int, name: str, task: Any = task, sid: int = sid) -> None:
                bar.update(task, completed=done, total=total, description=f"source {sid}: {name[:40]}")

            summary = pipeline.crawl(sid, keep_media=keep_media, progress=step)
            summaries.append({"source_id": sid, "url": url, "listed": summary.listed, "new": summary.new,
                              "added": list(summary.added),
                              "failed": [{"url": u, "reason": r} for u, r in summary.failed]})
    return summaries


@app.command()
def crawl(
    source: Annotated[int | None, typer.Option(help="Only this source id.")] = None,
    keep_media: Annotated[bool, typer.Option(help="Keep downloaded media (default: fingerprints only).")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fetch new uploads from the registered sources and remember them."""
    summaries = _run(lambda: _crawl_all(source, keep_media, as_json))
    if as_json:
        _print_json(summaries)
        return
    for s in summaries:
        out.print(f"source {s['source_id']} ({_plain(s['url'])}): {s['listed']} listed, {s['new']} new, "
                  f"{len(s['added'])} added, {len(s['failed'])} failed")
        for f in s["failed"]:
            out.print(f"  [yellow]skipped[/] {_plain(f['url'])}: {_plain(f['reason'])}", highlight=False)


@app.command()
def watch(
    every: Annotated[str, typer.Option(help="Interval: 30m, 1h, 6h, 1d.")] = "1h",
    keep_media: Annotated[bool, typer.Option()] = False,
    times: Annotated[int, typer.Option(help="Stop after this many crawls (0: forever).")] = 0,
) -> None:
    """Crawl all sources now and then again every interval."""
    import time

    seconds = _parse_interval(every)
    n = 0
    while True:
        for s in _run(lambda: _crawl_all(None, keep_media, False)):
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
        _fail(f"cannot read interval {text!r}: use e.g. 30m, 1h, 1d")
    if value < 1:
        _fail(f"interval {text!r} is too short")
    return value


@app.command()
def prune(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Delete unremembered uploads and cached downloads older than the retention settings.

    FIRSTSEEN_KEEP_UNREMEMBERED_UPLOADS_S (default 0) and FIRSTSEEN_KEEP_DOWNLOAD_CACHE_S (default a day);
    `serve` and `worker` do this every FIRSTSEEN_PRUNE_EVERY_S. Archived media is never deleted.
    """
    from service.retention import PruneSummary
    from service.retention import prune as prune_now

    def run() -> PruneSummary:
        return prune_now(_settings(), _store().engine)

    summary = _run(run)
    if as_json:
        _print_json(summary.to_dict())
    else:
        out.print(f"removed {summary.uploads} upload(s) and {summary.cache_entries} cached download(s), "
                  f"{summary.bytes_freed / 1e6:.1f} MB")


@app.command()
def report(
    check_id: Annotated[str, typer.Argument(help="The id of a check made through the web form or the API.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="Write the PDF report, firstseen-ID.pdf.")] = False,
    zipped: Annotated[bool, typer.Option("--zip", help="Write the evidence pack (PDF, pictures, JSON), "
                                                       "firstseen-ID.zip.")] = False,
    folder: Annotated[Path, typer.Option("--out", help="Folder to write them in.")] = Path("."),
) -> None:
    """A finished check's report as JSON, or exported: the PDF (--pdf) and the zipped evidence pack (--zip)."""
    from service.jobs import JobStore
    from service.report.public import public_report

    def run() -> list[Path] | dict[str, Any]:
        job = JobStore(_store().engine).get(check_id)
        if job.kind != "check" or job.state != "done":
            raise NotFound(f"{check_id} is not a finished check")
        if not (pdf or zipped):
            return public_report(job.report)
        if not folder.is_dir():
            raise BadInput(f"no such folder: {folder}")
        from service.report.export import evidence_zip, report_pdf

        pipeline = _pipeline()
        written = []
        if pdf:
            written.append(folder / f"firstseen-{job.id}.pdf")
            written[-1].write_bytes(report_pdf(pipeline, job.id, job.report))
        if zipped:
            written.append(folder / f"firstseen-{job.id}.zip")
            written[-1].write_bytes(evidence_zip(pipeline, job.id, job.report))
        return written

    result = _run(run)
    if isinstance(result, dict):
        _print_json(result)
        return
    for path in result:
        out.print(f"wrote {_plain(path)}", highlight=False)


# --- benchmarks ----------------------------------------------------------------
bench_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Measure speed and accuracy.")
app.add_typer(bench_app, name="bench")


@bench_app.command("index")
def bench_index(
    frames: Annotated[int, typer.Option(help="Frame hashes in the synthetic archive.")] = 1_000_000,
    queries: Annotated[int, typer.Option(help="60-second queries to run.")] = 50,
    exact_queries: Annotated[int, typer.Option(help="Queries also run as an exact scan (slow).")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result line.")] = False,
) -> None:
    """Latency and recall of the archive index at scale; the last line is JSON."""
    from dataclasses import asdict

    from rich.table import Table

    from service.benchmark import result_json, run_index_bench

    if frames < 10_000 or queries < 1:
        _fail("use --frames ≥ 10000 and --queries ≥ 1")
    result = run_index_bench(frames, queries, min(exact_queries, queries),
                             log=(lambda _m: None) if as_json else (lambda m: err.print(m)))
    if not as_json:
        table = Table(title=f"index benchmark: {frames:,} frame hashes, {queries} queries")
        table.add_column("figure")
        table.add_column("value")
        for key, value in asdict(result).items():
            table.add_row(key, str(value))
        err.print(table)
    sys.stdout.write(result_json(result) + "\n")


# --- keys and serve (issue 4: API and web form) ---------------------------------
keys_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="API keys for the HTTP API and the web form.")
app.add_typer(keys_app, name="keys")


def _key_store() -> Any:
    from service.archive.store import create_db_engine
    from service.auth import KeyStore
    from service.settings import Settings

    settings = Settings()
    settings.ensure_dirs()
    store = KeyStore(create_db_engine(settings.resolved_database_url))
    _open_pipelines.append(_EngineOwner(store.engine))
    return store


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="reader (checks, reads), editor (+ archive), admin (+ keys, audit).")],
    name: Annotated[str | None, typer.Option(help="Who the key is for (shown in the audit log).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    key, token = _run(lambda: _key_store().create(role, name))
    if as_json:
        _print_json({**key.to_dict(), "key": token})
    else:
        out.print(f"created {key.role} key [bold]{key.id}[/] ({_plain(key.name)}); it is shown only now:",
                  highlight=False)
        sys.stdout.write(token + "\n")


@keys_app.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List API keys (never the keys themselves)."""
    from rich.table import Table

    keys = _run(lambda: _key_store().list())
    if as_json:
        _print_json([k.to_dict() for k in keys])
        return
    table = Table()
    for col in ("id", "name", "role", "starts with", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(str(k.id), _plain(k.name), k.role, k.prefix + "…", k.created_at, k.revoked_at or "")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Revoke an API key at once (web sessions made with it end too)."""
    key = _run(lambda: _key_store().revoke(key_id))
    out.print(f"revoked key {key.id} ({_plain(key.name)})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes running jobs beside the API (without Redis).")] = 1,
) -> None:
    """Serve the HTTP API (/api/v1, docs at /docs) and the web form (/) with uvicorn."""
    import uvicorn

    from service.api import create_app
    from service.settings import Settings

    application = _run(lambda: create_app(Settings(), workers=workers))
    uvicorn.run(application, host=host, port=port, log_level="info")
# --- end of keys and serve ------------------------------------------------------


# --- worker (issue 5: distributed jobs on Redis) --------------------------------
@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Jobs run at once in this process.")] = 1,
) -> None:
    """Run checks and archive additions queued on Redis (FIRSTSEEN_REDIS_URL) until stopped."""
    from service.settings import Settings

    settings = Settings()
    if not settings.redis_url:
        _fail("firstseen worker needs FIRSTSEEN_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    if threads < 1:
        _fail("use --threads ≥ 1")
    import logging

    from service.jobs.redis_queue import run_worker

    logging.getLogger("service.jobs.redis_queue").setLevel(logging.INFO)
    settings.ensure_dirs()
    _run(lambda: run_worker(settings, threads))
# --- end of worker ----------------------------------------------------------------


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("PIL").setLevel(logging.WARNING)


def main() -> None:
    app()
