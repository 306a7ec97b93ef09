"""Golden vectors for the Kotlin core, written by the Python runtime itself.

    python android_demo/tools/golden.py [--out android_demo/core/src/test/resources/golden.json]

The JUnit tests of `core` compare against this file, and tests/test_android_core.py regenerates it and
compares it with the committed copy, so the Kotlin port and dualcam.runtime cannot drift apart unnoticed.
Every value is computed by the runtime's own functions; the pipeline cases run its stages themselves
(`chroma.predict`, `chroma.merge`) with a probe function as the model. Images are small and random with a
fixed seed; floats are written as the shortest decimal that reads back to the same float32.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from dualcam.runtime.arrangement import Arrangement
from dualcam.runtime.chroma import filter_chroma, merge, predict
from dualcam.runtime.color import rgb_to_ycbcr, ycbcr_to_rgb
from dualcam.runtime.errors import InputError
from dualcam.runtime.guided import (CHROMA_FILTER_EPS, CHROMA_FILTER_RADIUS, UPSAMPLE_EPS, UPSAMPLE_RADIUS,
                                    guided_upsample)
from dualcam.runtime.manifest import SHIPPED_MODELS, ModelSpec, load_manifest, manifest_spec
from dualcam.runtime.planner import plan_memory
from dualcam.runtime.tiling import ramp_weights, tile_starts

GOLDEN = Path(__file__).resolve().parent.parent / "core" / "src" / "test" / "resources" / "golden.json"
SEED = 9


def floats(a: np.ndarray) -> list:
    """The shortest decimals that read back as the same float32 values (JSON stays small)."""
    return [float(np.format_float_positional(v, unique=True, trim="-")) for v in np.asarray(a, np.float32).ravel()]


def image(a: np.ndarray) -> dict:
    """(H, W) or (H, W, C) float32 -> {height, width, channels, data} in the Kotlin FloatImage layout."""
    a = np.asarray(a, np.float32)
    return {"height": a.shape[0], "width": a.shape[1], "channels": 1 if a.ndim == 2 else a.shape[2], "data": floats(a)}


class ProbeModel:
    """A fixed function of a tile's inputs standing in for the network (the Kotlin tests' ProbeBackend computes
    the same): it reads the mono tile, the reference at a shift and every column's position in its tile, so tiles
    disagree where they overlap and the blend, the windows and the edge replication all show in the result."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    def __call__(self, mono: np.ndarray, ref_y: np.ndarray, ref_cbcr: np.ndarray) -> np.ndarray:
        h, w = mono.shape
        shift = (ref_y.shape[1] - w) // 2
        position = np.arange(w, dtype=np.float32) / np.float32(w)
        cb = mono * np.float32(0.5) + ref_y[:, shift : shift + w] * np.float32(0.25) + position * np.float32(0.1)
        cr = ref_cbcr[:, shift : shift + w, 1] - mono * np.float32(0.125) + ref_cbcr[:, :w, 0] * np.float32(0.25)
        return np.stack([cb, cr], axis=-1).astype(np.float32)


