"""Whole pairs: `dualcam-run` and the `sgbm_gf` baseline, each in a fresh process, on pairs of given sizes.

The pairs are real pairs upscaled to each size (the bundled sample, or the pairs of a folder), so their
disparities grow with the size as a phone's do: at 12 MP the sample spans hundreds of pixels. The peak RSS
of a `dualcam-run` is the child's (wait4), output writing included; Linux counts in it what the parent held when
it forked the child, so the measuring process must stay small (every measurement runs apart).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from .tile import SAMPLES, timed


def source_pairs(pairs_dir: Path | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (mono Y as uint8/uint16 gray, colour image as read): the bundled sample, or each folder of
    `pairs_dir` with left.png and right.png (the mono camera sees the right view's luma, as in evaluation)."""
    if pairs_dir is None:
        return {"motorcycle": (cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_UNCHANGED),
                               cv2.imread(str(SAMPLES / "motorcycle_color.png"), cv2.IMREAD_UNCHANGED))}
    pairs = {}
    for folder in sorted(p for p in pairs_dir.iterdir() if (p / "left.png").is_file() and (p / "right.png").is_file()):
        right = cv2.imread(str(folder / "right.png"), cv2.IMREAD_COLOR)
        pairs[folder.name] = (cv2.cvtColor(right, cv2.COLOR_BGR2GRAY), cv2.imread(str(folder / "left.png"), cv2.IMREAD_COLOR))
    if not pairs:
        raise ValueError(f"{pairs_dir}: no pairs (folders with left.png and right.png)")
    return pairs


def write_pair(mono: np.ndarray, color: np.ndarray, megapixels: float, folder: Path) -> tuple[Path, Path]:
    """Both images resized (bicubic) to about `megapixels`, aspect kept, as PNG files in `folder`."""
    height, width = mono.shape[:2]
    factor = math.sqrt(megapixels * 1e6 / (height * width))
    size = (round(width * factor), round(height * factor))
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "mono.png", folder / "color.png"
    for path, image in zip(paths, (mono, color)):
        cv2.imwrite(str(path), cv2.resize(image, size, interpolation=cv2.INTER_CUBIC))
    return paths


def run_dualcam(mono: Path, color: Path, budget_mb: int, model: str, *options: str) -> dict:
    """`dualcam-run --json [OPTIONS]` in a child process: wall time, the child's peak RSS, and its own report."""
    out = mono.with_name("out.png")
    argv = [sys.executable, "-m", "dualcam.runtime.cli", str(mono), str(color), "-o", str(out),
            "--memory-budget", str(budget_mb), "--model", model, "--json", "-q", *options]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, unlike RUSAGE_CHILDREN
        seconds = time.perf_counter() - start
        stdout.seek(0), stderr.seek(0)
        output, error = stdout.read(), stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return {"budget_mb": budget_mb, "exit": code, "error": (error.strip().splitlines() or [""])[-1]}
    report = json.loads(output)
    return {"budget_mb": budget_mb, "exit": 0, "seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "estimated_peak_mb": report["tiles"]["estimated_peak_mb"], "memory_arena": report["tiles"]["memory_arena"],
            "tiles": report["tiles"]["count"], "tile": report["tiles"]["tile"], "chroma_scale": report["chroma_scale"],
            "shape": (report["size"]["height"], report["size"]["width"]),
            "working_shape": tuple(int(n) for n in report["tiles"]["frame"].split("x")),
            "disparity_max_px": report["disparity_max_px"], "model": report["model"]["role"],
            "stages_s": report["timings_s"]}


def measure_sgbm_gf(mono: Path, color: Path, max_disparity: int, warmup: int, repeats: int) -> dict:
    """In this (fresh) process: the `sgbm_gf` baseline at full resolution, searching `max_disparity` px."""
    from dualcam.model.baselines import sgbm_gf
    from dualcam.runtime.report import peak_memory_mb
    from dualcam.runtime.imageio import as_color, as_mono, read_image

    mono_y, color_rgb = as_mono(read_image(mono)), as_color(read_image(color))
    result = timed(lambda: sgbm_gf(mono_y, color_rgb, max_disparity), warmup, repeats)
    return {**result, "max_disparity": max_disparity, "peak_rss_mb": round(peak_memory_mb())}
