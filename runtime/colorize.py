"""colorize(mono, color): the whole torch-free pipeline, one stage after another, with a report of each.

read -> check the options, the model and the memory budget (no computation yet) -> match the two images:
portrait shots turned into the network's arrangement, another resolution or field of view brought to the
mono image's geometry, rectification checked (and corrected with rectify=True); a pair that cannot be
verified, or stays misaligned, is refused -> camera side (flip) -> chroma working scale -> tiled inference
-> chroma filtered, guided by the mono image -> chroma and confidence turned back to the mono image's
orientation -> guided upsampling and the YCbCr merge, strip by strip, with the mono image as the luma.

`Colorizer` loads and checks the model once and colours any number of pairs; `colorize` is one pair.
"""
from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np

from .chroma import STRIP_ROWS, chroma_scale, downscale, filter_chroma
from .color import rgb_to_ycbcr, ycbcr_to_rgb
from .confidence import LOW, NETWORK, STEREO_CHECK, stereo_consistency
from .errors import InputError
from .guided import upsample_coefficients, upsample_rows
from .imageio import Image, as_color, as_mono, read_image
from .manifest import SHIPPED_MODELS, choose_model
from .matching import sift_matches
from .planner import plan_memory
from .providers import choose_provider, default_model, session_providers
from .rectify import (MIN_MATCHES, RectificationReport, check_rectification, colour_to_mono, implausible_correction,
                      rectify_color, seen_by_colour, vertical_baseline)
from .scale import MIN_SCALE
from .session import CONFIDENCE, TileModel
from .tiling import run_tiled

BASELINES = ("auto", "left", "right")
DEFAULT_BUDGET_MB = 2048  # a 12-megapixel pair fits with the memory arena on
MIN_SIZE = 64  # px a side: below this there is too little image to match the two cameras
LOW_CONFIDENCE_WARNING = 0.10  # share of the image below confidence LOW that earns a warning


def cpu_count() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class Pair:
    """One capture, read and checked: the mono image's luma and the colour image's RGB, [0, 1] float32."""

    mono_y: np.ndarray  # (H, W)
    color_rgb: np.ndarray  # (h, w, 3): any size, the colour camera's own
    bit_depth: int  # of the mono image: the output's
    mono_name: str
    color_name: str
    exif: bytes | None = None  # the mono file's EXIF, to keep in the output
    read_s: float = 0.0  # seconds spent reading both


def _load(source: str | Path | np.ndarray, role: str) -> tuple[Image, str]:
    """A path is read from disk; an array is taken as it is: (H, W) or (H, W, 3) RGB (not OpenCV's BGR),
    uint8, uint16 or [0, 1] floats."""
    if not isinstance(source, np.ndarray):
        return read_image(source, min_size=MIN_SIZE), str(source)
    name = f"<{role} array>"
    if source.ndim not in (2, 3) or (source.ndim == 3 and source.shape[2] != 3) or min(source.shape[:2]) < MIN_SIZE:
        raise InputError(name, f"has shape {source.shape}; expected (H, W) or (H, W, 3), at least {MIN_SIZE} px a side")
    peak = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(source.dtype, 1)
    if peak == 1 and not (source.dtype.kind == "f" and np.isfinite(source).all() and 0 <= source.min() <= source.max() <= 1):
        raise InputError(name, f"{source.dtype} values must be uint8, uint16 or floats on [0, 1]")
    return Image(source.astype(np.float32) / peak, 16 if peak == 65535 else 8, Path(name)), name


def load_pair(mono: str | Path | np.ndarray, color: str | Path | np.ndarray) -> Pair:
    """Read both images and check each can play its part; InputError naming the file otherwise."""
    start = time.perf_counter()
    mono_image, mono_name = _load(mono, "mono")
    color_image, color_name = _load(color, "color")
    mono_y, color_rgb = as_mono(mono_image), as_color(color_image)
    for name, image in ((mono_name, mono_y), (color_name, color_rgb)):
        pixels = image.reshape(image.shape[0] * image.shape[1], -1)
        if (pixels.max(axis=0) - pixels.min(axis=0) < 1 / 255).all():
            raise InputError(name, "is a constant image: nothing to match or colour")
    return Pair(mono_y, color_rgb, mono_image.bit_depth, mono_name, color_name, mono_image.exif,
                round(time.perf_counter() - start, 3))


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


