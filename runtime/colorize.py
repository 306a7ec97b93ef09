"""colorize(mono, color): the one pipeline every entry point runs, one stage module after another.

    pair.load_pair          read both images and check each can play its part
    session.prepare         a memory budget the pair cannot fit at all refused (no computation yet)
    geometry.measure        one set of feature matches -> the pair's Arrangement, or a refusal
    session.prepare         the model readied for the pair's working scale within the memory budget
    chroma.predict          the pair in the network's frame, the model tile by tile, the chroma filter, and back
    chroma.merge            guided upsampling and the YCbCr merge, strip by strip, the mono image as luma
    report.Report           what was measured, decided and used

`Colorizer` holds a model (an exported one in onnxruntime by default, or any `Session`: the torch network in
model/) and the options, and colours any number of pairs; `colorize` is one pair.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from .chroma import Prediction, TileModel, merge, predict
from .confidence import LOW
from .errors import InputError
from .geometry import Geometry, GeometryOptions, measure
from .manifest import SHIPPED_MODELS
from .pair import Pair, load_pair
from .planner import MemoryPlan
from .report import Report, Stopwatch, peak_memory_mb
from .session import DEFAULT_BUDGET_MB, OrtModel

LOW_CONFIDENCE_WARNING = 0.10  # share of the image below confidence LOW that earns a warning


class Session(TileModel, Protocol):
    """A tile model the pipeline can plan for and report on."""

    def prepare(self, shape: tuple[int, ...], color_shape: tuple[int, ...],
                working_shape: tuple[int, int] | None = None) -> MemoryPlan | None:
        """Ready for a pair of these shapes whose network frame is `working_shape` (InputError if it cannot be; None:
        only check what can be before the frame is known); the memory plan, where there is one."""

    def describe(self) -> dict:
        """The report's "model" and "provider" entries."""


class Colorizer:
    """The options checked and the model loaded once: call it on any number of pairs."""

    def __init__(self, session: Session | None = None, *, camera_side: str = "auto", rectify: bool = False,
                 accept_unverified: bool = False, max_chroma_scale: float = 1.0, chroma_filter: bool = True):
        self.session = session or OrtModel.load()
        low = self.session.spec.min_scale
        if isinstance(max_chroma_scale, bool) or not isinstance(max_chroma_scale, (int, float)) or not (
                low <= max_chroma_scale <= 1):
            raise InputError("max_chroma_scale", f"must be a fraction of the mono resolution from {low:g} to 1, "
                                                 f"not {max_chroma_scale!r}")
        self.options = GeometryOptions(camera_side, rectify, accept_unverified, float(max_chroma_scale))
        self.chroma_filter = chroma_filter

    def __call__(self, pair: Pair, progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, Report]:
        """Colour one pair: the RGB image (uint8, or uint16 for a 16-bit mono image), and its report.
        Bad input raises InputError."""
        clock = Stopwatch(read=pair.read_s)
        self.session.prepare(pair.mono_y.shape, pair.color_rgb.shape)
        clock.lap("checks")
        geometry = measure(pair, self.session.spec, self.options)
        memory = self.session.prepare(pair.mono_y.shape, pair.color_rgb.shape, geometry.arrangement.shape)
        clock.lap("rectification")
        prediction = predict(pair.mono_y, pair.color_rgb, geometry.arrangement, self.session, self.chroma_filter,
                             progress)
        clock.lap("colorize")
        image = merge(pair.mono_y, prediction.cbcr, pair.bit_depth)
        clock.lap("merge")
        return image, self._report(pair, geometry, prediction, memory, clock.timings)

    def _report(self, pair: Pair, geometry: Geometry, prediction: Prediction, memory: MemoryPlan | None,
                timings: dict) -> Report:
        warnings = list(geometry.warnings)
        if prediction.unseen > 0:
            warnings.append(f"{prediction.unseen:.0%} of the mono image lies outside the colour camera's view: "
                            "its colours are continued from the edge of that view")
        low = float((prediction.confidence < LOW).mean())
        if low > LOW_CONFIDENCE_WARNING:
            warnings.append(f"{low:.0%} of the image is low-confidence (the colour camera may not see it, or no "
                            f"match was found there): its colours may be grey or smeared")
        arrangement, grid = geometry.arrangement, prediction.grid
        low_px, high_px = (None, None) if geometry.disparities is None else (round(v, 3) for v in geometry.disparities)
        plan = {} if memory is None else {"memory_arena": memory.memory_arena,
                                          "estimated_peak_mb": memory.estimated_peak_mb, "memory_budget_mb": memory.budget_mb}
        return Report(
            mono=pair.mono_name, color=pair.color_name,
            size={"width": pair.mono_y.shape[1], "height": pair.mono_y.shape[0]}, bit_depth=pair.bit_depth,
            color_size={"width": pair.color_rgb.shape[1], "height": pair.color_rgb.shape[0]},
            rectification=geometry.rectification(), transposed=arrangement.transposed,
            camera_side=geometry.camera_side, flipped=arrangement.flipped,
            disparity_min_px=low_px, disparity_max_px=high_px, chroma_scale=round(arrangement.scale, 4),
            candidate_offset=arrangement.offset, chroma_filter=self.chroma_filter, **self.session.describe(),
            tiles={"count": len(grid), "tile": f"{grid.tile_height}x{grid.tile_width}", "overlap": grid.overlap,
                   "frame": f"{grid.height}x{grid.width}", "own_windows": sum(s > 0 for s in prediction.shifts), **plan},
            confidence={"source": prediction.confidence_source, "low_share": round(low, 4), "low_below": LOW},
            timings_s=timings, warnings=warnings, peak_rss_mb=round(peak_memory_mb(), 1),
            confidence_map=prediction.confidence)


def colorize(mono: str | Path | np.ndarray, color: str | Path | np.ndarray, *, session: Session | None = None,
             camera_side: str = "auto", rectify: bool = False, accept_unverified: bool = False,
             max_chroma_scale: float = 1.0, chroma_filter: bool = True, model: str | None = None,
             provider: str = "auto", threads: int = 0, memory_budget_mb: int = DEFAULT_BUDGET_MB,
             models_dir: Path = SHIPPED_MODELS, progress: Callable[[int, int], None] | None = None,
             ) -> tuple[np.ndarray, Report]:
    """Colour the mono camera's image with the colours of the colour camera's image (one pair).

    `mono`, `color`: paths, or arrays as `pair.load_pair` takes them (RGB order, not OpenCV's BGR). `session`: a
    loaded model to reuse; else `model`, `provider`, `threads`, `memory_budget_mb` and `models_dir` load one
    (`OrtModel.load`). Returns the RGB image (uint8, or uint16 if the mono input was 16-bit) and its Report, whose
    `confidence_map` is the per-pixel confidence at the working scale (`chroma.upsample_confidence` brings it to the
    mono image's size). Save the image with `imageio.write_image(path, image, report.bit_depth, exif=...)`.
    Bad input raises InputError.
    """
    session = session or OrtModel.load(model, provider=provider, threads=threads, memory_budget_mb=memory_budget_mb,
                                       models_dir=models_dir)
    colorizer = Colorizer(session, camera_side=camera_side, rectify=rectify, accept_unverified=accept_unverified,
                          max_chroma_scale=max_chroma_scale, chroma_filter=chroma_filter)
    return colorizer(load_pair(mono, color), progress)
