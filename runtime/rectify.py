"""Is the mono/colour pair rectified, which side is the colour camera on, and a correction if not.

The network searches for each mono pixel's colour only along the same row, to the right (the colour
camera on the left, dx = x_colour - x_mono >= 0). A phone's factory calibration drifts, so the runtime
measures the pair first. Matches of a stereo pair differ by a depth-dependent shift along the baseline, so
only the rows are modelled: RANSAC fits y_mono as a linear function of the colour keypoint's (x, y), which is
exactly the row part of the similarity transform (rotation, scale, vertical shift) that lines the colour
camera up with the mono camera; the disparity, in x only, cannot pollute it. `correction` completes that
similarity with the horizontal part taken from the same rotation and scale about the image centres, so
the disparities are kept (the Arrangement applies it). The same fit also brings a colour camera of another
resolution or field of view to the mono image's geometry (centres aligned: the optical axes of a phone's
cameras are parallel).

A portrait shot puts the cameras one above the other: the shift is then along the columns, the column model
explains the matches better than the row model, and `vertical_baseline` says so; the runtime transposes both
images into the network's arrangement and back.

Every number here comes from one set of feature matches (`matching.sift_matches`): the check after a correction
is the same check of the matches mapped through it.

A pair is refused, not guessed at, when there are too few matches to measure it, or when the vertical error
left after correction is above the limit; the limit is RECTIFIED_MAX_ERROR_PX at the scale the network
works at, so a pair with large disparities, coloured at a reduced scale, tolerates proportionally more.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from .manifest import ModelSpec
from .matching import Matches, sift_matches

# The network compares rows at half resolution through 3x3 convs: 1.5 px of vertical error at the scale it
# works at is 0.75 px there, inside the first conv's one-pixel neighbourhood, so corresponding rows still meet.
RECTIFIED_MAX_ERROR_PX = 1.5
# Three row parameters plus 1st/99th disparity percentiles: with fewer inliers a few mismatches decide them.
MIN_MATCHES = 30
# A disparity beyond the 1st..99th percentiles still counts when this many matches agree on it, close together in
# the image (RANGE_SUPPORT_RADIUS of its longer side) and in disparity (RANGE_SUPPORT_PX + RANGE_SUPPORT_SLOPE of
# it): a near object may hold under 1 % of a pair's matches, a lone mismatch is one match.
RANGE_SUPPORT = 3
RANGE_SUPPORT_RADIUS = 0.1
RANGE_SUPPORT_PX = 2.0
RANGE_SUPPORT_SLOPE = 0.05
MAD_TO_STD = 1.4826  # a normal distribution's std per median absolute deviation
# Fitted dy at a corner counts as misalignment only beyond this many standard errors of the fit there.
CORNER_SIGMAS = 2.0
# A match is a RANSAC inlier when its row is within this many matching-resolution px of the fit
# (SIFT keypoints are localised to ~0.2 px there).
INLIER_TOL_PX = 1.0
RANSAC_ITERATIONS = 300
# Median |dx| below this (matching-resolution px): the scene is at infinity and the side is "unknown".
SIDE_MIN_DX_PX = 1.0
# The column model must explain this many times more matches than the row model to call the baseline vertical:
# a flat scene at one depth fits both, and is then taken as a landscape shot.
VERTICAL_BASELINE_RATIO = 1.5
# Corrections beyond these are not a phone's dual camera that drifted: rectify_color refuses them.
MAX_ROTATION_DEG = 5.0
# Between two images of one size, a scale change up to this is drift that only --rectify corrects; beyond it the
# colour camera has another field of view, corrected always, as another resolution is.
MAX_SCALE_CHANGE = 0.10
MAX_RESOLUTION_RATIO = 4.0  # between cameras of different resolution or field of view
# Rows stretched against columns (an image resized without keeping its aspect) by more than this are refused:
# no camera makes them, and the similarity that lines up the rows would misplace every column. Measured on the
# dev and real pairs: |anisotropy| <= 0.046 (a close-up scene, whose disparities slope across it), 0.01 typical.
MAX_ANISOTROPY = 0.10
ANISOTROPY_PAIRS = 20000  # pairs of matches sampled to measure it
MAX_SHIFT_FRACTION = 0.10  # of the height

Side = Literal["left", "right", "unknown"]


@dataclass(frozen=True)
class RectificationReport:
    """What the matches say about the pair, in the mono image's full-resolution px; dy = y_colour - y_mono.

    With too few matches the numbers are NaN, `rectified` is False and `side` is "unknown".
    """

    n_matches: int  # RANSAC inliers of the row model
    too_few_matches: bool
    rectified: bool  # vertical_error <= limit_px
    vertical_error: float  # max(|dy_median|, max |dy_corners| less their uncertainty) + dy_spread
    limit_px: float  # RECTIFIED_MAX_ERROR_PX at the network's working scale, in full-resolution px
    side: Side  # the colour camera is "left" (dx mostly > 0) or "right" of the mono camera
    dy_median: float
    dy_spread: float  # 1.4826 * MAD of the inliers' rows about the fit: what the model does not explain
    dy_corners: tuple[float, float, float, float]  # fitted dy at top-left, top-right, bottom-left, bottom-right
    dy_corners_uncertainty: tuple[float, float, float, float]  # CORNER_SIGMAS standard errors of dy_corners
    rotation_deg: float  # colour = mono rotated by this (cv2.getRotationMatrix2D's sign), scaled, shifted
    scale: float  # colour px per mono px
    # disparity_extent of dx once rotation and scale are removed: positive where the colour camera is on the left
    # (a converging pair, like a 3-D lens's, has both signs)
    disparity_range: tuple[float, float]
    anisotropy: float  # how much more the colour image's rows are scaled than its columns, relative (0: a camera)
    # Row model about each image's centre: y_mono - cy_mono = a (x_colour - cx_colour) + b (y_colour - cy_colour) + c.
    row_fit: tuple[float, float, float]
    # (N, 3) mono x, y and dx of the inliers, full-resolution px: where in the image each disparity is (tile windows)
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """The measured numbers, without the samples."""
        return {k: v for k, v in asdict(self).items() if k != "samples"}

    @property
    def verdict(self) -> str:
        """One of "rectified", "not rectified" or "unknown" (too few matches)."""
        if self.too_few_matches:
            return "unknown"
        return "rectified" if self.rectified else "not rectified"


def centre(shape: tuple[int, ...]) -> np.ndarray:
    """(cx, cy) of an image of `shape` (H, W[, C])."""
    return np.array([(shape[1] - 1) / 2, (shape[0] - 1) / 2])


def along_side(first: float, last: float, side: str) -> tuple[float, float]:
    """The (smallest, largest) disparity in the network's frame, where the colour camera is on the left, of dx
    running from `first` to `last` for a colour camera on `side` ("right" mirrors it; "unknown" is taken as left)."""
    return (-last, -first) if side == "right" else (first, last)


def check_rectification(mono_y: np.ndarray, color: np.ndarray, threshold_px: float = RECTIFIED_MAX_ERROR_PX,
                        spec: ModelSpec | None = None) -> RectificationReport:
    """`check_matches` of the SIFT matches of a grey [0, 1] mono image and a colour image (grey or RGB, [0, 1],
    any size)."""
    return check_matches(sift_matches(mono_y, color), mono_y.shape, color.shape, threshold_px, spec)


def check_matches(matches: Matches, mono_shape: tuple[int, ...], color_shape: tuple[int, ...],
                  threshold_px: float = RECTIFIED_MAX_ERROR_PX, spec: ModelSpec | None = None) -> RectificationReport:
    """Measure the vertical misalignment and camera side of a pair from its feature matches.

    `threshold_px` is at the scale the network works at: with the model's `spec` the limit in full-resolution px
    is threshold_px / the working scale of the measured disparity, else threshold_px.
    """
    mono_centre, color_centre = centre(mono_shape), centre(color_shape)
    fit = _fit_rows(matches, mono_centre, color_centre)
    if fit is None or fit[1].sum() < MIN_MATCHES:
        return _unmeasured(0 if fit is None else int(fit[1].sum()), threshold_px)
    (a, b, c), inliers = fit
    mono, color_xy = matches.mono[inliers] - mono_centre, matches.color[inliers] - color_centre
    # The colour keypoints as the similarity puts them in the mono frame (see `correction`).
    in_mono = np.column_stack([b * color_xy[:, 0] - a * color_xy[:, 1], a * color_xy[:, 0] + b * color_xy[:, 1] + c])
    dy = color_xy[:, 1] * math.hypot(a, b) - mono[:, 1]  # colour rows in mono px, about the centres
    residual = mono[:, 1] - in_mono[:, 1]
    dy_median = float(np.median(dy))
    dy_spread = float(MAD_TO_STD * np.median(np.abs(residual - np.median(residual))))
    dy_corners, dy_corners_uncertainty = _corners(fit[0], color_xy, mono_shape, dy_spread)
    established = np.maximum(np.abs(dy_corners) - dy_corners_uncertainty, 0.0)
    vertical_error = max(abs(dy_median), float(established.max())) + dy_spread
    dx = in_mono[:, 0] - mono[:, 0]
    dx_median = float(np.median(dx))
    side: Side = "left" if dx_median > 0 else "right"
    if abs(dx_median) < SIDE_MIN_DX_PX / matches.scale:
        side = "unknown"
    p1, p99 = disparity_extent(dx, mono, max(mono_shape), side)
    limit = threshold_px / (spec.window(along_side(p1, p99, side))[0] if spec else 1.0)
    return RectificationReport(
        n_matches=int(inliers.sum()),
        too_few_matches=False,
        rectified=vertical_error <= limit,
        vertical_error=vertical_error,
        limit_px=limit,
        side=side,
        dy_median=dy_median,
        dy_spread=dy_spread,
        dy_corners=tuple(float(v) for v in dy_corners),
        dy_corners_uncertainty=tuple(float(v) for v in dy_corners_uncertainty),
        rotation_deg=math.degrees(math.atan2(a, b)),
        scale=1.0 / math.hypot(a, b),
        disparity_range=(p1, p99),
        anisotropy=_anisotropy(in_mono[:, 0], dx, mono_shape[1]),
        row_fit=(float(a), float(b), float(c)),
        samples=np.column_stack([mono + mono_centre, dx]),
    )


def disparity_extent(dx: np.ndarray, xy: np.ndarray, image_side: int, side: Side = "unknown") -> tuple[float, float]:
    """The range of a pair's disparities dx (matches at xy): the 1st..99th percentiles, widened at the near end
    (the larger dx with the colour camera on the left, the smaller on the right, either if unknown) to every disparity
    beyond them that RANGE_SUPPORT matches close together agree on. The far end is left alone: disparities shrink
    towards the horizon, which a few px of the window's slack reach."""
    low, high = (float(v) for v in np.percentile(dx, [1, 99]))
    beyond = np.flatnonzero(((dx < low) & (side != "left")) | ((dx > high) & (side != "right")))
    if beyond.size:
        tolerance = RANGE_SUPPORT_PX + RANGE_SUPPORT_SLOPE * np.abs(dx[beyond, None])
        near_in_dx = np.abs(dx[beyond, None] - dx[None, :]) <= tolerance
        near_in_image = np.linalg.norm(xy[beyond, None, :] - xy[None, :, :], axis=2) <= RANGE_SUPPORT_RADIUS * image_side
        supported = dx[beyond[(near_in_dx & near_in_image).sum(axis=1) >= RANGE_SUPPORT]]
        low, high = min(low, float(supported.min(initial=low))), max(high, float(supported.max(initial=high)))
    return low, high


