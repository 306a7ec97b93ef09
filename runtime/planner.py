"""How to run one pair inside the memory budget, decided from the image sizes and the working scale before the model
runs.

Peak memory is the interpreter with its libraries, the planes held at the mono image's full resolution (and a
colour image larger than it), the planes held at the chroma working scale, and one session working on its tiles.
The budget decides how the session runs: with onnxruntime's memory arena and memory pattern (fastest), or without
them (about half the session's memory, slower), and, for a model exported with free tile height and width, on
smaller tiles (`TILE_FRACTIONS`, each tried with and without the arena). A budget nothing fits is refused.
The coefficients are fitted to `dualcam-run`'s measured peaks in a worst case for memory (16-bit images, the colour
view warped by --rectify) at working scale 1 and at about a third (benchmarks/planner_memory.py, onnxruntime 1.32) on
an AVX2 CPU (benchmarks/results/planner_memory_avx2.md), with 10 % headroom on the session terms. onnxruntime's
kernels hold more on a CPU with AVX-512: there an earlier fit's session terms were 1.1-1.7 times as large
(planner_memory.md). So the AVX2 session terms are used on x86 CPUs with AVX2 and no AVX-512, the kind they were
measured on, and everywhere else (AVX-512, AMX, ARM, unknown) they are taken times that ratio. An ordinary 8-bit
photograph uses well under the estimate. android_demo's Kotlin core mirrors the larger table (its golden vectors
come from `plan_memory`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError
from .manifest import ModelSpec

BASE_MB = 120  # python, numpy, OpenCV and onnxruntime imported, the shipped manifest read
# Bytes per mono pixel (least squares 24.1): its float32 luma, the colour image's samples, the output's, one float
# plane of the colour image at a time while it is warped and scaled, the file's bytes while it is decoded.
FULL_RES_BYTES_PER_PIXEL = 25
# Per pixel of the network's frame (least squares 21.6): the reference and the tiles' sums, then the confidence and
# the chroma filter's planes, then the guided upsampling's coefficients.
WORKING_BYTES_PER_PIXEL = 22
# Per colour pixel beyond the mono image's count (a colour camera of higher resolution): its samples and one float
# plane at a time, held while the pair is coloured.
EXTRA_COLOR_BYTES_PER_PIXEL = 16
# KB per pixel of the tile's reference window (tile height x (tile width + d)), by model and arena: measured on an
# AVX2 CPU, and for any other CPU times the AVX-512/AVX2 ratio of the earlier fits (mobile_int8 takes int8's ratio,
# mobile_int8_ort int8_ort's).
AVX2_SESSION_KB_PER_TILE_PIXEL = {
    ("fp32", True): 15.5, ("fp32", False): 8.5,
    ("int8", True): 5.0, ("int8", False): 2.5,
    ("mobile", True): 18.5, ("mobile", False): 8.0,
    ("int8_ort", True): 14.0, ("int8_ort", False): 7.0,
    ("mobile_ort", True): 14.0, ("mobile_ort", False): 6.5,
    ("mobile_int8", True): 5.0, ("mobile_int8", False): 2.5,
    ("mobile_int8_ort", True): 14.0, ("mobile_int8_ort", False): 7.0,
}
SESSION_KB_PER_TILE_PIXEL = {
    ("fp32", True): 24.0, ("fp32", False): 10.5,
    ("int8", True): 7.0, ("int8", False): 4.5,
    ("mobile", True): 29.0, ("mobile", False): 9.5,
    ("int8_ort", True): 21.5, ("int8_ort", False): 9.5,
    ("mobile_ort", True): 21.5, ("mobile_ort", False): 9.5,
    ("mobile_int8", True): 7.0, ("mobile_int8", False): 4.5,
    ("mobile_int8_ort", True): 21.5, ("mobile_int8_ort", False): 9.5,
}
# A dynamic-tile model's tile, as fractions of the exported one, from fastest to leanest. Half is the training crop
# (128x256 of a 256x512 tile): the smallest a budget may ask for, so the network always sees the context it learned.
TILE_FRACTIONS = (1.0, 0.75, 0.5)


def avx2_only() -> bool:
    """Whether this is an x86 CPU with AVX2 and no AVX-512, the kind AVX2_SESSION_KB_PER_TILE_PIXEL was measured on
    (read from Linux's /proc/cpuinfo; anywhere else, False)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next(line for line in cpuinfo if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return False
    return "avx2" in flags and "avx512f" not in flags


AVX2_ONLY = avx2_only()


@dataclass(frozen=True)
class MemoryPlan:
    memory_arena: bool
    estimated_peak_mb: int
    budget_mb: int
    spec: ModelSpec  # what the pair runs with: the model's, its tile fitted to the pair's working-scale frame


def estimate_peaks(shape: tuple[int, ...], working_shape: tuple[int, int], role: str, spec: ModelSpec,
                   color_shape: tuple[int, ...] | None = None, avx2: bool = AVX2_ONLY) -> dict[bool, float]:
    """Estimated peak MB with and without the memory arena (keys True, False) for a mono image of (H, W) whose
    network frame is `working_shape`, a colour image of `color_shape` (default: the same size), and a session on
    `spec`'s tile (with the AVX2 CPU's session terms if `avx2`)."""
    height, width = shape[:2]
    extra_color = 0 if color_shape is None else max(0, color_shape[0] * color_shape[1] - height * width)
    planes = (height * width * FULL_RES_BYTES_PER_PIXEL + extra_color * EXTRA_COLOR_BYTES_PER_PIXEL
              + working_shape[0] * working_shape[1] * WORKING_BYTES_PER_PIXEL)
    return {arena: BASE_MB + planes / 2**20 + spec.reference_pixels * session_kb_per_tile_pixel(role, arena, avx2) / 1024
            for arena in (True, False)}


def session_kb_per_tile_pixel(role: str, arena: bool, avx2: bool = AVX2_ONLY) -> float:
    """A role the table does not know (one a later export adds) is given the largest coefficient."""
    table = AVX2_SESSION_KB_PER_TILE_PIXEL if avx2 else SESSION_KB_PER_TILE_PIXEL
    return table.get((role, arena), max(v for (_, a), v in table.items() if a == arena))


def plan_memory(shape: tuple[int, ...], working_shape: tuple[int, int] | None, role: str, spec: ModelSpec,
                budget_mb: int, color_shape: tuple[int, ...] | None = None, avx2: bool = AVX2_ONLY) -> MemoryPlan:
    """The fastest way that fits the budget: the largest tile first, the arena before none; InputError naming
    memory_budget_mb if none fits. `working_shape` None (not measured yet): the least the pair could need (the
    lowest working scale, the smallest tile, no arena), so that a budget nothing fits is refused before any work."""
    height, width = shape[:2]
    if working_shape is None:
        least = spec.fitted(1, 1, TILE_FRACTIONS[-1])
        lowest = max(1, round(height * spec.min_scale)), max(1, round(width * spec.min_scale))
        peak = estimate_peaks(shape, lowest, role, least, color_shape, avx2)[False]
        if peak > budget_mb:
            raise InputError("memory_budget_mb", f"{budget_mb} MB is too little for a {width}x{height} pair with the "
                                                 f"{role} model: it needs at least {peak:.0f} MB")
        return MemoryPlan(False, round(peak), budget_mb, least)
    for fraction in TILE_FRACTIONS if spec.dynamic else (1.0,):
        fitted = spec.fitted(*working_shape, fraction)
        peaks = estimate_peaks(shape, working_shape, role, fitted, color_shape, avx2)
        for arena in (True, False):
            if peaks[arena] <= budget_mb:
                return MemoryPlan(arena, round(peaks[arena]), budget_mb, fitted)
    raise InputError("memory_budget_mb", f"{budget_mb} MB is too little for a {width}x{height} pair with the "
                                         f"{role} model on {fitted.tile_height}x{fitted.tile_width} tiles: it needs "
                                         f"about {peaks[False]:.0f} MB")
