import math

import cv2
import numpy as np
import pytest
from skimage.data import stereo_motorcycle

from dualcam.runtime.arrangement import Arrangement
from dualcam.runtime.color import rgb_to_luma
from dualcam.runtime.errors import InputError
from dualcam.runtime.geometry import GeometryOptions, measure
from dualcam.runtime.manifest import ModelSpec
from dualcam.runtime.matching import Matches
from dualcam.runtime.pair import Pair
from dualcam.runtime.rectify import (RECTIFIED_MAX_ERROR_PX, along_side, check_matches, check_rectification,
                                     correction, disparity_extent)


@pytest.fixture(scope="module")
def pair():
    """A 300x500 crop of Middlebury Motorcycle: (mono Y from the right view, colour RGB from the left view)."""
    left, right, _ = stereo_motorcycle()
    crop = slice(100, 400), slice(100, 600)
    color = left[crop].astype(np.float32) / 255
    return rgb_to_luma(right[crop].astype(np.float32) / 255), color


@pytest.fixture(scope="module")
def original(pair):
    return check_rectification(pair[0], rgb_to_luma(pair[1]))


def warp(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def rotation(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape[:2]
    return cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)


def corrected(color: np.ndarray, mono: np.ndarray, report) -> tuple[np.ndarray, object]:
    """The colour image's luma warped by the report's correction (as the Arrangement warps it), and its check."""
    to_mono = correction(report, mono.shape, color.shape)
    luma = Arrangement(mono.shape, color_to_mono=to_mono, color_shape=color.shape[:2]).reference(color)[..., 0]
    return luma, check_rectification(mono, luma)


def test_real_pair_is_rectified_with_color_on_the_left(original):
    assert original.verdict == "rectified" and original.side == "left"
    assert original.n_matches >= 200
    assert abs(original.dy_median) < 0.2 and original.vertical_error < 0.5
    assert abs(original.rotation_deg) < 0.05 and original.scale == pytest.approx(1.0, abs=0.002)
    assert 8.0 < original.disparity_range[0] < original.disparity_range[1] < 60.0  # ground truth: 10.4 .. 58.2


def test_the_disparity_range_keeps_a_near_object_with_few_matches_but_not_lone_mismatches():
    """A near object holding under 1 % of the matches is beyond the 99th percentile, yet the range must reach it, or
    it falls outside the d candidates; one mismatch, or far-apart ones that happen to agree, must not widen it."""
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, (600, 2))
    dx = rng.uniform(10, 40, 600)
    near = np.array([[500, 500], [510, 490], [495, 520], [520, 515]]), np.array([118.0, 120.0, 121.0, 119.5])
    far_negative = np.array([[100, 100], [110, 95], [90, 105]]), np.array([-15.0, -16.0, -15.5])
    lone = np.array([[300, 700]]), np.array([200.0])
    apart = np.array([[0, 0], [999, 999], [0, 999]]), np.array([160.0, 160.5, 161.0])
    low, high = disparity_extent(dx, xy, 1000)
    p1, p99 = np.percentile(dx, [1, 99])
    assert 10 <= low <= p1 and p99 <= high <= 40  # the background's dense tails reach its true extent, no further
    for extra, expected in ((near, (None, 121.0)), (far_negative, (-16.0, None)), (lone, (None, None)),
                            (apart, (None, None))):
        low, high = disparity_extent(np.concatenate([dx, extra[1]]), np.concatenate([xy, extra[0]]), 1000)
        assert low >= 10 if expected[0] is None else low == expected[0]
        assert high <= 40 if expected[1] is None else high == expected[1]
    # With the colour camera on the left the near end is the larger dx; on the right, the smaller.
    assert disparity_extent(np.concatenate([dx, near[1]]), np.concatenate([xy, near[0]]), 1000, "left")[1] == 121.0
    assert disparity_extent(np.concatenate([dx, near[1]]), np.concatenate([xy, near[0]]), 1000, "right")[1] <= 40
    assert disparity_extent(np.concatenate([dx, -near[1]]), np.concatenate([xy, near[0]]), 1000, "right")[0] == -121.0


