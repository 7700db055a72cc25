"""``firstseen check`` and ``firstseen report``: a verdict on a video, and a finished check's report."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli.common import out, plain, print_json, progress_bar, published, resources, run
from service.errors import BadInput, NotFound

if TYPE_CHECKING:
    from service.models import Report
    from service.pipeline import Pipeline

__all__ = ["check", "report"]

# A miss is no all-clear: neutral, never green.
VERDICT_STYLE = {"recycled": "bold white on red", "misattributed": "bold white on dark_orange",
                 "seen_before": "bold black on yellow", "no_prior_match": "bold black on white"}


def _print_report(report: Report) -> None:
    out.print(f"[{VERDICT_STYLE[report.verdict]}] {report.verdict.replace('_', ' ').upper()} [/]  "
              f"{plain(report.explanation)}", highlight=False)
    if report.history:
        out.print(f"History: {plain(report.history)}", highlight=False)
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
        table.add_row(str(m.item.id), plain(m.item.title or ""), published(m.item), plain(m.item.location or ""),
                      f"{m.score:.2f}", f"{m.coverage:.0%}", m.transform, segs)
    out.print(table)


def check(
    ctx: typer.Context,
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

    def checked() -> Report:
        # Parsed here, before anything is downloaded: a bad or future date fails at once.
        claims = Claims(parse_claimed_date(claimed_date) if claimed_date else None, claimed_location, claimed_event)
        pipeline = resources(ctx).pipeline()
        with progress_bar(not as_json, "checking") as progress:
            report = pipeline.check(source, claims,
                                    remember=remember, progress=progress)
        if evidence is not None:
            _write_evidence(pipeline, report, evidence)
        return report

    report = run(checked)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def _write_evidence(pipeline: Pipeline, report: Report, folder: Path) -> None:
    """evidence_N.jpg for matched segment N (the API's /evidence/N.jpg) whose media is still kept."""
    from service.report.evidence import evidence_count, evidence_jpeg

    folder.mkdir(parents=True, exist_ok=True)
    for n in range(evidence_count(report)):
        with contextlib.suppress(NotFound):  # the archived media is no longer kept
            (folder / f"evidence_{n}.jpg").write_bytes(evidence_jpeg(pipeline, report, n))


def report(
    ctx: typer.Context,
    check_id: Annotated[str, typer.Argument(help="The id of a check made through the web form or the API.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="Write the PDF report, firstseen-ID.pdf.")] = False,
    zipped: Annotated[bool, typer.Option("--zip", help="Write the evidence pack (PDF, pictures, JSON), "
                                                       "firstseen-ID.zip.")] = False,
    folder: Annotated[Path, typer.Option("--out", help="Folder to write them in.")] = Path("."),
) -> None:
    """A finished check's report as JSON, or exported: the PDF (--pdf) and the zipped evidence pack (--zip)."""
    from service.jobs import JobStore
    from service.report.public import public_report

    def exported() -> list[Path] | dict[str, Any]:
        job = JobStore(resources(ctx).engine()).get(check_id)
        if job.kind != "check" or job.state != "done":
            raise NotFound(f"{check_id} is not a finished check")
        if not (pdf or zipped):
            return public_report(job.report)
        if not folder.is_dir():
            raise BadInput(f"no such folder: {folder}")
        from service.report.export import evidence_zip, report_pdf

        pipeline = resources(ctx).pipeline()
        written = []
        if pdf:
            written.append(folder / f"firstseen-{job.id}.pdf")
            written[-1].write_bytes(report_pdf(pipeline, job.id, job.report))
        if zipped:
            written.append(folder / f"firstseen-{job.id}.zip")
            written[-1].write_bytes(evidence_zip(pipeline, job.id, job.report))
        return written

    result = run(exported)
    if isinstance(result, dict):
        print_json(result)
        return
    for path in result:
        out.print(f"wrote {plain(path)}", highlight=False)
