"""The audio signal (service/signals/audio.py): a soundtrack found at its offset, other sound and silence not.

The sound is made here: melodies of random notes (seeded) with harmonics and a decay, written as WAV and
muxed with ffmpeg under generated pictures, then decoded back through the guarded opener like any upload.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from service.errors import BadInput
from service.models import ArchiveMetadata
from service.pipeline import Pipeline
from service.settings import Settings
from service.signals.audio import (
    MAX_WINDOW_BER,
    SAMPLE_RATE,
    AudioFingerprint,
    AudioIndex,
    ChromaprintSignal,
    align_audio,
    fingerprint_audio,
    fingerprint_pcm,
)
from service.signals.registry import available_signals, get_signal_type
from tests.media import ffmpeg, scene

RATE = 44100


def melody(seed: int, seconds: float, rate: int = RATE) -> npt.NDArray[np.float64]:
    """Notes of 0.15–0.45 s from two octaves, three harmonics each, at about -14 dBFS."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    at = 0
    while at < len(out):
        length = int(rng.uniform(0.15, 0.45) * rate)
        f = 220.0 * 2 ** (int(rng.integers(0, 24)) / 12)
        t = np.arange(length) / rate
        note = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 2, 3)) * np.exp(-3 * t)
        out[at:at + length] = note[: len(out) - at]
        at += length
    return 0.2 * out / np.sqrt(np.mean(out**2))


