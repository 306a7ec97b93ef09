"""Is the mono/colour pair rectified, which side is the colour camera on, and a small correction if not.

The network searches for each mono pixel's colour only along the same row, to the right (the colour
camera on the left, dx = x_colour - x_mono >= 0). A phone's factory calibration drifts, so the runtime
measures the pair first. Matches of a stereo pair differ by a depth-dependent horizontal shift, so only
the rows are modelled: RANSAC fits y_mono as a linear function of the colour keypoint's (x, y), which is
exactly the row part of the similarity transform (rotation, scale, vertical shift) that lines the colour
camera up with the mono camera; the disparity, in x only, cannot pollute it. `rectify_color` applies that
similarity with the horizontal part taken from the same rotation and scale about the image centre, so
the disparities are kept.

Fallbacks the runtime applies (it warns): too few matches (a flat scene) -> assume rectified, colour
camera on the left; side "unknown" (the whole scene at infinity: no parallax to resolve) -> left.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from .color import rgb_to_luma
from .errors import InputError
from .matching import MAD_TO_STD, Matches, sift_matches

# The network compares rows at half resolution through 3x3 convs: 1.5 full-resolution px of vertical
# error is 0.75 px there, inside the first conv's one-pixel neighbourhood, so corresponding rows still meet.
RECTIFIED_MAX_ERROR_PX = 1.5
# Three row parameters plus 1st/99th disparity percentiles: with fewer inliers a few mismatches decide them.
MIN_MATCHES = 30
# A match is a RANSAC inlier when its row is within this many matching-resolution px of the fit
# (SIFT keypoints are localised to ~0.2 px there).
INLIER_TOL_PX = 1.0
RANSAC_ITERATIONS = 300
# Median |dx| below this (matching-resolution px): the scene is at infinity and the side is "unknown".
SIDE_MIN_DX_PX = 1.0
# Corrections beyond these are not a phone's dual camera that drifted: rectify_color refuses them.
MAX_ROTATION_DEG = 5.0
MAX_SCALE_CHANGE = 0.10
MAX_SHIFT_FRACTION = 0.10  # of the image height

Side = Literal["left", "right", "unknown"]


@dataclass(frozen=True)
class RectificationReport:
    """What the matches say about the pair, in full-resolution px; dy = y_colour - y_mono.

    With too few matches the numbers are NaN, `rectified` is True and `side` is "unknown" (the fallback).
    """

    n_matches: int  # RANSAC inliers of the row model
    too_few_matches: bool
    rectified: bool  # vertical_error <= threshold
    vertical_error: float  # max(|dy_median|, max |dy_corners|) + dy_spread
    side: Side  # the colour camera is "left" (dx mostly > 0) or "right" of the mono camera
    dy_median: float
    dy_spread: float  # 1.4826 * MAD of the inliers' rows about the fit: what the model does not explain
    dy_corners: tuple[float, float, float, float]  # fitted dy at top-left, top-right, bottom-left, bottom-right
    rotation_deg: float  # colour = mono rotated by this (cv2.getRotationMatrix2D's sign), scaled, shifted
    scale: float
    disparity_range: tuple[float, float]  # 1st, 99th percentile of |dx| once rotation and scale are removed
    # Row model about the image centre (cx, cy): y_mono - cy = a (x_colour - cx) + b (y_colour - cy) + c.
    row_fit: tuple[float, float, float]

    @property
    def verdict(self) -> str:
        """One of "rectified", "not rectified" or "unknown" (too few matches)."""
        if self.too_few_matches:
            return "unknown"
        return "rectified" if self.rectified else "not rectified"


def check_rectification(
    mono_y: np.ndarray, color_y: np.ndarray, threshold_px: float = RECTIFIED_MAX_ERROR_PX
) -> RectificationReport:
    """Measure the vertical misalignment and camera side of two same-size grey [0, 1] images.

    `threshold_px` is in full-resolution px; chroma predicted at working scale s tolerates
    RECTIFIED_MAX_ERROR_PX / s.
    """
    if mono_y.shape != color_y.shape:
        raise ValueError(f"mono {mono_y.shape} and colour {color_y.shape} images differ in size")
    height, width = mono_y.shape
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    matches = sift_matches(mono_y, color_y)
    fit = _fit_rows(matches, centre) if len(matches.mono) >= MIN_MATCHES else None
    if fit is None or fit[1].sum() < MIN_MATCHES:
        nan = math.nan
        return RectificationReport(
            n_matches=0 if fit is None else int(fit[1].sum()), too_few_matches=True, rectified=True,
            vertical_error=nan, side="unknown", dy_median=nan, dy_spread=nan, dy_corners=(nan,) * 4,
            rotation_deg=nan, scale=nan, disparity_range=(nan, nan), row_fit=(nan,) * 3,
        )
    (a, b, c), inliers = fit
    mono, color = matches.mono[inliers] - centre, matches.color[inliers] - centre
    dy = color[:, 1] - mono[:, 1]
    residual = mono[:, 1] - (a * color[:, 0] + b * color[:, 1] + c)
    corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]]) - centre
    dy_corners = corners[:, 1] - (a * corners[:, 0] + b * corners[:, 1] + c)
    dy_median = float(np.median(dy))
    dy_spread = float(MAD_TO_STD * np.median(np.abs(residual - np.median(residual))))
    vertical_error = max(abs(dy_median), float(np.abs(dy_corners).max())) + dy_spread
    dx = b * color[:, 0] - a * color[:, 1] - mono[:, 0]  # the corrected colour x (see rectify_color) - x_mono
    dx_median = float(np.median(dx))
    side: Side = "left" if dx_median > 0 else "right"
    if abs(dx_median) < SIDE_MIN_DX_PX / matches.scale:
        side = "unknown"
    p1, p99 = np.percentile(np.abs(dx), [1, 99])
    return RectificationReport(
        n_matches=int(inliers.sum()),
        too_few_matches=False,
        rectified=vertical_error <= threshold_px,
        vertical_error=vertical_error,
        side=side,
        dy_median=dy_median,
        dy_spread=dy_spread,
        dy_corners=tuple(float(v) for v in dy_corners),
        rotation_deg=math.degrees(math.atan2(a, b)),
        scale=1.0 / math.hypot(a, b),
        disparity_range=(float(p1), float(p99)),
        row_fit=(float(a), float(b), float(c)),
    )


def _fit_rows(matches: Matches, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """RANSAC fit of y_mono = a x_colour + b y_colour + c (coordinates about `centre`): (a, b, c), inliers.

    None if every sampled triple of matches is (nearly) collinear.
    """
    design = np.column_stack([matches.color - centre, np.ones(len(matches.color))])
    target = matches.mono[:, 1] - centre[1]
    tol = INLIER_TOL_PX / matches.scale
    samples = np.random.default_rng(0).integers(0, len(target), size=(RANSAC_ITERATIONS, 3))
    systems = design[samples]
    # |det| is twice the triangle's area: skip triples that pin no plane down.
    usable = np.abs(np.linalg.det(systems)) > 1.0 / matches.scale**2
    if not usable.any():
        return None
    candidates = np.linalg.solve(systems[usable], target[samples[usable]][..., None])[..., 0]
    support = (np.abs(design @ candidates.T - target[:, None]) < tol).sum(axis=0)
    coef = candidates[np.argmax(support)]
    for _ in range(2):  # least squares on the inliers, then re-select them
        inliers = np.abs(design @ coef - target) < tol
        coef = np.linalg.lstsq(design[inliers], target[inliers], rcond=None)[0]
    return coef, np.abs(design @ coef - target) < tol


def rectify_color(
    color_rgb: np.ndarray,
    mono_y: np.ndarray,
    report: RectificationReport | None = None,
    source: str = "colour image",
) -> tuple[np.ndarray, RectificationReport]:
    """Warp the (H, W, 3) RGB [0, 1] colour image onto the mono image's rows; returns it and the check re-run on it.

    Removes the rotation, scale and vertical shift of `report` (measured here if None) about the image
    centre and keeps the horizontal disparity. With too few matches the image is returned unchanged with
    its report (the fallback: assume rectified). Raises InputError naming `source` for a correction beyond
    MAX_ROTATION_DEG, MAX_SCALE_CHANGE or MAX_SHIFT_FRACTION of the height: not a phone's dual camera.
    """
    if report is None:
        report = check_rectification(mono_y, rgb_to_luma(color_rgb))
    if report.too_few_matches:
        return color_rgb, report
    height, width = mono_y.shape
    a, b, c = report.row_fit
    shift = -c  # the fitted dy at the centre
    if (
        abs(report.rotation_deg) > MAX_ROTATION_DEG
        or abs(report.scale - 1.0) > MAX_SCALE_CHANGE
        or abs(shift) > MAX_SHIFT_FRACTION * height
    ):
        raise InputError(
            source,
            f"is rotated {report.rotation_deg:.1f} degrees, scaled {report.scale:.3f} and shifted {shift:.1f} px "
            f"vertically from the mono image; a phone's dual camera is within {MAX_ROTATION_DEG:g} degrees, "
            f"{MAX_SCALE_CHANGE:.0%} scale and {MAX_SHIFT_FRACTION:.0%} of the height",
        )
    cx, cy = (width - 1) / 2, (height - 1) / 2
    # Colour (x, y) -> mono frame: the fitted row, and the column rotated and scaled alike about the centre.
    to_mono = np.array([[b, -a, cx - b * cx + a * cy], [a, b, cy + c - a * cx - b * cy]])
    corrected = cv2.warpAffine(color_rgb, to_mono, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    return corrected, check_rectification(mono_y, rgb_to_luma(corrected))
