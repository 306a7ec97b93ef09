"""Whole-image inference with the torch model: any size, any disparity range.

Pads to the network stride, runs in row strips when the volume would not fit the memory budget,
and, where the pair's disparities exceed the model's d, works at a reduced chroma scale and
upsamples the chroma guided by the full-resolution mono image (the runtime's policy).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from dualcam.runtime.color import rgb_to_ycbcr
from dualcam.runtime.guided import guided_upsample
from dualcam.runtime.matching import estimate_disparity_range
from dualcam.runtime.scale import working_scale

from .dataset import to_tensor
from .network import DualCamNet

BYTES_PER_VOXEL_CHANNEL = 4 * 6  # float32, and about six volumes alive at the top of the hourglass


@dataclass
class Prediction:
    cbcr: np.ndarray  # (H, W, 2) chroma of the mono view at full resolution
    scale: float  # chroma working scale used
    disparity_range: tuple[float, float] | None  # measured from feature matches, full-resolution px
    strips: int


def pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    pad = ((0, height - image.shape[0]), (0, width - image.shape[1])) + ((0, 0),) * (image.ndim - 2)
    return np.pad(image, pad, mode="edge")


def strip_rows(height: int, width: int, model: DualCamNet, budget_bytes: int) -> int:
    """Largest strip height (a multiple of the stride) whose volume fits the budget."""
    cfg = model.config
    per_row = (width / 2) * (cfg.max_disparity / 2) * 2 * cfg.features * BYTES_PER_VOXEL_CHANNEL / 2
    rows = int(budget_bytes // max(per_row, 1)) // cfg.stride * cfg.stride
    return max(cfg.stride * 2, min(rows, height))


@torch.no_grad()
def run_network(model: DualCamNet, mono_y: np.ndarray, ref_ycbcr: np.ndarray,
                budget_bytes: int = 3 << 30, overlap: int = 32) -> tuple[np.ndarray, int]:
    """(H, W) mono and (H, W, 3) reference at the working scale -> (H, W, 2) chroma, strip count."""
    stride = model.config.stride
    height, width = mono_y.shape
    padded_h, padded_w = -(-height // stride) * stride, -(-width // stride) * stride
    mono = to_tensor(pad_to(mono_y, padded_h, padded_w))[None]
    ref = to_tensor(pad_to(ref_ycbcr, padded_h, padded_w))[None]
    rows = strip_rows(padded_h, padded_w, model, budget_bytes)
    if rows >= padded_h:
        return model(mono, ref[:, :1], ref[:, 1:])[0].permute(1, 2, 0).numpy()[:height, :width], 1
    # Strips overlap so each keeps context above and below; the centre part of each is kept.
    out = torch.zeros(2, padded_h, padded_w)
    step = rows - 2 * overlap
    starts = list(range(0, padded_h - rows, step)) + [padded_h - rows]
    for top in starts:
        piece = model(mono[..., top : top + rows, :], ref[:, :1, top : top + rows], ref[:, 1:, top : top + rows])[0]
        keep_from = 0 if top == 0 else overlap
        out[:, top + keep_from : top + rows] = piece[:, keep_from:]
    return out.permute(1, 2, 0).numpy()[:height, :width], len(starts)


def predict(model: DualCamNet, mono_y: np.ndarray, color_rgb: np.ndarray,
            budget_bytes: int = 3 << 30) -> Prediction:
    """Chroma of the mono view, in the network's arrangement (colour camera on the left)."""
    ref = rgb_to_ycbcr(color_rgb)
    measured = estimate_disparity_range(mono_y, ref[..., 0])
    scale = working_scale(None if measured is None else measured[1], model.config.max_disparity)
    if scale == 1.0:
        cbcr, strips = run_network(model, mono_y, ref, budget_bytes)
    else:
        size = (max(1, round(mono_y.shape[1] * scale)), max(1, round(mono_y.shape[0] * scale)))
        small_mono = cv2.resize(mono_y, size, interpolation=cv2.INTER_AREA)
        small_ref = cv2.resize(ref, size, interpolation=cv2.INTER_AREA)
        small_cbcr, strips = run_network(model, small_mono, small_ref, budget_bytes)
        cbcr = guided_upsample(mono_y, small_cbcr)
    return Prediction(np.clip(cbcr, 0, 1).astype(np.float32), scale, measured, strips)


def main(argv: list[str] | None = None) -> int:
    """Colorize one mono/colour pair with the torch model (the colour camera on the left)."""
    import argparse
    import sys

    from dualcam.runtime.color import rgb_to_luma, ycbcr_to_rgb

    from .checkpoint import load_model
    from .pairs import read_rgb

    p = argparse.ArgumentParser(prog="python -m dualcam.model.predict", description=main.__doc__)
    p.add_argument("mono")
    p.add_argument("color")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--checkpoint", default=None, help="default: the shipped mobile weights")
    args = p.parse_args(argv)
    try:
        mono_y = rgb_to_luma(read_rgb(args.mono))
        color = read_rgb(args.color)
        if mono_y.shape != color.shape[:2]:
            raise ValueError(f"{args.color}: size {color.shape[1]}x{color.shape[0]} differs from the mono "
                             f"image's {mono_y.shape[1]}x{mono_y.shape[0]}")
    except ValueError as error:
        print(f"dualcam: {error}", file=sys.stderr)
        return 2
    result = predict(load_model(args.checkpoint), mono_y, color)
    rgb = ycbcr_to_rgb(np.dstack([mono_y, result.cbcr]))
    cv2.imwrite(args.output, cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    print(f"{args.output}: chroma scale {result.scale:g}, disparity range {result.disparity_range}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
