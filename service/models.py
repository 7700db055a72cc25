"""Domain types that flow from link to verdict.

    SourceInfo ─► VideoFingerprint ─► (archive) ArchiveItem
                                   └► Match(Segment…) ─► Report

Frozen dataclasses; pydantic lives only at the API edge. ``to_dict`` gives the
JSON shape shared by ``firstseen check --json``, the jobs table and the HTTP API;
``from_dict`` reads it back (``Report.from_dict`` also reads reports stored by
earlier versions), so every front end and renderer works with the typed ``Report``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from service.dates import KnownDate, parse_date
from service.errors import BadInput
from service.markup import is_http_url

__all__ = ["LINK_FIELDS", "MEDIA", "ArchiveExtent", "ArchiveItem", "ArchiveMetadata", "Backgrounds",
           "check_link_field", "Claims", "EvidenceBasis", "Match", "MatchEvidence", "Medium", "Report", "Segment",
           "SignalMatch", "SignalRecord", "SourceInfo", "Verdict", "VideoFingerprint"]

Verdict = Literal["recycled", "misattributed", "seen_before", "no_prior_match"]
ItemKind = Literal["curated", "observed"]


@dataclass(frozen=True)
class SourceInfo:
    """What was fetched: the local media file and the metadata its site gave."""

    input: str  # the link or path as given
    media_path: str
    sha256: str
    size_bytes: int
    extractor: str | None = None  # yt-dlp extractor key; None for local files
    video_id: str | None = None
    webpage_url: str | None = None
    title: str | None = None
    uploader: str | None = None
    channel: str | None = None
    upload_date: str | None = None  # YYYYMMDD as the site reported it
    timestamp: float | None = None  # UTC seconds, preferred over upload_date
    description: str | None = None
    duration: float | None = None
    # A file's own container tags (creation_time, location, make, model ...): uploads only, never evidence.
    container: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SourceInfo:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class ArchiveMetadata:
    """Provenance an archivist (or a check) records with a piece of footage."""

    title: str | None = None
    published: str | None = None  # earliest known upload: YYYY[-MM[-DD]] [±N day]
    location: str | None = None
    event: str | None = None
    source_url: str | None = None
    notes: str | None = None
    factcheck_url: str | None = None
    platform: str | None = None
    uploader: str | None = None

    def __post_init__(self) -> None:
        for name in LINK_FIELDS:
            check_link_field(name, getattr(self, name))


# Provenance fields shown as links: only http(s), checked wherever they enter (service/markup.py says why).
LINK_FIELDS = ("source_url", "factcheck_url")


def check_link_field(name: str, value: object) -> None:
    """BadInput unless ``value`` is empty or an absolute http(s) address."""
    if value not in (None, "") and not is_http_url(value):
        raise BadInput(f"{name} must be an http:// or https:// link, not {str(value)[:80]!r}")


@dataclass(frozen=True)
class ArchiveItem:
    id: int
    kind: ItemKind
    title: str | None
    published: str | None
    location: str | None
    event: str | None
    source_url: str | None
    notes: str | None
    factcheck_url: str | None
    platform: str | None
    uploader: str | None
    sha256: str
    duration: float
    frame_count: int
    added_at: str
    footage_id: int | None = None
    # Who says ``published`` (service.dates.DateOrigin): curated, platform, source or claimed; None undated.
    date_origin: str | None = None
    # What this upload itself claimed (a remembered check's claims): never provenance.
    claimed_date: str | None = None
    claimed_location: str | None = None
    claimed_event: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArchiveItem:
        return cls(**_known(cls, d))


@dataclass(frozen=True, eq=False)
class Backgrounds:
    """What stays still in a video, per stretch of one shot: the hasher's coefficients of the median
    thumbnail of each view over each block of frames (see ``service.fingerprint.views``).

    ``coefficients[b, j]`` belongs to view ``views[j]`` over frames ``block_starts[b]`` up to the next
    start. A check subtracts them from its own frames' coefficients: what is left is what moves
    *relative to this recording's background*, which a short clip cannot estimate on its own.
    """

    views: tuple[str, ...]
    block_starts: npt.NDArray[np.int32]
    coefficients: npt.NDArray[np.float32]

    def block_of(self, frames: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The block each frame index belongs to."""
        return np.searchsorted(self.block_starts, frames, side="right").astype(np.int64) - 1


