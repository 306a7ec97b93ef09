import cv2
import numpy as np
import pytest
from skimage.data import stereo_motorcycle

from dualcam.model.baselines import fill_from_background, nowarp, sgbm, sgbm_gf, warp_by_disparity
from dualcam.model.metrics import cpsnr
from dualcam.model.simulate import simulate_capture
from dualcam.runtime.color import rgb_to_luma, rgb_to_ycbcr


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
