"""Golden vectors for the Kotlin core, written by the Python runtime itself.

    python android_demo/tools/golden.py [--out android_demo/core/src/test/resources/golden.json]

The JUnit tests of `core` compare against this file, and tests/test_android_core.py regenerates it and
compares it with the committed copy, so the Kotlin port and dualcam.runtime cannot drift apart unnoticed.
Every value is computed by the runtime's own functions; the pipeline cases run its stages themselves
(`chroma.predict`, `chroma.merge`) with a probe function as the model. Images are small and random with a
fixed seed; floats are written as the shortest decimal that reads back to the same float32.

The geometry sections use the bundled sample pair: numpy's random stream (the RANSAC samples), CLAHE, SIFT keypoints,
the warp onto the mono grid, `rectify.check_matches` on the runtime's own SIFT matches of pairs built from the sample
(so the Kotlin row model is compared to rounding), and `geometry.measure`'s decisions on GEOMETRY_CASES, the pairs the
Python tests colour or refuse (the Kotlin tests build them again and measure them with the Kotlin matcher).
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import cv2
import numpy as np

from dualcam.runtime import matching, rectify
from dualcam.runtime.arrangement import Arrangement
from dualcam.runtime.chroma import filter_chroma, merge, predict
from dualcam.runtime.color import rgb_to_luma, rgb_to_ycbcr, ycbcr_to_rgb
from dualcam.runtime.errors import InputError
from dualcam.runtime.geometry import GeometryOptions, measure
from dualcam.runtime.guided import (CHROMA_FILTER_EPS, CHROMA_FILTER_RADIUS, UPSAMPLE_EPS, UPSAMPLE_RADIUS,
                                    guided_upsample)
from dualcam.runtime.manifest import SHIPPED_MODELS, ModelSpec, load_manifest, manifest_spec
from dualcam.runtime.pair import Pair
from dualcam.runtime.planner import plan_memory
from dualcam.runtime.tiling import ramp_weights, tile_starts

GOLDEN = Path(__file__).resolve().parent.parent / "core" / "src" / "test" / "resources" / "golden.json"
SAMPLES = Path(__file__).resolve().parents[2] / "runtime" / "samples"
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
    golden["candidate_window"] = {"range_margin": spec.range_margin, "min_scale": spec.min_scale, "cases": [
        {"measured": m, "max_disparity": d, "window": ModelSpec(256, 512, d, 32).window(m)}
        for d in (32, 64, 96) for m in (None, (0.0, 0.0), (3.0, 10.0), (-0.5, 54.4), (0.0, 58.176414835175194),
                                        (1.1, 80.0), (44.0, 90.0), (100.0, 300.0), (-20.0, 30.0), (-37.0, -10.0),
                                        (5.0, 2000.0), (1500.0, 2000.0))]}

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
            for role in ("int8", "fp32", "mobile", "mobile_int8", "int8_ort", "mobile_ort", "mobile_int8_ort", "custom"):
                for budget, scale in itertools.product((512, 1300, 2048, 8192), (None, 1.0, 0.3)):
                    working = None if scale is None else Arrangement((height, width), scale=scale).shape
                    case = {"height": height, "width": width, "color_pixels": color_pixels, "role": role,
                            "budget_mb": budget, "working": working}
                    color_shape = None if color_pixels is None else (2 * height, width)
                    try:
                        plan = plan_memory((height, width), working, role, spec, budget, color_shape, avx2=False)
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
            for scale, offset in ((1.0, 0), (0.8, 0), (0.5, 0), (0.8, 3), (0.5, -3)):
                arrangement = Arrangement(mono.shape, transposed, flipped, scale, offset=offset)
                cbcr = predict(mono, color, arrangement, probe).cbcr
                golden["pipeline"]["cases"].append({
                    "transposed": transposed, "flipped": flipped, "scale": scale, "offset": offset,
                    "tiles": len(probe.spec.grid(*arrangement.shape)),
                    "cbcr_low": image(cbcr), "rgb": [int(v) for v in merge(mono, cbcr, 8).ravel()]})

    golden.update(geometry_sections(spec))

    golden["manifest"] = {"tile_height": spec.tile_height, "tile_width": spec.tile_width, "max_disparity": spec.max_disparity,
                          "overlap": spec.overlap, "range_margin": spec.range_margin, "min_scale": spec.min_scale,
                          "files": {role: {"file": e["file"], "sha256": e["sha256"]} for role, e in manifest["files"].items()}}
    return golden


def sample_pair() -> tuple[np.ndarray, np.ndarray]:
    """The bundled sample pair as dualcam-run reads it: (mono Y, colour RGB) on [0, 1]."""
    mono = cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    color = cv2.imread(str(SAMPLES / "motorcycle_color.png"))[..., ::-1].astype(np.float32) / 255
    return mono, np.ascontiguousarray(color)


def warp(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    return cv2.warpAffine(np.ascontiguousarray(image), matrix, size or image.shape[1::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def rotation(width: int, height: int, degrees: float, zoom: float = 1.0) -> np.ndarray:
    return cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, zoom)


# The pairs dualcam-run must colour or refuse, as tests/test_run*.py and tests/test_rectify.py build them from the
# sample pair; the Kotlin tests build the same kinds of pair from these parameters with their own resampling.
GEOMETRY_CASES = [
    {"name": "sample"},
    {"name": "both mirrored", "mirrored": True},
    {"name": "colour shifted 8 rows", "shift_rows": 8},
    {"name": "colour shifted 8 rows, rectify", "shift_rows": 8, "rectify": True},
    {"name": "colour rotated 1.5 degrees", "rotate": 1.5},
    {"name": "colour rotated 1.5 degrees, rectify", "rotate": 1.5, "rectify": True},
    {"name": "colour rotated 20 degrees, rectify", "rotate": 20.0, "rectify": True},
    {"name": "colour upside down", "upside_down": True},
    {"name": "colour keystone 25 px, rectify", "keystone": 25, "rectify": True},
    {"name": "unrelated colour image", "unrelated": True},
    {"name": "colour camera at 0.75x", "resize": 0.75},
    {"name": "colour camera at 0.5x", "resize": 0.5},
    {"name": "narrower colour view at 1.1x", "narrow": 0.1, "zoom": 1.1},
    {"name": "portrait", "portrait": True},
    {"name": "portrait rig, colour view 0.8x", "rig": {"zoom": 0.8, "roll": 0.0, "dy": 0.0, "mirrored": False}},
    {"name": "portrait rig, colour view 1.25x, rolled and shifted, mirrored",
     "rig": {"zoom": 1.25, "roll": 1.0, "dy": 5.0, "mirrored": True}},
    {"name": "colour stretched to 741x300", "stretch": [741, 300], "rectify": True, "accept_unverified": True},
    {"name": "colour stretched to 900x500", "stretch": [900, 500], "rectify": True, "accept_unverified": True},
]


def geometry_case(mono: np.ndarray, color: np.ndarray, case: dict) -> tuple[np.ndarray, np.ndarray]:
    """One GEOMETRY_CASES pair built from the sample pair with OpenCV, as the Python tests build it."""
    height, width = color.shape[:2]
    if case.get("mirrored"):
        mono, color = mono[:, ::-1], color[:, ::-1]
    if "shift_rows" in case:
        color = np.roll(color, case["shift_rows"], axis=0)
    if "rotate" in case:
        color = warp(color, rotation(width, height, case["rotate"]))
    if case.get("upside_down"):
        color = color[::-1, ::-1]
    if "keystone" in case:
        k = case["keystone"]
        corners = np.float32([[0, 0], [width, 0], [0, height], [width, height]])
        tilted = np.float32([[0, -k], [width, k], [0, height + k], [width, height - k]])
        color = cv2.warpPerspective(color, cv2.getPerspectiveTransform(corners, tilted), (width, height),
                                    borderMode=cv2.BORDER_REPLICATE)
    if case.get("unrelated"):
        noise = np.random.default_rng(0).integers(0, 256, color.shape, dtype=np.uint8)
        color = cv2.GaussianBlur(noise, (0, 0), 2).astype(np.float32) / 255
    if "resize" in case:
        f = case["resize"]
        color = cv2.resize(color, (round(width * f), round(height * f)), interpolation=cv2.INTER_AREA)
    if "narrow" in case:
        dy, dx = int(height * case["narrow"]), int(width * case["narrow"])
        color = cv2.resize(np.ascontiguousarray(color[dy:height - dy, dx:width - dx]), None, fx=case["zoom"],
                           fy=case["zoom"], interpolation=cv2.INTER_AREA)
    if case.get("portrait"):
        mono, color = np.rot90(mono), np.rot90(color)
    if "rig" in case:
        rig = case["rig"]
        mono, color = mono.T, np.ascontiguousarray(color.swapaxes(0, 1))
        h, w = color.shape[:2]
        matrix = rotation(w, h, rig["roll"], rig["zoom"])
        matrix[1, 2] += rig["dy"]
        color = (warp(color, matrix) if rig["zoom"] > 1 else
                 cv2.resize(color, (round(w * rig["zoom"]), round(h * rig["zoom"])), interpolation=cv2.INTER_AREA))
        if rig["mirrored"]:
            mono, color = mono[::-1], color[::-1]
    if "stretch" in case:
        color = cv2.resize(color, tuple(case["stretch"]), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(mono), np.ascontiguousarray(color)


def report(check: rectify.RectificationReport) -> dict:
    """A RectificationReport as JSON: NaN as null."""
    def value(v):
        if isinstance(v, tuple):
            return [value(x) for x in v]
        return None if isinstance(v, float) and not np.isfinite(v) else v
    return {k: value(v) for k, v in check.to_dict().items()}


def matches_json(found: matching.Matches, scale_a: float, scale_b: float) -> dict:
    """SIFT matches as the keypoints' own float32 coordinates and each image's matching scale: the Kotlin test divides
    them as sift_matches does, so it sees the runtime's matches to the last bit."""
    return {"mono": floats(found.mono * scale_a), "color": floats(found.color * scale_b), "scale_mono": scale_a,
            "scale_color": scale_b}