@dataclass(frozen=True, eq=False)
class VideoFingerprint:
    """Per sampled frame, the hashes of several views of it.

    ``hashes[i, j]`` is the hash of view ``views[j]`` of the frame at ``times[i]``
    seconds; 0 marks "no hash" (the view was blank). ``hasher`` names the
    algorithm and its parameters so stored hashes are never compared across
    algorithms.
    """

    hasher: str
    views: tuple[str, ...]
    times: npt.NDArray[np.float32]
    hashes: npt.NDArray[np.uint64]
    duration: float
    # Stored with an archive item (None: fingerprinted before they existed, or imported without them).
    backgrounds: Backgrounds | None = None
    # A check's own per-frame coefficients of the query views (frames, QUERY_VIEWS, coefficients);
    # kept in memory for matching, never stored.
    query_coefficients: npt.NDArray[np.float32] | None = None

    @property
    def frame_count(self) -> int:
        return int(self.times.shape[0])


@dataclass(frozen=True)
class Claims:
    """What the uploader of the checked video claims about it.

    ``date`` is parsed where the claim enters (CLI option, API body, web form: ``parse_claimed_date``
    refuses a date still to come), so everything after works with a ``KnownDate``; it is written
    back as its text.
    """

    date: KnownDate | None = None
    location: str | None = None
    event: str | None = None

    @property
    def date_text(self) -> str | None:
        """The claimed date as the claim gave it (``2021-03``, ``2021-03-11``)."""
        return self.date.text if self.date else None

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date_text, "location": self.location, "event": self.event}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Claims:
        """Read back what ``to_dict`` wrote (a stored job or report); a date that no longer reads is dropped."""
        known = _known(cls, d)
        text = known.pop("date", None)
        try:
            date = parse_date(text) if isinstance(text, str) and text.strip() else None
        except BadInput:
            date = None
        return cls(date=date, **known)


@dataclass(frozen=True)
class Segment:
    """``query[query_start, query_end]`` shows ``archive[archive_start, archive_end]``."""

    query_start: float
    query_end: float
    archive_start: float
    archive_end: float
    speed: float  # archive seconds per query second
    frames: int  # matched query frames supporting it
    mean_distance: float

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(**_known(cls, d))


EvidenceBasis = Literal["identical_file", "moving_content", "appearance", "static_scene", "sound"]


@dataclass(frozen=True)
class MatchEvidence:
    """What a match rests on, so a reader can tell strong evidence from weak.

    ``basis``: ``identical_file`` (same sha256 as the archived file),
    ``moving_content`` (what moves in the picture — people, vehicles, smoke —
    matches frame by frame), ``appearance`` (the picture matches at these
    moments better than at any other moment of the archived video) or
    ``static_scene`` (nothing moves in either video: the same place, but the
    moment cannot be told apart) or ``sound`` (the soundtrack matches over time:
    an audio signal; its frames are the audio fingerprint's).
    """

    basis: EvidenceBasis
    frames_matched: int  # query frames on the matched segments
    frames_compared: int  # informative query frames
    foreground_matched: int  # of the matched frames, those whose moving content agrees
    foreground_compared: int  # of the matched frames, those where something moves on both sides
    query_share: float  # share of the query's informative duration the segments explain
    short: bool  # the matched part is too short to pin on a time line (under SHORT_MATCH_S)

    @property
    def weak(self) -> bool:
        return self.basis == "static_scene" or self.short

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "query_share": round(self.query_share, 3), "weak": self.weak}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MatchEvidence:
        return cls(**_known(cls, d))  # ``weak`` is derived, not stored


# What a signal shows of the footage (service.signals): the verdict words each medium in its own sentence.
Medium = Literal["video", "audio"]
MEDIA: tuple[Medium, ...] = ("video", "audio")


