"""The tile grid for one image, and how to run it inside the memory budget.

The model's tile is fixed at export, so the budget decides how the session runs, not the tile: with
onnxruntime's memory arena and memory pattern (fastest), or without them (about half the memory for
20-35 % more time), or not at all. Peak memory is the interpreter with its libraries, the
full-resolution planes (inputs, chroma, guided upsampling, output) and one session working on one tile.
The coefficients are measured on this machine with onnxruntime 1.32 (256x512 tiles, random inputs,
peak RSS minus the 68 MB of imports; benchmarks/onnx_latency.py) and rounded up.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError
from .tiling import TileGrid, default_overlap

BASE_MB = 120  # python, numpy, OpenCV and onnxruntime imported, the shipped manifest read
FULL_RES_BYTES_PER_PIXEL = 84  # planes alive at full resolution at the worst moment (81 measured at 12 MP)
# KB per pixel of the tile's reference window (tile height x (tile width + d)), by model and arena
SESSION_KB_PER_TILE_PIXEL = {
    ("fp32", True): 11.5, ("fp32", False): 6.0,
    ("int8", True): 7.3, ("int8", False): 5.1,
    ("mobile", True): 24.5, ("mobile", False): 8.0,
}


@dataclass(frozen=True)
class Plan:
    grid: TileGrid
    memory_arena: bool
    estimated_peak_mb: int


def plan_tiles(shape: tuple[int, int], scale: float, role: str, tile: dict, max_disparity: int,
               budget_mb: int) -> Plan:
    """Tile grid at the chroma working scale for a full-resolution (H, W) pair, fitted to the budget."""
    height, width = shape
    small = (max(1, round(height * scale)), max(1, round(width * scale)))
    th, tw = tile["height"], tile["width"]
    grid = TileGrid(*small, th, tw, max_disparity, default_overlap(th, tw))
    fixed = BASE_MB + height * width * FULL_RES_BYTES_PER_PIXEL / 2**20
    for arena in (True, False):
        per_pixel = SESSION_KB_PER_TILE_PIXEL.get((role, arena), SESSION_KB_PER_TILE_PIXEL[("mobile", arena)])
        peak = fixed + th * (tw + max_disparity) * per_pixel / 1024
        if peak <= budget_mb:
            return Plan(grid, arena, round(peak))
    raise InputError("--memory-budget", f"{budget_mb} MB is too little for a {width}x{height} pair with the "
                                        f"{role} model's {th}x{tw} tiles: it needs about {peak:.0f} MB")
