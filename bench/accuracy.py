"""``python -m bench.accuracy``: does firstseen find edited re-uploads, next to vPDQ and videohash?

Builds the corpus (``bench.corpus``) and every edit of every source
(``bench.edits``) into a cache folder, archives the sources in a fresh
firstseen archive and in each peer, then checks every edited copy and every
negative with every tool, in one process, file by file, so the tools share the
machine's load. Per edit and overall it reports recall (the top match is the
right source), false matches on unrelated clips and on hard negatives (same
camera and place, other moment), firstseen's segment error in seconds, and the
hashing time per minute of video (all files, and 720p files alone).

Writes ``docs/results/accuracy.json``, the accuracy tables in
``docs/benchmarks.md`` (between markers, the rest of the file is left alone)
and a bar chart ``docs/img/accuracy.png``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.corpus import Clip, build_corpus
from bench.edits import EDITS, Context, Span, Truth, apply_edit, overlay_assets
from bench.peers import PeerResult, VideoHashPeer, VpdqPeer
from service.errors import FirstseenError
from service.models import ArchiveMetadata, Match
from service.pipeline import Pipeline
from service.settings import Settings

__all__ = ["Query", "build_queries", "evaluate", "main", "segment_error", "summarise"]

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# Edits also applied to the negatives: the views firstseen adds for them are
# extra chances to match something it should not.
NEGATIVE_EDITS = ("plain", "hflip", "vertical_9x16", "crop60_centre")
TOOLS = ("firstseen", "vpdq", "videohash")
# videohash takes 3-10 s a file here (ffmpeg crop detection, a collage per video), so it runs
# on the edits of these sources and on every negative, not on the whole corpus.
VIDEOHASH_SOURCES = ("bikes", "bunny_carphone_720p", "g01_pan", "g03_fixed_cam")
MARK_BEGIN = "<!-- accuracy:begin (written by python -m bench.accuracy) -->"
MARK_END = "<!-- accuracy:end -->"


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    edit: str
    source: str | None  # the archived source it shows; None for negatives
    negative: str | None  # "negative" or "hard_negative"
    truth: Truth
    duration: float
    height: int


def _probe(path: Path) -> tuple[float, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=height:format=duration",
         "-of", "json", str(path)], check=True, capture_output=True, text=True,
    ).stdout
    info = json.loads(out)
    return float(info["format"]["duration"]), int(info["streams"][0]["height"])


def _render(edit_name: str, clip: Clip, out: Path, ctx: Context) -> None:
    """Render one query and its truth sidecar (runs in a worker process)."""
    edit = next(e for e in EDITS if e.name == edit_name)
    truth = apply_edit(edit, clip, out, ctx)
    out.with_suffix(".json").write_text(json.dumps([asdict(s) for s in truth]))


def build_queries(cache: Path, small: bool = False, edits: Sequence[str] | None = None,
                  sources: Sequence[str] | None = None, workers: int = 2,
                  negative_edits: Sequence[str] = NEGATIVE_EDITS) -> tuple[dict[str, Clip], list[Query]]:
    """The corpus and every query over it, rendering what the cache lacks with ``workers`` processes."""
    clips = build_corpus(cache, small=small)
    ctx = Context(overlay_assets(cache / "assets"), {k: c for k, c in clips.items() if c.kind == "filler"})
    folder = cache / ("queries-small" if small else "queries")
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [e.name for e in EDITS if edits is None or e.name in edits]
    jobs: list[tuple[str, Clip, Path]] = []
    for clip in clips.values():
        if clip.kind == "source" and (sources is None or clip.name in sources):
            jobs += [(e, clip, folder / f"{clip.name}__{e}.mp4") for e in wanted]
        elif clip.kind in ("negative", "hard_negative"):
            jobs += [(e, clip, folder / f"{clip.name}__{e}.mp4") for e in negative_edits if e != "plain"]
    todo = [j for j in jobs if not j[2].exists() or not j[2].with_suffix(".json").exists()]
    if todo:
        log.info("rendering %d query clips with %d workers", len(todo), workers)
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            for fut in [pool.submit(_render, e, c, out, ctx) for e, c, out in todo]:
                fut.result()
    queries: list[Query] = []
    for edit_name, clip, out in jobs:
        truth = tuple(Span(**s) for s in json.loads(out.with_suffix(".json").read_text()))
        duration, height = _probe(out)
        is_neg = clip.kind != "source"
        queries.append(Query(out.stem, out, edit_name, None if is_neg else clip.name,
                             clip.kind if is_neg else None, () if is_neg else truth, duration, height))
    for clip in clips.values():
        if clip.kind in ("negative", "hard_negative"):
            duration, height = _probe(clip.path)
            queries.append(Query(f"{clip.name}__plain", clip.path, "plain", None, clip.kind, (), duration, height))
    return clips, queries


def segment_error(match: Match, truth: Truth) -> float | None:
    """Seconds by which the best segment misplaces the footage: worst of its two ends, on both clocks.

    None when the segment lies outside every true span (found the right video, wrong place).
    """
    seg = max(match.segments, key=lambda s: s.frames)

    def overlap(span: Span) -> float:
        return min(seg.query_end, span.q1) - max(seg.query_start, span.q0)

    span = max(truth, key=overlap)
    if overlap(span) <= 0:
        return None
    return max(
        abs(seg.archive_start - span.archive_t(seg.query_start)),
        abs(seg.archive_end - span.archive_t(seg.query_end)),
        abs(seg.query_start - span.q0),
        abs(seg.query_end - span.q1),
    )


class FirstseenTool:
    """firstseen through its public pipeline, with a throwaway archive home."""

    name = "firstseen"

    def __init__(self, home: Path) -> None:
        self.pipeline = Pipeline.from_settings(Settings(home=home, database_url=None, index_backend="exact"))

    def add(self, name: str, path: Path) -> float:
        started = time.perf_counter()
        self.pipeline.archive_add(str(path), ArchiveMetadata(title=name), keep_media=False)
        return time.perf_counter() - started

    def query(self, path: Path) -> tuple[PeerResult, list[Match]]:
        started = time.perf_counter()
        try:
            fp = self.pipeline.fingerprint(self.pipeline.fetch(str(path)))
        except FirstseenError as exc:
            log.warning("firstseen refused %s: %s", path.name, exc)
            return PeerResult(None, (), 0.0, time.perf_counter() - started), []
        seconds = time.perf_counter() - started
        matches = self.pipeline.match(fp)
        names = tuple(m.item.title or "" for m in matches)
        top = matches[0] if matches else None
        return PeerResult(names[0] if top else None, names, top.score if top else 0.0, seconds), matches

    def close(self) -> None:
        self.pipeline.close()


def evaluate(clips: dict[str, Clip], queries: Sequence[Query], tools: Iterable[str], cache: Path,
             progress: bool = True) -> dict[str, Any]:
    """Archive the sources in every tool, run every query through every tool; raw per-query records."""
    tools = list(tools)
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="firstseen-bench-") as home:
        runners: dict[str, Any] = {}
        if "firstseen" in tools:
            runners["firstseen"] = FirstseenTool(Path(home))
        if "vpdq" in tools:
            runners["vpdq"] = VpdqPeer()
        if "videohash" in tools:
            runners["videohash"] = VideoHashPeer(cache)
        add_seconds = {name: 0.0 for name in runners}
        sources = [c for c in clips.values() if c.kind == "source"]
        for clip in sources:
            for name, runner in runners.items():
                add_seconds[name] += runner.add(clip.name, clip.path)
        for i, q in enumerate(queries):
            rec: dict[str, Any] = {"query": q.name, "edit": q.edit, "source": q.source, "negative": q.negative,
                                   "duration": q.duration, "height": q.height}
            for name, runner in runners.items():
                if name == "videohash" and q.source is not None and q.source not in VIDEOHASH_SOURCES:
                    continue
                if name == "firstseen":
                    result, matches = runner.query(q.path)
                    err = None
                    if q.source is not None and matches and result.top == q.source:
                        err = segment_error(matches[0], q.truth)
                    rec["firstseen_segment_error"] = err
                else:
                    result = runner.query(q.path)
                rec[name] = {"top": result.top, "matched": list(result.matched), "score": round(result.score, 3),
                             "seconds": round(result.seconds, 4)}
            records.append(rec)
            if progress and (i % 25 == 0 or i == len(queries) - 1):
                print(f"  {i + 1}/{len(queries)} {q.name}", flush=True)
        if "firstseen" in runners:
            runners["firstseen"].close()
    source_minutes = sum(c.duration for c in sources) / 60.0
    return {"records": records, "tools": list(runners), "archive_add_seconds": add_seconds,
            "source_minutes": source_minutes}


def _rate(values: Sequence[bool]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """Per-edit and overall figures from the per-query records."""
    records, tools = raw["records"], raw["tools"]
    positives = [r for r in records if r["source"] is not None]
    negatives = [r for r in records if r["negative"] is not None]
    edits = list(dict.fromkeys(r["edit"] for r in positives))
    per_edit: dict[str, Any] = {}
    for edit in edits:
        rows = [r for r in positives if r["edit"] == edit]
        entry: dict[str, Any] = {"queries": len(rows)}
        for tool in tools:
            ran = [r for r in rows if tool in r]
            entry[tool] = {
                "queries": len(ran),
                "recall": _rate([r[tool]["top"] == r["source"] for r in ran]),
                "wrong_top": sum(r[tool]["top"] not in (None, r["source"]) for r in ran),
            }
        if "firstseen" in tools:
            errs = [r["firstseen_segment_error"] for r in rows if r["firstseen"]["top"] == r["source"]]
            located = [e for e in errs if e is not None]
            entry["firstseen"]["segment_error_median_s"] = round(statistics.median(located), 2) if located else None
            entry["firstseen"]["segment_error_max_s"] = round(max(located), 2) if located else None
            entry["firstseen"]["mislocated"] = sum(e is None for e in errs)
        per_edit[edit] = entry
    overall: dict[str, Any] = {}
    for tool in tools:
        ran = [r for r in records if tool in r]
        pos = [r for r in positives if tool in r]
        secs = sum(r[tool]["seconds"] for r in ran)
        minutes = sum(r["duration"] for r in ran) / 60.0
        hd = [r for r in ran if r["height"] >= 720]
        hd_minutes = sum(r["duration"] for r in hd) / 60.0
        overall[tool] = {
            "queries": len(ran),
            "edited_copies": len(pos),
            "recall": _rate([r[tool]["top"] == r["source"] for r in pos]),
            "wrong_top": sum(r[tool]["top"] not in (None, r["source"]) for r in pos),
            "false_matches_negative": sum(bool(r[tool]["matched"]) for r in negatives if r["negative"] == "negative"),
            "false_matches_hard_negative": sum(
                bool(r[tool]["matched"]) for r in negatives if r["negative"] == "hard_negative"),
            "seconds_per_minute": round(secs / minutes, 3) if minutes else None,
            "seconds_per_minute_720p": round(sum(r[tool]["seconds"] for r in hd) / hd_minutes, 3)
            if hd_minutes else None,
            "edits_at_or_above_0.9": sum(per_edit[e][tool]["recall"] >= 0.9 for e in edits),
        }
    if "firstseen" in tools and "vpdq" in tools:
        overall["firstseen_vs_vpdq_time_720p"] = round(
            overall["firstseen"]["seconds_per_minute_720p"] / overall["vpdq"]["seconds_per_minute_720p"], 2)
        overall["edits_where_firstseen_behind_vpdq"] = [
            e for e in edits if per_edit[e]["firstseen"]["recall"] < per_edit[e]["vpdq"]["recall"]]
    false_by_query = {
        r["query"]: {t: r[t]["matched"] for t in tools if t in r and r[t]["matched"]} for r in negatives
    }
    return {
        "queries": len(records), "positives": len(positives), "negatives": len(negatives),
        "negatives_unrelated": sum(r["negative"] == "negative" for r in negatives),
        "negatives_hard": sum(r["negative"] == "hard_negative" for r in negatives),
        "sources": len({r["source"] for r in positives}), "edits": edits,
        "overall": overall, "per_edit": per_edit,
        "false_matches": {k: v for k, v in false_by_query.items() if v},
    }


LABEL = {"firstseen": "firstseen", "vpdq": "vPDQ", "videohash": "videohash"}


def markdown(summary: dict[str, Any], tools: Sequence[str], meta: dict[str, Any]) -> str:
    """The accuracy section's tables."""
    ov = summary["overall"]
    lines = [
        f"Run {meta['finished']} on {meta['cpus']} CPUs in {meta['wall_s'] / 60:.1f} min: "
        f"{summary['sources']} sources × {len(summary['edits'])} edits = {summary['positives']} edited copies, "
        f"{summary['negatives']} negative queries ({summary['negatives_unrelated']} of unrelated footage, "
        f"{summary['negatives_hard']} hard: same camera and place, other moment). "
        "Recall: the top match is the right source.",
        "",
        "| | " + " | ".join(LABEL[t] for t in tools) + " |",
        "|---|" + "---|" * len(tools),
        "| edited copies checked | " + " | ".join(str(ov[t]["edited_copies"]) for t in tools) + " |",
        "| **overall recall** | " + " | ".join(f"**{ov[t]['recall']:.3f}**" for t in tools) + " |",
        "| wrong top match (edited copies) | " + " | ".join(str(ov[t]["wrong_top"]) for t in tools) + " |",
        f"| false matches, unrelated ({summary['negatives_unrelated']}) | "
        + " | ".join(str(ov[t]["false_matches_negative"]) for t in tools) + " |",
        f"| false matches, hard negatives ({summary['negatives_hard']}) | "
        + " | ".join(str(ov[t]["false_matches_hard_negative"]) for t in tools) + " |",
        f"| edits with recall ≥ 0.9 (of {len(summary['edits'])}) | "
        + " | ".join(str(ov[t]["edits_at_or_above_0.9"]) for t in tools) + " |",
        "| hashing s per minute of video, all files | "
        + " | ".join(f"{ov[t]['seconds_per_minute']:.2f}" for t in tools) + " |",
        "| hashing s per minute of 720p video | "
        + " | ".join(f"{ov[t]['seconds_per_minute_720p']:.2f}" for t in tools) + " |",
        "",
    ]
    if "videohash" in tools:
        lines += [f"videohash (3–10 s a file here) runs on the edits of {', '.join(VIDEOHASH_SOURCES)} and on "
                  "every negative; its hashes are cached in `.bench-cache/` with the time they took.", ""]
    if "firstseen_vs_vpdq_time_720p" in ov:
        behind = ov["edits_where_firstseen_behind_vpdq"]
        lines += [f"firstseen's 720p hashing time is {ov['firstseen_vs_vpdq_time_720p']:.2f}× vPDQ's in this run; "
                  f"edits where firstseen is behind vPDQ: {', '.join(behind) if behind else 'none'}.", ""]
    head = "| edit | " + " | ".join(LABEL[t] for t in tools)
    head += " | firstseen segment error, median / max (s) |" if "firstseen" in tools else " |"
    lines += [head, "|---|" + "---:|" * (len(tools) + ("firstseen" in tools))]
    for edit, entry in summary["per_edit"].items():
        cells = [f"{entry[t]['recall']:.2f}" for t in tools]
        if "firstseen" in tools:
            fs = entry["firstseen"]
            med, mx = fs["segment_error_median_s"], fs["segment_error_max_s"]
            cells.append(f"{med:.1f} / {mx:.1f}" if med is not None else "–")
        lines.append(f"| {edit} | " + " | ".join(cells) + " |")
    if summary["false_matches"]:
        lines += ["", "False matches: " + "; ".join(
            f"{q} → " + ", ".join(f"{LABEL[t]}: {'/'.join(v)}" for t, v in m.items())
            for q, m in summary["false_matches"].items())]
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, body: str) -> None:
    """Replace the text between the accuracy markers; leave the rest of the file alone."""
    text = path.read_text() if path.exists() else ""
    if MARK_BEGIN in text and MARK_END in text:
        before, rest = text.split(MARK_BEGIN, 1)
        after = rest.split(MARK_END, 1)[1]
        text = f"{before}{MARK_BEGIN}\n{body}{MARK_END}{after}"
    else:
        text += f"\n{MARK_BEGIN}\n{body}{MARK_END}\n"
    path.write_text(text)


