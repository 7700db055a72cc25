"""One-click export of a finished check: a PDF report, and a zip of the PDF, every picture and the JSON.

The PDF (fpdf2) carries what a desk files with a story: the verdict and its explanation, the checked
video and what its platform (or file) says, the claims, the earliest known upload with who vouches for
its date, each match with its three frame pairs (mirrored uploads flipped back, said so under the
pictures), the timeline of known uploads, and every upload of the footage with its date's origin. Text
from users and fetched pages is written as text only (no markup is interpreted; characters the font
lacks become "?"), in DejaVu Sans from matplotlib's data so any script it covers prints.

The zip holds ``report.pdf``, ``report.json`` (the report as the API gives it, without server paths),
``timeline.png`` and ``evidence/segment-N-POSITION-SIDE.jpg``. Served by the web form, the API and
``firstseen report ID --pdf``; both take the check's id (its pictures' cache) and its ``Report``.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from service.errors import FirstseenError
from service.match.verdict import VERDICT_WORDS
from service.models import ArchiveItem, Report
from service.report.evidence_pack import archive_time, pack_segments
from service.report.platform import platform_rows
from service.report.public import public_report
from service.timeline import report_timeline_png

if TYPE_CHECKING:
    from service.pipeline import Pipeline

__all__ = ["evidence_zip", "report_pdf"]

log = logging.getLogger(__name__)

FONT_DIR = ("fonts", "ttf")
PAGE_WIDTH_MM = 180.0  # A4 less 15 mm margins


def _font_path(name: str) -> str:
    import matplotlib

    return str(Path(matplotlib.get_data_path(), *FONT_DIR, name))


def _seconds(t: float) -> str:
    m, s = divmod(max(0.0, float(t)), 60)
    return f"{int(m)}:{s:04.1f}"


class _Pdf:
    """fpdf2 with a Unicode font and text-only writes (``markdown`` off, glyphs checked)."""

    def __init__(self) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_auto_page_break(True, margin=15)
        self.pdf.add_font("DejaVu", "", _font_path("DejaVuSans.ttf"))
        self.pdf.add_font("DejaVu", "B", _font_path("DejaVuSans-Bold.ttf"))
        self.pdf.set_title("firstseen check report")
        self.pdf.set_creator("firstseen")
        self.pdf.add_page()
        self.glyphs = set(self.pdf.fonts["dejavu"].cmap)  # type: ignore[union-attr]  # a TTFFont

    def clean(self, value: object) -> str:
        text = str(value)
        return "".join(ch if ch == "\n" or (ch.isprintable() and ord(ch) in self.glyphs) else
                       (" " if ch in "\t\r" else "?") for ch in text)

    def text(self, value: object, size: float = 10, bold: bool = False, gap: float = 1.5) -> None:
        self.pdf.set_font("DejaVu", "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.5, self.clean(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(gap)

    def row(self, label: str, value: object) -> None:
        self.text(f"{label}: {value}", size=9, gap=0.5)

    def images(self, pictures: list[tuple[bytes, str]], height: float = 45.0) -> None:
        """Pictures side by side, scaled to one height, each with its caption under it."""
        from PIL import Image

        sizes = [Image.open(io.BytesIO(data)).size for data, _ in pictures]
        widths = [height * w / h for w, h in sizes]
        scale = min(1.0, (PAGE_WIDTH_MM - 4 * (len(pictures) - 1)) / sum(widths))
        h = height * scale
        if self.pdf.get_y() + h + 12 > self.pdf.h - 15:
            self.pdf.add_page()
        x, y = self.pdf.l_margin, self.pdf.get_y()
        for (data, caption), w in zip(pictures, widths, strict=True):
            self.pdf.image(io.BytesIO(data), x=x, y=y, w=w * scale, h=h)
            self.pdf.set_xy(x, y + h + 0.5)
            self.pdf.set_font("DejaVu", "", 7.5)
            self.pdf.multi_cell(w * scale, 3.5, self.clean(caption))
            x += w * scale + 4
        self.pdf.set_xy(self.pdf.l_margin, y + h + 9)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def _pictures(pipeline: Pipeline, job_id: str, report: Report) -> dict[tuple[int, str, str], bytes]:
    """Every frame of the evidence pack that can still be drawn."""
    from service.report.evidence_pack import frame_jpeg

    out: dict[tuple[int, str, str], bytes] = {}
    for seg in pack_segments(report):
        for pair in seg.pairs:
            for side in ("checked", "unmirrored", "archive"):
                if side == "unmirrored" and not seg.flipped:
                    continue
                try:
                    out[(seg.n, pair.position, side)] = frame_jpeg(pipeline, job_id, report, seg.n,
                                                                   pair.position, side)
                except (FirstseenError, OSError) as exc:
                    log.info("evidence frame %d/%s/%s of %s not drawn: %s", seg.n, pair.position, side, job_id,
                             exc)
    return out


def _timeline(report: Report, job_id: str) -> bytes | None:
    if not report.matches:
        return None
    try:
        return report_timeline_png(report)
    except (FirstseenError, OSError) as exc:
        log.info("no timeline for %s: %s", job_id, exc)
        return None


def report_pdf(pipeline: Pipeline, job_id: str, report: Report, url: str | None = None,
               pictures: dict[tuple[int, str, str], bytes] | None = None) -> bytes:
    """Check ``job_id``'s report as a PDF; ``url`` is where it is read online (printed on it)."""
    from service.dates import origin_words

    shown = public_report(report)
    pictures = _pictures(pipeline, job_id, report) if pictures is None else pictures
    pdf = _Pdf()
    pdf.text("firstseen check report", size=16, bold=True)
    pdf.text(f"Verdict: {VERDICT_WORDS[report.verdict]} ({report.verdict})", size=13, bold=True)
    pdf.text(report.explanation, size=10)
    if report.history:
        pdf.text(f"History: {report.history}", size=10)
    pdf.row("Checked", f"{report.checked_at} (UTC)")
    if url:
        pdf.row("Online", url)
    pdf.text("The checked video", size=12, bold=True, gap=1)
    source = shown["source"]
    pdf.row("Source", f"{source['input']} ({source['kind']})")
    pdf.row("sha256", source["sha256"])
    for row in platform_rows(report.source):
        pdf.row(row.label, row.text)
    claims = report.claims
    said = ", ".join(f"{k} {v}" for k, v in (("date", claims.date_text), ("place", claims.location),
                                               ("event", claims.event)) if v)
    pdf.row("Claimed", said or "nothing")

    def dated(item: ArchiveItem) -> str:
        if not item.published:
            return "date unknown"
        return f"{item.published} ({origin_words(item.date_origin, item.platform)})"

    earliest = report.earliest.item if report.earliest else None
    if earliest:
        pdf.text("Earliest known upload", size=12, bold=True, gap=1)
        pdf.row("Archive item", f"#{earliest.id} {earliest.title or 'untitled'}")
        pdf.row("Published", dated(earliest))
        for label, value in (("Location", earliest.location), ("Event", earliest.event),
                             ("Source", earliest.source_url), ("Fact-check", earliest.factcheck_url)):
            if value:
                pdf.row(label, value)
    segments = pack_segments(report)
    if segments:
        pdf.text("Evidence: matched seconds, start, middle and end", size=12, bold=True, gap=1)
    for seg in segments:
        m, s = seg.match, seg.segment
        pdf.text(f"Segment {seg.n + 1}: checked video {_seconds(s.query_start)}–{_seconds(s.query_end)} "
                 f"shows archive #{m.item.id} ({m.item.title or 'untitled'}, {dated(m.item)}) "
                 f"{_seconds(s.archive_start)}–{_seconds(s.archive_end)}; "
                 f"{round(100 * m.coverage)}% of the video"
                 + ("; the checked video is a mirrored copy: its frames are shown flipped back" if seg.flipped
                    else ""), size=9, bold=True)
        for pair in seg.pairs:
            checked = pictures.get((seg.n, pair.position, "unmirrored" if seg.flipped else "checked"))
            archive = pictures.get((seg.n, pair.position, "archive"))
            if checked is None or archive is None:
                pdf.row(pair.position.capitalize(), "the media is no longer kept; frames not drawn")
                continue
            pdf.images([(checked, f"{pair.position}: checked video at {_seconds(pair.query_t)}"
                                  + (" (flipped back)" if seg.flipped else "")),
                        (archive, f"{pair.position}: archive #{m.item.id} at "
                                  f"{_seconds(archive_time(pipeline, job_id, seg, pair))}")])
    timeline = _timeline(report, job_id)
    if timeline is not None:
        pdf.text("Known uploads over time", size=12, bold=True, gap=1)
        pdf.images([(timeline, "Every known upload of the footage; the checked upload in red")], height=55)
    if report.footage:
        pdf.text("Every known upload of the footage (oldest first) and who vouches for its date", size=12,
                 bold=True, gap=1)
        for item in report.footage:
            who = item.uploader or item.platform or item.kind
            pdf.row(f"#{item.id}", f"{item.title or 'untitled'} · {who} · {dated(item)}"
                    + (f" · {item.source_url}" if item.source_url else ""))
    return pdf.bytes()


def evidence_zip(pipeline: Pipeline, job_id: str, report: Report, url: str | None = None) -> bytes:
    """The PDF, the report JSON (no server paths), the timeline and every evidence frame, zipped."""
    pictures = _pictures(pipeline, job_id, report)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("report.pdf", report_pdf(pipeline, job_id, report, url, pictures))
        z.writestr("report.json", json.dumps(public_report(report), indent=2, ensure_ascii=False))
        timeline = _timeline(report, job_id)
        if timeline is not None:
            z.writestr("timeline.png", timeline)
        for (n, position, side), data in sorted(pictures.items()):
            z.writestr(f"evidence/segment-{n + 1}-{position}-{side}.jpg", data)
    return buf.getvalue()
