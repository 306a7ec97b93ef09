"""One capture of the dual camera, read and checked: the mono camera's luma and the colour camera's RGB."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .color import unit_float
from .imageio import Image, as_color, as_mono, read_image

MIN_SIZE = 64  # px a side: below this there is too little image to match the two cameras


@dataclass(frozen=True)
class Pair:
    """Both images and what the output keeps of the mono file. The mono luma is float32 on [0, 1], the plane every
    stage reads; the colour image keeps its uint8/uint16 samples (or [0, 1] floats, as given), a quarter or half of
    its float32 size, until its chroma is taken at the working scale."""

    mono_y: np.ndarray  # (H, W)
    color_rgb: np.ndarray  # (h, w, 3): any size, the colour camera's own
    bit_depth: int  # of the mono image: the output's
    mono_name: str
    color_name: str
    exif: bytes | None = None  # the mono file's EXIF, to keep in the output
    read_s: float = 0.0  # seconds spent reading both


def _load(source: str | Path | np.ndarray, role: str) -> tuple[Image, str]:
    """A path is read from disk; an array is taken as it is: (H, W) or (H, W, 3) RGB (not OpenCV's BGR),
    uint8, uint16 or [0, 1] floats. The colour image's samples are kept (`Pair`)."""
    if not isinstance(source, np.ndarray):
        return read_image(source, min_size=MIN_SIZE, samples=role == "color"), str(source)
    name = f"<{role} array>"
    if source.ndim not in (2, 3) or (source.ndim == 3 and source.shape[2] != 3) or min(source.shape[:2]) < MIN_SIZE:
        raise InputError(name, f"has shape {source.shape}; expected (H, W) or (H, W, 3), at least {MIN_SIZE} px a side")
    peak = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(source.dtype, 1)
    if peak == 1 and not (source.dtype.kind == "f" and np.isfinite(source).all() and 0 <= source.min() <= source.max() <= 1):
        raise InputError(name, f"{source.dtype} values must be uint8, uint16 or floats on [0, 1]")
    pixels = source if role == "color" and peak > 1 else unit_float(source)
    return Image(pixels, 16 if peak == 65535 else 8, Path(name)), name


def load_pair(mono: str | Path | np.ndarray, color: str | Path | np.ndarray) -> Pair:
    """Read both images and check each can play its part; InputError naming the file otherwise."""
    start = time.perf_counter()
    mono_image, mono_name = _load(mono, "mono")
    color_image, color_name = _load(color, "color")
    mono_y, color_rgb = as_mono(mono_image), as_color(color_image)
    for name, image in ((mono_name, mono_y), (color_name, color_rgb)):
        pixels = image.reshape(image.shape[0] * image.shape[1], -1)
        peak = np.iinfo(image.dtype).max if image.dtype.kind == "u" else 1
        if ((pixels.max(axis=0) - pixels.min(axis=0)) / peak < 1 / 255).all():
            raise InputError(name, "is a constant image: nothing to match or colour")
    return Pair(mono_y, color_rgb, mono_image.bit_depth, mono_name, color_name, mono_image.exif,
                round(time.perf_counter() - start, 3))
