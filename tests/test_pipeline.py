"""One pipeline: every entry point colours a pair the same way, and the Arrangement maps into the network's frame
and back exactly."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from dualcam.runtime import geometry
from dualcam.runtime.arrangement import Arrangement
from dualcam.runtime.cli import main
from dualcam.runtime.color import rgb_to_ycbcr
from dualcam.runtime.colorize import Colorizer, colorize
from dualcam.runtime.pair import load_pair
from dualcam.runtime.session import OrtModel

SAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "samples"


def sample(crop: tuple[slice, slice] = (slice(None), slice(None))) -> tuple[np.ndarray, np.ndarray]:
    """(mono uint8, colour RGB uint8) of the bundled pair."""
    mono = cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE)[crop]
    return mono, cv2.imread(str(SAMPLES / "motorcycle_color.png"))[crop][..., ::-1]


def test_dualcam_run_dualcam_eval_and_the_api_give_identical_outputs(tmp_path):
    from dualcam.model.evaluate import runtime_method

    mono, color = sample((slice(120, 376), slice(40, 500)))
    mono16, color16 = (x.astype(np.uint16) * 257 for x in (mono, color))
    cv2.imwrite(str(tmp_path / "m.png"), mono16)
    cv2.imwrite(str(tmp_path / "c.png"), color16[..., ::-1])
    assert main([str(tmp_path / "m.png"), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png"), "-q"]) == 0
    cli = cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    api, report = colorize(mono16, color16)
    assert api.dtype == cli.dtype == np.uint16 and report.model["role"] == "int8"
    np.testing.assert_array_equal(api, cli)
    # dualcam-eval hands the pipeline 16-bit samples and reads Cb/Cr back from its 16-bit RGB
    evaluated = runtime_method("int8")(mono16 / np.float32(65535), color16 / np.float32(65535))
    np.testing.assert_array_equal(evaluated, rgb_to_ycbcr(api.astype(np.float32) / 65535)[..., 1:])


def test_the_torch_path_is_the_fp32_runtime_on_a_flipped_scaled_many_tile_pair():
    """The torch network and its fp32 export, each as the pipeline's tile function, on a pair that needs a flip (the
    colour camera on the right), a reduced working scale (disparities up to ~116 px for d = 64) and several tiles."""
    from dualcam.model.checkpoint import load_model
    from dualcam.model.predict import TorchModel

    mono, color = (cv2.resize(x, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)[:, ::-1] for x in sample())
    pair = load_pair(np.ascontiguousarray(mono), np.ascontiguousarray(color))
    torch_image, torch_report = Colorizer(TorchModel(load_model()))(pair)
    onnx_image, onnx_report = Colorizer(OrtModel.load("fp32"))(pair)
    assert torch_report.flipped and torch_report.chroma_scale < 0.6 and torch_report.tiles["count"] >= 4
    assert (torch_report.chroma_scale, torch_report.tiles) == (onnx_report.chroma_scale, {
        k: v for k, v in onnx_report.tiles.items() if k in torch_report.tiles})
    difference = np.abs(torch_image.astype(int) - onnx_image.astype(int))
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01  # float rounding of two equal graphs


def test_geometry_matches_once_and_verifies_a_correction_once(monkeypatch):
    from dualcam.runtime.manifest import ModelSpec

    calls = []
    matched = geometry.sift_matches
    monkeypatch.setattr(geometry, "sift_matches", lambda *a, **k: calls.append(a[0].shape) or matched(*a, **k))
    mono, color = sample()
    spec = ModelSpec.for_tile(256, 512, 64)
    geometry.measure(load_pair(mono, color), spec)
    assert len(calls) == 1  # a rectified pair of one size: nothing to correct, nothing to verify
    calls.clear()
    small = cv2.resize(color, (556, 375), interpolation=cv2.INTER_AREA)
    measured = geometry.measure(load_pair(mono, small), spec)
    assert len(calls) == 2 and max(calls[1]) <= 800  # the correction verified at the matching resolution
    assert measured.checks["after"].rectified and measured.arrangement.color_to_mono is not None


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("flipped", [False, True])
def test_restore_undoes_the_arrangement_at_full_scale(transposed, flipped):
    image = np.random.default_rng(0).random((37, 53), dtype=np.float32)
    arrangement = Arrangement(image.shape, transposed, flipped)
    into = arrangement.mono(image)
    assert into.shape == ((53, 37) if transposed else (37, 53)) == arrangement.shape
    np.testing.assert_array_equal(arrangement.restore(into), image)
    rgb = np.dstack([image, image[::-1], image[:, ::-1]])
    np.testing.assert_allclose(arrangement.restore(arrangement.reference(rgb)), rgb_to_ycbcr(rgb), atol=1e-7)


def test_the_reference_is_warped_onto_the_mono_grid_and_the_rest_is_unseen():
    ys, xs = np.mgrid[0:40, 0:60].astype(np.float32)
    color = np.dstack([xs / 60, ys / 40, 0.5 + 0.4 * np.sin(xs / 7)])  # smooth: resampling twice keeps it
    half = np.array([[2.0, 0, 0.5], [0, 2.0, 0.5]])  # a colour camera at half the resolution, centres aligned
    arrangement = Arrangement((100, 120), color_to_mono=half, color_shape=(40, 60), scale=0.5, flipped=True)
    reference = arrangement.reference(color)
    assert reference.shape == (50, 60, 3) == arrangement.shape + (3,)
    seen = arrangement.seen()
    assert seen.shape == (50, 60) and seen[:40].all() and not seen[41:].any()  # rows 80..99 are beyond its view
    np.testing.assert_allclose(reference[:40, ::-1], rgb_to_ycbcr(color), atol=0.01)  # at half size, flipped


@pytest.mark.parametrize("disparities, scale, offset", [
    ((3.0, 40.0), 1.0, 0),  # fits from 0: unchanged
    ((1.1, 69.4), 54.4 / 69.4, 0),  # starts near 0: moving the window would not raise the scale
    ((-0.5, 50.0), 1.0, 0),  # within a px of the first candidate (checked below with that px)
    ((44.0, 90.0), 1.0, 39),  # a close-up: its span fits at full scale once the window starts at 44 - 5
    ((100.0, 300.0), 48.4 / 200, 24 - 5),  # a wide baseline: the span decides the scale
    ((-20.0, 30.0), 48.4 / 50, -20 - 5),  # converging lenses: negative disparities get candidates too
])
def test_the_candidate_window_fits_the_span_of_the_disparities(disparities, scale, offset):
    from dualcam.runtime.scale import candidate_window, low_slack

    assert low_slack(64) == 5
    got_scale, got_offset = candidate_window(disparities, 64)
    assert (got_scale, got_offset) == (pytest.approx(scale), offset)
    lowest, largest = (got_scale * v for v in disparities)
    assert got_offset <= lowest + 1 and largest - got_offset <= 0.85 * 64 + 1e-9  # the range inside the candidates
    assert candidate_window(disparities, 64, max_scale=0.25)[0] == min(scale, 0.25)
    assert candidate_window(None, 64) == (1.0, 0)


def test_tile_windows_keep_full_scale_where_each_tile_sees_a_slice_of_the_pair_range():
    """A ground plane: a real texture (Middlebury Motorcycle, upscaled) whose disparity grows from 0 at the top row to
    80 px at the bottom one. The pair's range fits the candidates only at scale 0.69; each tile sees 17 px of it, so
    with its own window every tile fits at full scale, and the colours are better for it."""
    from skimage.data import stereo_motorcycle

    from dualcam.model.metrics import cpsnr
    from dualcam.runtime.chroma import merge, predict

    height, width, slope = 1200, 320, 80
    texture = cv2.resize(stereo_motorcycle()[0], (1482, height), interpolation=cv2.INTER_CUBIC)[:, : width + slope]
    rows = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], (height, width))
    columns = np.arange(width, dtype=np.float32)[None, :] + slope * (1 - rows / (height - 1))  # disparity 80 y / H
    color = np.dstack([cv2.remap(np.ascontiguousarray(texture[..., c]), columns, rows, cv2.INTER_LINEAR) for c in range(3)])
    mono_rgb = texture[:, slope:]
    pair = load_pair(cv2.cvtColor(mono_rgb, cv2.COLOR_RGB2GRAY), color)
    session = OrtModel.load()
    measured = geometry.measure(pair, session.spec)
    tiles = measured.arrangement
    shifts = [shift for shift, _ in tiles.tile_windows(session.spec.grid(*tiles.shape))]
    scale, offset = session.spec.window(measured.disparities)
    assert measured.disparities[1] > 75 and scale < 0.75 and tiles.scale == 1.0
    assert shifts[0] == 0 and shifts == sorted(shifts) and shifts[-1] > 20  # nearer rows, later candidates
    truth = rgb_to_ycbcr(mono_rgb.astype(np.float32) / 255)[..., 1:]
    quality = {}
    for name, arrangement in (("tiles", tiles), ("pair", replace(tiles, scale=scale, offset=offset, samples=None))):
        image = merge(pair.mono_y, predict(pair.mono_y, pair.color_rgb, arrangement, session).cbcr, 8)
        quality[name] = cpsnr(rgb_to_ycbcr(image.astype(np.float32) / 255)[..., 1:], truth)
    assert quality["tiles"] > quality["pair"] + 0.5, quality  # measured: +1.1 dB


@pytest.mark.parametrize("low, high, expected", [
    (5, 40, (0, True)),  # within the pair's window
    (30, 70, (70 - 54, True)),  # beyond it: the least shift that reaches the largest (0.85 * 64 = 54.4)
    (10, 90, (10 - 5, False)),  # a span too wide for d: starts low_slack below the smallest, reported as not fitting
    (-4, 20, (0, False)),  # below the pair's window
])
def test_a_tile_window_shifts_only_as_far_as_its_largest_disparity_needs(low, high, expected):
    from dualcam.runtime.scale import TILE_WINDOW_MIN_MATCHES, tile_window

    assert tile_window(np.linspace(low, high, 50), 64) == expected
    assert tile_window(np.linspace(low, high, TILE_WINDOW_MIN_MATCHES - 1), 64) == (0, False)  # too few to know


def test_the_offset_moves_the_reference_by_whole_columns():
    rgb = np.random.default_rng(1).random((6, 20, 3), dtype=np.float32)
    plain = Arrangement((6, 20)).reference(rgb)
    for offset in (7, -3):
        moved = Arrangement((6, 20), offset=offset).reference(rgb)
        columns = np.clip(np.arange(20) + offset, 0, 19)
        np.testing.assert_array_equal(moved, plain[:, columns])


@pytest.mark.parametrize("shift", [40, -14])
def test_a_close_up_and_a_converging_pair_keep_their_scale_and_colour_better(shift):
    """The motorcycle pair at half size (disparities 4..30 px) with the colour view moved by `shift` px: 44..70 px
    (a close-up; from 0 the scale would drop to 0.78) or -10..16 px (converging lenses, out of reach from 0). The
    window that starts at the pair's own smallest disparity colours it better than candidates from 0."""
    from skimage.data import stereo_motorcycle

    from dualcam.model.metrics import cpsnr
    from dualcam.runtime.chroma import merge, predict

    left, right, _ = (cv2.resize(v, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for v in stereo_motorcycle())
    left, right = (left[:, :-shift], right[:, shift:]) if shift > 0 else (left[:, -shift:], right[:, :shift])
    truth = rgb_to_ycbcr(right.astype(np.float32) / 255)[..., 1:]
    pair = load_pair(cv2.cvtColor(right, cv2.COLOR_RGB2GRAY), left)
    session = OrtModel.load()
    measured = geometry.measure(pair, session.spec)
    window = measured.arrangement
    lowest, largest = measured.disparities
    if shift > 0:
        assert lowest > 40 and window.scale == 1.0 and window.offset > 30
        from_zero = replace(window, offset=0, scale=session.spec.range_margin * 64 / largest)
    else:
        assert lowest < -5 and window.offset < -5
        from_zero = replace(window, offset=0)
    quality = {}
    for name, arrangement in (("window", window), ("from zero", from_zero)):
        image = merge(pair.mono_y, predict(pair.mono_y, pair.color_rgb, arrangement, session).cbcr, 8)
        quality[name] = cpsnr(rgb_to_ycbcr(image.astype(np.float32) / 255)[..., 1:], truth)
    assert quality["window"] > quality["from zero"] + 0.3, quality  # measured: +0.63 (close-up), +4.3 dB
