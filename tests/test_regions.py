"""Where an inset's sides are placed when one of them has no line of its own."""

from __future__ import annotations

import numpy as np

from service.decode.region import _extend_weak_side


def test_a_side_without_a_line_moves_to_where_the_lines_beside_it_end() -> None:
    """An inset's frame line over a sky of its own tone is invisible, so the best-outlined rectangle takes a line
    inside the picture (a skyline, seen over part of the width) for its top; the top moves up to where the left
    and right lines end, and a side that has its line stays (the real corpus's ``bridge_close`` pip40: IoU with
    the true inset 0.55 before framed insets did this, 0.80 after)."""
    h, w = 144, 256
    vedge, hedge = np.zeros((h, w - 1), bool), np.zeros((h - 1, w), bool)
    vedge[51:135, 142] = vedge[51:135, 245] = True  # the left and right lines run from the true top, 51
    hedge[134, 142:246] = True  # the bottom line, whole
    hedge[70, 142:210] = True  # the skyline at 70, two thirds of the width
    covers = (1.0, 1.0, 0.67, 1.0)  # left, right, top, bottom
    assert _extend_weak_side((142, 70, 245, 134), covers, vedge, hedge, 0.75) == (142, 51, 245, 134)
    # a top with a line of its own stays
    assert _extend_weak_side((142, 70, 245, 134), (1.0, 1.0, 0.9, 1.0), vedge, hedge, 0.75) == (142, 70, 245, 134)
