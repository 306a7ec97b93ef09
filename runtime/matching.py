"""Sparse feature matching between the mono and colour images: vertical offset and disparity range.

Torch-free; the runtime uses it to measure the disparity range before running the network, and
`rectify` uses the unfiltered matches to check rectification and the camera side (the sign of dx).
dx = x_colour - x_mono, positive in the paper's arrangement.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .color import rgb_to_luma

MAD_TO_STD = 1.4826
# Matching runs on copies at most this many px a side, with at most MAX_FEATURES keypoints each: SIFT's
# cost grows with the pixels it sees, and a 12-megapixel pair needs no more to fit three row parameters and
# two disparity percentiles. Measured on a 4000x2700 pair (2 cores, other work running): 1600 px and all
# features 3.5 s, 800 px and 2000 features 0.58 s, with the same vertical error to 0.1 px.
MATCH_MAX_SIDE = 800
MAX_FEATURES = 2000


@dataclass(frozen=True)
class PairGeometry:
    """Statistics of the matches that survived the ratio test and the vertical-consistency filter (pixels)."""

    n_matches: int
    dy_median: float  # y_colour - y_mono: the residual vertical misalignment
    dy_spread: float  # robust std (1.4826 * MAD) of dy
    dx_p1: float
    dx_median: float
    dx_p99: float


def _to_u8(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Grey or RGB [0, 1] -> 8-bit grey of at most `max_side` px a side: shrunk first, so a big image costs one pass."""
    scale = min(1.0, max_side / max(img.shape[:2]))
    if scale < 1.0:
        img = cv2.resize(np.ascontiguousarray(img), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if img.ndim == 3:
        img = rgb_to_luma(img)
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8), scale


@dataclass(frozen=True)
class Matches:
    """Ratio-test SIFT matches at full resolution: row i of `mono` matches row i of `color` (x, y)."""

    mono: np.ndarray  # (N, 2)
    color: np.ndarray  # (N, 2)
    scale: float  # matching resolution / full resolution of the mono image: 1 / scale is one matched pixel

    def transposed(self) -> Matches:
        """The same matches with x and y swapped: what they are between the two images transposed."""
        return Matches(self.mono[:, ::-1], self.color[:, ::-1], self.scale)


def sift_matches(mono_y: np.ndarray, color_y: np.ndarray, max_side: int = MATCH_MAX_SIDE, ratio: float = 0.75,
                 max_features: int = MAX_FEATURES) -> Matches:
    """SIFT matches (Lowe ratio test) of two [0, 1] images, grey or RGB, of any sizes, with no geometric filtering.

    Images are downscaled to at most `max_side` pixels for speed; coordinates are reported at each
    image's full resolution. No matches (flat images) gives empty arrays.
    """
    sift = cv2.SIFT_create(nfeatures=max_features)
    a, scale_a = _to_u8(mono_y, max_side)
    b, scale_b = _to_u8(color_y, max_side)
    kp_a, des_a = sift.detectAndCompute(a, None)
    kp_b, des_b = sift.detectAndCompute(b, None)
    good = []
    if des_a is not None and des_b is not None and len(kp_a) >= 2 and len(kp_b) >= 2:
        knn = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_a, des_b, k=2)
        good = [m[0] for m in knn if len(m) == 2 and m[0].distance < ratio * m[1].distance]
    pa = np.array([kp_a[m.queryIdx].pt for m in good], dtype=np.float64).reshape(-1, 2) / scale_a
    pb = np.array([kp_b[m.trainIdx].pt for m in good], dtype=np.float64).reshape(-1, 2) / scale_b
    return Matches(pa, pb, scale_a)


def match_pair(
    mono_y: np.ndarray,
    color_y: np.ndarray,
    max_side: int = MATCH_MAX_SIDE,
    ratio: float = 0.75,
    dy_tol: float = 2.0,
    min_matches: int = 20,
) -> PairGeometry | None:
    """Statistics of `sift_matches` of a rectified pair; None if fewer than `min_matches` survive.

    Matches whose dy is more than `dy_tol` px from the median dy are dropped as mismatches: in a
    rectified pair every true match shares (nearly) the same dy. `rectify.check_rectification`
    measures pairs that may not be rectified.
    """
    matches = sift_matches(mono_y, color_y, max_side, ratio)
    if len(matches.mono) < max(min_matches, 1):
        return None
    pa, pb = matches.mono, matches.color
    dx, dy = pb[:, 0] - pa[:, 0], pb[:, 1] - pa[:, 1]
    keep = np.abs(dy - np.median(dy)) <= dy_tol
    if keep.sum() < min_matches:
        return None
    dx, dy = dx[keep], dy[keep]
    dy_median = float(np.median(dy))
    p1, p50, p99 = np.percentile(dx, [1, 50, 99])
    return PairGeometry(
        n_matches=int(keep.sum()),
        dy_median=dy_median,
        dy_spread=float(MAD_TO_STD * np.median(np.abs(dy - dy_median))),
        dx_p1=float(p1),
        dx_median=float(p50),
        dx_p99=float(p99),
    )


def estimate_disparity_range(mono_y: np.ndarray, color_y: np.ndarray) -> tuple[float, float] | None:
    """(1st, 99th) percentile of dx = x_colour - x_mono over robust matches, or None if too few."""
    geometry = match_pair(mono_y, color_y)
    return None if geometry is None else (geometry.dx_p1, geometry.dx_p99)