@dataclass(frozen=True)
class SignalMatch:
    """What one signal type (``service.signals``) found for one archive item: the query's seconds that
    show it, and how well.

    ``evidence`` says what the match rests on (``MatchEvidence.basis``); ``transform`` which variant of
    the query matched ("full", "mirror" ... for video; "" where a signal has none), ``flipped`` whether
    that variant is a mirror image.
    """

    signal: str
    medium: Medium
    segments: tuple[Segment, ...]
    score: float  # 0..1
    coverage: float  # share of the query's informative duration the segments explain
    evidence: MatchEvidence
    transform: str = ""
    flipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "medium": self.medium,
            "score": round(self.score, 3),
            "coverage": round(self.coverage, 3),
            "transform": self.transform,
            "flipped": self.flipped,
            "segments": [s.to_dict() for s in self.segments],
            "evidence": self.evidence.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignalMatch:
        return cls(signal=str(d["signal"]), medium=d["medium"], score=float(d["score"]),
                   coverage=float(d["coverage"]), transform=str(d.get("transform", "")),
                   flipped=bool(d.get("flipped", False)),
                   segments=tuple(Segment.from_dict(s) for s in d["segments"]),
                   evidence=MatchEvidence.from_dict(d["evidence"]))


@dataclass(frozen=True)
class Match:
    """An archive item the query shows.

    ``score`` … ``evidence`` are those of the first signal in the registry's order that matched (the
    video's, where it matched); ``signals`` holds every signal's own match, and ``differs`` the media
    both sides have whose signal was compared and did *not* match (the same picture with other sound).
    """

    item: ArchiveItem
    score: float  # 0..1, confidence from frame agreement
    coverage: float  # share of the query's informative duration that is matched
    flipped: bool
    transform: str  # which query view matched best: "full", "mirror", "rot90", "region"...
    segments: tuple[Segment, ...]
    evidence: MatchEvidence | None = None  # None: not matched directly, a relative of a match's footage
    signals: tuple[SignalMatch, ...] = ()
    differs: tuple[Medium, ...] = ()

    @property
    def media(self) -> tuple[Medium, ...]:
        """The media that match, in ``MEDIA`` order."""
        found = {s.medium for s in self.signals}
        return tuple(m for m in MEDIA if m in found)

    def to_dict(self) -> dict[str, Any]:
        it = self.item
        return {
            "archive_id": it.id,
            "kind": it.kind,
            "title": it.title,
            "published": it.published,
            "date_origin": it.date_origin,
            "location": it.location,
            "event": it.event,
            "source_url": it.source_url,
            "factcheck_url": it.factcheck_url,
            "platform": it.platform,
            "uploader": it.uploader,
            "score": round(self.score, 3),
            "coverage": round(self.coverage, 3),
            "flipped": self.flipped,
            "transform": self.transform,
            "segments": [s.to_dict() for s in self.segments],
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "signals": [s.to_dict() for s in self.signals],
            "differs": list(self.differs),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], footage: Sequence[ArchiveItem] = ()) -> Match:
        """The inverse of ``to_dict``. A match's dict carries only the item fields a reader needs; the rest
        (sha256, duration, …) comes from ``footage`` when the item is among it, else stays empty."""
        known = {i.id: i for i in footage}
        item = known.get(int(d["archive_id"]))
        shown: dict[str, Any] = {k: d.get(k) for k in _MATCH_ITEM_FIELDS}
        if item is None:
            item = ArchiveItem(id=int(d["archive_id"]), sha256="", duration=0.0, frame_count=0, added_at="",
                               **shown)
        else:
            item = replace(item, **{k: v for k, v in shown.items() if k in d})
        evidence = d.get("evidence")
        return cls(item=item, score=float(d["score"]), coverage=float(d["coverage"]), flipped=bool(d["flipped"]),
                   transform=str(d["transform"]), segments=tuple(Segment.from_dict(s) for s in d["segments"]),
                   evidence=MatchEvidence.from_dict(evidence) if evidence else None,
                   # Reports stored before signal types have neither.
                   signals=tuple(SignalMatch.from_dict(s) for s in d.get("signals") or ()),
                   differs=tuple(d.get("differs") or ()))