def generate() -> dict:
    rng = np.random.default_rng(SEED)
    golden: dict = {"seed": SEED}

    rgb = rng.random((64, 3), dtype=np.float32)
    ycbcr = rng.random((64, 3), dtype=np.float32)  # many of these lie outside the RGB gamut: clipping shows
    golden["color"] = {"rgb": floats(rgb), "ycbcr": floats(rgb_to_ycbcr(rgb)), "any_ycbcr": floats(ycbcr),
                       "to_rgb_clipped": floats(ycbcr_to_rgb(ycbcr)), "to_rgb": floats(ycbcr_to_rgb(ycbcr, clip=False))}

    manifest = load_manifest(SHIPPED_MODELS)
    spec = manifest_spec(manifest)
    golden["working_scale"] = {"range_margin": spec.range_margin, "min_scale": spec.min_scale, "cases": [
        {"measured": m, "max_disparity": d, "scale": ModelSpec(256, 512, d, 32).working_scale(m)}
        for d in (32, 64, 96) for m in (None, 0.0, 10.0, 54.4, 58.176414835175194, 80.0, 200.0, 2000.0)]}

    golden["tile_starts"] = [
        {"length": n, "tile": t, "overlap": o, "starts": tile_starts(n, t, o)}
        for t, o in ((256, 32), (512, 32), (64, 16), (33, 8)) for n in (1, 17, 33, 100, 255, 256, 257, 300, 511, 512, 513, 700, 1000, 3001)]

    golden["ramp_weights"] = []
    for n, t, o in ((300, 256, 32), (700, 256, 32), (1000, 512, 32), (100, 33, 8), (40, 64, 16), (1500, 256, 32)):
        starts = tile_starts(n, t, o)
        golden["ramp_weights"].append({"length": n, "tile": t, "starts": starts,
                                       "weights": [floats(w) for w in ramp_weights(starts, t, n)]})

    golden["memory_plans"] = []
    for height, width in ((64, 64), (500, 741), (741, 500), (1080, 1920), (1352, 1750), (3000, 4000), (6000, 8000)):
        for color_pixels in (None, 2 * height * width):
            for role in ("int8", "fp32", "mobile", "int8_ort", "mobile_ort", "custom"):
                for budget in (512, 1300, 2048, 8192):
                    case = {"height": height, "width": width, "color_pixels": color_pixels, "role": role,
                            "budget_mb": budget}
                    color_shape = None if color_pixels is None else (2 * height, width)
                    try:
                        plan = plan_memory((height, width), role, spec, budget, color_shape)
                        case.update(memory_arena=plan.memory_arena, estimated_peak_mb=plan.estimated_peak_mb)
                    except InputError as error:
                        case["error"] = error.problem
                    golden["memory_plans"].append(case)
    golden["grids"] = []
    for height, width in ((64, 64), (500, 741), (741, 500), (1080, 1920), (3000, 4000), (4000, 3000), (6000, 8000)):
        for scale in (1.0, 0.9351, 0.5, 0.125):
            for transposed in (False, True):
                shape = Arrangement((height, width), transposed=transposed, scale=scale).shape
                grid = spec.grid(*shape)
                golden["grids"].append({"height": height, "width": width, "scale": scale, "transposed": transposed,
                                        "grid": {"height": grid.height, "width": grid.width, "rows": grid.rows,
                                                 "cols": grid.cols, "overlap": grid.overlap}})

    small = rng.random((23, 31, 2), dtype=np.float32)
    golden["filters"] = {"image": image(small), "area": [], "linear": [], "box": []}
    for h, w in ((23, 31), (21, 29), (11, 15), (17, 30), (5, 7), (1, 1)):
        golden["filters"]["area"].append(image(cv2.resize(small, (w, h), interpolation=cv2.INTER_AREA)))
    for w in (41, 37, 4):  # rows only: the runtime's guided upsampling interpolates between rows itself
        golden["filters"]["linear"].append(image(cv2.resize(small, (w, small.shape[0]), interpolation=cv2.INTER_LINEAR)))
    for radius in (1, 2, 4):
        golden["filters"]["box"].append({"radius": radius, "result": image(
            cv2.boxFilter(small, -1, (2 * radius + 1,) * 2, normalize=True, borderType=cv2.BORDER_REFLECT_101))})

    guide = rng.random((31, 43), dtype=np.float32)
    low = rng.random((24, 33, 2), dtype=np.float32)
    golden["guided_upsample"] = {"radius": UPSAMPLE_RADIUS, "eps": UPSAMPLE_EPS, "guide": image(guide), "low": image(low),
                                 "result": image(guided_upsample(guide, low))}
    guide = rng.random((24, 33), dtype=np.float32)
    golden["chroma_filter"] = {"radius": CHROMA_FILTER_RADIUS, "eps": CHROMA_FILTER_EPS, "guide": image(guide),
                               "chroma": image(low), "result": image(filter_chroma(guide, low))}

    # The pipeline once the pair's arrangement is known, as dualcam-run runs it (chroma.predict, chroma.merge), with
    # the probe as the model (a tile of 16x32 with d = 8): into the network's frame, tiles, blend, chroma filter,
    # back, guided upsampling and the merge into 8-bit RGB.
    mono = rng.random((24, 40), dtype=np.float32)
    color = rng.random((24, 40, 3), dtype=np.float32)
    probe = ProbeModel(ModelSpec.for_tile(16, 32, 8))
    golden["pipeline"] = {"tile_height": 16, "tile_width": 32, "max_disparity": 8, "overlap": probe.spec.overlap,
                          "mono": image(mono), "color": image(color), "cases": []}
    for transposed in (False, True):
        for flipped in (False, True):
            for scale in (1.0, 0.8, 0.5):
                arrangement = Arrangement(mono.shape, transposed, flipped, scale)
                cbcr = predict(mono, color, arrangement, probe).cbcr
                golden["pipeline"]["cases"].append({
                    "transposed": transposed, "flipped": flipped, "scale": scale, "tiles": len(probe.spec.grid(*arrangement.shape)),
                    "cbcr_low": image(cbcr), "rgb": [int(v) for v in merge(mono, cbcr, 8).ravel()]})

    golden["manifest"] = {"tile_height": spec.tile_height, "tile_width": spec.tile_width, "max_disparity": spec.max_disparity,
                          "overlap": spec.overlap, "range_margin": spec.range_margin, "min_scale": spec.min_scale,
                          "files": {role: {"file": e["file"], "sha256": e["sha256"]} for role, e in manifest["files"].items()}}
    return golden


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=GOLDEN)
    args = p.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(generate(), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