def _unmeasured(n_matches: int, limit_px: float) -> RectificationReport:
    """The report of a pair with too few matches: nothing measured, not verified."""
    nan = math.nan
    return RectificationReport(
        n_matches=n_matches, too_few_matches=True, rectified=False, vertical_error=nan, limit_px=limit_px,
        side="unknown", dy_median=nan, dy_spread=nan, dy_corners=(nan,) * 4, dy_corners_uncertainty=(nan,) * 4,
        rotation_deg=nan, scale=nan, disparity_range=(nan, nan), anisotropy=nan, row_fit=(nan,) * 3,
    )


def _corners(row_fit: np.ndarray, color_xy: np.ndarray, mono_shape: tuple[int, ...],
             dy_spread: float) -> tuple[np.ndarray, np.ndarray]:
    """The fitted dy at the mono image's four corners, and CORNER_SIGMAS standard errors of each.

    A roll fitted to noisy matches near the centre of a small or compressed colour image reaches the corners only
    by extrapolation: only what lies beyond its uncertainty there counts as misalignment.
    """
    a, b, c = row_fit
    height, width = mono_shape[:2]
    corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]]) - centre(mono_shape)
    dy_corners = corners[:, 1] - (a * corners[:, 0] + b * corners[:, 1] + c)
    design = np.column_stack([color_xy, np.ones(len(color_xy))])
    corner_design = np.column_stack([corners, np.ones(4)])
    leverage = np.einsum("ij,jk,ik->i", corner_design, np.linalg.pinv(design.T @ design), corner_design)
    return dy_corners, CORNER_SIGMAS * dy_spread * np.sqrt(leverage)


