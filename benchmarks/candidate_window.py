"""The candidate window as a quality lever: CPSNR of the runtime's window rules against an earlier rule, `sgbm_gf` in
the same run.

    python benchmarks/candidate_window.py PAIRS_DIR [--against from-zero|pair-range] [--out RESULT.json]

- from-zero: candidates from 0, the scale set by the largest disparity (the rule before the window, which starts
  the d candidates at each pair's smallest disparity);
- pair-range: one window for the whole pair, from the 1st..99th percentiles of the matches alone (the rule before
  `rectify.disparity_extent` widened the near end, and before tile windows let each tile start its own candidates).

Both through `dualcam-run`'s pipeline (shipped int8 model), both setups, plain and consumer cameras, paper layout.
Beside each pair: the disparity range the clean pair's matches give and the window each rule picks for it.
"""
from __future__ import annotations

import argparse
import json
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from dualcam.benchmarks.machine import cpu_info
from dualcam.benchmarks.quality import gains, paper_rows, setups
from dualcam.model.evaluate import BASELINES, list_pairs, pipeline_method
from dualcam.model.pairs import load_dev_pair
from dualcam.runtime import geometry, manifest, rectify, scale
from dualcam.runtime.geometry import GeometryOptions, measure
from dualcam.runtime.manifest import ModelSpec
from dualcam.runtime.pair import load_pair
from dualcam.runtime.session import OrtModel


def from_zero(disparities, max_disparity, range_margin=scale.RANGE_MARGIN, min_scale=scale.MIN_SCALE, max_scale=1.0):
    """Candidates from 0, the scale fitting the largest |disparity|."""
    if disparities is None:
        return max_scale, 0
    largest = max(abs(v) for v in disparities)
    return min(max_scale, scale.working_scale(largest, max_disparity, range_margin, min_scale)), 0


def percentiles(dx, xy, image_side, side="unknown"):
    """The matches' 1st..99th percentiles, nothing beyond them."""
    return tuple(float(v) for v in np.percentile(dx, [1, 99]))


def pair_window(arrangement, *_):
    """No tile windows: the pair's window for every tile."""
    return replace(arrangement, samples=None)


# --against: (the rules replaced: module, function, earlier rule), the runtime's label, the earlier rule's label
RULES = {"from-zero": ([(manifest, "candidate_window", from_zero)], "window", "from zero"),
         "pair-range": ([(rectify, "disparity_extent", percentiles), (geometry, "_tile_windows", pair_window)],
                        "tile windows", "pair range")}


@contextmanager
def earlier_rule(against: str):
    replaced = RULES[against][0]
    runtime = [getattr(module, name) for module, name, _ in replaced]
    for module, name, rule in replaced:
        setattr(module, name, rule)
    try:
        yield
    finally:
        for (module, name, _), function in zip(replaced, runtime):
            setattr(module, name, function)


def windows(folder: Path, spec: ModelSpec, against: str) -> dict:
    """The disparity range of the clean pair (mono: the right view's luma) and the window each rule picks."""
    pair = load_dev_pair(folder)
    mono = np.rint(cv2.cvtColor(pair.right, cv2.COLOR_RGB2GRAY) * 255).astype(np.uint8)
    loaded = load_pair(mono, np.rint(pair.left * 255).astype(np.uint8))
    out = {}
    for label, rule in zip(RULES[against][1:], (None, against)):
        with earlier_rule(rule) if rule else nullcontext():
            measured = measure(loaded, spec, GeometryOptions(accept_unverified=True))
        out[label] = {"disparities": [round(v, 1) for v in measured.disparities],
                      "window": [round(measured.arrangement.scale, 3), measured.arrangement.offset]}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    p.add_argument("--against", choices=list(RULES), default="from-zero")
    p.add_argument("--out", type=Path, default=None, help="default: results/candidate_window.json, or "
                                                          "results/tile_windows.json against pair-range")
    args = p.parse_args()
    out = args.out or Path(__file__).parent / "results" / (
        "candidate_window.json" if args.against == "from-zero" else "tile_windows.json")
    pairs = list_pairs(args.pairs_dir)
    session = OrtModel.load()
    network = pipeline_method(session)

    def earlier(mono, color):
        with earlier_rule(args.against):
            return network(mono, color)

    runtime_label, earlier_label = RULES[args.against][1:]
    methods = {runtime_label: network, earlier_label: earlier, "sgbm_gf": BASELINES["sgbm_gf"]}
    result = {"machine": cpu_info(), "against": args.against,
              "pairs": {folder.name: windows(folder, session.spec, args.against) for folder in pairs},
              "rows": paper_rows(methods, pairs)}
    out.write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(result))


def markdown(result: dict) -> str:
    machine = result["machine"]
    names = list(result["pairs"])
    runtime, earlier = RULES[result.get("against", "from-zero")][1:]
    lines = [f"Shipped int8 model through the runtime; {machine['cpu']}, {machine['cores']} cores. Mean CPSNR dB, paper "
             f"layout; per pair: {runtime} less {earlier}", "",
             f"| camera, setup | {runtime} | {earlier} | sgbm_gf | " + " | ".join(names) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(names)]
    for camera, setup, row in setups(result["rows"]):
        lines.append(f"| {camera}, {setup} | **{row[runtime]['cpsnr']:.2f}** | {row[earlier]['cpsnr']:.2f} | "
                     f"{row['sgbm_gf']['cpsnr']:.2f} | {gains(row, runtime, earlier, names)} |")
    lines += ["", f"| pair | {runtime}: disparities px (network frame), scale, offset | {earlier}: disparities, scale, "
              "offset |", "|---|---|---|"]
    for name, w in result["pairs"].items():
        lines.append(f"| {name} | " + " | ".join(f"{w[k]['disparities'][0]:g}..{w[k]['disparities'][1]:g}, "
                                                 f"{w[k]['window'][0]:g}, {w[k]['window'][1]}" for k in (runtime, earlier))
                     + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
