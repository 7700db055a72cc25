"""The accuracy benchmark's audio rows: real footage with real music as its soundtrack, checked with the
audio signal off (video only) and on (video and audio).

``python -m bench.accuracy --corpus audio`` runs it. The footage has no sound of its own (shared/footage's
SOURCES.md), so each archived item is a real recording's first ``ITEM_S`` seconds muxed with ``ITEM_S``
seconds of a real piece of music from Debian's game data packages (``TRACKS``; their terms are GPL, in each
package's copyright file). The queries are ``QUERY_S`` seconds of an item (from ``QUERY_AT``), re-encoded:

* ``original_audio``: picture and sound as archived;
* ``music_over``: another piece of music (one no item holds) laid over the sound, 6 dB quieter than it;
* ``audio_removed``: the picture alone, no audio stream;
* ``audio_from_other``: the picture with the *next* item's sound (one clip's sound over another archived
  video): the picture should find its item, the sound the other;
* ``sound_over_new_video``: an item's sound under a recording the archive does not hold;

and as negatives, ``unrelated``: a recording the archive does not hold under music no item holds (nothing
may match). Each query is checked twice through the public pipeline, with ``Settings.signals`` naming the
video signal alone and then every signal; a row counts, per run, whether the right items were found by
picture and by sound, whether the match's words (``Match.media``/``Match.differs``) are right, and false
matches. Everything rendered lives in the cache folder.
"""

from __future__ import annotations

import json
import logging
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import ffmpeg
from service.errors import FirstseenError
from service.models import ArchiveMetadata
from service.pipeline import Pipeline
from service.settings import Settings

__all__ = ["KINDS", "TRACKS", "AudioQuery", "build_audio_corpus", "evaluate_audio", "markdown_audio",
           "run_audio", "summarise_audio"]

log = logging.getLogger(__name__)

ITEM_S = 24.0  # archived length of each item (s)
QUERY_AT = 4.0  # queries start here in the item (s) ...
QUERY_S = 16.0  # ... and last this long
MUSIC_OVER_DB = -6.0  # the laid-over music's level against the soundtrack's (RMS, dB)
VIDEO_SIGNAL = "video-phash"
AUDIO_SIGNAL = "audio-chromaprint"

GAMES = Path("/usr/share/games")
# (name, file, where the excerpt starts (s)): real music, each a different piece. Debian packages
# extremetuxracer-data (GPL-2+), frozen-bubble-data (GPL-2), pingus-data (GPL-2+; tracker modules,
# rendered by ffmpeg's libopenmpt). The first ITEMS are archived, the rest only laid over.
TRACKS: tuple[tuple[str, str, float], ...] = (
    ("etr_calmrace", "etr/music/calmrace-ks.ogg", 10.0),
    ("etr_credits", "etr/music/credits1-cp.ogg", 10.0),
    ("etr_freezingpoint", "etr/music/freezingpoint.ogg", 10.0),
    ("etr_race1", "etr/music/race1-jt.ogg", 10.0),
    ("etr_spunkyrace", "etr/music/spunkyrace-ks.ogg", 10.0),
    ("etr_start1", "etr/music/start1-jt.ogg", 10.0),
    ("fb_mainzik_1p", "frozen-bubble/snd/frozen-mainzik-1p.ogg", 20.0),
    ("fb_mainzik_2p", "frozen-bubble/snd/frozen-mainzik-2p.ogg", 20.0),
    ("fb_introzik", "frozen-bubble/snd/introzik.ogg", 20.0),
    ("pingus_goin_march", "pingus/data/music/goin_march.it", 10.0),
    # laid over only
    ("pingus_5", "pingus/data/music/pingus-5.it", 10.0),
    ("pingus_sorcerer", "pingus/data/music/sorcerer.it", 10.0),
)
PACKAGES = ("extremetuxracer-data", "frozen-bubble-data", "pingus-data")
# Real recordings of 24 s or more (shared/footage), one per archived track; NEW ones are never archived.
RECORDINGS = ("bridge_close_cif", "cdnet_highway_320x240", "deadline_cif", "grandma_qcif",
              "highway_cctv_timestamp_320x240", "highway_cif", "mother_daughter_mad900_cif",
              "opencv_vtest_pedestrians_480x360", "paris_cif", "traffic_bridge_640x360")
NEW_RECORDINGS = ("students_cif", "sign_irene_cif")
KINDS = ("original_audio", "music_over", "audio_removed", "audio_from_other", "sound_over_new_video",
         "unrelated")
X264_Q = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p", "-threads", "1")


@dataclass(frozen=True)
class AudioQuery:
    name: str
    kind: str
    path: Path
    video: str | None  # the item the picture is, None: not archived
    audio: str | None  # the item the sound is, None: no archived sound (or none at all)


def _track(cache: Path, name: str, file: str, start: float, seconds: float) -> Path:
    out = cache / f"{name}.wav"
    if not out.exists():
        src = GAMES / file
        if not src.exists():
            raise SystemExit(f"{src} is missing: apt-get install {' '.join(PACKAGES)}")
        ffmpeg("-ss", str(start), "-i", str(src), "-t", str(seconds), "-ac", "2", "-ar", "44100", str(out))
    return out


