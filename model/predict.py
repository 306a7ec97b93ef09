"""The torch network as the runtime's tile model, so a checkpoint runs through the very pipeline `dualcam-run` runs.

    python -m dualcam.model.predict MONO COLOR -o OUT [--checkpoint PATH]

`TorchModel` colours the runtime's tiles (the exporter's tile shape, fitted to each pair as the CPU models' are,
overlap and working-scale rule) in fp32 PyTorch: evaluation and validation of checkpoints not exported yet measure
what users will run, and the exported models' parity is the difference between two tile functions, nothing else.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from dualcam.runtime.manifest import ModelSpec
from dualcam.runtime.tiling import DEFAULT_TILE

from .network import DualCamNet


class TorchModel:
    """A DualCamNet behind the runtime's Session interface (dualcam.runtime.colorize)."""

    def __init__(self, net: DualCamNet, name: str = "in memory", tile: tuple[int, int] = DEFAULT_TILE):
        stride = net.config.stride
        if tile[0] % stride or tile[1] % stride:
            raise ValueError(f"tile {tile[0]}x{tile[1]} must be a multiple of the network stride {stride}")
        self.net, self.name = net, name
        self.largest = ModelSpec.for_tile(*tile, net.config.max_disparity, dynamic=True, stride=stride)
        self.spec = self.largest  # the last pair's (`prepare`)

    @torch.no_grad()
    def __call__(self, mono_y: np.ndarray, ref_y: np.ndarray, ref_cbcr: np.ndarray) -> np.ndarray:
        self.net.eval()
        tensors = (torch.from_numpy(np.ascontiguousarray(a, np.float32)) for a in (mono_y[None], ref_y[None],
                                                                                   ref_cbcr.transpose(2, 0, 1)))
        mono, ref_y_, ref_cbcr_ = (t[None] for t in tensors)
        return self.net(mono, ref_y_, ref_cbcr_)[0].permute(1, 2, 0).numpy()

    def prepare(self, shape: tuple[int, ...], color_shape: tuple[int, ...],
                working_shape: tuple[int, int] | None = None) -> None:
        """The tile fitted to the pair's frame; no memory plan: torch allocates as it goes."""
        if working_shape is not None:
            self.spec = self.largest.fitted(*working_shape)

    def describe(self) -> dict:
        return {"model": {"role": "torch", "file": self.name, "sha256": None},
                "provider": {"requested": "torch", "used": f"torch {torch.__version__} CPU", "session": []}}


def main(argv: list[str] | None = None) -> int:
    """Colorize one mono/colour pair with a torch checkpoint, through dualcam-run's pipeline (its checks,
    geometry, tiles and merge): for weights not exported yet."""
    from dualcam.runtime.cli import error_line
    from dualcam.runtime.colorize import Colorizer
    from dualcam.runtime.errors import InputError
    from dualcam.runtime.imageio import check_output, write_image
    from dualcam.runtime.pair import load_pair

    from .checkpoint import SHIPPED_WEIGHTS, load_model

    p = argparse.ArgumentParser(prog="python -m dualcam.model.predict", description=main.__doc__)
    p.add_argument("mono", type=Path)
    p.add_argument("color", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--checkpoint", type=Path, default=SHIPPED_WEIGHTS, help="default: the shipped mobile weights")
    args = p.parse_args(argv)
    try:
        pair = load_pair(args.mono, args.color)
        check_output(args.output, pair.bit_depth, (args.mono, args.color))
        colorizer = Colorizer(TorchModel(load_model(args.checkpoint), args.checkpoint.name))
        image, report = colorizer(pair)
        write_image(args.output, image, pair.bit_depth, (args.mono, args.color), exif=pair.exif)
    except InputError as error:
        print(error_line(error, "dualcam.model.predict"), file=sys.stderr)
        return 2
    except ValueError as error:  # a checkpoint that is not one
        print(f"dualcam.model.predict: {error}", file=sys.stderr)
        return 2
    report.output = str(args.output)
    for warning in report.warnings:
        print(f"dualcam.model.predict: warning: {warning}", file=sys.stderr)
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
