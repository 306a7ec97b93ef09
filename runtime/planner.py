"""How to run one pair inside the memory budget, decided from the image sizes before any work is done.

The model's tile is fixed at export, so the budget decides how the session runs, not the tile: with
onnxruntime's memory arena and memory pattern (fastest), or without them (about half the memory for
20-35 % more time), or not at all. Peak memory is the interpreter with its libraries, the planes held at
each image's full resolution (the decoded files, the float copies, a corrected colour image, the output;
guided upsampling and the merge run in strips and hold no full-size float planes) and one session working
on one tile. The session coefficients are measured on this machine with onnxruntime 1.32 (256x512 tiles,
random inputs, peak RSS minus the 68 MB of imports; benchmarks/onnx_latency.py) and rounded up.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError

BASE_MB = 120  # python, numpy, OpenCV and onnxruntime imported, the shipped manifest read
# Bytes per pixel alive at the worst moment, rounded up from measurements of dualcam-run's peak RSS:
# mono: decoded samples, float32 Y, the output samples and their encoding; colour: decoded samples,
# float32 RGB, and its corrected copy (rectification, another resolution or field of view).
MONO_BYTES_PER_PIXEL = 16
COLOR_BYTES_PER_PIXEL = 30
STRIP_MB = 40  # one strip of the guided upsampling and merge, and the working-scale planes
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


def plan_memory(mono_shape: tuple[int, ...], color_shape: tuple[int, ...], role: str, tile: dict,
                max_disparity: int, budget_mb: int) -> MemoryPlan:
    """Arena or not for a pair of these (H, W[, C]) sizes; InputError naming memory_budget_mb if neither fits."""
    th, tw = tile["height"], tile["width"]
    fixed = (BASE_MB + STRIP_MB + (mono_shape[0] * mono_shape[1] * MONO_BYTES_PER_PIXEL
                                   + color_shape[0] * color_shape[1] * COLOR_BYTES_PER_PIXEL) / 2**20)
    for arena in (True, False):
        per_pixel = SESSION_KB_PER_TILE_PIXEL.get((role, arena), SESSION_KB_PER_TILE_PIXEL[("mobile", arena)])
        peak = fixed + th * (tw + max_disparity) * per_pixel / 1024
        if peak <= budget_mb:
            return MemoryPlan(arena, round(peak))
    raise InputError("memory_budget_mb", f"{budget_mb} MB is too little for a {mono_shape[1]}x{mono_shape[0]} pair "
                                         f"with the {role} model's {th}x{tw} tiles: it needs about {peak:.0f} MB")
