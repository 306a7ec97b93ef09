"""Image-quality metrics: CPSNR (PSNR over Cb and Cr), RGB PSNR and SSIM; whole image, no border crop,
peak 1 on [0, 1] values."""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


def _psnr(pred: np.ndarray, true: np.ndarray) -> float:
    if pred.shape != true.shape:
        raise ValueError(f"shape mismatch: {pred.shape} vs {true.shape}")
    mse = float(np.mean((pred.astype(np.float64) - true.astype(np.float64)) ** 2))
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(1.0 / mse))


def cpsnr(pred_cbcr: np.ndarray, true_cbcr: np.ndarray) -> float:
    """PSNR over the Cb and Cr planes (H,W,2) together: the number the project steers by."""
    if pred_cbcr.shape[-1] != 2:
        raise ValueError(f"expected (H,W,2) Cb/Cr, got {pred_cbcr.shape}")
    return _psnr(pred_cbcr, true_cbcr)


def rgb_psnr(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """PSNR over all three RGB channels; capped near 40 dB by the mono noise kept in the output luma."""
    return _psnr(pred_rgb, true_rgb)


def ssim_rgb(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """scikit-image SSIM of (H,W,3) RGB, channels averaged."""
    if pred_rgb.shape != true_rgb.shape:
        raise ValueError(f"shape mismatch: {pred_rgb.shape} vs {true_rgb.shape}")
    return float(
        structural_similarity(
            pred_rgb.astype(np.float64), true_rgb.astype(np.float64), channel_axis=-1, data_range=1.0
        )
    )


# Regions of the mono view, for where the error is (the first that claims a pixel has it):
REGIONS = ("unseen", "occluded", "edges", "flat")
EDGE_GRADIENT = 0.01  # |dC/dx| of the true Cb or Cr (central difference, per px) that makes a chroma edge
EDGE_REACH = 2  # px around an edge that count as near it: where a misplaced edge's colour lands


def region_masks(true_cbcr: np.ndarray, unseen_side: str, unseen_width: float,
                 occluded: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Disjoint (H, W) masks of the mono view: `unseen`, the strip of `unseen_width` px on `unseen_side` ("left" or
    "right") that the colour camera's view does not reach; `occluded`, what it cannot see inside its view (where
    ground-truth disparity gives it); `edges`, within EDGE_REACH px of a true chroma edge; `flat`, the rest."""
    import cv2

    height, width = true_cbcr.shape[:2]
    columns = np.arange(width)[None, :]
    strip = columns >= width - unseen_width if unseen_side == "right" else columns < unseen_width
    unseen = np.broadcast_to(strip, (height, width))
    gradient = np.zeros((height, width), np.float32)
    for axis in (0, 1):
        gradient = np.maximum(gradient, np.abs(np.gradient(true_cbcr.astype(np.float32), axis=axis)).max(axis=2))
    kernel = np.ones((2 * EDGE_REACH + 1,) * 2, np.uint8)
    edges = cv2.dilate((gradient > EDGE_GRADIENT).astype(np.uint8), kernel).astype(bool)
    occluded = np.zeros((height, width), bool) if occluded is None else occluded
    masks = {"unseen": unseen.copy(), "occluded": occluded & ~unseen}
    masks["edges"] = edges & ~masks["unseen"] & ~masks["occluded"]
    masks["flat"] = ~(masks["unseen"] | masks["occluded"] | masks["edges"])
    return masks


def cpsnr_by_region(pred_cbcr: np.ndarray, true_cbcr: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per region: its share of the pixels, its CPSNR, and its share of the whole image's squared error."""
    squared = ((pred_cbcr.astype(np.float64) - true_cbcr.astype(np.float64)) ** 2).sum(axis=2)
    total = float(squared.sum())
    out = {}
    for name, mask in masks.items():
        error = float(squared[mask].sum())
        mse = error / max(1, 2 * int(mask.sum()))
        out[name] = {"pixels": round(float(mask.mean()), 4),
                     "cpsnr": None if not mask.any() else (float("inf") if mse == 0 else 10 * float(np.log10(1 / mse))),
                     "error_share": round(error / total, 4) if total else 0.0}
    return out


def _mark(height: int, width: int, rows: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """(H, W) bool, True on columns starts..stops (inclusive) of each row: a difference array, cumulated."""
    keep = (stops >= starts) & (stops >= 0) & (starts <= width - 1)
    change = np.zeros((height, width + 1), np.int32)
    np.add.at(change, (rows[keep], np.clip(starts[keep], 0, width - 1).astype(int)), 1)
    np.add.at(change, (rows[keep], np.clip(stops[keep], 0, width - 1).astype(int) + 1), -1)
    return np.cumsum(change, axis=1)[:, :width] > 0


def occluded_in_right(disp_left: np.ndarray) -> np.ndarray:
    """(H, W) bool of the right view: what the left camera cannot see, from the left view's ground-truth disparity
    (left x -> right x - d; 0 or inf: unknown). Where a near surface ends and a farther one begins (neighbouring
    left pixels whose disparity drops by over 1 px) their landing points part, and the right columns between them
    are hidden from the left camera, unless another surface lands there."""
    height, width = disp_left.shape
    valid = np.isfinite(disp_left) & (disp_left > 0)
    disparity = np.where(valid, disp_left, 0.0)
    target = np.arange(width)[None, :] - disparity
    pairs = valid[:, :-1] & valid[:, 1:]
    rows = np.repeat(np.arange(height)[:, None], width - 1, axis=1)
    gap = pairs & (disparity[:, :-1] - disparity[:, 1:] > 1.0)
    hidden = _mark(height, width, rows[gap], np.floor(target[:, :-1][gap]) + 1, np.ceil(target[:, 1:][gap]) - 1)
    surface = pairs & ~gap  # neighbours on one surface cover every column between their landing points
    low, high = np.minimum(target[:, :-1], target[:, 1:]), np.maximum(target[:, :-1], target[:, 1:])
    covered = _mark(height, width, rows[surface], np.ceil(low[surface]), np.floor(high[surface]))
    return hidden & ~covered


def occluded_in_left(disp_left: np.ndarray) -> np.ndarray:
    """(H, W) bool of the left view: pixels hidden in the right view behind a nearer surface (another left pixel
    lands on the same right pixel with a disparity over 1 px larger)."""
    height, width = disp_left.shape
    valid = np.isfinite(disp_left) & (disp_left > 0)
    target = np.where(valid, np.rint(np.arange(width)[None, :] - np.where(valid, disp_left, 0)), -1).astype(int)
    nearest = np.full((height, width), -np.inf)
    rows = np.repeat(np.arange(height)[:, None], width, axis=1)
    inside = valid & (target >= 0)
    np.maximum.at(nearest, (rows[inside], target[inside]), disp_left[inside])
    hidden = np.zeros((height, width), bool)
    hidden[inside] = disp_left[inside] < nearest[rows[inside], target[inside]] - 1.0
    return hidden
