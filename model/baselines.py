"""Classical baselines, the bar a learned model must clear: no-warp (copy the reference chroma), SGBM warp
(OpenCV StereoSGBM disparity of the mono view, chroma warped by it, holes filled from the background side)
and SGBM + guided filter (He et al., the mono image as guide, radius 4, eps 1e-3).

Each baseline maps (mono_y (H,W), color_rgb (H,W,3)), float32 in [0, 1], in the paper's arrangement
(mono = right camera, right x <-> colour x + d, d >= 0) to the predicted Cb/Cr (H,W,2) of the mono view.
"""
from __future__ import annotations

import cv2
import numpy as np

from dualcam.runtime.color import rgb_to_luma, rgb_to_ycbcr
from dualcam.runtime.guided import guided_filter

GF_RADIUS = 4
GF_EPS = 1e-3
SGBM_BLOCK = 5


def nowarp(mono_y: np.ndarray, color_rgb: np.ndarray) -> np.ndarray:
    """The reference chroma, unaligned: what parallax costs."""
    return rgb_to_ycbcr(color_rgb)[..., 1:]


def _to_u8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def fill_from_background(disp: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill invalid pixels with the smaller of the nearest valid disparities left and right on the row.

    Holes are mostly occlusions, which belong to the farther (smaller-disparity) surface; rows with no
    valid pixel get 0.
    """
    h, w = disp.shape
    cols = np.broadcast_to(np.arange(w), (h, w))
    left_idx = np.maximum.accumulate(np.where(valid, cols, -1), axis=1)
    right_idx = np.minimum.accumulate(np.where(valid, cols, w)[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(h)[:, None]
    big = np.float32(np.inf)
    left_val = np.where(left_idx >= 0, disp[rows, np.clip(left_idx, 0, w - 1)], big)
    right_val = np.where(right_idx < w, disp[rows, np.clip(right_idx, 0, w - 1)], big)
    filled = np.minimum(left_val, right_val)
    filled = np.where(np.isfinite(filled), filled, 0.0)
    return np.where(valid, disp, filled).astype(np.float32)


def sgbm_disparity(mono_y: np.ndarray, color_y: np.ndarray, max_disparity: int = 64) -> np.ndarray:
    """Disparity (H,W) of the mono (right) view by OpenCV StereoSGBM, holes filled from the background.

    SGBM computes the disparity of its first ("left") image with matches at x - d in the second; mirroring
    both images makes the mono view that first image, with its matches at x + d in the colour view.
    """
    num_disp = 16 * int(np.ceil(max_disparity / 16))
    # Tuned once for all pairs on the dev set (mean CPSNR; each choice worth 0.1-0.5 dB): for copying
    # colour a wrong-but-plausible disparity beats a hole, so no uniqueness test and no speckle removal;
    # the looser left-right check (5 px) and smoother P2 (96 instead of OpenCV's usual 32) help the same way.
    matcher = cv2.StereoSGBM_create(
        minDisparity=0,
        numDisparities=num_disp,
        blockSize=SGBM_BLOCK,
        P1=8 * SGBM_BLOCK**2,
        P2=96 * SGBM_BLOCK**2,
        disp12MaxDiff=5,
        preFilterCap=63,
        uniquenessRatio=0,
        speckleWindowSize=0,
        mode=cv2.STEREO_SGBM_MODE_HH4,
    )
    raw = matcher.compute(_to_u8(mono_y[:, ::-1]).copy(), _to_u8(color_y[:, ::-1]).copy())[:, ::-1]
    disp = raw.astype(np.float32) / 16.0
    return fill_from_background(disp, raw >= 0)


def warp_by_disparity(ref: np.ndarray, disp_right: np.ndarray) -> np.ndarray:
    """Sample `ref` ((H,W) or (H,W,C), the colour/left view) at x + d: the right view's aligned copy.

    Bilinear; samples beyond the border replicate the edge column.
    """
    h, w = disp_right.shape
    map_x = np.arange(w, dtype=np.float32)[None, :] + disp_right.astype(np.float32)
    map_y = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w)).copy()
    src = ref.astype(np.float32, copy=False)
    out = cv2.remap(src, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(src.shape)


def sgbm(mono_y: np.ndarray, color_rgb: np.ndarray, max_disparity: int = 64) -> np.ndarray:
    """Reference chroma warped by the SGBM disparity of the mono view."""
    disp = sgbm_disparity(mono_y, rgb_to_luma(color_rgb), max_disparity)
    return warp_by_disparity(rgb_to_ycbcr(color_rgb)[..., 1:], disp)


def sgbm_gf(mono_y: np.ndarray, color_rgb: np.ndarray, max_disparity: int = 64) -> np.ndarray:
    """`sgbm`, then He et al.'s guided filter with the mono image as guide (radius 4, eps 1e-3)."""
    return guided_filter(mono_y, sgbm(mono_y, color_rgb, max_disparity), GF_RADIUS, GF_EPS)


BASELINES = {"nowarp": nowarp, "sgbm": sgbm, "sgbm_gf": sgbm_gf}