def _mean_db(path: Path) -> float:
    err = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(path), "-af", "volumedetect", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    return float(err.split("mean_volume:")[1].split("dB")[0])


def build_audio_corpus(cache: Path, footage: Path) -> tuple[dict[str, Path], list[AudioQuery]]:
    """The archived items (name -> file) and the queries, rendered once into ``cache/audio``."""
    d = cache / "audio"
    d.mkdir(parents=True, exist_ok=True)
    archived, overlay = TRACKS[: len(RECORDINGS)], TRACKS[len(RECORDINGS):]
    sounds = {name: _track(d, name, file, start, ITEM_S) for name, file, start in TRACKS}
    items: dict[str, Path] = {}
    for recording, (track, _, _) in zip(RECORDINGS, archived, strict=True):
        name = f"{recording}+{track}"
        out = d / f"item_{name}.mp4"
        if not out.exists():
            ffmpeg("-i", str(footage / f"{recording}.mp4"), "-i", str(sounds[track]), "-map", "0:v:0", "-map", "1:a:0",
                   "-t", str(ITEM_S), *X264_Q[:5], "20", *X264_Q[6:], "-c:a", "aac", "-b:a", "128k", str(out))
        items[name] = out
    names = list(items)
    queries: list[AudioQuery] = []

    def render(qname: str, *args: str) -> Path:
        out = d / f"q_{qname}.mp4"
        if not out.exists():
            ffmpeg(*args, "-t", str(QUERY_S), str(out))
        return out

    cut = ("-ss", str(QUERY_AT))
    for i, name in enumerate(names):
        item = items[name]
        nxt = names[(i + 1) % len(names)]
        over = sounds[overlay[i % len(overlay)][0]]
        queries.append(AudioQuery(f"{name}/original_audio", "original_audio",
                                  render(f"{i}_orig", *cut, "-i", str(item), *X264_Q, "-c:a", "aac", "-b:a", "64k"),
                                  name, name))
        gain = _mean_db(item) - _mean_db(over) + MUSIC_OVER_DB
        queries.append(AudioQuery(f"{name}/music_over", "music_over", render(
            f"{i}_music", *cut, "-i", str(item), "-i", str(over), "-filter_complex",
            f"[1:a]volume={gain:.2f}dB[m];[0:a][m]amix=inputs=2:duration=first:normalize=0[a]",
            "-map", "0:v", "-map", "[a]", *X264_Q, "-c:a", "aac", "-b:a", "64k"), name, name))
        queries.append(AudioQuery(f"{name}/audio_removed", "audio_removed",
                                  render(f"{i}_noaudio", *cut, "-i", str(item), *X264_Q, "-an"), name, None))
        queries.append(AudioQuery(f"{name}/audio_from_other", "audio_from_other", render(
            f"{i}_swap", *cut, "-i", str(item), *cut, "-i", str(items[nxt]), "-map", "0:v", "-map", "1:a",
            *X264_Q, "-c:a", "aac", "-b:a", "64k"), name, nxt))
    for j, recording in enumerate(NEW_RECORDINGS):
        video = footage / f"{recording}.mp4"
        for i in range(j, len(names), len(NEW_RECORDINGS)):
            name = names[i]
            queries.append(AudioQuery(f"{recording}+{name}/sound_over_new_video", "sound_over_new_video", render(
                f"{i}_new_{recording}", "-i", str(video), *cut, "-i", str(items[name]), "-map", "0:v", "-map", "1:a",
                *X264_Q, "-c:a", "aac", "-b:a", "64k"), None, name))
        for track, _, _ in overlay:
            queries.append(AudioQuery(f"{recording}+{track}/unrelated", "unrelated", render(
                f"neg_{recording}_{track}", "-i", str(video), "-i", str(sounds[track]), "-map", "0:v", "-map", "1:a",
                *X264_Q, "-c:a", "aac", "-b:a", "64k"), None, None))
    return items, queries


def _check(pipeline: Pipeline, query: AudioQuery) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        report = pipeline.check(str(query.path), remember=False)
    except FirstseenError as exc:
        log.warning("firstseen refused %s: %s", query.path.name, exc)
        return {"error": str(exc), "matches": [], "seconds": time.perf_counter() - started}
    return {
        "verdict": report.verdict,
        "seconds": round(time.perf_counter() - started, 3),
        "matches": [{"item": m.item.title, "media": list(m.media), "differs": list(m.differs),
                     "signals": [{"signal": s.signal, "segments": [seg.to_dict() for seg in s.segments]}
                                 for s in m.signals]}
                    for m in report.matches if m.evidence is not None],
    }


