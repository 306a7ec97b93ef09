"""Tiles fitted to each pair and to its memory budget, and the planes a pair holds at full resolution."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dualcam.runtime.errors import InputError
from dualcam.runtime.manifest import SHIPPED_MODELS, ModelSpec, choose_model
from dualcam.runtime.pair import load_pair
from dualcam.runtime.planner import TILE_FRACTIONS, estimate_peaks, plan_memory
from dualcam.runtime.session import OrtModel
from dualcam.runtime.tiling import MIN_TILE, tile_starts

SPEC = ModelSpec.for_tile(256, 512, 64, dynamic=True, stride=16)
SAMPLES = SHIPPED_MODELS.parent / "samples"


@pytest.mark.parametrize("height, width", [(40, 50), (300, 700), (500, 741), (256, 512), (1423, 2109), (2000, 3000)])
def test_a_fitted_tile_covers_the_frame_in_as_many_tiles_with_no_more_pixels(height, width):
    fitted = SPEC.fitted(height, width)
    full = SPEC.grid(height, width)
    grid = fitted.grid(height, width)
    assert len(grid) <= len(full)
    assert fitted.tile_height % 16 == fitted.tile_width % 16 == 0
    assert MIN_TILE <= fitted.tile_height <= 256 and MIN_TILE <= fitted.tile_width <= 512
    assert len(grid) * fitted.reference_pixels <= len(full) * SPEC.reference_pixels
    # every row and column of the frame is inside a tile
    assert grid.rows[-1] + fitted.tile_height >= height and grid.cols[-1] + fitted.tile_width >= width
    if (height, width) == (300, 700):  # two tiles a side either way, each just large enough
        assert (fitted.tile_height, fitted.tile_width) == (176, 368)


def test_a_fixed_tile_is_never_changed():
    static = ModelSpec.for_tile(256, 512, 64)
    assert static.fitted(300, 700) is static and static.fitted(300, 700, 0.5) is static
    with pytest.raises(InputError, match="memory_budget_mb"):
        plan_memory((3000, 4000), (3000, 4000), "int8", static, 300)


def test_a_short_budget_shrinks_the_tile_before_it_refuses():
    shape, frame = (3000, 4000), (1050, 1400)
    options = [(fraction, arena, estimate_peaks(shape, frame, "int8", SPEC.fitted(*frame, fraction))[arena])
               for fraction in TILE_FRACTIONS for arena in (True, False)]  # fastest first
    budgets = sorted({round(peak) + 1 for _, _, peak in options}, reverse=True)
    tiles = set()
    for budget in budgets:
        plan = plan_memory(shape, frame, "int8", SPEC, budget)
        fraction, arena, peak = next(option for option in options if option[2] <= budget)
        assert (plan.memory_arena, plan.spec, plan.estimated_peak_mb) == (arena, SPEC.fitted(*frame, fraction), round(peak))
        tiles.add((plan.spec.tile_height, plan.spec.tile_width))
    assert len(tiles) == len(TILE_FRACTIONS)  # each tile is chosen by some budget
    assert min(tiles)[0] >= round(256 * TILE_FRACTIONS[-1])
    leanest = min(peak for _, _, peak in options)
    with pytest.raises(InputError, match="memory_budget_mb"):
        plan_memory(shape, frame, "int8", SPEC, math.floor(leanest) - 1)
    least = plan_memory(shape, None, "int8", SPEC, 100_000)  # before the working scale is known: the least it could need
    assert least.estimated_peak_mb <= leanest
    with pytest.raises(InputError, match="needs at least"):
        plan_memory(shape, None, "int8", SPEC, least.estimated_peak_mb - 1)


def test_the_shipped_cpu_models_take_any_tile_and_agree_with_themselves_across_tiles():
    """A dynamic model on a smaller tile computes what it does on the export tile, away from the tile's edges."""
    model = OrtModel.load("int8", provider="cpu")
    assert model.choice.spec.dynamic and not choose_model("mobile").spec.dynamic
    rng = np.random.default_rng(0)
    mono = rng.random((256, 512), dtype=np.float32)
    ref = np.concatenate([mono, rng.random((256, 64), dtype=np.float32)], axis=1)  # the mono image at disparity 0
    cbcr = rng.random((256, 576, 2), dtype=np.float32)
    whole = model(mono, ref, cbcr)
    part = model(mono[64:192, 128:384], ref[64:192, 128:448], cbcr[64:192, 128:448])
    assert part.shape == (128, 256, whole.shape[2])
    inner = np.abs(part[32:96, 32:192] - whole[96:160, 160:320])
    assert np.median(inner) < 0.01


def test_a_small_pair_runs_on_tiles_its_size(tmp_path):
    from dualcam.runtime.colorize import colorize

    image, report = colorize(SAMPLES / "motorcycle_mono.png", SAMPLES / "motorcycle_color.png", provider="cpu")
    height, width = (int(n) for n in report.tiles["frame"].split("x"))
    tile_height, tile_width = (int(n) for n in report.tiles["tile"].split("x"))
    assert (tile_height, tile_width) != (256, 512)  # 741x500 at scale 1: 2x3 tiles of 256x512 would cover 1.6x it
    assert report.tiles["count"] == len(tile_starts(height, 256, 32)) * len(tile_starts(width, 512, 32))
    assert image.shape == (500, 741, 3)


def test_the_colour_image_keeps_its_samples_and_colours_as_its_floats_do():
    mono, color = SAMPLES / "motorcycle_mono.png", SAMPLES / "motorcycle_color.png"
    pair = load_pair(mono, color)
    assert pair.color_rgb.dtype == np.uint8 and pair.mono_y.dtype == np.float32
    from dualcam.runtime.colorize import colorize

    as_samples, _ = colorize(mono, pair.color_rgb, provider="cpu")
    as_floats, _ = colorize(mono, pair.color_rgb.astype(np.float32) / 255, provider="cpu")
    assert np.abs(as_samples.astype(int) - as_floats).max() <= 1


def test_other_cpus_get_the_larger_session_terms():
    from dualcam.runtime.planner import AVX2_SESSION_KB_PER_TILE_PIXEL, SESSION_KB_PER_TILE_PIXEL

    assert AVX2_SESSION_KB_PER_TILE_PIXEL.keys() == SESSION_KB_PER_TILE_PIXEL.keys()
    assert all(SESSION_KB_PER_TILE_PIXEL[key] > kb for key, kb in AVX2_SESSION_KB_PER_TILE_PIXEL.items())
    frame = (1050, 1400)
    assert all(estimate_peaks((3000, 4000), frame, "int8", SPEC, avx2=False)[arena]
               > estimate_peaks((3000, 4000), frame, "int8", SPEC, avx2=True)[arena] for arena in (True, False))
