"""Chroma working scale: where a pair's disparities exceed the model's range, predict chroma smaller.

Chroma is smooth and the mono image carries the detail, so predicting Cb/Cr at a reduced scale and
upsampling them guided by the full-resolution mono costs little, while a disparity beyond the d
candidates cannot be matched at all. The exporter records the rule's two numbers in each model's manifest
(`ModelSpec`); these constants are what it records.
"""
from __future__ import annotations

# Keep the largest disparity this far inside the d candidates: the estimate comes from sparse matches,
# and the network's confidence falls off at the last candidates. Measured with the first shipped mobile weights on
# the dev pairs (mean CPSNR Setup1/Setup2): 0.70 -> 36.28/35.34, 0.85 -> 36.45/35.22, 0.95 -> 36.31/34.76 dB.
RANGE_MARGIN = 0.85
MIN_SCALE = 0.125


def working_scale(max_pair_disparity: float | None, max_disparity: int, range_margin: float = RANGE_MARGIN,
                  min_scale: float = MIN_SCALE) -> float:
    """Largest scale <= 1 at which `max_pair_disparity` (full-resolution px) fits in range_margin * d, at least
    `min_scale`. None (too few matches to measure the range) keeps full resolution."""
    if max_pair_disparity is None or max_pair_disparity <= range_margin * max_disparity:
        return 1.0
    return max(min_scale, range_margin * max_disparity / max_pair_disparity)
