import cv2
import numpy as np
import pytest

from dualcam.runtime.guided import guided_filter, guided_upsample


def slow_guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s algorithm pixel by pixel, reflect-101 borders (numpy's 'reflect')."""
    h, w = guide.shape
    g = np.pad(guide.astype(np.float64), r, mode="reflect")
    p = np.pad(src.astype(np.float64), r, mode="reflect")
    a = np.zeros((h, w))
    b = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            gw = g[y : y + 2 * r + 1, x : x + 2 * r + 1]
            pw = p[y : y + 2 * r + 1, x : x + 2 * r + 1]
            a[y, x] = ((gw * pw).mean() - gw.mean() * pw.mean()) / (gw.var() + eps)
            b[y, x] = pw.mean() - a[y, x] * gw.mean()
    a = np.pad(a, r, mode="reflect")
    b = np.pad(b, r, mode="reflect")
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            k = (slice(y, y + 2 * r + 1), slice(x, x + 2 * r + 1))
            out[y, x] = a[k].mean() * guide[y, x] + b[k].mean()
    return out


def test_matches_slow_reference():
    rng = np.random.default_rng(0)
    guide = rng.random((11, 14)).astype(np.float32)
    src = rng.random((11, 14, 2)).astype(np.float32)
    fast = guided_filter(guide, src, 2, 1e-2)
    assert fast.shape == src.shape and fast.dtype == np.float32
    for c in range(2):
        np.testing.assert_allclose(fast[..., c], slow_guided_filter(guide, src[..., c], 2, 1e-2), atol=1e-5)


def test_constant_source_unchanged():
    guide = np.random.default_rng(1).random((20, 30)).astype(np.float32)
    out = guided_filter(guide, np.full((20, 30), 0.3, np.float32), 4, 1e-3)
    np.testing.assert_allclose(out, 0.3, atol=1e-5)


def test_edge_preserved_where_box_blurs():
    step = np.zeros((32, 32), np.float32)
    step[:, 16:] = 1.0
    src = np.stack([step, 1.0 - step], axis=-1)
    out = guided_filter(step, src, 4, 1e-4)
    box = cv2.blur(src, (9, 9), borderType=cv2.BORDER_REFLECT_101)
    assert np.abs(out - src).max() < 0.01
    assert np.abs(box - src).max() > 0.3


def test_upsample_recovers_chroma_linear_in_guide():
    rng = np.random.default_rng(2)
    y = cv2.GaussianBlur(rng.random((64, 96)).astype(np.float32), (0, 0), 1.0)
    y = (y - y.min()) / (y.max() - y.min())
    cbcr = np.stack([0.5 + 0.3 * (y - 0.5), 0.5 - 0.2 * (y - 0.5)], axis=-1)
    low = cv2.resize(cbcr, (24, 16), interpolation=cv2.INTER_AREA)
    out = guided_upsample(y, low, eps=1e-6)
    bilinear = cv2.resize(low, (96, 64), interpolation=cv2.INTER_LINEAR)
    assert out.shape == cbcr.shape
    assert np.abs(out - cbcr).max() < 0.2 * np.abs(bilinear - cbcr).max()
    assert np.abs(out - cbcr).mean() < 1e-3


def test_upsample_keeps_constant_chroma_and_2d_input():
    y = np.random.default_rng(3).random((40, 60)).astype(np.float32)
    out = guided_upsample(y, np.full((20, 30), 0.6, np.float32))
    assert out.shape == (40, 60)
    np.testing.assert_allclose(out, 0.6, atol=1e-5)


def test_rejects_mismatched_sizes():
    with pytest.raises(ValueError):
        guided_filter(np.zeros((10, 10), np.float32), np.zeros((10, 11), np.float32), 2, 1e-3)


@pytest.mark.parametrize("height, strip_rows", [(1, 256), (5, 1), (257, 3), (700, 256)])
def test_the_chroma_filter_in_strips_is_the_whole_image_filter(height, strip_rows):
    from dualcam.runtime.chroma import filter_chroma
    from dualcam.runtime.guided import CHROMA_FILTER_EPS, CHROMA_FILTER_RADIUS

    rng = np.random.default_rng(height)
    mono = rng.random((height, 37), dtype=np.float32)
    cbcr = rng.random((height, 37, 2), dtype=np.float32)
    whole = guided_filter(mono, cbcr, CHROMA_FILTER_RADIUS, CHROMA_FILTER_EPS)
    np.testing.assert_allclose(filter_chroma(mono, cbcr, strip_rows), whole, atol=1e-6)
