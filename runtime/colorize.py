"""colorize(mono, color): the whole torch-free pipeline, one stage after another, with a report of each.

read -> check rectification (and correct it with rectify=True) -> camera side (flip into the network's
arrangement) -> chroma working scale -> tiled inference under a memory budget -> guided upsampling ->
YCbCr merge with the mono image as luma, pixel for pixel.
"""
from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

import numpy as np

from .chroma import chroma_at_scale
from .color import rgb_to_ycbcr, ycbcr_to_rgb
from .errors import InputError
from .imageio import Image, as_color, as_mono, read_image
from .manifest import SHIPPED_MODELS, choose_model
from .planner import plan_tiles
from .providers import choose_provider, default_model, session_providers
from .rectify import RECTIFIED_MAX_ERROR_PX, check_rectification, rectify_color
from .scale import working_scale
from .session import TileModel
from .tiling import run_tiled

BASELINES = ("auto", "left", "right")
DEFAULT_BUDGET_MB = 2048  # a 12-megapixel pair fits with the memory arena on
MIN_SIZE = 64  # px a side: below this there is too little image to match the two cameras


def _load(source: str | Path | np.ndarray, role: str) -> tuple[Image, str]:
    """A path is read from disk; an array is taken as it is: (H, W) or (H, W, 3), uint8, uint16 or [0, 1] floats."""
    if not isinstance(source, np.ndarray):
        return read_image(source, min_size=MIN_SIZE), str(source)
    name = f"<{role} array>"
    if source.ndim not in (2, 3) or (source.ndim == 3 and source.shape[2] != 3) or min(source.shape[:2]) < MIN_SIZE:
        raise InputError(name, f"has shape {source.shape}; expected (H, W) or (H, W, 3), at least {MIN_SIZE} px a side")
    peak = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(source.dtype, 1)
    if peak == 1 and not (source.dtype.kind == "f" and np.isfinite(source).all() and 0 <= source.min() <= source.max() <= 1):
        raise InputError(name, f"{source.dtype} values must be uint8, uint16 or floats on [0, 1]")
    return Image(source.astype(np.float32) / peak, 16 if peak == 65535 else 8, Path(name)), name


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM where the kernel has it (Linux, Android): unlike
    ru_maxrss it restarts at exec, so a child of a big parent does not inherit the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 3)


