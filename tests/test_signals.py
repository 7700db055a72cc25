"""Signal types: a new kind of evidence is one class and one registry line; storage, index, export and the
verdict's words follow without a change of their own."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from service.archive.exchange import export_archive, import_archive
from service.archive.payload import pack, unpack
from service.archive.store import ArchiveStore
from service.archive.video_record import video_fingerprint, video_record
from service.dates import parse_date
from service.db.engine import open_database
from service.errors import BadInput
from service.match.verdict import decide, media_words
from service.models import (
    ArchiveItem,
    ArchiveMetadata,
    Backgrounds,
    Claims,
    Match,
    MatchEvidence,
    Medium,
    Segment,
    SignalMatch,
    SourceInfo,
    VideoFingerprint,
)
from service.pipeline import Pipeline
from service.settings import Settings
from service.signals import registry
from service.signals.base import SignalRecord, SignalType, StageProgress, Summary
from tests.conftest import Media


# -- a second signal type, as small as one can be --------------------------------------------------------------
class DigestIndex:
    def __init__(self) -> None:
        self.digests: dict[int, str] = {}

    def add(self, item_id: int, fingerprint: str) -> None:
        self.digests[item_id] = fingerprint

    def remove(self, item_id: int) -> None:
        self.digests.pop(item_id, None)

    def item_ids(self) -> set[int]:
        return set(self.digests)

    def __len__(self) -> int:
        return len(self.digests)


class WholeFileSignal(SignalType[str, DigestIndex, None]):
    """Stands in for a soundtrack: the same bytes "sound" the same, any other bytes differ."""

    name: ClassVar[str] = "test-whole-file"
    medium: ClassVar[Medium] = "audio"
    version: ClassVar[int] = 1

    def extract(self, path: Path, progress: StageProgress) -> str | None:
        progress(1.0, "digest")
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def summary(self, fingerprint: str) -> Summary:
        return Summary(duration=0.0, frames=1, informative=1)

    def to_record(self, fingerprint: str) -> SignalRecord:
        return SignalRecord(self.name, self.version, fingerprint.encode())

    def from_record(self, record: SignalRecord) -> str:
        return record.payload.decode()

    def build_index(self, entries: Sequence[tuple[int, str]]) -> DigestIndex:
        index = DigestIndex()
        for item_id, digest in entries:
            index.add(item_id, digest)
        return index

    def search(self, index: DigestIndex, query: str) -> Mapping[int, None]:
        return {item_id: None for item_id, digest in index.digests.items() if digest == query}

    def align(self, query: str, item_id: int, hits: None, index: DigestIndex,
              stored: Callable[[], str | None]) -> SignalMatch | None:
        whole = Segment(0.0, 4.0, 0.0, 4.0, 1.0, 1, 0.0)
        return SignalMatch(self.name, self.medium, (whole,), 1.0, 1.0, _evidence("sound"))


@pytest.fixture
def with_whole_file_signal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "SIGNAL_TYPES", (*registry.SIGNAL_TYPES, f"{__name__}:WholeFileSignal"))
    registry._classes.cache_clear()
    yield
    monkeypatch.undo()
    registry._classes.cache_clear()


def test_a_signal_type_registered_in_one_line_is_stored_indexed_matched_exported_and_worded(
        with_whole_file_signal: None, settings: Settings, media: Media, tmp_path: Path) -> None:
    # Every registered type, the stand-in last (the real audio type is on too: these clips have no sound).
    assert registry.available_signals()[0] == "video-phash"
    assert registry.available_signals()[-1] == "test-whole-file"
    with Pipeline.from_settings(settings) as p:
        item = p.archive_add(str(media.original), ArchiveMetadata(title="Square", published="2018-03-01"))
        assert [r.signal for _, r in p.store.signal_records(item_ids=[item.id])] == ["test-whole-file",
                                                                                      "video-phash"]
        same = p.check(str(media.original), remember=False)
        assert same.matches[0].media == ("video", "audio") and same.matches[0].differs == ()
        assert "; audio matches “Square” at 0.0–4.0 s (archive 0.0–4.0 s)." in same.explanation
        other = p.check(str(media.reencode), remember=False)
        assert other.matches[0].media == ("video",) and other.matches[0].differs == ("audio",)
        assert [s.signal for s in other.matches[0].signals] == ["video-phash"]
        assert "Matching video with different audio." in other.explanation
        assert other.matches[0].to_dict()["differs"] == ["audio"]
        dump = tmp_path / "archive.jsonl"
        export_archive(p.store, dump)
    # Turned off by settings: not extracted, not compared, not worded.
    with Pipeline.from_settings(settings.model_copy(update={"signals": ["video-phash"]})) as p:
        video_only = p.check(str(media.reencode), remember=False)
        assert video_only.matches[0].differs == () and "audio" not in video_only.explanation
    # The export carries the new signal's records with no change to the format's code.
    engine = open_database(f"sqlite:///{tmp_path / 'second.sqlite3'}")
    try:
        second = ArchiveStore(engine)
        import_archive(second, dump, max_bytes=10**9)
        assert sorted(r.signal for _, r in second.signal_records()) == ["test-whole-file", "video-phash"]
    finally:
        engine.dispose()


def test_the_registry_names_its_types_and_refuses_unknown_ones() -> None:
    assert registry.available_signals()[0] == "video-phash"
    assert [t.name for t in registry.signal_types(Settings(signals=None))] == registry.available_signals()
    with pytest.raises(BadInput, match="unknown signal 'phash-audio'; available: video-phash"):
        registry.signal_types(Settings(signals=["phash-audio"]))
    with pytest.raises(BadInput, match="no signal"):
        registry.signal_types(Settings(signals=[]))


def test_a_type_registered_twice_under_one_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "SIGNAL_TYPES", (f"{__name__}:WholeFileSignal", f"{__name__}:WholeFileSignal"))
    registry._classes.cache_clear()
    try:
        with pytest.raises(ValueError, match="registered twice"):
            registry.available_signals()
    finally:
        monkeypatch.undo()
        registry._classes.cache_clear()


def test_a_type_whose_library_is_missing_is_skipped_not_fatal(monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    before = registry.available_signals()
    monkeypatch.setattr(registry, "SIGNAL_TYPES", (*registry.SIGNAL_TYPES, "service.signals.no_such_lib:Nothing"))
    registry._classes.cache_clear()
    try:
        assert registry.available_signals() == before
        assert "service.signals.no_such_lib:Nothing is not available" in caplog.text
    finally:
        monkeypatch.undo()
        registry._classes.cache_clear()


# -- records -----------------------------------------------------------------------------------------------
def test_a_payload_round_trips_its_arrays_and_refuses_other_bytes() -> None:
    times = np.arange(5, dtype=np.float32) / 2
    hashes = np.arange(15, dtype=np.uint64).reshape(5, 3) << np.uint64(40)
    meta, arrays = unpack(pack({"views": ["a", "b", "c"]}, times=times, hashes=hashes))
    assert meta == {"views": ["a", "b", "c"]}
    assert arrays["times"].tolist() == times.tolist() and arrays["hashes"].tolist() == hashes.tolist()
    for bad in (b"", b"not a record", b"FSR1\xff\xff\xff\x7f{}"):
        with pytest.raises(BadInput):
            unpack(bad)


def test_a_video_fingerprint_survives_its_record_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    fp = VideoFingerprint(
        hasher="phash-8x8", views=("full", "fg_full"), times=np.arange(6, dtype=np.float32) / 2,
        hashes=rng.integers(0, 2**63, (6, 2), dtype=np.int64).astype(np.uint64) << np.uint64(1), duration=3.0,
        backgrounds=Backgrounds(("full",), np.array([0, 4], dtype=np.int32),
                                rng.normal(size=(2, 1, 64)).astype(np.float32)))
    record = video_record(fp)
    back = video_fingerprint(record)
    assert back.hashes.tolist() == fp.hashes.tolist() and back.times.tolist() == fp.times.tolist()
    assert back.views == fp.views and back.duration == 3.0 and back.hasher == "phash-8x8"
    assert back.backgrounds is not None and fp.backgrounds is not None
    assert back.backgrounds.coefficients.tolist() == fp.backgrounds.coefficients.tolist()
    assert video_fingerprint(SignalRecord(record.signal, record.version, record.payload)).backgrounds is None
    with pytest.raises(BadInput):
        video_fingerprint(SignalRecord(record.signal, 99, record.payload))


# -- the verdict's words, from the media alone --------------------------------------------------------------
def _evidence(basis: str) -> MatchEvidence:
    return MatchEvidence(basis=basis, frames_matched=8, frames_compared=8, foreground_matched=0,  # type: ignore[arg-type]
                         foreground_compared=0, query_share=1.0, short=False)


def _signal(medium: Medium, start: float) -> SignalMatch:
    segment = Segment(start, start + 4.0, start + 10.0, start + 14.0, 1.0, 8, 2.0)
    return SignalMatch(f"{medium}-x", medium, (segment,), 0.9, 1.0,
                       _evidence("moving_content" if medium == "video" else "sound"))


def _match(signals: tuple[SignalMatch, ...], differs: tuple[Medium, ...] = ()) -> Match:
    item = ArchiveItem(id=1, kind="curated", title="Strike", published="2018-03-01", location=None, event=None,
                       source_url=None, notes=None, factcheck_url=None, platform=None, uploader=None,
                       sha256="0" * 64, duration=30.0, frame_count=60, added_at="2026-01-01T00:00:00+00:00",
                       date_origin="curated")
    first = signals[0]
    return Match(item=item, score=first.score, coverage=first.coverage, flipped=False, transform="full",
                 segments=first.segments, evidence=first.evidence, signals=signals, differs=differs)


def test_each_medium_is_worded_by_what_it_shows() -> None:
    assert media_words(_match((_signal("video", 0.0),))) == ""  # video alone: the report reads as before
    assert media_words(_match((_signal("video", 0.0),), differs=("audio",))) == (
        "Video matches “Strike” at 0.0–4.0 s (archive 10.0–14.0 s). Matching video with different audio.")
    assert media_words(_match((_signal("audio", 3.0),), differs=("video",))) == (
        "Audio matches “Strike” at 3.0–7.0 s (archive 13.0–17.0 s). Matching audio over different video.")
    assert media_words(_match((_signal("video", 0.0), _signal("audio", 3.0)))) == (
        "Video matches “Strike” at 0.0–4.0 s (archive 10.0–14.0 s); "
        "audio matches “Strike” at 3.0–7.0 s (archive 13.0–17.0 s).")


def test_the_sound_of_an_old_strike_over_another_video_is_recycled_and_says_so() -> None:
    source = SourceInfo(input="upload.mp4", media_path="upload.mp4", sha256="1" * 64, size_bytes=1)
    verdict, _earliest, text = decide([_match((_signal("audio", 3.0),), differs=("video",))],
                                      Claims(date=parse_date("2022-02-24")), source)
    assert verdict == "recycled"
    assert "Matching audio over different video." in text


def test_a_static_scene_with_matching_sound_is_not_only_the_same_place() -> None:
    static = SignalMatch("video-x", "video", _signal("video", 0.0).segments, 0.9, 1.0, _evidence("static_scene"))
    source = SourceInfo(input="upload.mp4", media_path="upload.mp4", sha256="1" * 64, size_bytes=1)
    alone = decide([_match((static,))], Claims(date=parse_date("2022-02-24")), source)
    assert alone[0] == "seen_before" and "static scene" in alone[2]
    with_sound = decide([_match((static, _signal("audio", 0.0)))], Claims(date=parse_date("2022-02-24")), source)
    assert with_sound[0] == "recycled"
