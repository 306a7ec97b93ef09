from dataclasses import replace

import numpy as np
import pytest

from dualcam.model.simulate import (
    CONSUMER_CAMERA,
    SETUPS,
    CameraModel,
    add_signal_dependent_noise,
    color_camera,
    shift_vertically,
    simulate_capture,
    simulate_training_capture,
)
from dualcam.runtime.color import LUMA_WEIGHTS, rgb_to_luma


@pytest.mark.parametrize("kappa", [0.04, 0.25, 0.64])
@pytest.mark.parametrize("sigma", [0.01, 0.07])
def test_noise_std_is_sigma_sqrt_kappa(kappa, sigma):
    img = np.full((400, 500), kappa, np.float32)
    noisy = add_signal_dependent_noise(img, sigma, np.random.default_rng(0))
    assert noisy.dtype == np.float32
    assert np.std(noisy - img) == pytest.approx(sigma * np.sqrt(kappa), rel=0.02)
    assert np.mean(noisy - img) == pytest.approx(0.0, abs=3 * sigma * np.sqrt(kappa) / 400)


def test_noise_is_clipped_and_zero_at_black():
    img = np.concatenate([np.zeros((50, 50)), np.ones((50, 50))]).astype(np.float32)
    noisy = add_signal_dependent_noise(img, 0.07, np.random.default_rng(1))
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert np.all(noisy[:50] == 0.0)


def _views(seed=0, shape=(120, 160, 3)):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 0.9, shape).astype(np.float32), rng.uniform(0.1, 0.9, shape).astype(np.float32)


@pytest.mark.parametrize("setup", [1, 2])
def test_simulate_capture_follows_design(setup):
    mono_view, color_view = _views()
    mono, color = simulate_capture(mono_view, color_view, setup, seed=3)
    assert mono.shape == mono_view.shape[:2] and color.shape == color_view.shape
    assert mono.dtype == np.float32 and color.dtype == np.float32
    y = rgb_to_luma(mono_view)
    mono_sigma, color_sigma = SETUPS[setup]
    assert np.std((mono - y) / np.sqrt(y)) == pytest.approx(mono_sigma, rel=0.05)
    assert np.std((color - color_view) / np.sqrt(color_view)) == pytest.approx(color_sigma, rel=0.05)


def test_simulate_capture_is_deterministic_in_seed():
    mono_view, color_view = _views()
    a = simulate_capture(mono_view, color_view, 1, seed=5)
    b = simulate_capture(mono_view, color_view, 1, seed=5)
    c = simulate_capture(mono_view, color_view, 1, seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_mono_weights_near_bt601_and_normalised():
    rng = np.random.default_rng(0)
    for _ in range(50):
        w = CameraModel().mono_weights(rng)
        assert w.sum() == pytest.approx(1.0, abs=1e-6)
        assert np.all(w > 0) and np.abs(w - LUMA_WEIGHTS).max() < 0.25


def test_training_capture_ranges_and_reproducibility():
    mono_view, color_view = _views()
    a = simulate_training_capture(mono_view, color_view, np.random.default_rng(7))
    b = simulate_training_capture(mono_view, color_view, np.random.default_rng(7))
    assert a[0].shape == (120, 160) and a[1].shape == (120, 160, 3)
    for x in a:
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_array_equal(a[1], b[1])


def test_training_capture_without_variation_is_setup_noise():
    mono_view, color_view = _views()
    mono, color = simulate_training_capture(mono_view, color_view, np.random.default_rng(0), CameraModel.ideal())
    y = rgb_to_luma(mono_view)
    assert np.std((mono - y) / np.sqrt(y)) == pytest.approx(0.01, rel=0.05)
    assert np.std((color - color_view) / np.sqrt(color_view)) == pytest.approx(0.03, rel=0.05)


def test_shift_vertically_moves_content_down():
    img = np.arange(20 * 8, dtype=np.float32).reshape(20, 8)
    np.testing.assert_allclose(shift_vertically(img, 2.0)[5:], img[3:-2])
    np.testing.assert_allclose(shift_vertically(img, 0.5)[5:15], 0.5 * (img[4:14] + img[5:15]), atol=1e-3)
    rgb = np.repeat(img[..., None], 3, axis=2)
    assert shift_vertically(rgb, 0.3).shape == rgb.shape


def test_ideal_color_camera_changes_nothing():
    _, color_view = _views()
    out = color_camera(color_view, np.random.default_rng(0), CameraModel.ideal())
    np.testing.assert_allclose(out, color_view, atol=1e-6)


def _smooth_scene(shape=(96, 128)):
    y, x = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    return np.dstack([0.2 + 0.6 * x / shape[1], 0.3 + 0.4 * y / shape[0], 0.5 + 0.2 * np.sin(x / 9)]).astype(np.float32)


def test_each_color_camera_effect_acts_alone():
    view = _smooth_scene()
    ideal = CameraModel.ideal()

    def run(**changes):
        return color_camera(view, np.random.default_rng(1), replace(ideal, **changes))

    vignetted = run(vignetting=(0.3, 0.3))
    assert vignetted[48, 64].mean() == pytest.approx(view[48, 64].mean(), abs=0.01)  # centre untouched
    np.testing.assert_allclose(vignetted[0, 0], view[0, 0] * 0.7, rtol=0.03)  # a corner darkened by v
    jpeg = run(p_jpeg=1.0, jpeg_quality=(70, 70))
    assert 0 < np.abs(jpeg - view).mean() < 0.02
    balanced = run(white_balance=(1.05, 1.05))
    np.testing.assert_allclose(balanced[..., 1], view[..., 1], atol=1e-6)  # green is the reference
    np.testing.assert_allclose(balanced[..., 0], np.clip(view[..., 0] * 1.05, 0, 1), rtol=1e-5)
    # A lower-resolution sensor loses fine detail but keeps smooth content.
    stripes = view.copy()
    stripes[:, ::2] *= 0.5
    soft = color_camera(stripes, np.random.default_rng(1), replace(ideal, p_low_resolution=1.0, low_resolution=(2, 2)))
    assert np.abs(np.diff(soft[..., 0], axis=1)).mean() < 0.5 * np.abs(np.diff(stripes[..., 0], axis=1)).mean()


def test_consumer_capture_is_deterministic_and_degrades_only_the_color_view():
    mono_view, color_view = _views()
    plain = simulate_capture(mono_view, color_view, 1, seed=5)
    consumer = simulate_capture(mono_view, color_view, 1, seed=5, camera=CONSUMER_CAMERA)
    again = simulate_capture(mono_view, color_view, 1, seed=5, camera=CONSUMER_CAMERA)
    np.testing.assert_array_equal(plain[0], consumer[0])  # the mono camera is the same
    np.testing.assert_array_equal(consumer[1], again[1])
    assert np.abs(consumer[1] - plain[1]).mean() > 0.01


def test_roll_turns_about_the_centre():
    img = np.zeros((41, 41), np.float32)
    img[20, :] = 1.0  # a horizontal line through the centre
    turned = shift_vertically(img, 0.0, degrees=10.0)
    assert turned[20, 20] > 0.5  # the centre stays
    rows = np.argmax(turned[:, [5, 35]], axis=0)
    assert rows[0] != rows[1]  # the line is no longer horizontal