def geometry_sections(spec: ModelSpec) -> dict:
    """numpy's random stream (the RANSAC samples), CLAHE, the matching image, SIFT keypoints, the warp onto the mono
    grid, check_matches on real SIFT matches, and geometry.measure's decisions on GEOMETRY_CASES."""
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state["state"]
    out: dict = {"random": {"state": f"{state['state']:032x}", "inc": f"{state['inc']:032x}", "draws": [
        {"high": high, "size": size, "values": np.random.default_rng(0).integers(0, high, size=size).tolist()}
        for high, size in ((7, 50), (1000, 600), (123_456_789, 40), (2**32 - 5, 20))]}}

    mono, color = sample_pair()
    grey = np.clip(np.rint(mono * 255), 0, 255).astype(np.uint8)
    out["clahe"] = [{"height": h, "width": w, "image": grey[100:100 + h, 200:200 + w].ravel().tolist(),
                     "result": cv2.createCLAHE(clipLimit=matching.CLAHE_CLIP, tileGridSize=matching.CLAHE_TILES).apply(
                         np.ascontiguousarray(grey[100:100 + h, 200:200 + w])).ravel().tolist()}
                    for h, w in ((64, 48), (45, 61), (8, 8))]
    small, small_scale = matching._to_u8(color, 100)
    out["matching_image"] = {"max_side": 100, "scale": small_scale, "height": small.shape[0], "width": small.shape[1],
                             "data": small.ravel().tolist()}
    u8, _ = matching._to_u8(mono[100:220, 150:310], matching.MATCH_MAX_SIDE)
    keypoints, descriptors = cv2.SIFT_create(nfeatures=matching.MAX_FEATURES).detectAndCompute(u8, None)
    out["sift"] = {"crop": [100, 150, 120, 160], "keypoints": [
        {"x": k.pt[0], "y": k.pt[1], "size": k.size, "angle": k.angle, "response": k.response,
         "descriptor": descriptors[i].astype(int).tolist()} for i, k in enumerate(keypoints)]}

    rng = np.random.default_rng(SEED)
    image_rgb = rng.random((23, 31, 3), dtype=np.float32)
    out["warp"] = {"color": image(image_rgb), "cases": []}
    for transposed in (False, True):
        for scale, flipped in ((1.0, False), (0.6, True)):
            to_mono = np.array([[1.21, -0.03, -2.4], [0.035, 1.19, 1.7]])  # a wider colour view, rolled, shifted
            arrangement = Arrangement((27, 36) if not transposed else (36, 27), transposed, flipped, scale,
                                      color_to_mono=to_mono, color_shape=image_rgb.shape[:2])
            # A portrait colour image is the same samples turned, so both arrangements warp one set of values.
            given = np.ascontiguousarray(image_rgb.swapaxes(0, 1)) if transposed else image_rgb
            out["warp"]["cases"].append({"transposed": transposed, "flipped": flipped, "scale": scale,
                                         "mono_height": arrangement.mono_shape[0], "mono_width": arrangement.mono_shape[1],
                                         "color_to_mono": to_mono.ravel().tolist(),
                                         "reference": image(arrangement.reference(given))})

    out["rectify"] = []
    by_name = {case["name"]: case for case in GEOMETRY_CASES}
    for name in ("sample", "colour rotated 1.5 degrees", "colour camera at 0.75x",
                 "portrait rig, colour view 1.25x, rolled and shifted, mirrored", "colour stretched to 741x300",
                 "unrelated colour image"):
        m, c = geometry_case(mono, color, by_name[name])
        found = matching.sift_matches(m, c)
        scale_b = min(1.0, matching.MATCH_MAX_SIDE / max(c.shape[:2]))
        case = {"name": name, "mono_shape": list(m.shape), "color_shape": list(c.shape[:2]),
                "matches": matches_json(found, found.scale, scale_b),
                "vertical_baseline": rectify.vertical_baseline(found, m.shape, c.shape)}
        if case["vertical_baseline"]:
            found, m_shape, c_shape = found.transposed(), m.shape[::-1], c.shape[1::-1]
        else:
            m_shape, c_shape = m.shape, c.shape[:2]
        check = rectify.check_matches(found, m_shape, c_shape, spec=spec)
        case.update(report=report(check), plain_limit_px=rectify.check_matches(found, m_shape, c_shape).limit_px,
                    another_view=rectify.another_view(check, m_shape, c_shape),
                    implausible=None if check.too_few_matches else rectify.implausible_correction(check, m_shape),
                    correction=None if check.too_few_matches else rectify.correction(check, m_shape, c_shape).ravel().tolist())
        out["rectify"].append(case)

    out["geometry_cases"] = []
    for case in GEOMETRY_CASES:
        m, c = geometry_case(mono, color, case)
        options = GeometryOptions(rectify=case.get("rectify", False), accept_unverified=case.get("accept_unverified", False))
        decided = dict(case, mono_shape=list(m.shape), color_shape=list(c.shape[:2]))
        try:
            geometry = measure(Pair(m, c, 8, "mono.png", "color.png"), spec, options)
            decided.update(camera_side=geometry.camera_side, transposed=geometry.arrangement.transposed,
                           corrected=geometry.arrangement.color_to_mono is not None,
                           disparities=geometry.disparities, chroma_scale=geometry.arrangement.scale,
                           candidate_offset=geometry.arrangement.offset)
        except InputError as error:
            decided["refused"] = error.problem
        out["geometry_cases"].append(decided)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=GOLDEN)
    args = p.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(generate(), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