def _anisotropy(x: np.ndarray, dx: np.ndarray, width: int) -> float:
    """The slope of dx against x over pairs of matches a quarter of the width apart or more (the median of
    their slopes): a disparity depends on depth, not on x, so a slope says the rows were scaled apart from the
    columns (by 1 + slope). A scene whose depth slopes across it leaves a small one."""
    first, second = np.random.default_rng(0).integers(0, len(x), size=(2, ANISOTROPY_PAIRS))
    apart = np.abs(x[first] - x[second]) >= width / 4
    if apart.sum() < MIN_MATCHES:
        return 0.0  # the matches span too little of the width to tell
    first, second = first[apart], second[apart]
    return float(np.median((dx[first] - dx[second]) / (x[first] - x[second])))


def vertical_baseline(matches: Matches, mono_shape: tuple[int, ...], color_shape: tuple[int, ...]) -> bool:
    """Whether the cameras sit one above the other in these images (a portrait shot): the column model
    explains VERTICAL_BASELINE_RATIO times more matches than the row model."""
    rows = _fit_rows(matches, centre(mono_shape), centre(color_shape))
    columns = _fit_rows(matches.transposed(), centre(mono_shape)[::-1], centre(color_shape)[::-1])
    if columns is None:
        return False
    return bool(columns[1].sum() >= MIN_MATCHES and columns[1].sum() > VERTICAL_BASELINE_RATIO * (0 if rows is None else rows[1].sum()))


