"""Temporal alignment: frame hits → time-consistent matched segments.

Part of match (index → **align** → verdict). A single frame hit means little
(similar skies, similar rubble); footage is matched when many query frames hit
one archive video *along a line* ``archive_t = speed · query_t + offset``. We
vote over a grid of speeds (0.5×–2×) and offsets (a Hough transform in time),
take the best line, refine it by least squares, split it where the query has
long unmatched gaps, and repeat on the remaining hits so a compilation that
reuses several parts of one video yields several segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.archive.index import Hits
from service.fingerprint.phash import phash_from_coefficients
from service.fingerprint.views import ARCHIVE_VIEWS, MIRROR_VIEWS, QUERY_VIEWS, QUERY_WINDOWS
from service.models import Backgrounds, EvidenceBasis, MatchEvidence, Segment

__all__ = ["MAX_HAMMING", "SHORT_MATCH_S", "align_item", "Alignment", "ArchiveMotion"]

# Candidate radius for a frame hit (of 64 bits). Re-encodes land at 0–6, heavy
# edits (logos, captions, 240p) at 8–14; unrelated frames centre on 32.
MAX_HAMMING = 14
# Speed grid: 0.5× to 2× in ~5% steps, 1× exactly included.
SPEEDS = np.unique(np.concatenate([np.geomspace(0.5, 2.0, 29), [1.0]]))
OFFSET_BIN_S = 1.0
# How far (s) a hit may sit from the fitted line and still support it.
INLIER_TOL_S = 1.0
# A segment needs this many distinct query frames on one line...
MIN_SEGMENT_FRAMES = 4
# ...and this share of the informative query frames inside its span.
MIN_DENSITY = 0.35
# Unmatched query time (s) that splits one line into two segments.
MAX_GAP_S = 4.0
MAX_SEGMENTS = 6
# Archive frames kept per query frame (best distances) before voting.
HITS_PER_QUERY_FRAME = 12
# Temporal specificity. A fixed camera filming the same place at another
# moment hits every archive frame at about the same distance (the background
# matches, the moving objects do not), so any line collects votes. Footage that
# really is the archived footage is closer *on* its line than anywhere else: a
# segment's frame is specific when its on-line distance beats its best hit more
# than OFF_LINE_S away from the line by SPECIFIC_BITS, and a segment needs
# MIN_SPECIFIC_SHARE of its frames, and at least MIN_SEGMENT_FRAMES, specific. Chosen on the accuracy benchmark's
# hard negatives (same camera and place, other moment) against its edited copies.
OFF_LINE_S = 2.5
SPECIFIC_BITS = 4
MIN_SPECIFIC_SHARE = 0.5
# Foreground verification (see ``service.fingerprint.views``). Two foreground hashes of one
# moment of a recording sit at 0–10 bits even after crops, captions and 9:16 reposts; the same
# camera at another moment at 20–32. A segment is the same *moment* when at least FG_MIN_SHARE of
# its frames where something moves on both sides agree within FG_MAX_HAMMING.
FG_MAX_HAMMING = 12
FG_MIN_SHARE = 0.5
# It is *another* moment when fewer than FG_CONTRADICT_SHARE agree, but only where both
# backgrounds were estimated from FG_RELIABLE_FRAMES or more frames: a short excerpt's median
# still holds the traffic that passes during it. Chosen on the real footage's tuned part.
FG_CONTRADICT_SHARE = 0.25
FG_RELIABLE_FRAMES = 16
# A segment is a static scene when something moves in at most this share of its frames, on both sides;
# with nothing moving only the place is compared, so its frames must match within STATIC_MAX_HAMMING
# bits on average (a re-encoded static scene sits at 0–6; an unrelated still table or wall at 10–14).
STATIC_SHARE = 0.25
STATIC_MAX_HAMMING = 8.0
# A still archive's copy that moves in under FG_MIN_SHARE of its frames (compression noise) is still a static
# scene if its frames match within this many bits on average (``_still_copy``): a re-encoded copy of a still
# recording sits at 0–2, the same camera with someone passing higher. Chosen on the real footage's tuned part.
NEAR_STILL_MAX_HAMMING = 2.0
# Against the archive's own background (``Backgrounds``): a check's frame minus the background the
# archive item kept for that stretch and view leaves what moves in the check *relative to that
# recording*. The same moment then matches the archive's foreground hash: a 4 s excerpt of a fixed
# camera sits at 0–2 bits, where its own 8-frame median (still holding the people who pass) leaves
# 8–34; another moment of the same camera stays at 12–28 even against the nearest archive frame.
# Chosen on 4–5 s clips of four real recordings (paris, mother_daughter_mad900, traffic_bridge,
# sign_irene; paris is in bench/real.py's HELD_OUT all the same, see docs/benchmarks.md). The agreement
# needed is FG_MIN_SHARE, as for the foreground hashes.
BG_MAX_HAMMING = 8
# A matched part shorter than this (s, on either time line: ``_footage_seconds``) cannot be pinned on a time
# line: the report says so, and its moving content must hold against the archive's background too.
SHORT_MATCH_S = 4.0


# A query window view only counts against the same window of an archive frame
# (-1: any archive view): it stands for "this part of the picture, uncovered".
_SAME_VIEW = np.array([ARCHIVE_VIEWS.index(v) if v in QUERY_WINDOWS else -1 for v in QUERY_VIEWS], dtype=np.int64)


@dataclass(frozen=True)
class ArchiveMotion:
    """What an archive item stored about what moves in it; None where it was stored before they existed."""

    foreground: npt.NDArray[np.uint64] | None  # (frames, ARCHIVE_VIEWS) foreground hashes
    backgrounds: Backgrounds | None = None


@dataclass(frozen=True)
class Alignment:
    item_id: int
    segments: tuple[Segment, ...]
    matched_frames: int
    score: float
    coverage: float
    flipped: bool
    transform: str
    evidence: MatchEvidence


def _vote(qt: npt.NDArray[np.float64], at: npt.NDArray[np.float64], qf: npt.NDArray[np.int64],
          n_query: int) -> tuple[float, float, int]:
    """Best (speed, offset) by the number of distinct query frames on the line."""
    best = (1.0, 0.0, 0)
    for speed in SPEEDS:
        offset = at - speed * qt
        for shift in (0.0, 0.5):
            bins = np.floor(offset / OFFSET_BIN_S + shift).astype(np.int64)
            keys = np.unique(bins * n_query + qf)
            uniq_bins, counts = np.unique(keys // n_query, return_counts=True)
            k = int(np.argmax(counts))
            count = int(counts[k])
            better = count > best[2] or (count == best[2] and abs(np.log(speed)) < abs(np.log(best[0])))
            if better:
                centre = (uniq_bins[k] + 0.5 - shift) * OFFSET_BIN_S
                best = (float(speed), float(centre), count)
    return best


def _inliers(qt: npt.NDArray[np.float64], at: npt.NDArray[np.float64], speed: float, offset: float,
             tol: float) -> npt.NDArray[np.bool_]:
    return np.abs(at - (speed * qt + offset)) <= tol * max(1.0, speed)


def align_item(
    item_id: int,
    hits: Hits,
    query_times: npt.NDArray[np.float32],
    archive_times: npt.NDArray[np.float32],
    informative: npt.NDArray[np.bool_],
    sample_step: float,
    query_duration: float,
    query_fg: npt.NDArray[np.uint64],
    archive: ArchiveMotion,
    query_coefficients: npt.NDArray[np.float32] | None = None,
) -> Alignment | None:
    """Segments where the query shows archive item ``item_id``; None if no real match.

    ``hits.query_row`` is ``frame * len(QUERY_VIEWS) + view`` of the query's
    hash matrix; ``informative`` marks query frames that are not blank;
    ``query_coefficients`` (frames, QUERY_VIEWS, n) the hasher's coefficients of the query's views.
    """
    need = _SAME_VIEW[hits.query_row % len(QUERY_VIEWS)]
    consistent = (need < 0) | (need == hits.view)
    if not consistent.all():
        hits = Hits(hits.query_row[consistent], hits.item_id[consistent], hits.frame[consistent],
                    hits.view[consistent], hits.distance[consistent])
    if len(hits) < MIN_SEGMENT_FRAMES:
        return None
    n_views = len(QUERY_VIEWS)
    qframe = hits.query_row // n_views
    # Every raw hit, per query view: the on-line/off-line competition (specificity).
    every = (hits.query_row, query_times[qframe].astype(np.float64),
             archive_times[hits.frame].astype(np.float64), hits.distance)
    # One entry per (query frame, archive frame) pair: its best distance and view,
    # and its evidence, summed over the views that agree (a true pair agrees on
    # many views, a static background on a few windows).
    pair = qframe * (int(hits.frame.max()) + 1) + hits.frame
    order = np.lexsort((hits.distance, pair))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    starts = order[first]
    group = np.cumsum(first) - 1
    evidence = np.zeros(int(first.sum()), dtype=np.int64)
    np.add.at(evidence, group, MAX_HAMMING + 1 - hits.distance[order])
    qf, af, dist = qframe[starts], hits.frame[starts], hits.distance[starts]
    qv, av = hits.query_row[starts] % n_views, hits.view[starts]
    # Keep the best-supported archive frames per query frame (a static scene hits everything).
    order = np.lexsort((dist, -evidence, qf))
    qf, af, dist, qv, av = qf[order], af[order], dist[order], qv[order], av[order]
    rank = np.arange(len(qf)) - np.searchsorted(qf, qf, side="left")
    keep = rank < HITS_PER_QUERY_FRAME
    qf, af, dist, qv, av = qf[keep], af[keep], dist[keep], qv[keep], av[keep]

    qt = query_times[qf].astype(np.float64)
    at = archive_times[af].astype(np.float64)
    n_query = len(query_times)
    alive = np.ones(len(qf), dtype=bool)
    segments: list[Segment] = []
    used_views: list[int] = []
    bases: list[tuple[EvidenceBasis, ForegroundAgreement]] = []
    for _ in range(MAX_SEGMENTS):
        idx = np.flatnonzero(alive)
        if len(np.unique(qf[idx])) < MIN_SEGMENT_FRAMES:
            break
        speed, offset, votes = _vote(qt[idx], at[idx], qf[idx], n_query)
        if votes < MIN_SEGMENT_FRAMES:
            break
        on = idx[_inliers(qt[idx], at[idx], speed, offset, INLIER_TOL_S + sample_step)]
        if len(np.unique(qf[on])) >= MIN_SEGMENT_FRAMES and np.ptp(qt[on]) >= 2 * sample_step:
            fit_speed, fit_offset = np.polyfit(qt[on], at[on], 1)
            if 0.45 <= fit_speed <= 2.2:
                speed, offset = float(fit_speed), float(fit_offset)
                on = idx[_inliers(qt[idx], at[idx], speed, offset, INLIER_TOL_S)]
        # One hit per query frame: the one nearest the line, then the closest hash.
        resid = np.abs(at[on] - (speed * qt[on] + offset))
        order = np.lexsort((dist[on], resid, qf[on]))
        on = on[order]
        firsts = np.ones(len(on), dtype=bool)
        firsts[1:] = qf[on][1:] != qf[on][:-1]
        on = on[firsts]
        found_any = False
        for run in _split_runs(on, qt):
            frames_in_run = qf[run]
            t0, t1 = float(qt[run].min()), float(qt[run].max())
            span = (query_times >= t0 - 1e-3) & (query_times <= t1 + 1e-3) & informative
            density = len(run) / max(1, int(span.sum()))
            if len(run) < MIN_SEGMENT_FRAMES or density < MIN_DENSITY:
                continue
            end = min(t1 + sample_step, query_duration) if query_duration else t1 + sample_step
            against_bg = _against_background(qf[run], qv[run], af[run], av[run], query_coefficients, archive)
            judged = _judge(run, qf, qv, af, av, dist, every, speed, offset, query_fg, archive.foreground,
                            archive_times, _footage_seconds(end - t0, speed), against_bg)
            if judged is None:
                continue
            found_any = True
            segments.append(
                Segment(
                    query_start=t0,
                    query_end=end,
                    archive_start=max(0.0, speed * t0 + offset),
                    archive_end=max(0.0, speed * end + offset),
                    speed=speed,
                    frames=len(run),
                    mean_distance=float(dist[run].mean()),
                )
            )
            used_views.extend(int(v) for v in qv[run])
            bases.append(judged)
            alive[np.isin(qf, frames_in_run)] = False
        alive[on] = False
        if not found_any and votes < MIN_SEGMENT_FRAMES * 2:
            break
    if not segments:
        return None
    segments.sort(key=lambda s: s.query_start)
    matched = sum(s.frames for s in segments)
    covered = _union_length([(s.query_start, s.query_end) for s in segments])
    informative_s = max(sample_step, float(informative.sum()) * sample_step)
    quality = float(np.mean([1.0 - s.mean_distance / 32.0 for s in segments]))
    span_frames = sum(
        int(((query_times >= s.query_start) & (query_times < s.query_end) & informative).sum()) for s in segments
    )
    density = matched / max(1, span_frames)
    view = max(set(used_views), key=used_views.count)
    kinds = [b for b, _ in bases]
    basis: EvidenceBasis = next((k for k in ("moving_content", "appearance") if k in kinds), "static_scene")
    proof = MatchEvidence(
        basis=basis,
        frames_matched=matched,
        frames_compared=int(informative.sum()),
        foreground_matched=sum(f.agree for _, f in bases),
        foreground_compared=sum(f.both_moving for _, f in bases),
        query_share=min(1.0, covered / informative_s),
        short=max(_footage_seconds(s.query_end - s.query_start, s.speed) for s in segments) < SHORT_MATCH_S,
    )
    return Alignment(
        item_id=item_id,
        segments=tuple(segments),
        matched_frames=matched,
        score=min(1.0, density) * quality,
        coverage=min(1.0, covered / informative_s),
        flipped=QUERY_VIEWS[view] in MIRROR_VIEWS,
        transform=QUERY_VIEWS[view],
        evidence=proof,
    )


def _footage_seconds(query_seconds: float, speed: float) -> float:
    """How much footage a segment rests on: the shorter of its stretches on the query's and the archive's time
    lines. A copy slowed to 0.55x lasts 5.5 s over 3 s of the recording, and 3 s are as hard to pin in time
    however slowly they play (vtest's other moment, slowed, matched the walkway's first 30 s on its own
    background's foreground)."""
    return min(query_seconds, speed * query_seconds)


def _judge(run: npt.NDArray[np.int64], qf: npt.NDArray[np.int64], qv: npt.NDArray[np.int64],
           af: npt.NDArray[np.int64], av: npt.NDArray[np.int64], dist: npt.NDArray[np.int64],
           every: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64],
                        npt.NDArray[np.int64]],
           speed: float, offset: float, query_fg: npt.NDArray[np.uint64],
           archive_fg: npt.NDArray[np.uint64] | None,
           archive_times: npt.NDArray[np.float32], seconds: float,
           against_bg: ForegroundAgreement | None = None) -> tuple[EvidenceBasis, ForegroundAgreement] | None:
    """Is this candidate segment the archived *recording*, and on what evidence? None: it is not.

    1. What moves agrees frame by frame: the same moment (fixed cameras, any edit). What moves is
       measured twice: each side against its own background (foreground hashes), and the query's
       frames against the archive's stored background (``against_bg``), which holds for clips too
       short to estimate a background of their own. A segment shorter than SHORT_MATCH_S (``seconds``)
       is held to both: its own-background agreement counts only if the archive's background does not
       contradict it.
    2. Nothing moves on either side: a static scene, matched on the place alone, said so; also a still
       recording whose copy's noise moves now and then, matched almost bit for bit (``_still_copy``).
    3. Otherwise the appearance must be specific to these moments (temporal specificity),
       which needs an archive long enough to have other moments, and what moves must not
       clearly disagree (against the archive's background, or on both sides' own when both are
       long enough to estimate one), nor move on one side only.

    An archive item stored without foreground hashes (``archive_fg`` None: fingerprinted
    before they existed) is judged by temporal specificity alone, as it was then.
    """
    n = len(run)
    if archive_fg is None:
        return ("appearance", ForegroundAgreement(0, 0, 0, 0)) if _specific(run, qf, every, speed, offset) else None
    fg = foreground_agreement(qf[run], qv[run], af[run], av[run], query_fg, archive_fg)
    # The query's frames less the archive's background show other movement than the archive's. A segment
    # too short to pin on a time line rests on what moves alone, so there both measures must hold.
    contradicted = (against_bg is not None and against_bg.both_moving >= MIN_SEGMENT_FRAMES
                    and against_bg.agree < FG_CONTRADICT_SHARE * against_bg.both_moving)
    if (fg.both_moving >= MIN_SEGMENT_FRAMES and fg.agree >= max(MIN_SEGMENT_FRAMES, FG_MIN_SHARE * fg.both_moving)
            and not (seconds < SHORT_MATCH_S and contradicted)):
        return "moving_content", fg
    if (against_bg is not None and against_bg.both_moving >= MIN_SEGMENT_FRAMES
            and against_bg.agree >= max(MIN_SEGMENT_FRAMES, FG_MIN_SHARE * against_bg.both_moving)):
        return "moving_content", against_bg
    mean_distance = float(dist[run].mean())
    if fg.query_moving <= STATIC_SHARE * n and fg.archive_moving <= STATIC_SHARE * n:
        # Nothing moves: only the place can match, so it must match closely (a static table is not a bridge).
        return ("static_scene", fg) if mean_distance <= STATIC_MAX_HAMMING else None
    if _still_copy(fg, n, mean_distance):
        return "static_scene", fg
    reliable = min(len(query_fg), len(archive_fg)) >= FG_RELIABLE_FRAMES
    moving_share = (fg.query_moving / n, fg.archive_moving / n)
    if reliable and min(moving_share) <= STATIC_SHARE and max(moving_share) >= FG_MIN_SHARE:
        return None  # something moves on one side only: another moment (or another place) that looks alike
    if np.ptp(archive_times) <= 2 * OFF_LINE_S * max(1.0, speed):
        return None  # no other moment to be more specific than: only the foreground could tell
    if not _specific(run, qf, every, speed, offset):
        return None
    if reliable and fg.both_moving >= MIN_SEGMENT_FRAMES and fg.agree < FG_CONTRADICT_SHARE * fg.both_moving:
        return None
    if not reliable and contradicted:
        return None  # a short query's frames, less this recording's background, show other movement
    return "appearance", fg


