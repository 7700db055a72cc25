"""What a signal type is: one class that says how to extract, store, index and align one kind of evidence.

Part of signals (the axis the threatexchange ``SignalType`` names). A *signal* is one way of recognising
footage: the pHash views of the picture (``service.signals.video``), an audio fingerprint, another video
hash. Every signal type says, for its own fingerprint value ``F``:

    extract(path, progress) -> F | None      # None: this media has no such signal (no audio track)
    summary(fp) -> Summary                   # duration, frames, informative frames
    to_record(fp) -> SignalRecord            # bytes for the database and the export file ...
    from_record(record) -> F                 # ... and back
    build_index(entries) -> I                # an index over the archive's fingerprints (add/remove)
    search(index, query) -> {item_id: H}     # candidate items and the signal's own hits on them
    align(query, item_id, hits, index, stored) -> SignalMatch | None   # hits -> time segments, score

and carries its thresholds as class constants. ``service.signals.registry`` lists the types;
``Settings.signals`` picks which run. Nothing outside a type's own module knows its value type: the store
keeps one ``SignalRecord`` per item and signal (table ``signals``), the export file writes the records as
they are, ``service.match.matcher`` loops over the types, and the verdict reads only each
``SignalMatch.medium``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from service.models import MEDIA, Medium, SignalMatch, SignalRecord
from service.settings import Settings

__all__ = ["MEDIA", "Medium", "SignalIndex", "SignalMatch", "SignalRecord", "SignalType", "StageProgress",
           "Summary"]

# (fraction of this signal's extraction done, 0..1; stage name for the progress bar, e.g. "decode")
StageProgress = Callable[[float, str], None]


@dataclass(frozen=True)
class Summary:
    """How much media a fingerprint covers."""

    duration: float  # seconds
    frames: int  # fingerprint frames (video: sampled frames; audio: fingerprint items)
    informative: int  # of those, frames that carry evidence (not blank, not silent)


F = TypeVar("F")  # the signal's fingerprint value
H = TypeVar("H")  # the signal's hits on one candidate item
F_contra = TypeVar("F_contra", contravariant=True)


class SignalIndex(Protocol[F_contra]):
    """What the matcher needs of every signal's index: keep it in step with the archive."""

    def add(self, item_id: int, fingerprint: F_contra) -> None: ...
    def remove(self, item_id: int) -> None: ...
    def item_ids(self) -> set[int]: ...
    def __len__(self) -> int: ...


I = TypeVar("I", bound=SignalIndex[Any])  # noqa: E741  (the signal's index type)


class SignalType(ABC, Generic[F, I, H]):
    """One kind of evidence; subclass it, set the three class constants, and add the class to
    ``service.signals.registry.SIGNAL_TYPES``.

    Constructed once per ``Settings`` (``registry.signal_types``); instances hold no archive state
    (the matcher holds the indexes), so one instance serves every thread.
    """

    name: ClassVar[str]  # unique, stored with every record: "video-phash", "audio-chromaprint"
    medium: ClassVar[Medium]
    version: ClassVar[int]  # of the record layout; bump it when to_record changes

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def extract(self, path: Path, progress: StageProgress) -> F | None:
        """The fingerprint of a media file; None when it has no such signal (no audio track, a still).

        Raises ``DecodeError`` / ``TooLarge`` like the decoders (``service.errors``)."""

    @abstractmethod
    def summary(self, fingerprint: F) -> Summary: ...

    @abstractmethod
    def to_record(self, fingerprint: F) -> SignalRecord: ...

    @abstractmethod
    def from_record(self, record: SignalRecord) -> F:
        """The fingerprint back; without ``record.detail`` (an index build reads none) only what
        ``build_index`` needs. ``BadInput`` for a record this type cannot read."""

    @abstractmethod
    def build_index(self, entries: Sequence[tuple[int, F]]) -> I:
        """An index holding ``entries`` (item id, fingerprint read without detail)."""

    @abstractmethod
    def search(self, index: I, query: F) -> Mapping[int, H]:
        """Candidate archive items for ``query`` and the hits on each (any type the signal likes)."""

    @abstractmethod
    def align(self, query: F, item_id: int, hits: H, index: I, stored: Callable[[], F | None]) -> SignalMatch | None:
        """Time segments where ``query`` shows archive item ``item_id``, or None: no real match.

        ``stored()`` reads the item's whole fingerprint (``detail`` included; cached by the matcher),
        None if it has gone; call it only when the hits alone do not settle the question."""
