"""The memory planner against what `dualcam-run` really uses: measured peaks, estimates, fitted coefficients.

    python -m dualcam.benchmarks.planner_memory [--sizes 3 12] [--out benchmarks/results]

The planner estimates a pair's peak as BASE_MB + FULL_RES_BYTES_PER_PIXEL x mono pixels + WORKING_BYTES_PER_PIXEL x
pixels at the working scale + a session term per model and arena mode (KB per pixel of a tile's reference window).
Its estimate must never be below the real peak, and every MB it adds above that is a budget a phone is refused for
nothing. Each run here is a fresh `dualcam-run` process (peak RSS from the OS) on a pair built to be a worst case for
memory: 16-bit PNGs, and a colour view 4 px lower, so that `--rectify` warps it. "worst" pairs have a constant
24-px disparity, so the working scale is 1 (the most tiles, the largest working-scale planes); "far" pairs
disparities from 0 to 220 px, so it is about a third. The arena mode is forced through the budget: the estimate
without it is a budget the arena does not fit.

The int8 model runs both cases at every size in both modes: a least-squares fit over them separates the
full-resolution, working-scale and session terms (each run's tile is the one its report names). Every other model
runs the smallest worst case in both modes (its session term, given the others). The bundled sample pair upscaled
to the largest size, a photograph as a phone takes it, shows how much room a typical pair is given, at the default
budget and at 600 MB.
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
from dualcam.runtime.session import DEFAULT_BUDGET_MB

from .machine import cpu_info
from .pipeline import run_dualcam, write_pair
from .tile import SAMPLES

RESULTS = Path(__file__).parent / "results"
CASES = {"worst": 24, "far": 220}  # the pairs' disparity, px: working scale 1, and about a third
VERTICAL_PX = 4
HEADROOM = 1.1
MEMORY_BUDGETS = (None, 600)  # the sample photograph's runs: the default budget, and a phone's


def worst_case_pair(megapixels: float, folder: Path, disparity: int = CASES["worst"]) -> tuple[Path, Path]:
    """16-bit mono and colour PNGs of about `megapixels`, 4 px off vertically, the same content `disparity` px apart
    (0 px at the top row to `disparity` px at the bottom for "far": a span the candidate window cannot move away)."""
    content = cv2.imread(str(SAMPLES / "motorcycle_color.png"), cv2.IMREAD_COLOR)
    height, width = content.shape[:2]
    factor = math.sqrt(megapixels * 1e6 / (height * width))
    h, w = round(height * factor), round(width * factor)
    big = cv2.resize(content, (w + disparity, h + VERTICAL_PX), interpolation=cv2.INTER_CUBIC).astype(np.uint16) * 257
    mono = cv2.cvtColor(big[:h, disparity:], cv2.COLOR_BGR2GRAY)
    if disparity == CASES["worst"]:
        color = big[VERTICAL_PX:, :w]
    else:  # colour(x, y) = mono(x - d(y)), d growing down the image
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        color = cv2.remap(big, xs + disparity * (1 - ys / (h - 1)), ys + VERTICAL_PX, cv2.INTER_LINEAR)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "mono.png", folder / "color.png"
    cv2.imwrite(str(paths[0]), mono)
    cv2.imwrite(str(paths[1]), color)
    return paths


def measure(mono: Path, color: Path, manifest: dict, models: Path, role: str, arena: bool, options: tuple[str, ...],
            budget_mb: int | None = None) -> dict:
    """One `dualcam-run` with the arena on or off (forced through the budget, unless `budget_mb` is given), what the
    planner estimated for it, its working-scale frame and its tile."""
    path = str(models / manifest["files"][role]["file"])
    run = run_dualcam(mono, color, budget_mb or 100_000, path, *options)
    if run["exit"] == 0 and budget_mb is None and not arena:  # the same pair again, the arena priced out
        spec = manifest_spec(manifest, role=role)
        working = run["working_shape"]
        peaks = planner.estimate_peaks(run["shape"], working, role, spec.fitted(*working), run["shape"])
        run = run_dualcam(mono, color, math.ceil(peaks[False]), path, *options)
    if run["exit"] != 0:
        raise SystemExit(f"planner_memory: {role} arena={arena} on {mono.parent.name}: {run['error']}")
    assert budget_mb is not None or run["memory_arena"] == arena, "the budget did not force the arena mode"
    height, width = run["shape"]
    tile_height, tile_width = (int(n) for n in run["tile"].split("x"))
    return {"role": role, "arena": run["memory_arena"], "pixels": height * width, "size": f"{width}x{height}",
            "working_pixels": run["working_shape"][0] * run["working_shape"][1],
            "tile_pixels": tile_height * (tile_width + manifest["max_disparity"]), **run}


def fit(rows: list[dict]) -> dict:
    """Least squares over the int8 runs of both cases for the full-resolution and working-scale bytes per pixel (and
    int8's session terms), each rounded up to a byte; then per model and mode the session term that puts every run
    of it under the estimate, with HEADROOM for other CPUs' kernels, whose workspaces differ. Rounded up (0.5 KB)."""
    int8 = [r for r in rows if r["role"] == "int8" and r["case"] in CASES]
    design = np.array([[r["pixels"], r["working_pixels"], r["tile_pixels"] * r["arena"],
                        r["tile_pixels"] * (not r["arena"])] for r in int8], np.float64)
    peaks = np.array([(r["peak_rss_mb"] - planner.BASE_MB) * 2**20 for r in int8])
    solution = np.linalg.lstsq(design, peaks, rcond=None)[0]
    full, working = (math.ceil(max(0.0, v)) for v in solution[:2])
    session = {}
    for r in rows:
        if r["case"] not in CASES:
            continue
        kb = (r["peak_rss_mb"] - planner.BASE_MB - (r["pixels"] * full + r["working_pixels"] * working) / 2**20) \
            * 1024 / r["tile_pixels"]
        key = f"{r['role']},{r['arena']}"
        session[key] = max(session.get(key, 0.0), math.ceil(kb * HEADROOM * 2) / 2)
    return {"full_res_bytes_per_pixel": full, "working_bytes_per_pixel": working,
            "least_squares": [round(float(v), 1) for v in solution[:2]], "headroom": HEADROOM,
            "session_kb_per_tile_pixel": session}


def fitted_estimate(result: dict, r: dict) -> float:
    """The estimate of this fit alone (this CPU's)."""
    fitted = result["fitted"]
    kb = fitted["session_kb_per_tile_pixel"][f"{r['role']},{r['arena']}"]
    return (result["base_mb"] + (r["pixels"] * fitted["full_res_bytes_per_pixel"]
                                 + r["working_pixels"] * fitted["working_bytes_per_pixel"]) / 2**20
            + r["tile_pixels"] * kb / 1024)


def shipped_estimate(r: dict) -> float:
    """The planner's estimate for the run, with the coefficients it ships."""
    return (planner.BASE_MB + (r["pixels"] * planner.FULL_RES_BYTES_PER_PIXEL
                               + r["working_pixels"] * planner.WORKING_BYTES_PER_PIXEL) / 2**20
            + r["tile_pixels"] * planner.session_kb_per_tile_pixel(r["role"], r["arena"]) / 1024)


def markdown(result: dict) -> str:
    """The table: every run's measured peak against the shipped planner's estimate and this CPU's fit."""
    m, fitted = result["machine"], result["fitted"]
    lines = ["# Memory planner against measured peaks", "",
             f"`python -m dualcam.benchmarks.planner_memory` on {m['cpu']} ({', '.join(m.get('isa', []))}), "
             f"{m['cores']} cores, onnxruntime {m.get('onnxruntime')}; peak RSS of each `dualcam-run` process. worst: "
             "16-bit PNGs, working scale 1, `--rectify` warping the colour view; far: the same with disparities from 0 "
             "to 220 px (working scale about a third); sample: the bundled pair upscaled (8-bit), at the default "
             "budget and at 600 MB. The worst and far runs force the arena mode through the budget.", "",
             "| case | model | budget MB | arena | size | scale | tile | tiles | peak MB | shipped estimate | / peak | "
             "this CPU's fit | / peak |",
             "|---|---|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        shipped, refit = shipped_estimate(r), fitted_estimate(result, r)
        lines.append(f"| {r['case']} | {r['role']} | {r['budget_mb'] if r['case'] == 'sample' else 'forced'} | "
                     f"{'yes' if r['arena'] else 'no'} | {r['size']} | {r['chroma_scale']} | {r['tile']} | "
                     f"{r['tiles']} | {r['peak_rss_mb']} | {shipped:.0f} | {shipped / r['peak_rss_mb']:.2f} | "
                     f"{refit:.0f} | {refit / r['peak_rss_mb']:.2f} |")
    lines += ["", f"This CPU's fit: {fitted['full_res_bytes_per_pixel']} bytes per mono pixel and "
                  f"{fitted['working_bytes_per_pixel']} per working-scale pixel (least squares "
                  f"{', '.join(map(str, fitted['least_squares']))}), session KB per tile-window pixel "
                  f"(headroom {fitted['headroom']}):", ""]
    lines += [f"- {key.replace(',True', ', arena').replace(',False', ', no arena')}: {kb}"
              for key, kb in fitted["session_kb_per_tile_pixel"].items()]
    if "note" in result:
        lines += ["", result["note"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=Path, default=SHIPPED_MODELS)
    p.add_argument("--sizes", type=float, nargs="+", default=[3, 12], help="megapixels of the worst-case pairs")
    p.add_argument("--work", type=Path, default=Path("/tmp/dualcam-planner-memory"))
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--name", default="planner_memory", help="of the results' files (one per kind of CPU)")
    args = p.parse_args()
    if len(set(args.sizes)) < 2:
        p.error("--sizes needs two sizes at least: the full-resolution term is the slope between them")
    manifest = json.loads((args.models / "manifest.json").read_text())
    roles = [role for role, entry in manifest["files"].items() if entry.get("format") in ("onnx", "ort")]
    rows = []

    def run(pair: tuple[Path, Path], role: str, arena: bool, case: str, options: tuple[str, ...],
            budget_mb: int | None = None) -> None:
        rows.append({"case": case, **measure(*pair, manifest, args.models, role, arena, options, budget_mb)})
        r = rows[-1]
        print(f"{case:7} {role:16} arena={r['arena']!s:5} {r['size']:>10} tile {r['tile']:>8} peak {r['peak_rss_mb']:5} MB  "
              f"estimated {r['estimated_peak_mb']:5} MB  {r['seconds']:6.1f} s", flush=True)

    for size in sorted(args.sizes):
        for case, disparity in CASES.items():
            pair = worst_case_pair(size, args.work / f"{case}_{size}mp", disparity)
            for role in roles if (size, case) == (min(args.sizes), "worst") else ["int8"]:
                for arena in (True, False):
                    run(pair, role, arena, case, ("--rectify",))
    sample = write_pair(cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_UNCHANGED),
                        cv2.imread(str(SAMPLES / "motorcycle_color.png"), cv2.IMREAD_UNCHANGED), max(args.sizes),
                        args.work / "sample")
    for budget in MEMORY_BUDGETS:
        run(sample, "int8", True, "sample", (), budget or DEFAULT_BUDGET_MB)
    result = {"machine": cpu_info(), "tile": manifest["tile"], "max_disparity": manifest["max_disparity"],
              "base_mb": planner.BASE_MB, "fitted": fit(rows), "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / f"{args.name}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