def chart(summary: dict[str, Any], tools: Sequence[str], path: Path) -> None:
    """Horizontal grouped bars: recall per edit, one bar per tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    edits = list(summary["per_edit"])
    y = np.arange(len(edits))
    height = 0.8 / len(tools)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(edits) + 1.5))
    colours = {"firstseen": "#1f6feb", "vpdq": "#d29922", "videohash": "#8b949e"}
    for k, tool in enumerate(tools):
        values = [summary["per_edit"][e][tool]["recall"] for e in edits]
        ax.barh(y + (k - (len(tools) - 1) / 2) * height, values, height, label=LABEL[tool], color=colours[tool])
    ax.set_yticks(y, edits)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("recall (top match is the right source)")
    ax.axvline(0.9, color="black", lw=0.6, ls="--")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Recall per edit, same files, same run")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(cache: Path, tools: Sequence[str], small: bool = False, edits: Sequence[str] | None = None,
        sources: Sequence[str] | None = None, workers: int = 2, progress: bool = True) -> dict[str, Any]:
    """Build (cached) and evaluate; the full result dict (meta, summary, per-query records)."""
    started = time.perf_counter()
    clips, queries = build_queries(cache, small=small, edits=edits, sources=sources, workers=workers)
    built = time.perf_counter()
    raw = evaluate(clips, queries, tools, cache, progress=progress)
    meta = {
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "build_s": round(built - started, 1),
        "wall_s": round(time.perf_counter() - started, 1),
        "load_average": os.getloadavg(),
        "corpus": {c.name: {"kind": c.kind, "duration": c.duration, "parent": c.parent, "notes": c.notes}
                   for c in clips.values()},
    }
    return {"meta": meta, "summary": summarise(raw), "raw": raw}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.accuracy", description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench-cache")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma list of firstseen,vpdq,videohash")
    parser.add_argument("--edits", help="comma list (default: all)")
    parser.add_argument("--sources", help="comma list (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering the corpus")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "accuracy.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs" / "img" / "accuracy.png")
    parser.add_argument("--no-write", action="store_true", help="print the tables, write nothing under docs/")
    parser.add_argument("--save", type=Path, help="keep the full result here too (default: <cache>/last-accuracy.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    tools = [t for t in args.tools.split(",") if t]
    result = run(args.cache, tools, edits=args.edits.split(",") if args.edits else None,
                 sources=args.sources.split(",") if args.sources else None, workers=args.workers)
    body = markdown(result["summary"], result["raw"]["tools"], result["meta"])
    print(body)
    (args.save or args.cache / "last-accuracy.json").write_text(json.dumps(result, indent=1, default=str))
    if not args.no_write:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str))
        write_markdown(args.markdown, body)
        chart(result["summary"], result["raw"]["tools"], args.chart)


if __name__ == "__main__":
    main()
