"""The candidate window as a quality lever: CPSNR with the d candidates starting at each pair's smallest disparity
(the runtime's rule) against candidates from 0 with the scale set by the largest disparity (the rule before it),
`sgbm_gf` in the same run.

    python benchmarks/candidate_window.py PAIRS_DIR [--out benchmarks/results/candidate_window.json]

Both through `dualcam-run`'s pipeline (shipped int8 model), both setups, plain and consumer cameras, paper layout.
Beside each pair: the disparity range the clean pair's matches give and the window each rule picks for it.
"""
from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from dualcam.benchmarks.machine import cpu_info
from dualcam.benchmarks.quality import gains, paper_rows, setups
from dualcam.model.evaluate import BASELINES, list_pairs, pipeline_method
from dualcam.model.pairs import load_dev_pair
from dualcam.runtime import manifest, scale
from dualcam.runtime.geometry import GeometryOptions, measure
from dualcam.runtime.manifest import ModelSpec
from dualcam.runtime.pair import load_pair
from dualcam.runtime.session import OrtModel


def from_zero(disparities, max_disparity, range_margin=scale.RANGE_MARGIN, min_scale=scale.MIN_SCALE, max_scale=1.0):
    """The rule before the window: candidates from 0, the scale fitting the largest |disparity|."""
    if disparities is None:
        return max_scale, 0
    largest = max(abs(v) for v in disparities)
    return min(max_scale, scale.working_scale(largest, max_disparity, range_margin, min_scale)), 0


@contextmanager
def candidates_from_zero():
    window = manifest.candidate_window
    manifest.candidate_window = from_zero
    try:
        yield
    finally:
        manifest.candidate_window = window


def windows(folder: Path, spec: ModelSpec) -> dict:
    """The disparity range of the clean pair (mono: the right view's luma) and the window each rule picks."""
    pair = load_dev_pair(folder)
    mono = np.rint(cv2.cvtColor(pair.right, cv2.COLOR_RGB2GRAY) * 255).astype(np.uint8)
    loaded = load_pair(mono, np.rint(pair.left * 255).astype(np.uint8))
    geometry = measure(loaded, spec, GeometryOptions(accept_unverified=True))
    with candidates_from_zero():
        before = measure(loaded, spec, GeometryOptions(accept_unverified=True)).arrangement
    return {"disparities": [round(v, 1) for v in geometry.disparities], "camera_side": geometry.camera_side,
            "window": [round(geometry.arrangement.scale, 3), geometry.arrangement.offset],
            "from_zero": [round(before.scale, 3), before.offset]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "candidate_window.json")
    args = p.parse_args()
    pairs = list_pairs(args.pairs_dir)
    session = OrtModel.load()
    network = pipeline_method(session)

    def zero(mono, color):
        with candidates_from_zero():
            return network(mono, color)

    methods = {"window": network, "from zero": zero, "sgbm_gf": BASELINES["sgbm_gf"]}
    result = {"machine": cpu_info(), "pairs": {folder.name: windows(folder, session.spec) for folder in pairs},
              "rows": paper_rows(methods, pairs)}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))


def markdown(result: dict) -> str:
    machine = result["machine"]
    names = list(result["pairs"])
    lines = [f"Shipped int8 model through the runtime; {machine['cpu']}, {machine['cores']} cores. Mean CPSNR dB, paper "
             "layout; per pair: the window's gain over candidates from 0", "",
             "| camera, setup | window | from zero | sgbm_gf | " + " | ".join(names) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(names)]
    for camera, setup, row in setups(result["rows"]):
        lines.append(f"| {camera}, {setup} | **{row['window']['cpsnr']:.2f}** | {row['from zero']['cpsnr']:.2f} | "
                     f"{row['sgbm_gf']['cpsnr']:.2f} | {gains(row, 'window', 'from zero', names)} |")
    lines += ["", "| pair | disparities px (1st..99th percentile, network frame) | window: scale, offset | from zero: scale |",
              "|---|---|---|---:|"]
    for name, w in result["pairs"].items():
        lines.append(f"| {name} | {w['disparities'][0]:g}..{w['disparities'][1]:g} | {w['window'][0]:g}, {w['window'][1]} | "
                     f"{w['from_zero'][0]:g} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