def test_disparity_range_is_that_of_the_true_disparities():
    """The range the chroma working scale and candidate window are chosen from: `disparity_extent` of the matches'
    dx against the 1st and 99th percentiles of Middlebury's ground truth (left view) over a well-textured crop."""
    left, right, disparity = stereo_motorcycle()
    crop = slice(200, 450), slice(300, 670)
    report = check_rectification(rgb_to_luma(right[crop].astype(np.float32) / 255), left[crop].astype(np.float32) / 255)
    true_lo, true_hi = np.percentile(disparity[crop][np.isfinite(disparity[crop])], [1, 99])
    assert report.disparity_range[0] == pytest.approx(true_lo, abs=3.0)
    assert report.disparity_range[1] == pytest.approx(true_hi, abs=3.0)


def test_flipping_both_puts_color_on_the_right(pair, original):
    mono, color = pair
    flipped = check_rectification(mono[:, ::-1], rgb_to_luma(color[:, ::-1]))
    assert flipped.verdict == "rectified" and flipped.side == "right"
    np.testing.assert_allclose(flipped.disparity_range, [-v for v in original.disparity_range[::-1]], atol=1.5)
    np.testing.assert_allclose(along_side(*flipped.disparity_range, "right"), original.disparity_range, atol=1.5)


def test_vertical_shift_is_measured_and_corrected(pair, original):
    mono, color = pair
    shifted = warp(color, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 6.0]]))  # colour content at y + 6
    report = check_rectification(mono, rgb_to_luma(shifted))
    assert report.verdict == "not rectified" and report.side == "left"
    assert report.dy_median == pytest.approx(6.0, abs=0.5)
    assert abs(report.rotation_deg) < 0.05
    warped, residual = corrected(shifted, mono, report)
    assert warped.shape == mono.shape and residual.verdict == "rectified" and abs(residual.dy_median) < 0.5
    np.testing.assert_allclose(residual.disparity_range, original.disparity_range, atol=2.0)


def test_rotation_is_measured_and_corrected(pair, original):
    mono, color = pair
    rotated = warp(color, rotation(color, 1.5))
    report = check_rectification(mono, rgb_to_luma(rotated))
    assert report.verdict == "not rectified"
    assert report.rotation_deg == pytest.approx(1.5, abs=0.1)
    half_width = (mono.shape[1] - 1) / 2
    assert max(map(abs, report.dy_corners)) == pytest.approx(math.sin(math.radians(1.5)) * half_width, abs=0.5)
    _, residual = corrected(rotated, mono, report)
    assert residual.verdict == "rectified" and residual.vertical_error < RECTIFIED_MAX_ERROR_PX
    assert abs(residual.dy_median) < 0.5 and abs(residual.rotation_deg) < 0.05
    np.testing.assert_allclose(residual.disparity_range, original.disparity_range, atol=2.0)


@pytest.mark.parametrize("kind", ["constant", "gradient"])
def test_flat_images_have_too_few_matches(kind):
    mono = np.full((120, 200), 0.5, np.float32)
    if kind == "gradient":
        mono = np.tile(np.linspace(0, 1, 200, dtype=np.float32), (120, 1))
    report = check_rectification(mono, mono)
    assert report.too_few_matches and report.verdict == "unknown"
    assert not report.rectified and report.side == "unknown"  # cannot be verified


def test_implausible_rotation_is_refused_even_with_rectify(pair):
    mono, color = pair
    spec = ModelSpec.for_tile(256, 512, 64)
    with pytest.raises(InputError, match=r"^color.png: .*the colour image is rotated 20\.0 degrees"):
        measure(Pair(mono, warp(color, rotation(color, 20.0)), 8, "mono.png", "color.png"), spec,
                GeometryOptions(rectify=True))


