"""BT.601 full-range YCbCr on [0, 1] floats, the colour space the network predicts in.

Y = 0.299 R + 0.587 G + 0.114 B, Cb = 0.564 (B - Y) + 0.5, Cr = 0.713 (R - Y) + 0.5.
Channels are ordered Y, Cb, Cr (OpenCV's COLOR_RGB2YCrCb orders Cr before Cb, so it is not used).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
CB_SCALE = 0.564
CR_SCALE = 0.713


def rgb_to_luma(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB -> (...) Y."""
    return (rgb.astype(np.float32, copy=False) @ LUMA_WEIGHTS).astype(np.float32)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB in [0, 1] -> (..., 3) Y, Cb, Cr in [0, 1]."""
    rgb = rgb.astype(np.float32, copy=False)
    y = rgb @ LUMA_WEIGHTS
    cb = CB_SCALE * (rgb[..., 2] - y) + 0.5
    cr = CR_SCALE * (rgb[..., 0] - y) + 0.5
    return np.stack([y, cb, cr], axis=-1).astype(np.float32, copy=False)


def ycbcr_to_rgb(ycbcr: np.ndarray, clip: bool = True) -> np.ndarray:
    """(..., 3) Y, Cb, Cr -> (..., 3) RGB, the exact inverse of `rgb_to_ycbcr` before clipping."""
    ycbcr = ycbcr.astype(np.float32, copy=False)
    y = ycbcr[..., 0]
    b = y + (ycbcr[..., 1] - 0.5) / CB_SCALE
    r = y + (ycbcr[..., 2] - 0.5) / CR_SCALE
    g = (y - LUMA_WEIGHTS[0] * r - LUMA_WEIGHTS[2] * b) / LUMA_WEIGHTS[1]
    rgb = np.stack([r, g, b], axis=-1).astype(np.float32, copy=False)
    return np.clip(rgb, 0.0, 1.0) if clip else rgb


def unit_float(samples: np.ndarray) -> np.ndarray:
    """uint8/uint16 samples -> C-contiguous float32 on [0, 1]; floats (already on [0, 1]) are not copied if they are
    that already."""
    if samples.dtype.kind != "u":
        return np.ascontiguousarray(samples, np.float32)
    out = samples.astype(np.float32, order="C")
    out /= np.float32(np.iinfo(samples.dtype).max)
    return out


def each_channel(rgb: np.ndarray, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`transform` of each channel of (H, W, 3) samples as a [0, 1] float32 plane, stacked into (h, w, 3): a float
    copy of a 12-megapixel colour image never exists whole, one plane of it at a time does."""
    out = None
    for channel in range(3):
        plane = transform(unit_float(rgb[..., channel]))
        if out is None:
            out = np.empty(plane.shape + (3,), np.float32)
        out[..., channel] = plane
    return out
