"""Export-only wrapper: the trained modules behind one tile shape, with no Python branches.

Phones' execution providers need static shapes, so the tile (height, width) is fixed at export time (the CPU
models may leave it free, `TileShape.free_shapes`) and the reference arrives already cut to width + d columns (the
runtime's tiler does that). The wrapper runs the network's own forward with the matching implementation chosen at
export (model/implementations.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import torch
from torch import Tensor, nn
from torch.export import Dim

from dualcam.model.implementations import matching
from dualcam.model.network import DualCamNet
from dualcam.runtime.manifest import ModelSpec


@dataclass(frozen=True)
class TileShape:
    """The contract of one exported model: input and output shapes of a single tile, batch 1."""

    height: int
    width: int
    max_disparity: int
    stride: int = 16  # the network's: a free height or width stays a multiple of it

    @classmethod
    def parse(cls, text: str, max_disparity: int, stride: int) -> "TileShape":
        """'256x512' -> TileShape, checking the network's stride."""
        try:
            height, width = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise ValueError(f"tile must look like HxW (e.g. 256x512), not {text!r}") from None
        if height <= 0 or width <= 0 or height % stride or width % stride:
            raise ValueError(f"tile {height}x{width} must be positive multiples of the network stride {stride}")
        return cls(height, width, max_disparity, stride)

    @property
    def reference_width(self) -> int:
        return self.width + self.max_disparity

    def spec(self) -> ModelSpec:
        """What the manifest records for a model of this tile, and the runtime reads back."""
        return ModelSpec.for_tile(self.height, self.width, self.max_disparity, stride=self.stride)

    def free_shapes(self) -> dict[str, dict[int, object]]:
        """torch.export's dynamic shapes for a model whose tile height and width are free: any multiple of the
        stride up to 64 times this tile, the reference d columns wider than the mono tile."""
        rows = Dim("rows", min=1, max=64 * self.height // self.stride)
        cols = Dim("cols", min=1, max=64 * self.width // self.stride)
        height, width = self.stride * rows, self.stride * cols
        return {"mono_y": {2: height, 3: width}, "ref_y": {2: height, 3: width + self.max_disparity},
                "ref_cbcr": {2: height, 3: width + self.max_disparity}}

    def inputs(self) -> dict[str, tuple[int, ...]]:
        return {"mono_y": (1, 1, self.height, self.width),
                "ref_y": (1, 1, self.height, self.reference_width),
                "ref_cbcr": (1, 2, self.height, self.reference_width)}

    def outputs(self) -> dict[str, tuple[int, ...]]:
        return {"cbcr": (1, 2, self.height, self.width)}

    def example(self, seed: int = 0) -> tuple[Tensor, ...]:
        generator = torch.Generator().manual_seed(seed)
        return tuple(torch.rand(shape, generator=generator) for shape in self.inputs().values())

    def feeds(self, seed: int = 0) -> dict[str, np.ndarray]:
        """The example as onnxruntime feeds."""
        return {name: x.numpy() for name, x in zip(self.inputs(), self.example(seed))}


class TileColorizer(nn.Module):
    """(mono Y, reference Y, reference Cb/Cr) of one tile -> Cb/Cr of the mono tile, all on [0, 1]."""

    def __init__(self, net: DualCamNet, tile: TileShape, implementation: str = "reference"):
        super().__init__()
        if tile.max_disparity != net.config.max_disparity:
            raise ValueError("tile and network disagree on the max disparity")
        if tile.height % net.config.stride or tile.width % net.config.stride:
            raise ValueError(f"tile {tile.height}x{tile.width} must be a multiple of {net.config.stride}")
        self.net = net.eval()
        self.tile = tile
        self.matching = matching(self.net, implementation)

    def forward(self, mono_y: Tensor, ref_y: Tensor, ref_cbcr: Tensor) -> Tensor:
        return self.net(mono_y, ref_y, ref_cbcr, self.matching)