def matches_with_roll(roll_deg: float, x_extent: float, seed: int) -> tuple[np.ndarray, Matches]:
    """60 matches of a 436x1024 mono image over |x - cx| < x_extent, the colour points rolled by `roll_deg`
    about the centre, shifted by disparities of 5..40 px and located with 0.6 px of noise."""
    rng = np.random.default_rng(seed)
    mono = np.zeros((436, 1024), np.float32)
    about = np.column_stack([rng.uniform(-x_extent, x_extent, 60), rng.uniform(-200, 200, 60)])
    t = math.radians(roll_deg)
    rolled = about @ np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    centre = np.array([511.5, 217.5])
    color = rolled + centre + np.column_stack([rng.uniform(5, 40, 60), np.zeros(60)]) + rng.normal(0, 0.6, (60, 2))
    return mono, Matches(about + centre, color, scale=1.0)


def test_a_roll_the_matches_cannot_establish_is_not_a_misalignment():
    """Few noisy matches near the centre (a small, compressed colour image) give a fitted roll that reaches the
    corners only by extrapolation: within its uncertainty it is no evidence, and the pair is not refused. The
    same roll of matches spread over the width is established, and refused."""
    taken_at_face_value = []
    for seed in range(20):
        mono, matches = matches_with_roll(0.0, 150, seed)
        report = check_matches(matches, mono.shape, mono.shape)
        assert report.verdict == "rectified", (seed, report)
        taken_at_face_value.append(max(map(abs, report.dy_corners)) + report.dy_spread)
    assert max(taken_at_face_value) > RECTIFIED_MAX_ERROR_PX  # the extrapolated roll alone would have refused one
    mono, matches = matches_with_roll(0.3, 500, 0)
    report = check_matches(matches, mono.shape, mono.shape)
    assert report.verdict == "not rectified" and abs(report.rotation_deg) == pytest.approx(0.3, abs=0.05)


@pytest.fixture(scope="module")
def sample_pair():
    """The bundled sample pair (mono, colour RGB) as [0, 1] floats."""
    from pathlib import Path

    samples = Path(__file__).resolve().parent.parent / "runtime" / "samples"
    mono = cv2.imread(str(samples / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    return mono, cv2.imread(str(samples / "motorcycle_color.png"))[..., ::-1].astype(np.float32) / 255


@pytest.mark.parametrize("size", [(741, 300), (900, 500), (660, 500)])
def test_a_color_image_stretched_out_of_its_aspect_is_refused(sample_pair, size):
    mono, color = sample_pair
    stretched = cv2.resize(color, size, interpolation=cv2.INTER_AREA)
    with pytest.raises(InputError, match=r"^color.png: the colour image is stretched: its rows are scaled"):
        measure(Pair(mono, stretched, 8, "mono.png", "color.png"), ModelSpec.for_tile(256, 512, 64),
                GeometryOptions(rectify=True, accept_unverified=True))


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("zoom, roll_deg, dy", [(0.8, 0.0, 0.0), (1.25, 1.0, 5.0)])
def test_a_rig_one_above_the_other_with_another_field_of_view(sample_pair, mirrored, zoom, roll_deg, dy):
    """A vertical baseline and a colour camera of another field of view (a transposed rectified pair whose colour view
    is zoomed, rolled and shifted): found to be a portrait pair, the colour camera's side measured, the colour image
    brought onto the mono grid without --rectify, and the rows left aligned."""
    mono, color = (x.swapaxes(0, 1) for x in sample_pair)
    height, width = color.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), roll_deg, zoom)
    matrix[1, 2] += dy
    size = (round(width * zoom), round(height * zoom)) if zoom < 1 else (width, height)  # a wider view: smaller
    color = warp(np.ascontiguousarray(color), matrix) if zoom > 1 else cv2.resize(color, size, interpolation=cv2.INTER_AREA)
    if mirrored:  # the colour camera below the mono camera instead of above it
        mono, color = mono[::-1], color[::-1]
    measured = measure(Pair(np.ascontiguousarray(mono), np.ascontiguousarray(color), 8, "mono.png", "color.png"),
                       ModelSpec.for_tile(256, 512, 64))
    assert measured.arrangement.transposed and measured.camera_side == ("right" if mirrored else "left")
    assert measured.arrangement.color_to_mono is not None and measured.checks["after"].rectified
    assert measured.checks["before"].scale == pytest.approx(zoom, rel=0.02)