# The archive item's fields a match's dict repeats (besides its id as ``archive_id``).
_MATCH_ITEM_FIELDS = ("kind", "title", "published", "date_origin", "location", "event", "source_url",
                      "factcheck_url", "platform", "uploader")


@dataclass(frozen=True)
class ArchiveExtent:
    """What a check searched: so "not in our archive" says how much archive that is."""

    items: int
    hours: float  # footage duration, summed over the items
    newest: str | None  # when the newest item was added (ISO date), None for an empty archive

    @property
    def text(self) -> str:
        if not self.items:
            return "the archive is empty"
        newest = f", the newest added {self.newest}" if self.newest else ""
        hours = round(self.hours, 4)  # as to_dict stores it: a stored extent reads back with the same text
        seconds = round(hours * 3600)
        if hours >= 1:
            length = f"{hours:.1f} hours"
        elif seconds >= 60:
            length = f"{seconds // 60} minute{'' if seconds // 60 == 1 else 's'}"
        else:
            length = f"{seconds} second{'' if seconds == 1 else 's'}"
        return f"{self.items:,} item{'' if self.items == 1 else 's'}, {length} of footage{newest}"

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "hours": round(self.hours, 4), "newest": self.newest, "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArchiveExtent:
        return cls(items=int(d["items"]), hours=float(d["hours"]), newest=d.get("newest"))  # ``text`` is derived


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    explanation: str
    source: SourceInfo
    claims: Claims
    earliest: Match | None
    matches: tuple[Match, ...]
    checked_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    remembered_id: int | None = None
    # Every known upload of the matched footage (its cluster), oldest first.
    footage: tuple[ArchiveItem, ...] = ()
    # What the check searched (None: not recorded, reports from before it was).
    searched: ArchiveExtent | None = None
    # The story of the matched footage's uploads, oldest first ("" when there is none to tell): its own
    # field, composed into text by each front end, never glued into ``explanation``.
    history: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "footage": [i.to_dict() for i in self.footage],
            "searched": self.searched.to_dict() if self.searched else None,
            "verdict": self.verdict,
            "explanation": self.explanation,
            "history": self.history,
            "source": self.source.to_dict(),
            "claims": self.claims.to_dict(),
            "earliest": self.earliest.to_dict() if self.earliest else None,
            "matches": [m.to_dict() for m in self.matches],
            "checked_at": self.checked_at,
            "remembered_id": self.remembered_id,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        """The inverse of ``to_dict``, for reports stored by any version: a report from before ``history`` was
        its own field has it glued to the explanation (split off here); fields added since take their
        defaults."""
        explanation = str(d["explanation"])
        history = d.get("history")
        if history is None:
            explanation, _, history = explanation.partition(LEGACY_HISTORY_GLUE)
        footage = tuple(ArchiveItem.from_dict(i) for i in d.get("footage") or ())
        earliest, searched = d.get("earliest"), d.get("searched")
        return cls(
            verdict=d["verdict"], explanation=explanation, source=SourceInfo.from_dict(d["source"]),
            claims=Claims.from_dict(d.get("claims") or {}),
            earliest=Match.from_dict(earliest, footage) if earliest else None,
            matches=tuple(Match.from_dict(m, footage) for m in d.get("matches") or ()),
            checked_at=str(d["checked_at"]), remembered_id=d.get("remembered_id"), footage=footage,
            searched=ArchiveExtent.from_dict(searched) if searched else None, history=str(history),
        )


# How reports stored before ``Report.history`` joined the history to the explanation.
LEGACY_HISTORY_GLUE = " History: "


def _known(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``d`` that are fields of dataclass ``cls``: a stored dict may carry keys a later
    version dropped or derived ones (``to_dict`` adds a few)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


@dataclass(frozen=True)
class SignalRecord:
    """One item's fingerprint of one signal type as stored and exported.

    ``payload`` is what the index is built from (read for every item when a process starts);
    ``detail`` what only alignment needs (read for a check's few candidate items), or None.
    ``version`` is the type's ``version`` when it was written: ``from_record`` refuses (or upgrades)
    any other.
    """

    signal: str
    version: int
    payload: bytes
    detail: bytes | None = None
