"""How to run one pair inside the memory budget, decided from the image sizes before any work is done.

The model's tile is fixed at export, so the budget decides how the session runs, not the tile: with
onnxruntime's memory arena and memory pattern (fastest), or without them (about half the memory for
20-35 % more time), or not at all. Peak memory is the interpreter with its libraries, the planes held at
the mono image's full resolution, a colour image larger than it, and one session working on one tile.
The session coefficients are measured on this machine with onnxruntime 1.32 (256x512 tiles, random inputs,
peak RSS minus the 68 MB of imports; benchmarks/onnx_latency.py) and rounded up. android_demo's Kotlin core
mirrors these numbers (its golden vectors come from `plan_tiles`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError
from .tiling import TileGrid, default_overlap

BASE_MB = 120  # python, numpy, OpenCV and onnxruntime imported, the shipped manifest read
# Bytes per mono pixel at the worst moment. 81 was measured at 12 MP when every full-resolution stage held
# whole float planes; guided upsampling and the merge now run in strips, so this bound is conservative
# (dualcam-run's measured peaks are in the runtime's report and the benchmark).
FULL_RES_BYTES_PER_PIXEL = 84
# Per colour pixel beyond the mono image's count (a colour camera of higher resolution): its decoded samples
# and float32 RGB copy, held while the pair is coloured.
EXTRA_COLOR_BYTES_PER_PIXEL = 16
# KB per pixel of the tile's reference window (tile height x (tile width + d)), by model and arena
SESSION_KB_PER_TILE_PIXEL = {
    ("fp32", True): 11.5, ("fp32", False): 6.0,
    ("int8", True): 7.3, ("int8", False): 5.1,
    ("mobile", True): 24.5, ("mobile", False): 8.0,
}


@dataclass(frozen=True)
class MemoryPlan:
    memory_arena: bool
    estimated_peak_mb: int


@dataclass(frozen=True)
class Plan:
    grid: TileGrid
    memory_arena: bool
    estimated_peak_mb: int


def plan_memory(shape: tuple[int, ...], role: str, tile: dict, max_disparity: int, budget_mb: int,
                color_shape: tuple[int, ...] | None = None) -> MemoryPlan:
    """Arena or not for a mono image of (H, W) and a colour image of `color_shape` (default: the same size);
    InputError naming memory_budget_mb if neither fits."""
    height, width = shape[:2]
    th, tw = tile["height"], tile["width"]
    extra_color = 0 if color_shape is None else max(0, color_shape[0] * color_shape[1] - height * width)
    fixed = BASE_MB + (height * width * FULL_RES_BYTES_PER_PIXEL + extra_color * EXTRA_COLOR_BYTES_PER_PIXEL) / 2**20
    for arena in (True, False):
        per_pixel = SESSION_KB_PER_TILE_PIXEL.get((role, arena), SESSION_KB_PER_TILE_PIXEL[("mobile", arena)])
        peak = fixed + th * (tw + max_disparity) * per_pixel / 1024
        if peak <= budget_mb:
            return MemoryPlan(arena, round(peak))
    raise InputError("memory_budget_mb", f"{budget_mb} MB is too little for a {width}x{height} pair with the "
                                         f"{role} model's {th}x{tw} tiles: it needs about {peak:.0f} MB")


def plan_tiles(shape: tuple[int, int], scale: float, role: str, tile: dict, max_disparity: int,
               budget_mb: int) -> Plan:
    """Tile grid at the chroma working scale for a full-resolution (H, W) pair of one size, fitted to the budget."""
    height, width = shape
    small = (max(1, round(height * scale)), max(1, round(width * scale)))
    th, tw = tile["height"], tile["width"]
    memory = plan_memory(shape, role, tile, max_disparity, budget_mb)
    return Plan(TileGrid(*small, th, tw, max_disparity, default_overlap(th, tw)), memory.memory_arena,
                memory.estimated_peak_mb)
