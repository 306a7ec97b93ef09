"""The whole-image chroma policy shared by the torch model and the onnxruntime models.

Take the pair's disparity range from the rectification check's matches (the one geometry measurement
`dualcam-run` makes), pick the chroma working scale that brings it inside the model's d candidates,
run the model at that scale (however it is run: whole, in strips or in tiles), filter its Cb/Cr guided by
the mono image at that scale, and bring them back to full resolution guided by the full-resolution mono image.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .color import rgb_to_ycbcr
from .guided import CHROMA_FILTER_EPS, CHROMA_FILTER_RADIUS, guided_filter, guided_upsample
from .rectify import RectificationReport, check_rectification
from .scale import working_scale

STRIP_ROWS = 256  # rows filtered, upsampled and merged at a time, so no whole-image intermediate planes

# (H, W) mono Y and (H, W, 3) reference YCbCr at the working scale -> (H, W, 2) Cb/Cr
ImageFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Chroma:
    cbcr: np.ndarray  # (H, W, 2) chroma of the mono view at full resolution, on [0, 1]
    scale: float  # chroma working scale used
    disparity_range: tuple[float, float] | None  # measured from feature matches, full-resolution px


def chroma_scale(check: RectificationReport, max_disparity: int, max_chroma_scale: float = 1.0) -> float:
    """The working scale that fits the checked pair's largest disparity into the model's d candidates
    (full resolution when the matches were too few to tell), capped at `max_chroma_scale`."""
    measured_max = None if check.too_few_matches else float(check.disparity_range[1])
    return min(working_scale(measured_max, max_disparity), max_chroma_scale)


def measure_scale(mono_y: np.ndarray, ref_y: np.ndarray, max_disparity: int) -> tuple[float, tuple[float, float] | None]:
    """(working scale, measured disparity range or None) for a pair in the network's arrangement."""
    check = check_rectification(mono_y, ref_y, max_disparity=max_disparity)
    return chroma_scale(check, max_disparity), None if check.too_few_matches else check.disparity_range


def downscale(mono_y: np.ndarray, ref_ycbcr: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Both images at the working scale (area averaging); unchanged at scale 1."""
    if scale == 1.0:
        return mono_y, ref_ycbcr
    size = (max(1, round(mono_y.shape[1] * scale)), max(1, round(mono_y.shape[0] * scale)))
    return cv2.resize(mono_y, size, interpolation=cv2.INTER_AREA), cv2.resize(ref_ycbcr, size, interpolation=cv2.INTER_AREA)


def filter_chroma(mono_y: np.ndarray, cbcr: np.ndarray, strip_rows: int = STRIP_ROWS) -> np.ndarray:
    """The model's (H, W, 2) Cb/Cr smoothed where they do not follow the (H, W) mono image's edges.

    In strips of rows, so the filter's intermediate planes never exist for a whole 12-MP image; each strip
    reads 2 * radius rows beyond its edges (the filter's two box passes), which makes it exact.
    """
    height = mono_y.shape[0]
    halo = 2 * CHROMA_FILTER_RADIUS
    out = np.empty(cbcr.shape, np.float32)
    for top in range(0, height, strip_rows):
        bottom = min(top + strip_rows, height)
        first, last = max(0, top - halo), min(height, bottom + halo)
        strip = guided_filter(mono_y[first:last], cbcr[first:last], CHROMA_FILTER_RADIUS, CHROMA_FILTER_EPS)
        out[top:bottom] = strip[top - first : bottom - first]
    return out


def chroma_at_scale(infer: ImageFunction, mono_y: np.ndarray, ref_ycbcr: np.ndarray, scale: float) -> np.ndarray:
    """Run `infer` at the chroma working scale, filter, and bring Cb/Cr back to the mono image's resolution."""
    small_mono, small_ref = downscale(mono_y, ref_ycbcr, scale)
    cbcr = filter_chroma(small_mono, infer(small_mono, small_ref))
    return np.clip(cbcr if scale == 1.0 else guided_upsample(mono_y, cbcr), 0, 1).astype(np.float32)


def predict_chroma(infer: ImageFunction, max_disparity: int, mono_y: np.ndarray, color_rgb: np.ndarray) -> Chroma:
    """Chroma of the mono view, in the network's arrangement (colour camera on the left)."""
    ref = rgb_to_ycbcr(color_rgb)
    scale, measured = measure_scale(mono_y, ref[..., 0], max_disparity)
    return Chroma(chroma_at_scale(infer, mono_y, ref, scale), scale, measured)
