import numpy as np
import pytest

from dualcam.model.metrics import cpsnr, rgb_psnr, ssim_rgb


def test_cpsnr_known_value_and_identity():
    true = np.full((8, 8, 2), 0.5, np.float32)
    assert cpsnr(true, true) == float("inf")
    assert cpsnr(true + 0.01, true) == pytest.approx(40.0, abs=1e-3)
    half = true.copy()
    half[..., 0] += 0.02  # MSE over both planes = 0.02^2 / 2
    assert cpsnr(half, true) == pytest.approx(10 * np.log10(2 / 0.02**2), abs=1e-3)


def test_cpsnr_wants_two_planes():
    with pytest.raises(ValueError):
        cpsnr(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))
    with pytest.raises(ValueError):
        cpsnr(np.zeros((4, 4, 2)), np.zeros((4, 5, 2)))


def test_rgb_psnr_and_ssim():
    rng = np.random.default_rng(0)
    true = rng.random((32, 32, 3)).astype(np.float32)
    assert rgb_psnr(true - 0.1, true) == pytest.approx(20.0, abs=1e-3)
    assert ssim_rgb(true, true) == pytest.approx(1.0)
    noisy = np.clip(true + 0.1 * rng.standard_normal(true.shape), 0, 1).astype(np.float32)
    assert 0.0 < ssim_rgb(noisy, true) < 0.99