def _still_copy(fg: ForegroundAgreement, frames: int, mean_distance: float) -> bool:
    """A still recording whose copy seems to move in a minority of its frames, matched almost bit for bit.

    A copy's re-encoding and rescaling lift a near-still picture's residual over FG_MIN_STD in some frames
    where the archive's stays under it (real vtc1nw as pip60: 8 of 24 frames against 3). Something that really
    passes in the copy moves its hashes off the archive's, so the copy's frames must be within
    NEAR_STILL_MAX_HAMMING on average, and wherever both sides move they must agree."""
    return (fg.archive_moving <= STATIC_SHARE * frames and fg.query_moving < FG_MIN_SHARE * frames
            and fg.agree == fg.both_moving and mean_distance <= NEAR_STILL_MAX_HAMMING)


def _specific(run: npt.NDArray[np.int64], qf: npt.NDArray[np.int64],
              every: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64],
                           npt.NDArray[np.int64]],
              speed: float, offset: float) -> bool:
    """Temporal specificity of a segment: at least MIN_SEGMENT_FRAMES and MIN_SPECIFIC_SHARE of its frames."""
    specific = _specific_frames(run, qf, every, speed, offset)
    return specific >= MIN_SEGMENT_FRAMES and specific / len(run) >= MIN_SPECIFIC_SHARE


