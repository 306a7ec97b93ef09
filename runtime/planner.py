"""How to run one pair inside the memory budget, decided from the image sizes before any work is done.

The model's tile is fixed at export, so the budget decides how the session runs, not the tile: with
onnxruntime's memory arena and memory pattern (fastest), or without them (about half the memory for
20-35 % more time), or not at all. Peak memory is the interpreter with its libraries, the planes held at
the mono image's full resolution, a colour image larger than it, and one session working on its tiles.
The coefficients are fitted to `dualcam-run`'s measured peaks in a worst case for memory (16-bit images,
working scale 1, the colour view warped by --rectify; benchmarks/planner_memory.py, onnxruntime 1.32), with
10 % headroom on the session terms: an ordinary 8-bit photograph uses well under the estimate. They hold the
larger of two CPUs' fits: an AMD EPYC with AVX-512 (benchmarks/results/planner_memory.md), whose peaks were
the higher, and one with AVX2 only, 20-35 % lower (planner_memory_avx2.md). The mobile_int8 models were
measured on the AVX2 CPU only; they take the int8 and int8_ort coefficients scaled by their ratio to those
there. android_demo's Kotlin core mirrors these numbers (its golden vectors come from `plan_memory`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError
from .manifest import ModelSpec

BASE_MB = 120  # python, numpy, OpenCV and onnxruntime imported, the shipped manifest read
# Bytes per mono pixel: the steepest growth of the worst-case peak with the image's size (82 measured).
FULL_RES_BYTES_PER_PIXEL = 84
# Per colour pixel beyond the mono image's count (a colour camera of higher resolution): its decoded samples
# and float32 RGB copy, held while the pair is coloured.
EXTRA_COLOR_BYTES_PER_PIXEL = 16
# KB per pixel of the tile's reference window (tile height x (tile width + d)), by model and arena
SESSION_KB_PER_TILE_PIXEL = {
    ("fp32", True): 24.0, ("fp32", False): 8.5,
    ("int8", True): 5.5, ("int8", False): 2.5,
    ("mobile", True): 28.0, ("mobile", False): 8.5,
    ("int8_ort", True): 20.5, ("int8_ort", False): 8.0,
    ("mobile_ort", True): 20.5, ("mobile_ort", False): 8.5,
    ("mobile_int8", True): 6.5, ("mobile_int8", False): 3.5,  # AVX2: 4.5 / 2.0 where int8 took 4.0 / 1.5
    ("mobile_int8_ort", True): 20.5, ("mobile_int8_ort", False): 9.0,  # AVX2: 13.5 / 6.5, int8_ort 13.5 / 6.0
}


@dataclass(frozen=True)
class MemoryPlan:
    memory_arena: bool
    estimated_peak_mb: int
    budget_mb: int


def estimate_peaks(shape: tuple[int, ...], role: str, spec: ModelSpec,
                   color_shape: tuple[int, ...] | None = None) -> dict[bool, float]:
    """Estimated peak MB with and without the memory arena (keys True, False) for a mono image of (H, W) and a
    colour image of `color_shape` (default: the same size)."""
    height, width = shape[:2]
    extra_color = 0 if color_shape is None else max(0, color_shape[0] * color_shape[1] - height * width)
    fixed = BASE_MB + (height * width * FULL_RES_BYTES_PER_PIXEL + extra_color * EXTRA_COLOR_BYTES_PER_PIXEL) / 2**20
    return {arena: fixed + spec.reference_pixels * session_kb_per_tile_pixel(role, arena) / 1024
            for arena in (True, False)}


def session_kb_per_tile_pixel(role: str, arena: bool) -> float:
    """A role this table does not know (one a later export adds) is given the largest coefficient."""
    return SESSION_KB_PER_TILE_PIXEL.get((role, arena), max(v for (_, a), v in SESSION_KB_PER_TILE_PIXEL.items() if a == arena))


def plan_memory(shape: tuple[int, ...], role: str, spec: ModelSpec, budget_mb: int,
                color_shape: tuple[int, ...] | None = None) -> MemoryPlan:
    """Arena (fastest) if it fits the budget, else without it; InputError naming memory_budget_mb if neither fits."""
    peaks = estimate_peaks(shape, role, spec, color_shape)
    for arena in (True, False):
        if peaks[arena] <= budget_mb:
            return MemoryPlan(arena, round(peaks[arena]), budget_mb)
    height, width = shape[:2]
    raise InputError("memory_budget_mb", f"{budget_mb} MB is too little for a {width}x{height} pair with the "
                                         f"{role} model's {spec.tile_height}x{spec.tile_width} tiles: it needs about "
                                         f"{peaks[False]:.0f} MB")
