"""The chroma of the mono view: the model in the network's frame, then every stage after it.

arrange (the pair into the network's frame) -> the model, tile by tile -> chroma filter guided by the mono image
-> back to the mono image's orientation -> guided upsampling to full resolution and the YCbCr merge, strip by strip.
The model is anything that colours one tile: an onnxruntime session, a torch module, a probe function.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from .arrangement import Arrangement
from .color import ycbcr_to_rgb
from .confidence import NETWORK, STEREO_CHECK, stereo_consistency
from .guided import CHROMA_FILTER_EPS, CHROMA_FILTER_RADIUS, guided_filter, upsample_coefficients, upsample_rows
from .manifest import ModelSpec
from .tiling import TileGrid, run_tiled

STRIP_ROWS = 256  # rows filtered, upsampled and merged at a time, so no whole-image intermediate planes


class TileModel(Protocol):
    """Colours one tile of the shape `spec` gives: (h, w) mono Y, (h, w + d) reference Y and (h, w + d, 2)
    reference Cb/Cr -> (h, w, 2) Cb/Cr, or (h, w, 3) with the model's confidence as a third channel."""

    spec: ModelSpec

    def __call__(self, mono_y: np.ndarray, ref_y: np.ndarray, ref_cbcr: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Prediction:
    """The model's chroma and confidence at the working scale, in the mono image's orientation."""

    cbcr: np.ndarray  # (h, w, 2)
    confidence: np.ndarray  # (h, w) on [0, 1]
    confidence_source: str  # NETWORK or STEREO_CHECK
    grid: TileGrid  # the tiles it ran
    shifts: tuple[int, ...]  # per tile: how much further than the pair's window its candidates started
    unseen: float  # share of the mono image outside the colour camera's view


def predict(mono_y: np.ndarray, color_rgb: np.ndarray, arrangement: Arrangement, model: TileModel,
            chroma_filter: bool = True, progress: Callable[[int, int], None] | None = None) -> Prediction:
    """Chroma of the (H, W) mono luma from the colour image's RGB, both as given, through `model` tile by tile."""
    mono, reference = arrangement.mono(mono_y), arrangement.reference(color_rgb)
    grid = model.spec.grid(*mono.shape)
    shifts = tuple(shift for shift, _ in arrangement.tile_windows(grid, model.spec.range_margin))
    out = run_tiled(model, grid, mono, reference, progress, shifts)
    if out.shape[2] > 2:
        confidence, source = out[..., 2], NETWORK
    else:
        # Block matching searches every tile's candidates: the pair's, and as far as a tile's own window reaches.
        reach = model.spec.max_disparity + max(shifts, default=0)
        confidence, source = stereo_consistency(mono, reference[..., 0], reach), STEREO_CHECK
    del reference  # before the filter: at a working scale of 1 it is a 12-megapixel plane of 12 bytes a pixel
    cbcr = filter_chroma(mono, out[..., :2]) if chroma_filter else out[..., :2]
    seen = arrangement.seen()
    if seen is not None:
        confidence = confidence * seen
    unseen = 0.0 if seen is None else 1.0 - float(seen.mean())
    return Prediction(arrangement.restore(cbcr), arrangement.restore(confidence), source, grid, shifts, unseen)


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


def merge(mono_y: np.ndarray, cbcr_low: np.ndarray, bit_depth: int) -> np.ndarray:
    """Y = the mono image, Cb/Cr guided-upsampled from the working scale, strip by strip -> RGB samples.

    Colours outside the RGB cube are clipped to it, so there (1.1 % of the sample pair's pixels, by up to 28
    levels) the luma of the result departs from the mono image; everywhere else it is the mono image to within
    the rounding of the output samples.
    """
    height, width = mono_y.shape
    peak = (1 << bit_depth) - 1
    out = np.empty((height, width, 3), np.uint16 if bit_depth == 16 else np.uint8)
    coefficients = None if cbcr_low.shape[:2] == mono_y.shape else upsample_coefficients(mono_y, cbcr_low)
    for top in range(0, height, STRIP_ROWS):
        bottom = min(top + STRIP_ROWS, height)
        cbcr = cbcr_low[top:bottom] if coefficients is None else upsample_rows(mono_y, coefficients, top, bottom)
        ycbcr = np.concatenate([mono_y[top:bottom, :, None], np.clip(cbcr, 0, 1)], axis=2)
        out[top:bottom] = np.rint(ycbcr_to_rgb(ycbcr) * peak)
    return out


def upsample_confidence(confidence_low: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The working-scale confidence at the mono image's size, as 8-bit grey (255 = confident)."""
    full = cv2.resize(confidence_low, shape[::-1], interpolation=cv2.INTER_LINEAR)
    return np.rint(np.clip(full, 0, 1) * 255).astype(np.uint8)
