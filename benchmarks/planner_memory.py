"""The memory planner against what `dualcam-run` really uses: measured peaks, estimates, fitted coefficients.

    python -m dualcam.benchmarks.planner_memory [--sizes 3 12] [--out benchmarks/results]

The planner estimates a pair's peak as BASE_MB + FULL_RES_BYTES_PER_PIXEL x mono pixels + a session term per
model and arena mode (KB per pixel of a tile's reference window). Its estimate must never be below the real
peak, and every MB it adds above that is a budget a phone is refused for nothing. Each run here is a fresh
`dualcam-run` process (peak RSS from the OS) on a pair built to be a worst case for memory: 16-bit PNGs
(decoded to float32), a constant 24-px disparity, so that the working scale is 1 (the most tiles and the
largest working-scale planes), and a colour view 4 px lower, so that `--rectify` warps it. The arena mode is
forced through the budget: the estimate without it is a budget the arena does not fit.

The int8 model runs at every size in both modes (the slope of peak over pixels is the full-resolution
term); every model runs at the smallest size in both modes (its session term, given that slope). The
bundled sample pair upscaled to the largest size, a photograph as a phone takes it, shows how much room a
typical pair is given.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import cv2
import numpy as np

from dualcam.runtime import planner
from dualcam.runtime.manifest import SHIPPED_MODELS, manifest_spec

from .machine import cpu_info
from .pipeline import run_dualcam, write_pair
from .tile import SAMPLES

RESULTS = Path(__file__).parent / "results"
DISPARITY_PX, VERTICAL_PX = 24, 4
HEADROOM = 1.1


def worst_case_pair(megapixels: float, folder: Path) -> tuple[Path, Path]:
    """16-bit mono and colour PNGs of about `megapixels`, the same content 24 px apart and 4 px off vertically."""
    content = cv2.imread(str(SAMPLES / "motorcycle_color.png"), cv2.IMREAD_COLOR)
    height, width = content.shape[:2]
    factor = math.sqrt(megapixels * 1e6 / (height * width))
    h, w = round(height * factor), round(width * factor)
    big = cv2.resize(content, (w + DISPARITY_PX, h + VERTICAL_PX), interpolation=cv2.INTER_CUBIC).astype(np.uint16) * 257
    mono = cv2.cvtColor(big[:h, DISPARITY_PX:], cv2.COLOR_BGR2GRAY)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "mono.png", folder / "color.png"
    cv2.imwrite(str(paths[0]), mono)
    cv2.imwrite(str(paths[1]), big[VERTICAL_PX:, :w])
    return paths


def measure(mono: Path, color: Path, manifest: dict, models: Path, role: str, arena: bool, options: tuple[str, ...]) -> dict:
    """One `dualcam-run` with the arena on or off, and what the planner estimated for it."""
    height, width = cv2.imread(str(mono), cv2.IMREAD_UNCHANGED).shape[:2]
    peaks = planner.estimate_peaks((height, width), role, manifest_spec(manifest))
    budget = math.ceil(peaks[True] if arena else peaks[False])
    run = run_dualcam(mono, color, budget, str(models / manifest["files"][role]["file"]), *options)
    if run["exit"] != 0:
        raise SystemExit(f"planner_memory: {role} arena={arena} at {width}x{height}: {run['error']}")
    assert run["memory_arena"] == arena, "the budget did not force the arena mode"
    return {"role": role, "arena": arena, "pixels": height * width, "size": f"{width}x{height}", **run}


def fit(rows: list[dict], tile_pixels: int) -> dict:
    """FULL_RES_BYTES_PER_PIXEL: the steepest slope of the worst-case int8 peaks over pixels; then per model and mode the
    session term that puts every run of it under the estimate, with HEADROOM for other CPUs' kernels, whose
    workspaces differ. Rounded up (4 B, 0.5 KB)."""
    slopes = []
    for arena in (True, False):
        runs = sorted((r["pixels"], r["peak_rss_mb"]) for r in rows
                      if r["case"] == "worst" and r["role"] == "int8" and r["arena"] == arena)
        slopes += [(b[1] - a[1]) * 2**20 / (b[0] - a[0]) for a, b in zip(runs, runs[1:])]
    bytes_per_pixel = 4 * math.ceil(max(slopes) / 4)
    session = {}
    for r in rows:
        kb = (r["peak_rss_mb"] - planner.BASE_MB - r["pixels"] * bytes_per_pixel / 2**20) * 1024 / tile_pixels
        key = f"{r['role']},{r['arena']}"
        session[key] = max(session.get(key, 0.0), math.ceil(kb * HEADROOM * 2) / 2)
    return {"full_res_bytes_per_pixel": bytes_per_pixel, "slopes_bytes_per_pixel": [round(s, 1) for s in slopes],
            "headroom": HEADROOM, "session_kb_per_tile_pixel": session}


def markdown(result: dict) -> str:
    """The table: every run's measured peak against the planner's estimate (the one it ran with)."""
    m = result["machine"]
    fitted, tile = result["fitted"], result["tile"]
    tile_pixels = tile["height"] * (tile["width"] + result["max_disparity"])

    def refitted(r: dict) -> float:
        kb = fitted["session_kb_per_tile_pixel"][f"{r['role']},{r['arena']}"]
        return result["base_mb"] + r["pixels"] * fitted["full_res_bytes_per_pixel"] / 2**20 + tile_pixels * kb / 1024

    lines = ["# Memory planner against measured peaks", "",
             f"`python -m dualcam.benchmarks.planner_memory` on {m['cpu']}, {m['cores']} cores, onnxruntime "
             f"{m.get('onnxruntime')}; peak RSS of each `dualcam-run` process. Worst case: 16-bit PNGs, working "
             "scale 1, `--rectify` warping the colour view; sample: the bundled pair upscaled (8-bit, rectified).", "",
             "| case | model | arena | size | tiles | peak MB | estimate it ran with | / peak | fitted estimate | / peak |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['case']} | {r['role']} | {'yes' if r['arena'] else 'no'} | {r['size']} | {r['tiles']} | "
                     f"{r['peak_rss_mb']} | {r['estimated_peak_mb']} | {r['estimated_peak_mb'] / r['peak_rss_mb']:.2f} | "
                     f"{refitted(r):.0f} | {refitted(r) / r['peak_rss_mb']:.2f} |")
    lines += ["", f"Fitted: {fitted['full_res_bytes_per_pixel']} bytes per mono pixel (int8 slopes "
                  f"{', '.join(map(str, fitted['slopes_bytes_per_pixel']))}), session KB per tile-window pixel "
                  f"(headroom {fitted['headroom']}):", ""]
    lines += [f"- {key.replace(',True', ', arena').replace(',False', ', no arena')}: {kb}"
              for key, kb in fitted["session_kb_per_tile_pixel"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=Path, default=SHIPPED_MODELS)
    p.add_argument("--sizes", type=float, nargs="+", default=[3, 12], help="megapixels of the worst-case pairs")
    p.add_argument("--work", type=Path, default=Path("/tmp/dualcam-planner-memory"))
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    if len(set(args.sizes)) < 2:
        p.error("--sizes needs two sizes at least: the full-resolution term is the slope between them")
    manifest = json.loads((args.models / "manifest.json").read_text())
    roles = [role for role, entry in manifest["files"].items() if entry.get("format") in ("onnx", "ort")]
    rows = []

    def run(pair: tuple[Path, Path], role: str, arena: bool, case: str, options: tuple[str, ...]) -> None:
        rows.append({"case": case, **measure(*pair, manifest, args.models, role, arena, options)})
        r = rows[-1]
        print(f"{case:10} {role:10} arena={arena!s:5} {r['size']:>10}  peak {r['peak_rss_mb']:5} MB  "
              f"estimated {r['estimated_peak_mb']:5} MB  {r['seconds']:6.1f} s", flush=True)

    for size in sorted(args.sizes):
        pair = worst_case_pair(size, args.work / f"worst_{size}mp")
        for role in roles if size == min(args.sizes) else ["int8"]:
            for arena in (True, False):
                run(pair, role, arena, "worst", ("--rectify",))
    tile = manifest["tile"]
    fitted = fit(rows, tile["height"] * (tile["width"] + manifest["config"]["max_disparity"]))
    sample = write_pair(cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_UNCHANGED),
                        cv2.imread(str(SAMPLES / "motorcycle_color.png"), cv2.IMREAD_UNCHANGED), max(args.sizes),
                        args.work / "sample")
    for arena in (True, False):
        run(sample, "int8", arena, "sample", ())
    result = {"machine": cpu_info(), "tile": tile, "max_disparity": manifest["config"]["max_disparity"],
              "base_mb": planner.BASE_MB, "fitted": fitted, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "planner_memory.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "planner_memory.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