def _fit_rows(matches: Matches, mono_centre: np.ndarray, color_centre: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """RANSAC fit of y_mono = a x_colour + b y_colour + c (coordinates about each image's centre): (a, b, c), inliers.

    None with fewer than MIN_MATCHES matches, or if every sampled triple of matches is (nearly) collinear.
    """
    if len(matches.mono) < MIN_MATCHES:
        return None
    design = np.column_stack([matches.color - color_centre, np.ones(len(matches.color))])
    target = matches.mono[:, 1] - mono_centre[1]
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


def another_view(report: RectificationReport, mono_shape: tuple[int, ...], color_shape: tuple[int, ...]) -> bool:
    """Whether the colour camera has another resolution or field of view (always corrected), not only drift."""
    return mono_shape[:2] != color_shape[:2] or abs(report.scale - 1.0) > MAX_SCALE_CHANGE


def implausible_correction(report: RectificationReport, mono_shape: tuple[int, ...]) -> str | None:
    """Why the correction `report` calls for is not a phone's dual camera (None if it is one)."""
    if abs(report.anisotropy) > MAX_ANISOTROPY:
        return (f"is stretched: its rows are scaled {1 + report.anisotropy:.2f} times as much as its columns (an image "
                "resized without keeping its aspect ratio?); a camera's image is not")
    shift = -report.row_fit[2]  # the fitted dy at the centre
    scale_ok = 1 / MAX_RESOLUTION_RATIO <= report.scale <= MAX_RESOLUTION_RATIO
    if abs(report.rotation_deg) <= MAX_ROTATION_DEG and scale_ok and abs(shift) <= MAX_SHIFT_FRACTION * mono_shape[0]:
        return None
    return (f"is rotated {report.rotation_deg:.1f} degrees, scaled {report.scale:.3f} and shifted {shift:.1f} px "
            f"vertically from the mono image; a phone's dual camera is within {MAX_ROTATION_DEG:g} degrees, "
            f"a resolution ratio of {MAX_RESOLUTION_RATIO:g} and {MAX_SHIFT_FRACTION:.0%} of the height")


def correction(report: RectificationReport, mono_shape: tuple[int, ...], color_shape: tuple[int, ...]) -> np.ndarray:
    """The 2x3 affine map of colour (x, y) into the mono frame: the fitted row, and the column rotated and
    scaled alike, about the image centres."""
    a, b, c = report.row_fit
    (mx, my), (cx, cy) = centre(mono_shape), centre(color_shape)
    return np.array([[b, -a, mx - b * cx + a * cy], [a, b, my + c - a * cx - b * cy]])
