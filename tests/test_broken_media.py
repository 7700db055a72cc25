"""Broken and hostile media: a clear error or a correct result, never a traceback or a hang,
and the archive stays exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings
from tests.broken_media import make_broken_corpus
from tests.conftest import Media, archive_digest

ERRORS = {
    "empty": "empty file",
    "text_as_mp4": "not a readable video",
    "truncated_no_moov": "not a readable video",
    "audio_only": "no video stream",
    "huge_frame_header": "huge_16000.avi",
    "three_hours_sparse": "over the limit of 3600 s",
    "timestamp_bomb": "over the limit of 3600 s",
}
# name -> does it show the archived original?
RESULTS = {"variable_frame_rate": True, "rotated_metadata": True, "single_frame": False, "clip_0_2s": False}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, media: Media) -> dict[str, Path]:
    return make_broken_corpus(tmp_path_factory.mktemp("broken"), media.original)


def test_corpus_is_complete(broken: dict[str, Path]) -> None:
    assert set(broken) == set(ERRORS) | set(RESULTS)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_broken_input_is_refused_clearly_and_archive_unchanged(cli, media: Media, settings: Settings,
                                                               broken: dict[str, Path], name: str) -> None:
    cli("archive", "add", media.original, "--title", "original")
    before = archive_digest(settings)
    for verb in (("check",), ("archive", "add")):
        res = cli(*verb, broken[name])
        assert res.exit_code == 2, (name, res.stdout)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and ERRORS[name] in lines[0], res.stderr
        assert "Traceback" not in res.stderr
    assert archive_digest(settings) == before


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_odd_but_valid_input_gets_a_correct_result(cli, media: Media, settings: Settings,
                                                   broken: dict[str, Path], name: str) -> None:
    cli("archive", "add", media.original, "--title", "original")
    before = archive_digest(settings)
    res = cli("check", broken[name], "--no-remember", "--json")
    assert res.exit_code == 0, res.stderr
    matched = [m["title"] for m in res.json()["matches"]]
    assert matched == (["original"] if RESULTS[name] else [])
    assert archive_digest(settings) == before
