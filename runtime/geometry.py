"""The one geometry measurement of a pair: one set of feature matches decides its whole arrangement.

From the SIFT matches of the two images: whether the cameras sit one above the other (a portrait shot), whether
the rows are aligned (and the correction when they are not, or when the colour camera has another resolution or
field of view), which side the colour camera is on, and the range of its disparities, hence the chroma working
scale and where the d candidates start. A pair that cannot be verified, or that stays misaligned, is refused here,
before any inference, unless the caller accepts unverified pairs.

A correction is verified by matching the corrected pair again, at the matching resolution: the matches the fit
was made from would agree with it by construction, while a new set shows what a similarity cannot undo (a
keystone, a scene that moved).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .arrangement import Arrangement
from .errors import InputError
from .manifest import ModelSpec
from .matching import MATCH_MAX_SIDE, Matches, sift_matches
from .pair import Pair
from .rectify import (MIN_MATCHES, RECTIFIED_MAX_ERROR_PX, RectificationReport, along_side, another_view,
                      check_matches, correction, implausible_correction, vertical_baseline)
from .scale import window_offset

CAMERA_SIDES = ("auto", "left", "right")
TILE_SCALE_STEP = 0.95  # the working scales tried for tile windows, each this much below the last


@dataclass(frozen=True)
class GeometryOptions:
    camera_side: str = "auto"  # "left" or "right" overrides the measured side
    rectify: bool = False  # correct a same-size pair whose rows are not aligned, instead of refusing it
    accept_unverified: bool = False  # colour a pair that cannot be verified or stays misaligned
    max_chroma_scale: float = 1.0  # cap on the working scale

    def __post_init__(self) -> None:
        if self.camera_side not in CAMERA_SIDES:
            raise InputError("camera_side", f"must be one of {', '.join(CAMERA_SIDES)}, not {self.camera_side!r}")


@dataclass(frozen=True)
class Geometry:
    """What the measurement decided, and the checks it decided from."""

    arrangement: Arrangement
    camera_side: str
    checks: dict[str, RectificationReport]  # "before", and "after" where the colour image is corrected
    warnings: tuple[str, ...]

    @property
    def disparities(self) -> tuple[float, float] | None:
        """The range of the matches' disparities (`rectify.disparity_extent`) in the network's frame (the colour
        camera on the left), full-resolution px; None if unmeasured."""
        return _disparities(self.checks.get("after", self.checks["before"]), self.camera_side)

    def rectification(self) -> dict:
        """The checks as the report gives them (NaN as null, rounded)."""
        def rounded(value):
            return (None if not math.isfinite(value) else round(value, 3)) if isinstance(value, float) else value
        return {name: {k: rounded(v) for k, v in check.to_dict().items()} for name, check in self.checks.items()}


def measure(pair: Pair, spec: ModelSpec, options: GeometryOptions = GeometryOptions()) -> Geometry:
    """The pair's arrangement for a model of `spec`; InputError for a pair it must refuse."""
    matches = sift_matches(pair.mono_y, pair.color_rgb)
    transposed = vertical_baseline(matches, pair.mono_y.shape, pair.color_rgb.shape)
    mono_shape, color_shape = pair.mono_y.shape, pair.color_rgb.shape[:2]
    if transposed:  # a portrait shot: the cameras one above the other
        matches, mono_shape, color_shape = matches.transposed(), mono_shape[::-1], color_shape[::-1]
    warnings: list[str] = []
    checks = {"before": check_matches(matches, mono_shape, color_shape, spec=spec)}
    if checks["before"].too_few_matches:
        to_mono = _unverified(pair, checks["before"], mono_shape, color_shape, options, warnings)
    else:
        to_mono = _correction(pair, checks["before"], mono_shape, color_shape, options)
    arrangement = Arrangement(pair.mono_y.shape, transposed, color_to_mono=to_mono,
                              color_shape=None if to_mono is None else color_shape)
    if to_mono is not None and not checks["before"].too_few_matches:
        checks["after"] = _verify(pair, arrangement, checks["before"], spec, options, warnings)
    side = _camera_side(checks["before"], options.camera_side, warnings)
    check = checks.get("after", checks["before"])
    disparities = _disparities(check, side)
    scale, offset = spec.window(disparities, options.max_chroma_scale)
    arrangement = replace(arrangement, flipped=side == "right", scale=scale, offset=offset,
                          samples=_samples(check, side, arrangement.full_shape[1]))
    # Rows stay within the network's tolerance at a higher scale only as far as the measured vertical error allows.
    aligned = RECTIFIED_MAX_ERROR_PX / check.vertical_error if check.vertical_error > 0 else 1.0
    return Geometry(_tile_windows(arrangement, disparities, spec, min(options.max_chroma_scale, aligned)), side, checks,
                    tuple(warnings))


def _disparities(check: RectificationReport, side: str) -> tuple[float, float] | None:
    return None if check.too_few_matches else along_side(*check.disparity_range, side)


def _samples(check: RectificationReport, side: str, width: int) -> np.ndarray | None:
    """The check's (x, y, dx) samples in the network's frame: mirrored with the image when the colour camera is on
    the right."""
    if check.too_few_matches or check.samples is None:
        return None
    return check.samples * [-1, 1, -1] + [width - 1, 0, 0] if side == "right" else check.samples