def _rounded(report: RectificationReport) -> dict:
    return {f: (_finite(v) if isinstance(v, float) else v) for f, v in asdict(report).items()}


class Colorizer:
    """The options checked and the model loaded once: call it on any number of pairs.

    Every check that needs no computation happens here or at the start of a call: the options, the model
    (checksum, onnxruntime can load it, the inputs and outputs of a dualcam tile model) and the memory budget.
    """

    def __init__(self, *, baseline: str = "auto", rectify: bool = False, accept_unverified: bool = False,
                 provider: str = "auto", model: str | None = None, threads: int = 0,
                 memory_budget_mb: int = DEFAULT_BUDGET_MB, max_chroma_scale: float = 1.0,
                 chroma_filter: bool = True, models_dir: Path = SHIPPED_MODELS):
        if baseline not in BASELINES:
            raise InputError("baseline", f"must be one of {', '.join(BASELINES)}, not {baseline!r}")
        if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= cpu_count():
            raise InputError("threads", f"must be 0 (onnxruntime's default) or 1 to {cpu_count()}, the CPU cores this "
                                        f"process may use; not {threads!r}")
        if isinstance(memory_budget_mb, bool) or not isinstance(memory_budget_mb, int) or memory_budget_mb <= 0:
            raise InputError("memory_budget_mb", f"must be a positive number of MB, not {memory_budget_mb!r}")
        if isinstance(max_chroma_scale, bool) or not isinstance(max_chroma_scale, (int, float)) or not (
                MIN_SCALE <= max_chroma_scale <= 1):
            raise InputError("max_chroma_scale", f"must be a fraction of the mono resolution from {MIN_SCALE} to 1, "
                                                 f"not {max_chroma_scale!r}")
        self.baseline, self.rectify, self.accept_unverified = baseline, rectify, accept_unverified
        self.threads, self.memory_budget_mb, self.max_chroma_scale = threads, memory_budget_mb, float(max_chroma_scale)
        self.provider, self.chroma_filter = provider, chroma_filter
        self.chosen_provider = choose_provider(provider)
        self.choice = choose_model(model or default_model(self.chosen_provider), models_dir)
        self._sessions: dict[bool, TileModel] = {}
        self._session(True)

    def _session(self, memory_arena: bool) -> TileModel:
        """The loaded model with or without onnxruntime's memory arena; one at a time, so one in memory."""
        if memory_arena not in self._sessions:
            self._sessions.clear()
            tile_model = TileModel(self.choice.path, session_providers(self.chosen_provider), self.threads,
                                   memory_arena, confidence=True)
            used = tile_model.session.get_providers()[0]
            if self.provider != "auto" and used != session_providers(self.chosen_provider)[0]:
                raise InputError("provider", f"{self.provider} could not run {self.choice.path.name} "
                                             f"(onnxruntime chose {used})")
            tile = self.choice.manifest["tile"]
            if (tile_model.tile_height, tile_model.tile_width, tile_model.max_disparity) != (
                    tile["height"], tile["width"], self.choice.max_disparity):
                raise InputError(self.choice.path, "its tile or d differs from what its manifest says: export it again")
            self._sessions[memory_arena] = tile_model
        return self._sessions[memory_arena]

    def __call__(self, pair: Pair, progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict]:
        """Colour one pair: the RGB image (uint8, or uint16 for a 16-bit mono image), and a report of what was
        measured, decided and used, with stage timings and peak memory. Bad input raises InputError."""
        timings, warnings = {"read": pair.read_s}, []
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round(now - clock, 3)
            clock = now

        choice = self.choice
        memory = plan_memory(pair.mono_y.shape, choice.role, choice.manifest["tile"], choice.max_disparity,
                             self.memory_budget_mb, pair.color_rgb.shape)
        tile_model = self._session(memory.memory_arena)
        lap("checks")

        geometry = self._geometry(pair, warnings)
        mono_y, color_rgb, transposed, check = geometry.mono_y, geometry.color_rgb, geometry.transposed, geometry.check
        lap("rectification")

        side = self.baseline if self.baseline != "auto" else (check.side if check.side in ("left", "right") else "left")
        if self.baseline == "auto" and check.side not in ("left", "right") and not check.too_few_matches:
            warnings.append("no parallax to tell the colour camera's side: assuming it is on the left")
        if self.baseline != "auto" and check.side in ("left", "right") and check.side != self.baseline:
            warnings.append(f"baseline {self.baseline}, but the matches put the colour camera on the {check.side}")
        flip = side == "right"  # the network sees the colour camera on the left
        scale = chroma_scale(check, choice.max_disparity, self.max_chroma_scale)
        # Scaled first and flipped after, so no full-resolution copy is made for the flip.
        small_mono, small_rgb = downscale(np.ascontiguousarray(mono_y), np.ascontiguousarray(color_rgb), scale)
        reports, to_mono, color_shape = geometry.reports, geometry.to_mono, geometry.color_shape
        del mono_y, color_rgb, geometry  # the full-resolution pair is not needed past this point
        seen = None if to_mono is None else seen_by_colour(to_mono, color_shape, small_mono.shape, scale)
        if seen is not None and not seen.all():
            warnings.append(f"{1 - seen.mean():.0%} of the mono image lies outside the colour camera's view: "
                            "its colours are continued from the edge of that view")
        if flip:
            small_mono, small_rgb = np.ascontiguousarray(small_mono[:, ::-1]), small_rgb[:, ::-1]
            seen = None if seen is None else seen[:, ::-1]
        small_ref = rgb_to_ycbcr(small_rgb)
        grid = tile_model.grid(*small_mono.shape)
        small = run_tiled(tile_model, grid, small_mono, small_ref, progress)
        if CONFIDENCE in tile_model.outputs:
            confidence, source = small[..., 2], NETWORK
        else:
            confidence, source = stereo_consistency(small_mono, small_ref[..., 0], choice.max_disparity), STEREO_CHECK
        if seen is not None:
            confidence = confidence * seen
        cbcr = filter_chroma(small_mono, small[..., :2]) if self.chroma_filter else small[..., :2]
        # Back to the mono image's own orientation at the working scale, where it costs nothing.
        cbcr = _unorient(cbcr, flip, transposed)
        lap("colorize")

        out = merge(pair.mono_y, cbcr, pair.bit_depth)
        lap("merge")
        report = {
            "dualcam": version("dualcam"),
            "mono": pair.mono_name, "color": pair.color_name,
            "size": {"width": pair.mono_y.shape[1], "height": pair.mono_y.shape[0]}, "bit_depth": pair.bit_depth,
            "color_size": {"width": pair.color_rgb.shape[1], "height": pair.color_rgb.shape[0]},
            "rectification": reports,
            "baseline_orientation": "vertical (portrait: transposed in and out)" if transposed else "horizontal",
            "camera_side": side, "flipped": flip,
            "disparity_max_px": _finite(check.disparity_range[1]), "chroma_scale": round(scale, 4),
            "chroma_filter": self.chroma_filter,
            "model": {"role": choice.role, "file": choice.path.name,
                      "sha256": choice.manifest["files"][choice.role]["sha256"]},
            "provider": {"requested": self.provider, "used": tile_model.session.get_providers()[0],
                         "session": tile_model.session.get_providers()},
            "tiles": {"count": len(grid), "tile": f"{grid.tile_height}x{grid.tile_width}",
                      "overlap": grid.overlap, "memory_arena": memory.memory_arena,
                      "estimated_peak_mb": memory.estimated_peak_mb, "memory_budget_mb": self.memory_budget_mb},
            "timings_s": timings,
            "warnings": warnings,
        }
        confidence = _unorient(confidence, flip, transposed)
        low = float((confidence < LOW).mean())
        report["confidence"] = {"source": source, "low_share": round(low, 4), "low_below": LOW}
        if low > LOW_CONFIDENCE_WARNING:
            warnings.append(f"{low:.0%} of the image is low-confidence (the colour camera may not see it, or no "
                            f"match was found there): its colours may be grey or smeared")
        report["confidence_map"] = confidence
        report["peak_rss_mb"] = round(peak_memory_mb(), 1)
        return out, report

    def _geometry(self, pair: Pair, warnings: list[str]) -> Geometry:
        """The pair in the network's row arrangement at the mono image's size. Refuses, unless accept_unverified,
        a pair it cannot verify or correct."""
        mono_y, color_rgb = pair.mono_y, pair.color_rgb
        matches = sift_matches(mono_y, color_rgb)
        transposed = vertical_baseline(matches, mono_y.shape, color_rgb.shape)
        if transposed:  # a portrait shot: the cameras one above the other
            mono_y, color_rgb, matches = mono_y.T, color_rgb.swapaxes(0, 1), matches.transposed()
        d = self.choice.max_disparity
        check = check_rectification(mono_y, color_rgb, max_disparity=d, matches=matches)
        reports = {"before": _rounded(check)}
        resized = color_rgb.shape[:2] != mono_y.shape[:2]
        if check.too_few_matches:
            if not self.accept_unverified:
                raise InputError(pair.color_name, f"cannot be verified against {pair.mono_name}: {check.n_matches} feature "
                                                  f"matches fit one geometry, {MIN_MATCHES} are needed. Are both images of "
                                                  "the same scene, taken at the same moment? (accept_unverified=True colours it "
                                                  "anyway, assuming a rectified pair with the colour camera on the left)")
            warnings.append(f"unverified pair ({check.n_matches} matches): assumed rectified, colour camera on the left, "
                            "disparities within the model's range")
            if resized:
                color_rgb = cv2.resize(np.ascontiguousarray(color_rgb), mono_y.shape[::-1], interpolation=cv2.INTER_AREA)
            return Geometry(mono_y, color_rgb, transposed, check, reports)
        if not check.rectified and not resized and not self.rectify:
            problem = implausible_correction(check, mono_y.shape, color_rgb.shape)
            raise InputError(pair.color_name, f"the pair is not rectified: vertical error {check.vertical_error:.1f} px "
                                              f"(median dy {check.dy_median:+.1f} px, rotation {check.rotation_deg:+.2f} deg; "
                                              f"limit {check.limit_px:.1f} px at this pair's working scale); "
                             + ("rerun with rectify=True to correct it" if problem is None else
                                f"the colour image {problem}, which rectify=True does not correct"
                                + (" (is one image upside down or turned?)" if abs(check.rotation_deg) > 45 else "")))
        to_mono = color_shape = None
        if not check.rectified or resized:
            to_mono, color_shape = colour_to_mono(check, mono_y.shape, color_rgb.shape), color_rgb.shape
            color_rgb, check = rectify_color(color_rgb, mono_y, check, source=pair.color_name, max_disparity=d)
            reports["after"] = _rounded(check)
            what = f"resized from {pair.color_rgb.shape[1]}x{pair.color_rgb.shape[0]} and " if resized else ""
            warnings.append(f"{what}corrected the colour image: vertical error {reports['before']['vertical_error']} -> "
                            f"{check.vertical_error:.2f} px")
            if not check.rectified and not self.accept_unverified:
                raise InputError(pair.color_name, f"stays misaligned after correction: vertical error "
                                                  f"{check.vertical_error:.1f} px, limit {check.limit_px:.1f} px at this "
                                                  "pair's working scale; the cameras may not be a fixed dual camera, or "
                                                  "the scene moved between the shots (accept_unverified=True colours it anyway)")
        return Geometry(mono_y, color_rgb, transposed, check, reports, to_mono, color_shape)


