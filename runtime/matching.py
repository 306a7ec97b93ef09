"""Sparse feature matches between the mono and colour images, torch-free.

`rectify` fits the row geometry to them and takes from them everything the runtime measures about a pair:
vertical misalignment, camera side (the sign of dx = x_colour - x_mono, positive in the paper's arrangement),
scale and the disparity range that sets the chroma working scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .color import each_channel, rgb_to_luma, unit_float

# Matching runs on copies at most this many px a side, with at most MAX_FEATURES keypoints each: SIFT's
# cost grows with the pixels it sees, and a 12-megapixel pair needs no more to fit three row parameters and
# two disparity percentiles. Measured on a 4000x2700 pair (2 cores, other work running): 1600 px and all
# features 3.5 s, 800 px and 2000 features 0.58 s, with the same vertical error to 0.1 px.
MATCH_MAX_SIDE = 800
MAX_FEATURES = 2000
# Contrast-limited histogram equalisation before SIFT finds keypoints in dark and low-contrast regions, often the
# near objects whose disparities decide the working scale. Measured on seven real stereo pairs (p99 disparity
# against a 1600-px, all-feature reference): without it one car-mounted pair read 83 px for 107 (145 inlier
# matches), with it 106 px (317); every other pair within 3 px of the reference either way; about 0.1-0.3 s more.
CLAHE_CLIP, CLAHE_TILES = 2.0, (8, 8)


def _to_u8(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Grey or RGB (samples or [0, 1] floats) -> 8-bit grey of at most `max_side` px a side, contrast-equalised:
    shrunk first, one channel at a time, so a big image costs one pass and no float copy of it."""
    scale = min(1.0, max_side / max(img.shape[:2]))

    def shrunk(plane: np.ndarray) -> np.ndarray:
        if scale == 1.0:
            return plane
        return cv2.resize(np.ascontiguousarray(plane), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)

    img = rgb_to_luma(each_channel(img, shrunk)) if img.ndim == 3 else shrunk(unit_float(img))
    grey = np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
    return cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=CLAHE_TILES).apply(grey), scale


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
    """SIFT matches (Lowe ratio test) of two images, grey or RGB, samples or [0, 1] floats, of any sizes, with no
    geometric filtering.

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

