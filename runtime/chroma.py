"""The whole-image chroma policy shared by the torch model and the onnxruntime models.

Measure the pair's disparity range from feature matches, pick the chroma working scale that brings
it inside the model's d candidates, run the model at that scale (however it is run: whole, in strips
or in tiles), and bring Cb/Cr back to full resolution guided by the full-resolution mono image.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .color import rgb_to_ycbcr
from .guided import guided_upsample
from .matching import estimate_disparity_range
from .scale import working_scale

# (H, W) mono Y and (H, W, 3) reference YCbCr at the working scale -> (H, W, 2) Cb/Cr
ImageFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Chroma:
    cbcr: np.ndarray  # (H, W, 2) chroma of the mono view at full resolution, on [0, 1]
    scale: float  # chroma working scale used
    disparity_range: tuple[float, float] | None  # measured from feature matches, full-resolution px


def measure_scale(mono_y: np.ndarray, ref_y: np.ndarray, max_disparity: int) -> tuple[float, tuple[float, float] | None]:
    """(working scale, measured disparity range or None) for a pair in the network's arrangement."""
    measured = estimate_disparity_range(mono_y, ref_y)
    return working_scale(None if measured is None else measured[1], max_disparity), measured


def downscale(mono_y: np.ndarray, ref_ycbcr: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Both images at the working scale (area averaging); unchanged at scale 1."""
    if scale == 1.0:
        return mono_y, ref_ycbcr
    size = (max(1, round(mono_y.shape[1] * scale)), max(1, round(mono_y.shape[0] * scale)))
    return cv2.resize(mono_y, size, interpolation=cv2.INTER_AREA), cv2.resize(ref_ycbcr, size, interpolation=cv2.INTER_AREA)


def chroma_at_scale(infer: ImageFunction, mono_y: np.ndarray, ref_ycbcr: np.ndarray, scale: float) -> np.ndarray:
    """Run `infer` at the chroma working scale and bring Cb/Cr back to the mono image's resolution."""
    cbcr = infer(*downscale(mono_y, ref_ycbcr, scale))
    return np.clip(cbcr if scale == 1.0 else guided_upsample(mono_y, cbcr), 0, 1).astype(np.float32)


def predict_chroma(infer: ImageFunction, max_disparity: int, mono_y: np.ndarray, color_rgb: np.ndarray) -> Chroma:
    """Chroma of the mono view, in the network's arrangement (colour camera on the left)."""
    ref = rgb_to_ycbcr(color_rgb)
    scale, measured = measure_scale(mono_y, ref[..., 0], max_disparity)
    return Chroma(chroma_at_scale(infer, mono_y, ref, scale), scale, measured)
