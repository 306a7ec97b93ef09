import os

import cv2
import numpy as np
import pytest

from dualcam.model.synthetic import PHOTO_TEXTURES, SceneConfig, available_photos, sample

CFG = SceneConfig()
SEED = 1234


@pytest.fixture(scope="module")
def samples():
    return [sample(SEED, i, CFG) for i in range(16)]


def warp_left_to_right(s) -> np.ndarray:
    """The left view sampled bilinearly at x + d_right: the right view wherever it is not occluded."""
    h, w = s.disp_right.shape
    mx = np.arange(w, dtype=np.float32) + s.disp_right
    my = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, axis=1)
    return cv2.remap(s.left, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def inside_left(s) -> np.ndarray:
    """Right pixels whose match x + d lies on the left image, with a margin for rounding."""
    return np.arange(s.disp_right.shape[1]) + s.disp_right < s.disp_right.shape[1] - 1.001


def test_deterministic():
    a, b, c = sample(7, 3, CFG), sample(7, 3, CFG), sample(7, 4, CFG)
    for name in ("left", "right", "disp_right", "occluded_right", "disp_left"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.left, c.left)
    assert not np.array_equal(a.disp_right, c.disp_right)


@pytest.mark.parametrize("cfg", [CFG, SceneConfig(height=96, width=160, max_disparity=24.0)])
def test_shapes_dtypes_ranges(cfg):
    for i in range(4):
        s = sample(SEED, i, cfg)
        h, w = cfg.height, cfg.width
        for img in (s.left, s.right):
            assert img.shape == (h, w, 3) and img.dtype == np.float32
            assert np.isfinite(img).all() and img.min() >= 0 and img.max() <= 1
        for disp in (s.disp_right, s.disp_left):
            assert disp.shape == (h, w) and disp.dtype == np.float32
            assert disp.min() >= 0 and disp.max() < cfg.max_disparity
        assert s.occluded_right.shape == (h, w) and s.occluded_right.dtype == bool


def test_disparities_cover_the_range(samples):
    disp = np.stack([s.disp_right for s in samples])
    share = np.histogram(disp, bins=8, range=(0, CFG.max_disparity))[0] / disp.size
    assert share.min() > 0.01, share
    assert share[-2:].sum() > 0.1, share  # large disparities are common, not a rare tail


def test_right_pixel_x_matches_left_pixel_x_plus_d(samples):
    err = np.concatenate([
        np.abs(warp_left_to_right(s) - s.right).max(-1)[~s.occluded_right] for s in samples])
    assert np.median(err) < 0.005
    assert np.percentile(err, 90) < 0.05  # object edges and fine texture are resampled twice


def test_occlusions_are_real(samples):
    mismatched = total = 0
    for s in samples:
        assert s.occluded_right.mean() > 0.01
        off_image = np.arange(s.disp_right.shape[1]) + s.disp_right > s.disp_right.shape[1] - 0.999
        assert s.occluded_right[off_image].all()
        hidden = s.occluded_right & inside_left(s)
        err = np.abs(warp_left_to_right(s) - s.right).max(-1)[hidden]
        mismatched, total = mismatched + (err > 0.03).sum(), total + hidden.sum()
    assert total > 0.01 * samples[0].occluded_right.size * len(samples)
    assert mismatched > 0.8 * total  # the left view shows a nearer object there


def test_layers_are_nearer_in_front(samples):
    """Where a right pixel is hidden in the left view, the left view there shows a larger disparity."""
    for s in samples:
        hidden = s.occluded_right & inside_left(s)
        ys, xs = np.nonzero(hidden)
        x_left = np.round(xs + s.disp_right[ys, xs]).astype(int).clip(0, s.disp_left.shape[1] - 1)
        assert np.median(s.disp_left[ys, x_left] - s.disp_right[ys, xs]) > 0


def test_no_evaluation_images_as_textures():
    assert not any("motorcycle" in name for name in PHOTO_TEXTURES)
    assert available_photos() and {os.path.basename(p) for p in available_photos()} <= set(PHOTO_TEXTURES)
