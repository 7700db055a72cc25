"""The matcher finds edited copies of archived footage with the right seconds, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.dates import parse_date
from service.models import ArchiveMetadata, Claims
from service.pipeline import Pipeline
from service.settings import Settings
from tests.conftest import Media


@pytest.fixture
def pipeline(settings: Settings, media: Media) -> Iterator[Pipeline]:
    with Pipeline.from_settings(settings) as p:
        p.archive_add(str(media.original), ArchiveMetadata(title="Convoy ambush", published="2018-03-01",
                                                           location="Idlib"))
        p.archive_add(str(media.real), ArchiveMetadata(title="Bikes", published="2016-05-02"))
        yield p


def _only_match(pipeline: Pipeline, path: str) -> object:
    report = pipeline.check(path)
    titles = [m.item.title for m in report.matches]
    assert titles and titles[0] == "Convoy ambush", titles
    assert "Bikes" not in titles
    return report.matches[0]


def test_exact_copy_matches_whole_clip(pipeline: Pipeline, media: Media) -> None:
    match = _only_match(pipeline, str(media.original))
    seg = match.segments[0]
    assert seg.query_start == pytest.approx(0, abs=1) and seg.archive_start == pytest.approx(0, abs=1)
    assert seg.query_end == pytest.approx(12, abs=1) and match.coverage > 0.9
    assert not match.flipped


def test_low_bitrate_reencode_matches(pipeline: Pipeline, media: Media) -> None:
    match = _only_match(pipeline, str(media.reencode))
    assert match.coverage > 0.9


def test_excerpt_reencoded_240p_is_found_with_its_seconds(pipeline: Pipeline, media: Media) -> None:
    match = _only_match(pipeline, str(media.excerpt_240p))
    seg = match.segments[0]
    assert seg.archive_start == pytest.approx(4.0, abs=1.0)
    assert seg.archive_end == pytest.approx(10.0, abs=1.0)
    assert seg.query_start == pytest.approx(0.0, abs=1.0)


def test_horizontal_flip_is_found_and_reported(pipeline: Pipeline, media: Media) -> None:
    match = _only_match(pipeline, str(media.flipped))
    assert match.flipped and match.coverage > 0.8


def test_letterboxed_copy_matches(pipeline: Pipeline, media: Media) -> None:
    match = _only_match(pipeline, str(media.letterboxed))
    assert match.coverage > 0.8


def test_clip_inside_compilation_is_located(pipeline: Pipeline, media: Media) -> None:
    match = _only_match(pipeline, str(media.compilation))
    assert len(match.segments) == 1
    seg = match.segments[0]
    # compilation = 5 s of other footage, then original 2–9 s, then 5 s of other footage
    assert seg.query_start == pytest.approx(5.0, abs=1.0)
    assert seg.query_end == pytest.approx(12.0, abs=1.0)
    assert seg.archive_start == pytest.approx(2.0, abs=1.0)
    assert seg.archive_end == pytest.approx(9.0, abs=1.0)
    assert 0.3 < match.coverage < 0.6


@pytest.mark.parametrize("name", ["other", "unrelated"])
def test_unrelated_footage_matches_nothing(pipeline: Pipeline, media: Media, name: str) -> None:
    report = pipeline.check(str(getattr(media, name)))
    assert report.verdict == "no_prior_match"
    assert report.matches == ()


def test_verdicts(pipeline: Pipeline, media: Media) -> None:
    q = str(media.excerpt_240p)
    assert pipeline.check(q, Claims(date=parse_date("2021-03-11"))).verdict == "recycled"
    assert pipeline.check(q, Claims(location="Fallujah")).verdict == "misattributed"
    assert pipeline.check(q, Claims(location="Idlib")).verdict == "seen_before"
    assert pipeline.check(q).verdict == "seen_before"
    assert pipeline.check(q, Claims(date=parse_date("2018-03-01"))).verdict == "seen_before"
    assert pipeline.check(str(media.unrelated), Claims(date=parse_date("2021-03-11"))).verdict == "no_prior_match"


def test_recycled_explanation_names_the_gap(pipeline: Pipeline, media: Media) -> None:
    report = pipeline.check(str(media.excerpt_240p), Claims(date=parse_date("2021-03-11")))
    assert "2018-03-01" in report.explanation and "three years before" in report.explanation
    assert report.earliest is not None and report.earliest.item.title == "Convoy ambush"


def test_removed_item_no_longer_matches(pipeline: Pipeline, media: Media) -> None:
    item = pipeline.check(str(media.reencode)).matches[0].item
    pipeline.archive_remove(item.id)
    assert pipeline.check(str(media.reencode)).verdict == "no_prior_match"
    # a fresh process rebuilding its index from the store agrees
    with Pipeline.from_settings(pipeline.settings) as fresh:
        assert fresh.check(str(media.reencode)).verdict == "no_prior_match"