def _specific_frames(run: npt.NDArray[np.int64], qf: npt.NDArray[np.int64],
                    every: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64],
                                 npt.NDArray[np.int64]],
                    speed: float, offset: float) -> int:
    """How many of the run's frames have a view that matches on the line clearly better than off it.

    Per (query frame, query view): its best distance within INLIER_TOL_S of the
    line against its best more than OFF_LINE_S away (none: MAX_HAMMING + 1).
    """
    rows, qt, at, dist = every
    frames = np.unique(qf[run])
    n_views = len(QUERY_VIEWS)
    sel = np.isin(rows // n_views, frames)
    rows, qt, at, dist = rows[sel], qt[sel], at[sel], dist[sel].astype(np.int64)
    resid = np.abs(at - (speed * qt + offset))
    size = int(rows.max()) + 1
    best_on = np.full(size, MAX_HAMMING + 1, dtype=np.int64)
    best_off = np.full(size, MAX_HAMMING + 1, dtype=np.int64)
    on = resid <= INLIER_TOL_S * max(1.0, speed)
    off = resid > OFF_LINE_S * max(1.0, speed)
    np.minimum.at(best_on, rows[on], dist[on])
    np.minimum.at(best_off, rows[off], dist[off])
    margin = best_off - best_on
    specific = np.zeros(size // n_views + 1, dtype=bool)
    hit_rows = np.flatnonzero((margin >= SPECIFIC_BITS) & (best_on <= MAX_HAMMING))
    specific[hit_rows // n_views] = True
    return int(specific[frames].sum())


@dataclass(frozen=True)
class ForegroundAgreement:
    """How a segment's frames compare on what moves (foreground hashes), not on the place."""

    query_moving: int  # frames where something moves in the query view
    archive_moving: int  # ... in the archive view at the aligned time
    both_moving: int
    agree: int  # of both_moving, how many foregrounds are within FG_MAX_HAMMING


def foreground_agreement(qf: npt.NDArray[np.int64], qv: npt.NDArray[np.int64], af: npt.NDArray[np.int64],
                         av: npt.NDArray[np.int64], query_fg: npt.NDArray[np.uint64],
                         archive_fg: npt.NDArray[np.uint64]) -> ForegroundAgreement:
    """Compare each aligned pair's foreground hashes (archive: the frame and its neighbours, same view)."""
    q = query_fg[qf, qv]
    a_here = archive_fg[af, av]
    best = np.full(len(qf), 65, dtype=np.int64)
    a_any = np.zeros(len(qf), dtype=bool)
    for step in (-1, 0, 1):
        a = archive_fg[np.clip(af + step, 0, len(archive_fg) - 1), av]
        a_any |= a != 0
        d = np.where((q != 0) & (a != 0), np.bitwise_count(q ^ a).astype(np.int64), 65)
        best = np.minimum(best, d)
    both = (q != 0) & (a_here != 0)
    return ForegroundAgreement(
        query_moving=int((q != 0).sum()), archive_moving=int((a_here != 0).sum()),
        both_moving=int(both.sum()), agree=int(((best <= FG_MAX_HAMMING) & both).sum()),
    )


def _against_background(qf: npt.NDArray[np.int64], qv: npt.NDArray[np.int64], af: npt.NDArray[np.int64],
                        av: npt.NDArray[np.int64], query_coefficients: npt.NDArray[np.float32] | None,
                        archive: ArchiveMotion) -> ForegroundAgreement | None:
    """Aligned pairs compared on the query frame less the archive's background, against the archive's
    foreground hash (the frame and its neighbours, same view); None without the data for it."""
    fg, bg = archive.foreground, archive.backgrounds
    if fg is None or bg is None or query_coefficients is None or len(qf) == 0:
        return None
    blocks = np.clip(bg.block_of(af), 0, len(bg.block_starts) - 1)
    background = bg.coefficients[blocks, av]
    query = query_coefficients[qf, qv]
    known = (np.abs(background).sum(axis=1) > 0) & (np.abs(query).sum(axis=1) > 0)
    moved = phash_from_coefficients(query - background)
    best = np.full(len(qf), 65, dtype=np.int64)
    for step in (-1, 0, 1):
        a = fg[np.clip(af + step, 0, len(fg) - 1), av]
        d = np.where(a != 0, np.bitwise_count(moved ^ a).astype(np.int64), 65)
        best = np.minimum(best, d)
    a_here = fg[af, av]
    both = known & (a_here != 0)
    # "query moving" here: the query frames that could be compared (a view and a background present).
    return ForegroundAgreement(
        query_moving=int(known.sum()), archive_moving=int((a_here != 0).sum()),
        both_moving=int(both.sum()), agree=int(((best <= BG_MAX_HAMMING) & both).sum()),
    )


def _split_runs(on: npt.NDArray[np.int64], qt: npt.NDArray[np.float64]) -> list[npt.NDArray[np.int64]]:
    if len(on) == 0:
        return []
    order = on[np.argsort(qt[on], kind="stable")]
    gaps = np.flatnonzero(np.diff(qt[order]) > MAX_GAP_S)
    return [r for r in np.split(order, gaps + 1) if len(r)]


def _union_length(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, -np.inf
    for a, b in sorted(spans):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total