def evaluate_audio(items: dict[str, Path], queries: Sequence[AudioQuery], progress: bool = True) -> dict[str, Any]:
    """Every query checked with the video signal alone ("off") and with every signal ("on")."""
    runs: dict[str, dict[str, Any]] = {}
    for run, signals in (("off", [VIDEO_SIGNAL]), ("on", None)):
        with tempfile.TemporaryDirectory(prefix="fs-audio-bench-") as home:
            settings = Settings(home=Path(home), database_url=None, index_backend="exact", signals=signals)
            with Pipeline.from_settings(settings) as pipeline:
                for name, path in items.items():
                    pipeline.archive_add(str(path), ArchiveMetadata(title=name), keep_media=False)
                results: dict[str, Any] = {}
                for n, query in enumerate(queries, 1):
                    results[query.name] = _check(pipeline, query)
                    if progress:
                        log.info("audio %s %d/%d %s", run, n, len(queries), query.name)
                runs[run] = results
    return {"queries": [{"name": q.name, "kind": q.kind, "video": q.video, "audio": q.audio} for q in queries],
            "runs": runs}


def _score(query: dict[str, Any], result: dict[str, Any], audio_on: bool) -> dict[str, bool]:
    """What one check got right: the picture's item by video, the sound's item by audio, the words."""
    by_item = {m["item"]: m for m in result["matches"]}
    video, audio = query["video"], query["audio"]
    video_ok = video is None or "video" in by_item.get(video, {}).get("media", [])
    audio_ok = audio is None or "audio" in by_item.get(audio, {}).get("media", [])
    false = [m["item"] for m in result["matches"] if m["item"] not in (video, audio)]
    # The words: each right item says what matches on it and what differs (only where both were compared).
    words_ok = video_ok and (audio_ok or not audio_on) and not false
    if audio_on and query["kind"] == "audio_from_other":
        words_ok = words_ok and by_item.get(video, {}).get("differs") == ["audio"] \
            and by_item.get(audio, {}).get("differs") == ["video"]
    if query["kind"] == "audio_removed":
        words_ok = words_ok and by_item.get(video, {}).get("differs") == []
    if query["kind"] in ("original_audio", "music_over") and audio_on:
        words_ok = words_ok and by_item.get(video, {}).get("media") == ["video", "audio"]
    return {"video": video_ok, "audio": audio_ok, "words": words_ok, "false": bool(false)}


def summarise_audio(raw: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        qs = [q for q in raw["queries"] if q["kind"] == kind]
        row: dict[str, Any] = {"queries": len(qs)}
        for run in ("off", "on"):
            scores = [_score(q, raw["runs"][run][q["name"]], run == "on") for q in qs]
            row[run] = {key: sum(s[key] for s in scores) for key in ("video", "audio", "words", "false")}
            row[run]["failed"] = [q["name"] for q, s in zip(qs, scores, strict=True)
                                  if not (s["video"] and s["audio"] and s["words"]) or s["false"]]
        table[kind] = row
    return table


def _frac(n: int, of: int) -> str:
    return f"{n}/{of}" if of else "–"


def markdown_audio(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        "| query | n | picture found (off / on) | sound found (off / on) | words right (off / on) "
        "| false matches (off / on) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, row in summary.items():
        n = row["queries"]
        has_video = kind not in ("sound_over_new_video", "unrelated")
        has_audio = kind in ("original_audio", "music_over", "audio_from_other", "sound_over_new_video")

        def both(key: str, applies: bool, row: dict[str, Any] = row, n: int = n) -> str:
            return f"{_frac(row['off'][key], n)} / {_frac(row['on'][key], n)}" if applies else "–"
        lines.append(f"| {kind} | {n} | {both('video', has_video)} | {both('audio', has_audio)} "
                     f"| {both('words', True)} | {row['off']['false']} / {row['on']['false']} |")
    lines.append("")
    lines.append(f"{meta['items']} archived items ({ITEM_S:.0f} s of a real recording with {ITEM_S:.0f} s of real "
                 f"music each), {meta['queries']} queries of {QUERY_S:.0f} s; off = `signals=[\"{VIDEO_SIGNAL}\"]`, "
                 f"on = every signal. Median check {meta['median_check_s']['off']:.2f} s off, "
                 f"{meta['median_check_s']['on']:.2f} s on; {meta['seconds']:.0f} s in all "
                 "(corpus rendering included).")
    return "\n".join(lines) + "\n"


def run_audio(cache: Path, footage: Path) -> dict[str, Any]:
    started = time.perf_counter()
    items, queries = build_audio_corpus(cache, footage)
    raw = evaluate_audio(items, queries)
    summary = summarise_audio(raw)
    meta = {"items": len(items), "queries": len(queries), "seconds": time.perf_counter() - started,
            "median_check_s": {run: statistics.median(r["seconds"] for r in raw["runs"][run].values())
                               for run in ("off", "on")}}
    return {"meta": meta, "summary": summary, "raw": raw}


if __name__ == "__main__":  # pragma: no cover - python -m bench.accuracy --corpus audio is the entry point
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(json.dumps(run_audio(Path(".bench-cache"), Path("../../shared/footage"))["summary"], indent=1))
