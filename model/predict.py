"""Whole-image inference with the torch model: any size, any disparity range.

Pads to the network stride, runs in row strips when the volume would not fit the memory budget,
and, where the pair's disparities exceed the model's d, works at a reduced chroma scale and
upsamples the chroma guided by the full-resolution mono image (the runtime's policy).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from dualcam.runtime.chroma import Chroma, predict_chroma
from dualcam.runtime.rectify import check_rectification

from .dataset import to_tensor
from .network import DualCamNet

BYTES_PER_VOXEL_CHANNEL = 4 * 6  # float32, and about six volumes alive at the top of the hourglass


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


def predict(model: DualCamNet, mono_y: np.ndarray, color_rgb: np.ndarray, budget_bytes: int = 3 << 30) -> Chroma:
    """Chroma of the mono view with the torch model, by the runtime's whole-image policy."""
    return predict_chroma(lambda mono, ref: run_network(model, mono, ref, budget_bytes)[0],
                          model.config.max_disparity, mono_y, color_rgb)


def main(argv: list[str] | None = None) -> int:
    """Colorize one mono/colour pair with the torch model; the colour camera's side is measured as the
    runtime measures it, and a pair with the colour camera on the right is flipped in and out."""
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
    side = check_rectification(mono_y, color).side  # the runtime's own measurement
    flip = side == "right"
    if flip:
        mono_y, color = np.ascontiguousarray(mono_y[:, ::-1]), np.ascontiguousarray(color[:, ::-1])
    result = predict(load_model(args.checkpoint), mono_y, color)
    cbcr = result.cbcr
    if flip:
        mono_y, cbcr = mono_y[:, ::-1], cbcr[:, ::-1]
    rgb = ycbcr_to_rgb(np.dstack([mono_y, cbcr]))
    cv2.imwrite(args.output, cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    side = side if side != "unknown" else "unknown (assumed left)"
    print(f"{args.output}: colour camera {side}, chroma scale {result.scale:g}, "
          f"disparity range {result.disparity_range} (in the network's arrangement)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
