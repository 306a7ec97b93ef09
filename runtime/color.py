"""BT.601 full-range YCbCr on [0, 1] floats, the colour space the network predicts in.

Y = 0.299 R + 0.587 G + 0.114 B, Cb = 0.564 (B - Y) + 0.5, Cr = 0.713 (R - Y) + 0.5.
Channels are ordered Y, Cb, Cr (OpenCV's COLOR_RGB2YCrCb orders Cr before Cb, so it is not used).
"""
from __future__ import annotations

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
    return np.stack([y, cb, cr], axis=-1).astype(np.float32)


def ycbcr_to_rgb(ycbcr: np.ndarray, clip: bool = True) -> np.ndarray:
    """(..., 3) Y, Cb, Cr -> (..., 3) RGB, the exact inverse of `rgb_to_ycbcr` before clipping."""
    ycbcr = ycbcr.astype(np.float32, copy=False)
    y = ycbcr[..., 0]
    b = y + (ycbcr[..., 1] - 0.5) / CB_SCALE
    r = y + (ycbcr[..., 2] - 0.5) / CR_SCALE
    g = (y - LUMA_WEIGHTS[0] * r - LUMA_WEIGHTS[2] * b) / LUMA_WEIGHTS[1]
    rgb = np.stack([r, g, b], axis=-1).astype(np.float32)
    return np.clip(rgb, 0.0, 1.0) if clip else rgb