@dataclass(frozen=True)
class Geometry:
    """A pair in the network's row arrangement, at the mono image's size, and how it got there."""

    mono_y: np.ndarray
    color_rgb: np.ndarray
    transposed: bool  # a portrait shot, turned into rows
    check: RectificationReport  # the last check: of the corrected pair where it was corrected
    reports: dict  # every check, as the report gives it
    to_mono: np.ndarray | None = None  # the correction applied to the colour image (rectify.colour_to_mono)
    color_shape: tuple[int, ...] | None = None  # the colour image's shape before that correction


def _unorient(image: np.ndarray, flip: bool, transposed: bool) -> np.ndarray:
    """Undo the flip, then the transposition, that put the pair into the network's arrangement."""
    if flip:
        image = image[:, ::-1]
    return np.ascontiguousarray(image.swapaxes(0, 1) if transposed else image)


def merge(mono_y: np.ndarray, cbcr_low: np.ndarray, bit_depth: int) -> np.ndarray:
    """Y = the mono image, Cb/Cr guided-upsampled from the working scale, strip by strip -> RGB samples.

    Colours outside the RGB cube are clipped to it, so there (1.1 % of the sample pair's pixels, by up to 28
    levels) the luma of the result departs from the mono image; everywhere else it is the mono image to within
    the rounding of the output samples.
    """
    height, width = mono_y.shape
    peak = (1 << bit_depth) - 1
    out = np.empty((height, width, 3), np.uint16 if bit_depth == 16 else np.uint8)
    coefficients = None if cbcr_low.shape[:2] == mono_y.shape else upsample_coefficients(mono_y, cbcr_low)
    for top in range(0, height, STRIP_ROWS):
        bottom = min(top + STRIP_ROWS, height)
        cbcr = cbcr_low[top:bottom] if coefficients is None else upsample_rows(mono_y, coefficients, top, bottom)
        ycbcr = np.concatenate([mono_y[top:bottom, :, None], np.clip(cbcr, 0, 1)], axis=2)
        out[top:bottom] = np.rint(ycbcr_to_rgb(ycbcr) * peak)
    return out


