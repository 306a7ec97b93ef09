import cv2
import numpy as np
import pytest
from skimage.data import stereo_motorcycle

from dualcam.model.baselines import fill_from_background, nowarp, sgbm, sgbm_gf, warp_by_disparity
from dualcam.model.metrics import cpsnr
from dualcam.model.simulate import simulate_capture
from dualcam.runtime.color import rgb_to_luma, rgb_to_ycbcr
from dualcam.runtime.matching import estimate_disparity_range, match_pair


@pytest.fixture(scope="module")
def motorcycle():
    """A 250x370 crop of Middlebury Motorcycle (float RGB left, right), disparities within 64 px."""
    left, right, _ = stereo_motorcycle()
    return tuple(v[200:450, 300:670].astype(np.float32) / 255 for v in (left, right))


def test_fill_from_background_takes_smaller_neighbour():
    disp = np.array([[5, 0, 0, 9, 0], [0, 3, 0, 0, 0], [0, 0, 0, 0, 0]], np.float32)
    filled = fill_from_background(disp, disp > 0)
    np.testing.assert_array_equal(filled, [[5, 5, 5, 9, 9], [3, 3, 3, 3, 3], [0, 0, 0, 0, 0]])


def test_warp_by_disparity_samples_at_x_plus_d():
    ref = np.random.default_rng(0).random((6, 20, 2)).astype(np.float32)
    out = warp_by_disparity(ref, np.full((6, 20), 3.0, np.float32))
    np.testing.assert_allclose(out[:, :17], ref[:, 3:], atol=1e-6)
    half = warp_by_disparity(ref, np.full((6, 20), 0.5, np.float32))
    np.testing.assert_allclose(half[:, :19], 0.5 * (ref[:, :19] + ref[:, 1:]), atol=1e-3)


def test_sgbm_recovers_known_shift(motorcycle):
    # Right view x <-> left view x + d, d = 9, built from one image so the warped chroma is exact.
    base = motorcycle[0]
    d = 9
    left, right = base[:, :-d], base[:, d:]
    mono, color = simulate_capture(right, left, setup=1, seed=0)
    true = rgb_to_ycbcr(right)[..., 1:]
    copied, warped = cpsnr(nowarp(mono, color), true), cpsnr(sgbm(mono, color, max_disparity=32), true)
    assert warped > 36.0
    assert warped > copied + 6.0


@pytest.mark.parametrize("setup", [1, 2])
def test_baseline_ordering_on_real_pair(motorcycle, setup):
    left, right = motorcycle
    mono, color = simulate_capture(right, left, setup=setup, seed=0)
    true = rgb_to_ycbcr(right)[..., 1:]
    scores = {f.__name__: cpsnr(f(mono, color), true) for f in (nowarp, sgbm, sgbm_gf)}
    assert scores["sgbm_gf"] > scores["sgbm"] + 0.5 > scores["nowarp"] + 5.0, scores
    assert sgbm_gf(mono, color).shape == true.shape


def test_match_pair_known_shift_and_vertical_offset(motorcycle):
    mono = rgb_to_luma(motorcycle[1])
    m = np.array([[1.0, 0.0, 12.0], [0.0, 1.0, 1.5]])  # colour content at (x + 12, y + 1.5)
    color = cv2.warpAffine(mono, m, mono.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    geometry = match_pair(mono, color)
    assert geometry is not None and geometry.n_matches >= 50
    assert geometry.dy_median == pytest.approx(1.5, abs=0.15)
    assert geometry.dy_spread < 0.5
    assert geometry.dx_median == pytest.approx(12.0, abs=0.15)
    lo, hi = estimate_disparity_range(mono, color)
    assert 11.0 < lo <= hi < 13.0


def test_match_pair_real_pair_sign_and_failure(motorcycle):
    left, right = motorcycle
    _, _, disp_left = stereo_motorcycle()
    true_lo, true_hi = np.percentile(disp_left[200:450, 300:670][np.isfinite(disp_left[200:450, 300:670])], [1, 99])
    lo, hi = estimate_disparity_range(rgb_to_luma(right), rgb_to_luma(left))
    assert lo == pytest.approx(true_lo, abs=3.0) and hi == pytest.approx(true_hi, abs=3.0)
    flipped = estimate_disparity_range(rgb_to_luma(left)[:, ::-1], rgb_to_luma(right)[:, ::-1])
    assert flipped[0] == pytest.approx(lo, abs=1.0) and flipped[1] == pytest.approx(hi, abs=1.0)
    flat = np.full((100, 100), 0.5, np.float32)
    assert match_pair(flat, flat) is None
