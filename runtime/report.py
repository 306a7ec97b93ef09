"""What one pair's run measured, decided and used: dualcam-run's --json line, or its one-line summary."""
from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np


@dataclass
class Report:
    mono: str
    color: str
    size: dict  # {"width", "height"} of the mono image, and of the output
    bit_depth: int  # of the mono image and the output
    color_size: dict  # {"width", "height"} of the colour image as given
    rectification: dict  # the geometry's checks: "before", and "after" where the colour image was corrected
    transposed: bool  # a portrait shot (the cameras one above the other), turned into rows and back
    camera_side: str  # where the colour camera is, seen from behind the phone
    flipped: bool  # mirrored into the network's arrangement (colour camera on the left) and back
    # the range of the matches' disparities (rectify.disparity_extent) in the network's frame, full-resolution
    # px; None if unmeasured
    disparity_min_px: float | None
    disparity_max_px: float | None
    chroma_scale: float  # the working scale chroma was predicted at
    candidate_offset: int  # the first candidate's disparity, working-scale px
    chroma_filter: bool
    model: dict  # role, file, sha256 (or the torch checkpoint)
    provider: dict  # requested, used, session
    # count, tile, overlap, frame (the working-scale image the tiles cover), own_windows (tiles whose candidates
    # start beyond the pair's window), memory_arena, estimated_peak_mb, memory_budget_mb
    tiles: dict
    confidence: dict  # source, low_share, low_below[, file]
    timings_s: dict  # per stage
    warnings: list[str]
    peak_rss_mb: float
    confidence_map: np.ndarray = field(repr=False)  # (h, w) at the working scale, mono orientation; not in as_dict
    output: str | None = None
    dualcam: str = field(default_factory=lambda: version("dualcam"))

    def as_dict(self) -> dict:
        """Everything but the confidence map, as JSON types."""
        return {k: v for k, v in asdict(self).items() if k != "confidence_map"}

    def summary(self) -> str:
        return (f"{self.output}: {self.size['width']}x{self.size['height']}, colour camera {self.camera_side}, "
                f"chroma scale {self.chroma_scale:g}, {self.tiles['count']} tiles, {self.model['role']} on "
                f"{self.provider['used']}, {sum(self.timings_s.values()):.1f} s, peak {self.peak_rss_mb:.0f} MB")


class Stopwatch:
    """Seconds per stage, each stage timed from the end of the previous one."""

    def __init__(self, **done: float):
        self.timings = dict(done)
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._clock, 3)
        self._clock = now


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