def upsample_confidence(confidence_low: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The working-scale confidence at the mono image's size, as 8-bit grey (255 = confident)."""
    full = cv2.resize(confidence_low, shape[::-1], interpolation=cv2.INTER_LINEAR)
    return np.rint(np.clip(full, 0, 1) * 255).astype(np.uint8)


def colorize(mono: str | Path | np.ndarray, color: str | Path | np.ndarray, *, baseline: str = "auto",
             rectify: bool = False, accept_unverified: bool = False, provider: str = "auto", model: str | None = None,
             threads: int = 0, memory_budget_mb: int = DEFAULT_BUDGET_MB, max_chroma_scale: float = 1.0,
             chroma_filter: bool = True, models_dir: Path = SHIPPED_MODELS,
             progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict]:
    """Colour the mono camera's image with the colours of the colour camera's image (one pair).

    `mono`, `color`: paths, or arrays as `_load` takes them (RGB order, not OpenCV's BGR). Returns the RGB image
    (uint8, or uint16 if the mono input was 16-bit) and a report; report["confidence_map"] is the per-pixel
    confidence at the working scale (`upsample_confidence` brings it to the mono image's size). Save the
    image with `imageio.write_image(path, image, report["bit_depth"])`. Bad input raises InputError.
    """
    colorizer = Colorizer(baseline=baseline, rectify=rectify, accept_unverified=accept_unverified, provider=provider,
                          model=model, threads=threads, memory_budget_mb=memory_budget_mb,
                          max_chroma_scale=max_chroma_scale, chroma_filter=chroma_filter, models_dir=models_dir)
    return colorizer(load_pair(mono, color), progress)