def _tile_windows(arrangement: Arrangement, disparities: tuple[float, float] | None, spec: ModelSpec,
                  max_scale: float) -> Arrangement:
    """A higher working scale than the pair's window allows, where the pair's disparities span more than the d
    candidates but each tile's own do not (a near object in one part of a wide-baseline photo): the highest, in steps
    of TILE_SCALE_STEP, at which every tile of the model's tile has matches enough and its window fits them."""
    if arrangement.samples is None or disparities is None:
        return arrangement
    trial_scale = max_scale
    while trial_scale > arrangement.scale:
        trial = replace(arrangement, scale=trial_scale,
                        offset=window_offset(disparities[0], trial_scale, spec.max_disparity, spec.range_margin))
        if all(fits for _, fits in trial.tile_windows(spec.grid(*trial.shape), spec.range_margin)):
            return trial
        trial_scale *= TILE_SCALE_STEP
    return arrangement


def _unverified(pair: Pair, check: RectificationReport, mono_shape: tuple[int, int], color_shape: tuple[int, int],
                options: GeometryOptions, warnings: list[str]) -> np.ndarray | None:
    """Too few matches: refused, or (accept_unverified) assumed rectified, the colour image stretched onto the
    mono grid if its size differs."""
    if not options.accept_unverified:
        raise InputError(pair.color_name, f"cannot be verified against {pair.mono_name}: {check.n_matches} feature "
                                          f"matches fit one geometry, {MIN_MATCHES} are needed. Are both images of "
                                          "the same scene, taken at the same moment? (accept_unverified=True colours it "
                                          "anyway, assuming a rectified pair with the colour camera on the left)")
    warnings.append(f"unverified pair ({check.n_matches} matches): assumed rectified, colour camera on the left, "
                    "disparities within the model's range")
    if mono_shape == color_shape:
        return None
    sx, sy = mono_shape[1] / color_shape[1], mono_shape[0] / color_shape[0]  # pixel centres onto pixel centres
    return np.array([[sx, 0, (sx - 1) / 2], [0, sy, (sy - 1) / 2]])


def _correction(pair: Pair, check: RectificationReport, mono_shape: tuple[int, int], color_shape: tuple[int, int],
                options: GeometryOptions) -> np.ndarray | None:
    """The correction onto the mono grid (None if none is needed); refuses what no camera makes, and drift the
    options do not allow to be corrected."""
    problem = implausible_correction(check, mono_shape)
    resized = another_view(check, mono_shape, color_shape)
    if check.rectified and not resized and problem is None:
        return None
    if problem is not None and (resized or check.rectified):  # not misaligned: not a camera's image
        raise InputError(pair.color_name, f"the colour image {problem}")
    if problem is not None or not (options.rectify or resized):
        raise InputError(pair.color_name, _not_rectified(check, problem))
    return correction(check, mono_shape, color_shape)


def _verify(pair: Pair, arrangement: Arrangement, before: RectificationReport, spec: ModelSpec,
            options: GeometryOptions, warnings: list[str]) -> RectificationReport:
    """The corrected pair matched again at the matching resolution; refused if it stays misaligned."""
    full_shape = arrangement.full_shape
    small = replace(arrangement, scale=min(1.0, MATCH_MAX_SIDE / max(full_shape)))
    found = sift_matches(small.mono(pair.mono_y), small.reference(pair.color_rgb)[..., 0])
    to_full = np.array(full_shape[::-1]) / np.array(small.shape[::-1])  # small px -> full-resolution px, per axis
    after = check_matches(Matches(found.mono * to_full, found.color * to_full, found.scale / to_full.max()),
                          full_shape, full_shape, spec=spec)
    if another_view(before, full_shape, arrangement.color_shape):  # a vertical error between two scales means nothing
        warnings.append(f"brought the colour image from {pair.color_rgb.shape[1]}x{pair.color_rgb.shape[0]} onto the "
                        f"mono image's {pair.mono_y.shape[1]}x{pair.mono_y.shape[0]} grid (scale {before.scale:.3f}, "
                        f"rotation {before.rotation_deg:+.2f} deg); vertical error left: {after.vertical_error:.2f} px")
    else:
        warnings.append(f"corrected the colour image: vertical error {before.vertical_error:.2f} -> "
                        f"{after.vertical_error:.2f} px")
    if not after.rectified and not options.accept_unverified:
        raise InputError(pair.color_name, f"stays misaligned after correction: vertical error "
                                          f"{after.vertical_error:.1f} px, limit {after.limit_px:.1f} px at this "
                                          "pair's working scale; the cameras may not be a fixed dual camera, or "
                                          "the scene moved between the shots (accept_unverified=True colours it anyway)")
    return after


def _not_rectified(check: RectificationReport, problem: str | None) -> str:
    what = (f"the pair is not rectified: vertical error {check.vertical_error:.1f} px (median dy "
            f"{check.dy_median:+.1f} px, rotation {check.rotation_deg:+.2f} deg; limit {check.limit_px:.1f} px at "
            "this pair's working scale); ")
    if problem is None:
        return what + "rerun with rectify=True to correct it"
    return what + (f"the colour image {problem}, which rectify=True does not correct"
                   + (" (is one image upside down or turned?)" if abs(check.rotation_deg) > 45 else ""))


def _camera_side(check: RectificationReport, asked: str, warnings: list[str]) -> str:
    """The side given, else the measured one, else left (the network's own arrangement)."""
    measured = check.side if check.side in ("left", "right") else None
    if asked == "auto":
        if measured is None and not check.too_few_matches:
            warnings.append("no parallax to tell the colour camera's side: assuming it is on the left")
        return measured or "left"
    if measured is not None and measured != asked:
        warnings.append(f"camera side {asked} was given, but the matches put the colour camera on the {measured}")
    return asked