def colorize(mono: str | Path | np.ndarray, color: str | Path | np.ndarray, *, baseline: str = "auto",
             rectify: bool = False, provider: str = "auto", model: str | None = None, threads: int = 0,
             memory_budget_mb: int = DEFAULT_BUDGET_MB, models_dir: Path = SHIPPED_MODELS,
             progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict]:
    """Colour the mono camera's image with the colours of the colour camera's image.

    Returns the RGB image (uint8, or uint16 if the mono input was 16-bit) and a report: what was measured,
    decided and used, stage timings and peak memory. Bad input raises InputError naming the file.
    """
    if baseline not in BASELINES:
        raise InputError("--baseline", f"must be one of {', '.join(BASELINES)}, not {baseline!r}")
    timings, warnings = {}, []
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    mono_image, mono_name = _load(mono, "mono")
    color_image, color_name = _load(color, "color")
    mono_y = as_mono(mono_image)
    color_rgb = as_color(color_image)
    if mono_y.shape != color_rgb.shape[:2]:
        raise InputError(color_name, f"is {color_rgb.shape[1]}x{color_rgb.shape[0]}, the mono image "
                                     f"{mono_y.shape[1]}x{mono_y.shape[0]}: both cameras' images must have one size")
    for name, image in ((mono_name, mono_y), (color_name, color_rgb)):
        pixels = image.reshape(image.shape[0] * image.shape[1], -1)
        if (pixels.max(axis=0) - pixels.min(axis=0) < 1 / 255).all():
            raise InputError(name, "is a constant image: nothing to match or colour")
    chosen_provider = choose_provider(provider)
    choice = choose_model(model or default_model(chosen_provider), models_dir)
    lap("read")

    check = check_rectification(mono_y, rgb_to_ycbcr(color_rgb)[..., 0])
    rectification = {"before": asdict(check)}
    if check.too_few_matches:
        warnings.append(f"too few feature matches ({check.n_matches}) to check the pair: assuming it is rectified, "
                        "colour camera on the left, disparities within the model's range")
    elif not check.rectified:
        if not rectify:
            raise InputError(color_name, f"the pair is not rectified: vertical error {check.vertical_error:.1f} px "
                                         f"(median dy {check.dy_median:+.1f} px, rotation {check.rotation_deg:+.2f} deg; "
                                         f"limit {RECTIFIED_MAX_ERROR_PX} px); rerun with --rectify to correct it")
        color_rgb, check_after = rectify_color(color_rgb, mono_y, check, source=color_name)
        warnings.append(f"corrected the colour image: vertical error {check.vertical_error:.2f} -> "
                        f"{check_after.vertical_error:.2f} px")
        rectification["after"] = asdict(check_after)
        check = check_after
    lap("rectification")

    side = baseline if baseline != "auto" else (check.side if check.side in ("left", "right") else "left")
    if baseline == "auto" and check.side not in ("left", "right") and not check.too_few_matches:
        warnings.append("no parallax to tell the colour camera's side: assuming it is on the left")
    if baseline != "auto" and check.side in ("left", "right") and check.side != baseline:
        warnings.append(f"--baseline {baseline}, but the matches put the colour camera on the {check.side}")
    flip = side == "right"  # the network sees the colour camera on the left
    if flip:
        mono_y, color_rgb = mono_y[:, ::-1], color_rgb[:, ::-1]
    measured_max = None if check.too_few_matches else float(check.disparity_range[1])
    scale = working_scale(measured_max, choice.max_disparity)
    plan = plan_tiles(mono_y.shape, scale, choice.role, choice.manifest["tile"], choice.max_disparity, memory_budget_mb)
    tile_model = TileModel(choice.path, session_providers(chosen_provider), threads, plan.memory_arena)
    used = tile_model.session.get_providers()
    if provider != "auto" and used[0] != session_providers(chosen_provider)[0]:
        raise InputError("--provider", f"{provider} could not run {choice.path.name} (onnxruntime chose {used[0]})")

    def infer(small_mono: np.ndarray, small_ref: np.ndarray) -> np.ndarray:
        return run_tiled(tile_model, plan.grid, small_mono, small_ref, progress)

    cbcr = chroma_at_scale(infer, np.ascontiguousarray(mono_y), rgb_to_ycbcr(np.ascontiguousarray(color_rgb)), scale)
    if flip:
        mono_y, cbcr = mono_y[:, ::-1], cbcr[:, ::-1]
    lap("colorize")

    rgb = ycbcr_to_rgb(np.dstack([mono_y, cbcr]))
    peak = 65535 if mono_image.bit_depth == 16 else 255
    out = np.round(np.clip(rgb, 0, 1) * peak).astype(np.uint16 if peak == 65535 else np.uint8)
    lap("merge")
    report = {
        "dualcam": version("dualcam"),
        "mono": mono_name, "color": color_name,
        "size": {"width": mono_y.shape[1], "height": mono_y.shape[0]}, "bit_depth": mono_image.bit_depth,
        "rectification": {k: {f: (_finite(v) if isinstance(v, float) else v) for f, v in r.items()}
                          for k, r in rectification.items()},
        "camera_side": side, "flipped": flip,
        "disparity_max_px": _finite(measured_max), "chroma_scale": round(scale, 4),
        "model": {"role": choice.role, "file": choice.path.name, "sha256": choice.manifest["files"][choice.role]["sha256"]},
        "provider": {"requested": provider, "used": used[0], "session": used},
        "tiles": {"count": len(plan.grid), "tile": f"{plan.grid.tile_height}x{plan.grid.tile_width}",
                  "overlap": plan.grid.overlap, "memory_arena": plan.memory_arena,
                  "estimated_peak_mb": plan.estimated_peak_mb,
                  "memory_budget_mb": memory_budget_mb},
        "timings_s": timings,
        "peak_rss_mb": round(peak_memory_mb(), 1),
        "warnings": warnings,
    }
    return out, report
