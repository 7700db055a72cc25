"""The judge's rules on what a segment rests on, at their edges (``service.match.align``)."""

from __future__ import annotations

from service.match.align import ForegroundAgreement, _still_copy


def test_a_still_recordings_noisy_copy_is_a_static_scene() -> None:
    """Real vtc1nw (a near-still teleconference) as pip60: of 24 frames the archive moves in 3 and the copy, its
    re-encoding lifting noise over the foreground threshold, in 8; where both move they agree; 0.6 bits apart.
    Neither "nothing moves" (the copy moves in a third) nor "what moves agrees" (2 frames) held, so it went
    unfound."""
    assert _still_copy(ForegroundAgreement(query_moving=8, archive_moving=3, both_moving=2, agree=2), 24, 0.6)


def test_a_copy_where_something_may_pass_is_not_a_still_copy() -> None:
    """Any sign of another moment keeps the old rules: a disagreeing frame, hashes off the archive's, a copy
    moving in half its frames, or an archive that moves."""
    assert not _still_copy(ForegroundAgreement(8, 3, 2, 1), 24, 0.6)
    assert not _still_copy(ForegroundAgreement(8, 3, 2, 2), 24, 3.0)
    assert not _still_copy(ForegroundAgreement(12, 3, 2, 2), 24, 0.6)
    assert not _still_copy(ForegroundAgreement(8, 7, 2, 2), 24, 0.6)