def write_wav(path: Path, samples: npt.NDArray[np.float64], rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def video_with_sound(path: Path, sound: Path | None, picture: str, seconds: float) -> Path:
    """A small generated video (lavfi ``picture``) with ``sound`` as AAC, or no audio stream."""
    args = ["-f", "lavfi", "-i", f"{picture}=size=160x120:rate=10"]
    if sound is not None:
        args += ["-i", str(sound), "-c:a", "aac", "-b:a", "96k"]
    ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-t", str(seconds), str(path))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("audio")
    song = melody(1, 30.0)
    other = melody(2, 30.0)
    quiet = np.zeros(20 * RATE)
    sounds = {
        "song": write_wav(d / "song.wav", song),
        "other": write_wav(d / "other.wav", other),
        # the song's 9-24 s with the other melody laid over it 6 dB quieter
        "song_under_music": write_wav(d / "mixed.wav", song[9 * RATE:24 * RATE] + 0.5 * other[:15 * RATE]),
        "silence": write_wav(d / "silence.wav", quiet),
        "tone": write_wav(d / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * np.arange(20 * RATE) / RATE)),
    }
    out = {
        "archived": video_with_sound(d / "archived.mp4", sounds["song"], "testsrc2", 30),
        "other_sound": video_with_sound(d / "other_sound.mp4", sounds["other"], "testsrc2", 30),
        "silent_a": video_with_sound(d / "silent_a.mp4", sounds["silence"], "testsrc2", 20),
        "silent_b": video_with_sound(d / "silent_b.mp4", sounds["silence"], "mandelbrot", 20),
        "tone": video_with_sound(d / "tone.mp4", sounds["tone"], "testsrc2", 20),
        "no_audio": video_with_sound(d / "no_audio.mp4", None, "testsrc2", 10),
        "music_over": video_with_sound(d / "music_over.mp4", sounds["song_under_music"], "testsrc2", 15),
    }
    # The archived video's 9-24 s, re-encoded at a lower bitrate: picture and sound.
    out["excerpt"] = d / "excerpt.mp4"
    ffmpeg("-ss", "9", "-i", str(out["archived"]), "-t", "15", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", "-b:a", "48k", str(out["excerpt"]))
    # The archived sound's 9-24 s under another picture: one recording's sound over another video.
    out["sound_over_other_picture"] = d / "over.mp4"
    ffmpeg("-f", "lavfi", "-i", "mandelbrot=size=160x120:rate=10", "-ss", "9", "-i", str(out["archived"]),
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-t", "15",
           str(out["sound_over_other_picture"]))
    return out


def fp_of(path: Path) -> AudioFingerprint:
    fp = fingerprint_audio(path)
    assert fp is not None, f"{path.name} has no audio fingerprint"
    return fp


def test_audio_signal_is_registered() -> None:
    assert "audio-chromaprint" in available_signals()
    signal = get_signal_type("audio-chromaprint", Settings())
    assert isinstance(signal, ChromaprintSignal)
    assert signal.medium == "audio"


def test_excerpt_of_archived_soundtrack_is_found_at_its_offset(clips: dict[str, Path]) -> None:
    match = align_audio(7, fp_of(clips["excerpt"]), fp_of(clips["archived"]))
    assert match is not None
    assert match.item_id == 7
    assert len(match.segments) == 1
    seg = match.segments[0]
    # The query's 0-15 s is the archive's 9-24 s: to within one Chromaprint value (0.124 s) and
    # the AAC encoder's priming at the cut.
    assert seg.archive_start - seg.query_start == pytest.approx(9.0, abs=0.2)
    assert seg.query_start < 0.5
    assert seg.query_end > 14.0
    assert seg.speed == 1.0
    assert match.ber < 0.1


def test_other_sound_is_not_matched(clips: dict[str, Path]) -> None:
    assert align_audio(1, fp_of(clips["other_sound"]), fp_of(clips["archived"])) is None
    assert align_audio(1, fp_of(clips["excerpt"]), fp_of(clips["other_sound"])) is None


def test_music_laid_over_the_soundtrack_is_still_found(clips: dict[str, Path]) -> None:
    match = align_audio(3, fp_of(clips["music_over"]), fp_of(clips["archived"]))
    assert match is not None
    assert match.segments[0].archive_start - match.segments[0].query_start == pytest.approx(9.0, abs=0.2)
    assert 0.05 < match.ber <= MAX_WINDOW_BER  # worse than a re-encode, still under the threshold


def test_silence_and_a_held_tone_have_no_fingerprint(clips: dict[str, Path]) -> None:
    for name in ("silent_a", "silent_b", "tone"):
        assert fingerprint_audio(clips[name]) is None, name
    assert fingerprint_audio(clips["no_audio"]) is None


def test_silence_never_matches_even_when_aligned_directly() -> None:
    """Shared digital silence is one Chromaprint value over and over: two silent recordings agree bit
    for bit, and must still not be a match; nor a soundtrack that is silent where the archive's is."""
    silence = fingerprint_pcm(np.zeros(20 * SAMPLE_RATE, dtype=np.int16))
    assert len(silence) > 100
    assert len(np.unique(silence.values)) == 1
    assert not silence.informative.any()
    assert align_audio(1, silence, silence) is None
    tone = (3000 * np.sin(2 * np.pi * 440 * np.arange(20 * SAMPLE_RATE) / SAMPLE_RATE)).astype(np.int16)
    held = fingerprint_pcm(tone)
    assert align_audio(1, held, held) is None
    song = (melody(1, 20.0, SAMPLE_RATE) * 32767).astype(np.int16)
    with_silence = np.concatenate([np.zeros(20 * SAMPLE_RATE, dtype=np.int16), song])
    alone = fingerprint_pcm(np.concatenate([np.zeros(20 * SAMPLE_RATE, dtype=np.int16),
                                            (melody(5, 20.0, SAMPLE_RATE) * 32767).astype(np.int16)]))
    assert align_audio(1, alone, fingerprint_pcm(with_silence)) is None


def test_sound_over_another_picture_matches_by_sound(clips: dict[str, Path]) -> None:
    """One recording's sound laid over another video: the audio signal finds the archived item."""
    signal = ChromaprintSignal(Settings())
    archived = signal.extract(clips["archived"], lambda _f, _s: None)
    other = signal.extract(clips["other_sound"], lambda _f, _s: None)
    query = signal.extract(clips["sound_over_other_picture"], lambda _f, _s: None)
    assert archived is not None and other is not None and query is not None
    index = signal.build_index([(1, archived), (2, other)])
    hits = signal.search(index, query)
    assert set(hits) == {1}
    found = signal.align(query, 1, hits[1], index, lambda: archived)
    assert found is not None
    assert found.medium == "audio"
    assert found.evidence.basis == "sound"
    seg = found.segments[0]
    assert seg.archive_start - seg.query_start == pytest.approx(9.0, abs=0.2)
    assert found.coverage > 0.8
    assert 0.8 < found.score <= 1.0


def test_record_round_trip_and_hex(clips: dict[str, Path]) -> None:
    signal = ChromaprintSignal(Settings())
    fp = fp_of(clips["archived"])
    back = signal.from_record(signal.to_record(fp))
    assert np.array_equal(back.values, fp.values)
    assert np.array_equal(back.informative, fp.informative)
    assert (back.algorithm, back.item_s, back.context_s, back.duration) == (
        fp.algorithm, fp.item_s, fp.context_s, fp.duration)
    assert signal.summary(back).informative == int(fp.informative.sum())
    again = AudioFingerprint.from_hex(fp.hex(), fp.informative, duration=fp.duration)
    assert np.array_equal(again.values, fp.values)
    assert again.item_s == pytest.approx(fp.item_s)
    with pytest.raises(BadInput):
        AudioFingerprint.from_hex("abc")
    with pytest.raises(BadInput):
        signal.from_record(signal.to_record(fp).__class__("video-phash", 1, b"FSR1"))


def test_index_finds_what_scanning_each_item_finds(clips: dict[str, Path]) -> None:
    index = AudioIndex()
    names = ["archived", "other_sound", "tone"]
    fps = {name: fingerprint_audio(clips[name]) for name in names}
    for i, name in enumerate(names):
        fp = fps[name]
        if fp is not None:
            index.add(i, fp)
    assert index.item_ids() == {0, 1}  # the held tone has no fingerprint to index
    query = fp_of(clips["excerpt"])
    found = index.query(query)
    assert [m.item_id for m in found] == [0]
    direct = align_audio(0, query, fps["archived"])  # type: ignore[arg-type]
    assert direct is not None and found[0].segments == direct.segments
    index.remove(0)
    assert index.query(query) == []


def _mux(path: Path, picture: Path, sound: Path, start: float = 0.0, seconds: float = 24.0) -> Path:
    ffmpeg("-ss", str(start), "-i", str(picture), "-ss", str(start), "-i", str(sound), "-map", "0:v", "-map", "1:a",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k", str(path))
    return path


def test_a_check_words_each_medium_by_what_it_shows(settings: Settings, tmp_path: Path) -> None:
    """Through the pipeline with both signals on: the same footage matches by picture and sound; the
    picture of one archived video with the sound of another is 'matching video with different audio' for
    the one and 'matching audio over different video' for the other; with the audio signal off, neither
    is said."""
    song, other = write_wav(tmp_path / "song.wav", melody(1, 24.0)), write_wav(tmp_path / "other.wav", melody(2, 24.0))
    pictures = [scene(tmp_path / f"picture{seed}.mp4", seed=seed, seconds=24, size=(320, 180)) for seed in (11, 12, 13)]
    strike = _mux(tmp_path / "strike.mp4", pictures[0], song)
    parade = _mux(tmp_path / "parade.mp4", pictures[1], other)
    new_picture = pictures[2]
    excerpt = _mux(tmp_path / "excerpt.mp4", strike, strike, start=6, seconds=15)
    swapped = _mux(tmp_path / "swapped.mp4", strike, parade, start=6, seconds=15)
    sound_only = _mux(tmp_path / "sound_only.mp4", new_picture, strike, start=6, seconds=15)
    with Pipeline.from_settings(settings.model_copy(update={"signals": None})) as p:
        ids = {p.archive_add(str(path), ArchiveMetadata(title=title, published=date)).id: title
               for path, title, date in ((strike, "Strike", "2018-03-01"), (parade, "Parade", "2019-05-01"))}
        same = p.check(str(excerpt), remember=False)
        assert [ids[m.item.id] for m in same.matches] == ["Strike"]
        assert same.matches[0].media == ("video", "audio") and same.matches[0].differs == ()
        sound = next(s for s in same.matches[0].signals if s.medium == "audio")
        assert sound.segments[0].archive_start - sound.segments[0].query_start == pytest.approx(6.0, abs=0.3)
        assert "audio matches “Strike” at 0.0–" in same.explanation

        mixed = p.check(str(swapped), remember=False)
        by_title = {ids[m.item.id]: m for m in mixed.matches}
        assert set(by_title) == {"Strike", "Parade"}
        assert by_title["Strike"].media == ("video",) and by_title["Strike"].differs == ("audio",)
        assert by_title["Parade"].media == ("audio",) and by_title["Parade"].differs == ("video",)
        assert "Matching video with different audio." in mixed.explanation
        assert "Matching audio over different video." in mixed.explanation

        over = p.check(str(sound_only), remember=False)
        assert [(ids[m.item.id], m.media, m.differs) for m in over.matches] == [("Strike", ("audio",), ("video",))]
        assert over.verdict != "no_prior_match"
    with Pipeline.from_settings(settings.model_copy(update={"signals": ["video-phash"]})) as p:
        video_only = p.check(str(swapped), remember=False)
        assert [ids[m.item.id] for m in video_only.matches] == ["Strike"]
        assert video_only.matches[0].differs == () and "audio" not in video_only.explanation.lower()
        assert p.check(str(sound_only), remember=False).verdict == "no_prior_match"
