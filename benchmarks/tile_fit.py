"""Tiles fitted to each pair against the exported tile everywhere: CPSNR and seconds per pair, `sgbm_gf` in the
same run.

    python benchmarks/tile_fit.py PAIRS_DIR [--out benchmarks/results/tile_fit.json]

Both through `dualcam-run`'s pipeline with the shipped int8 model (whose tile height and width are free), at the
default memory budget, both setups, plain and consumer cameras, paper layout. "export tile" runs every pair on
256x512 tiles, as the runtime did when the CPU models had a fixed tile; "fitted" is the runtime's rule
(`ModelSpec.fitted`): as many tiles as the exported one needs, each just large enough.
"""
from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from pathlib import Path

from dualcam.benchmarks.machine import cpu_info
from dualcam.benchmarks.quality import gains, paper_rows, setups
from dualcam.model.evaluate import BASELINES, list_pairs, pipeline_method
from dualcam.runtime.manifest import ModelSpec
from dualcam.runtime.session import OrtModel


@contextmanager
def export_tile():
    """Every pair on the exported tile, whatever its size."""
    fitted = ModelSpec.fitted
    ModelSpec.fitted = lambda self, height, width, fraction=1.0: self
    try:
        yield
    finally:
        ModelSpec.fitted = fitted


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tile_fit.json")
    args = p.parse_args()
    network = pipeline_method(OrtModel.load())

    def whole_tiles(mono, color):
        with export_tile():
            return network(mono, color)

    methods = {"fitted": network, "export tile": whole_tiles, "sgbm_gf": BASELINES["sgbm_gf"]}
    result = {"machine": cpu_info(), "rows": paper_rows(methods, list_pairs(args.pairs_dir))}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))


def markdown(result: dict) -> str:
    machine = result["machine"]
    names = sorted(result["rows"][0]["pairs"])
    lines = [f"Shipped int8 model through the runtime, default budget; {machine['cpu']}, {machine['cores']} cores. Mean "
             "CPSNR dB and seconds per pair, paper layout; per pair: the fitted tiles' gain over the exported tile", "",
             "| camera, setup | fitted | s | export tile | s | sgbm_gf | s | " + " | ".join(names) + " |",
             "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(names)]
    for camera, setup, row in setups(result["rows"]):
        cells = " | ".join(f"{row[m]['cpsnr']:.2f} | {row[m]['seconds']:.2f}" for m in ("fitted", "export tile", "sgbm_gf"))
        lines.append(f"| {camera}, {setup} | {cells} | {gains(row, 'fitted', 'export tile', names)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
