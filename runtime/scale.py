"""Chroma working scale and candidate window: where a pair's disparities do not fit the model's d candidates,
predict chroma smaller, and start the candidates where the pair's disparities start.

Chroma is smooth and the mono image carries the detail, so predicting Cb/Cr at a reduced scale and
upsampling them guided by the full-resolution mono costs little, while a disparity outside the d
candidates cannot be matched at all. The candidates x .. x + d - 1 suit a pair whose disparities start near 0;
a pair whose nearest disparities are large (a close-up, a wide baseline) or negative (converging lenses, like a
3-D lens's) has its reference moved by an offset instead, so only the span of its disparities has to fit, and it
keeps a higher working scale. Where even the span does not fit but each tile's does (`tile_window`), the tiles start
their candidates where their own matches need them, and the scale rises further (`geometry`). The exporter records
the rule's two numbers in each model's manifest (`ModelSpec`); these constants are what it records.
"""
from __future__ import annotations

import math

import numpy as np

# Keep the largest disparity this far inside the d candidates: the estimate comes from sparse matches,
# and the network's confidence falls off at the last candidates. Measured with the first shipped mobile weights on
# the dev pairs (mean CPSNR Setup1/Setup2): 0.70 -> 36.28/35.34, 0.85 -> 36.45/35.22, 0.95 -> 36.31/34.76 dB.
RANGE_MARGIN = 0.85
MIN_SCALE = 0.125
# A tile's own candidate window needs this many matches inside it; with fewer its disparities are not known.
TILE_WINDOW_MIN_MATCHES = 10


def working_scale(max_pair_disparity: float | None, max_disparity: int, range_margin: float = RANGE_MARGIN,
                  min_scale: float = MIN_SCALE) -> float:
    """Largest scale <= 1 at which `max_pair_disparity` (full-resolution px) fits in range_margin * d, at least
    `min_scale`. None (too few matches to measure the range) keeps full resolution."""
    if max_pair_disparity is None or max_pair_disparity <= range_margin * max_disparity:
        return 1.0
    return max(min_scale, range_margin * max_disparity / max_pair_disparity)


def low_slack(max_disparity: int, range_margin: float = RANGE_MARGIN) -> int:
    """Working-scale px kept between a moved window's first candidate and the smallest measured disparity (the 1st
    percentile of sparse matches): half of what the range margin keeps at the top."""
    return round((1 - range_margin) * max_disparity / 2)


def candidate_window(disparities: tuple[float, float] | None, max_disparity: int, range_margin: float = RANGE_MARGIN,
                     min_scale: float = MIN_SCALE, max_scale: float = 1.0) -> tuple[float, int]:
    """(working scale, offset) for a pair whose disparities in the network's frame span `disparities` (smallest,
    largest; full-resolution px; None: unmeasured): the reference moved by `offset` working-scale px, its
    candidates are x + offset .. x + offset + d - 1.

    Candidates from 0 (offset 0) where they keep the highest scale and reach the smallest disparity to within a
    working-scale px; otherwise the window starts low_slack below the smallest disparity, and the span fits in
    range_margin * d less that slack and a px for rounding the start down.
    """
    if disparities is None:
        return max_scale, 0
    lowest, largest = disparities
    slack = low_slack(max_disparity, range_margin)
    from_zero = min(max_scale, working_scale(max(largest, 0.0), max_disparity, range_margin, min_scale))
    span = largest - lowest
    fits_span = 1.0 if span <= 0 else (range_margin * max_disparity - slack - 1) / span
    moved = min(max_scale, max(min_scale, min(1.0, fits_span)))
    if from_zero * lowest >= -1 and moved <= from_zero:
        return from_zero, 0
    return moved, window_offset(lowest, moved, max_disparity, range_margin)


def window_offset(lowest: float, scale: float, max_disparity: int, range_margin: float = RANGE_MARGIN) -> int:
    """The offset of a window starting low_slack below the smallest disparity (full-resolution px) at `scale`;
    never negative for a pair whose disparities are."""
    offset = math.floor(scale * lowest) - low_slack(max_disparity, range_margin)
    return max(offset, 0) if lowest >= 0 else offset


def tile_window(disparities: np.ndarray, max_disparity: int, range_margin: float = RANGE_MARGIN) -> tuple[int, bool]:
    """(shift, fits) for one tile whose matches have `disparities` (working-scale px, from the pair window's first
    candidate): how much further its own candidates start, and whether its span fits them.

    0 where the pair window keeps its largest disparity within range_margin * d; else the least shift that does,
    but never past low_slack below its smallest. Fewer than TILE_WINDOW_MIN_MATCHES matches: (0, False).
    """
    if disparities.size < TILE_WINDOW_MIN_MATCHES:
        return 0, False
    lowest, largest = np.percentile(disparities, [1, 99])
    need = math.ceil(largest - range_margin * max_disparity)
    if need <= 0:
        return 0, lowest >= -1
    room = math.floor(lowest) - low_slack(max_disparity, range_margin)
    return max(0, min(need, room)), need <= room
