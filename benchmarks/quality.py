"""Quality of a checkpoint against the classical baselines: both setups, both layouts, one run.

    python benchmarks/quality.py PAIRS_DIR [--checkpoint PATH] [--out benchmarks/results/quality.json]

Writes the raw reports (dualcam-eval's JSON schema, one per setup and layout) and prints the markdown
tables that go into the model card.
"""
from __future__ import annotations

import argparse
import json
import platform
import os
from pathlib import Path

from dualcam.model.checkpoint import load_model
from dualcam.model.evaluate import BASELINES, LAYOUTS, evaluate_method, list_pairs, network_method


def markdown(report: dict) -> str:
    names = list(next(iter(report["methods"].values()))["pairs"])
    lines = [f"Setup {report['setup']}, {report['layout']} layout — CPSNR dB per pair; mean CPSNR, RGB PSNR, SSIM, s/pair",
             "", "| method | " + " | ".join(names) + " | CPSNR | RGB PSNR | SSIM | s |",
             "|---|" + "---:|" * (len(names) + 4)]
    for method, r in report["methods"].items():
        m = r["mean"]
        cells = " | ".join(f"{r['pairs'][n]['cpsnr']:.2f}" for n in names)
        lines.append(f"| {method} | {cells} | **{m['cpsnr']:.2f}** | {m['rgb_psnr']:.2f} | {m['ssim']:.4f} | {m['seconds']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    p.add_argument("--checkpoint", type=Path, default=None)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "quality.json")
    args = p.parse_args()
    pairs = list_pairs(args.pairs_dir)
    methods = {"dualcam": network_method(load_model(args.checkpoint))} | BASELINES
    reports = []
    for setup in (1, 2):
        for layout in LAYOUTS:
            report = {"setup": setup, "layout": layout,
                      "methods": {name: evaluate_method(m, pairs, setup, layout) for name, m in methods.items()}}
            reports.append(report)
            print(markdown(report) + "\n", flush=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    args.out.write_text(json.dumps({"checkpoint": str(args.checkpoint or "shipped mobile.pt"),
                                    "machine": machine, "reports": reports}, indent=1) + "\n")


if __name__ == "__main__":
    main()
