"""He et al.'s guided filter (ECCV 2010 / TPAMI 2013) with a grey guide, and guided chroma upsampling.

Torch-free: the runtime uses it to bring chroma predicted at a reduced working scale back to the full
resolution of the mono image, whose edges it borrows. Box means use cv2's reflect-101 border.
"""
from __future__ import annotations

import cv2
import numpy as np

# `guided_upsample` defaults, by measurement on the three dev pairs (true chroma of the right view
# area-downsampled 2x and 4x, guide = that view's Y + Setup1 mono noise): radius 1 and eps 1e-2 at the
# low resolution gave +0.5 dB (2x) and +0.4 dB (4x) mean CPSNR over plain bilinear. eps 3e-3 is as good
# on Middlebury but loses on smooth Sintel; larger radii lose 0.3-0.5 dB. The textbook "bilinear, then
# guided filter at full resolution" loses 3-4 dB: its box averaging of (a, b) over a (2r+1)^2 window
# blurs real, finely textured chroma more than bilinear does, so it is deliberately not what this does.
UPSAMPLE_RADIUS = 1
UPSAMPLE_EPS = 1e-2
# The network's chroma keeps some of the colour camera's noise where the scene is flat. A 3x3 guided filter
# at the working scale, steered by the mono image, averages it away where chroma does not follow luma and
# keeps the edges where it does (benchmarks/chroma_scale.py, the model card's "Chroma filter"). Larger
# radii blur Middlebury's fine colour texture (cones: -0.25 dB at radius 2, -1.1 dB at radius 4).
CHROMA_FILTER_RADIUS = 1
CHROMA_FILTER_EPS = 1e-3


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    k = 2 * radius + 1
    return cv2.boxFilter(x, -1, (k, k), normalize=True, borderType=cv2.BORDER_REFLECT_101)


def _slope(i: np.ndarray, p: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-window ridge fit p ~ a*i + b for (h,w,1) guide i and (h,w,C) src p: (a, mean_i, mean_p)."""
    c = p.shape[2]
    # One box pass over [I, I*I, p, I*p] is cheaper than 2 + 2C separate passes.
    means = _box(np.concatenate([i, i * i, p, i * p], axis=2), radius).reshape(p.shape[:2] + (2 + 2 * c,))
    mean_i, mean_ii = means[..., :1], means[..., 1:2]
    mean_p, mean_ip = means[..., 2 : 2 + c], means[..., 2 + c :]
    a = (mean_ip - mean_i * mean_p) / (mean_ii - mean_i * mean_i + np.float32(eps))
    return a, mean_i, mean_p


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-preserving smoothing of `src` ((H,W) or (H,W,C)) steered by the grey `guide` (H,W).

    Each output pixel is a*guide + b with (a, b) fitted by ridge regression (penalty `eps`) in the
    (2r+1)^2 windows covering it, so `src` edges that coincide with guide edges survive.
    """
    if guide.ndim != 2 or src.shape[:2] != guide.shape:
        raise ValueError(f"guide must be (H,W) and src (H,W[,C]) of the same size, got {guide.shape}, {src.shape}")
    if radius < 1:
        raise ValueError(f"radius must be >= 1, got {radius}")
    i = guide.astype(np.float32, copy=False)
    p = src.astype(np.float32, copy=False)
    squeeze = p.ndim == 2
    if squeeze:
        p = p[..., None]
    c = p.shape[2]
    a, mean_i, mean_p = _slope(i[..., None], p, radius, eps)
    b = mean_p - a * mean_i
    ab = _box(np.concatenate([a, b], axis=2), radius).reshape(a.shape[:2] + (2 * c,))
    q = ab[..., :c] * i[..., None] + ab[..., c:]
    return q[..., 0] if squeeze else q


def guided_upsample(
    guide_full: np.ndarray,
    src_low: np.ndarray,
    radius: int = UPSAMPLE_RADIUS,
    eps: float = UPSAMPLE_EPS,
) -> np.ndarray:
    """Upsample `src_low` (h,w[,C]) to the size of the grey `guide_full` (H,W), sharpened by the guide.

    Result = bilinear(src_low) + A * (guide_full - bilinear(guide_low)), where guide_low is the guide
    area-downsampled to (h,w) and A the window-averaged guided-filter slope fitted at (h,w) with
    `radius` and `eps` (low-resolution units), bilinearly upsampled: the bilinear base keeps what the
    low-resolution chroma knows, and the mono image adds only the detail the low resolution lost,
    scaled by how strongly chroma follows luma locally.
    """
    if guide_full.ndim != 2:
        raise ValueError(f"guide_full must be (H,W), got {guide_full.shape}")
    squeeze = src_low.ndim == 2
    q = upsample_rows(guide_full, upsample_coefficients(guide_full, src_low, radius, eps), 0, guide_full.shape[0])
    return q[..., 0] if squeeze else q


def upsample_coefficients(guide_full: np.ndarray, src_low: np.ndarray, radius: int = UPSAMPLE_RADIUS,
                          eps: float = UPSAMPLE_EPS) -> np.ndarray:
    """The low-resolution part of `guided_upsample`: (h, w, 2C + 1) = window-averaged slope A, src, guide_low."""
    h, w = src_low.shape[:2]
    p = src_low.astype(np.float32, copy=False).reshape(h, w, -1)
    c = p.shape[2]
    i = cv2.resize(np.ascontiguousarray(guide_full, np.float32), (w, h), interpolation=cv2.INTER_AREA)[..., None]
    a = _slope(i, p, radius, eps)[0]
    return np.concatenate([_box(a, radius).reshape(h, w, c), p, i], axis=2)


def upsample_rows(guide_full: np.ndarray, coefficients: np.ndarray, top: int, bottom: int) -> np.ndarray:
    """Rows top..bottom-1 of the guided upsampling with `upsample_coefficients`: (bottom - top, W, C).

    Bilinear as cv2.resize's INTER_LINEAR (pixel centres aligned), one strip at a time, so the full-resolution
    planes of the whole image never exist at once.
    """
    h_full, w_full = guide_full.shape
    h = coefficients.shape[0]
    c = (coefficients.shape[2] - 1) // 2
    if (top, bottom) == (0, h_full):  # one strip: the image, exactly as cv2.resize computes it
        up = cv2.resize(coefficients, (w_full, h_full), interpolation=cv2.INTER_LINEAR).reshape(h_full, w_full, 2 * c + 1)
    else:
        # Source rows and weights computed as cv2.resize does (float32 position, clamped at the edges).
        source = ((np.arange(top, bottom) + 0.5) * (h / h_full) - 0.5).astype(np.float32)
        upper = np.floor(source).astype(np.int64)
        frac = source - upper.astype(np.float32)
        frac[upper < 0], frac[upper >= h - 1] = 0, 0
        upper = np.clip(upper, 0, h - 1)
        lower = np.minimum(upper + 1, h - 1)
        first, last = int(upper[0]), int(lower[-1]) + 1
        wide = cv2.resize(np.ascontiguousarray(coefficients[first:last]), (w_full, last - first),
                          interpolation=cv2.INTER_LINEAR).reshape(last - first, w_full, 2 * c + 1)
        frac = frac[:, None, None]
        up = wide[upper - first] * (np.float32(1) - frac) + wide[lower - first] * frac
    guide = guide_full[top:bottom].astype(np.float32, copy=False)
    return up[..., c : 2 * c] + up[..., :c] * (guide - up[..., 2 * c])[..., None]
