"""Quality of a checkpoint against the classical baselines: both setups, both layouts, one run.

    python benchmarks/quality.py PAIRS_DIR [--runtime int8|fp32|torch] [--models DIR | --checkpoint PATH]
                                 [--cameras plain consumer] [--out ...json]

Writes the raw reports (dualcam-eval's JSON schema, one per camera, setup and layout) and, beside them, the
markdown tables that go into the model card. "consumer" records the colour view with a fixed small-sensor
camera first (half resolution, JPEG, its own tone and white balance): the harder, more realistic case.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

from dualcam.benchmarks.machine import cpu_info
from dualcam.model.evaluate import (BASELINES, EVAL_CAMERAS, LAYOUTS, add_network_arguments, check_network_arguments,
                                    evaluate_method, list_pairs, network_from_arguments)
from dualcam.model.metrics import REGIONS


def markdown(report: dict) -> str:
    names = sorted({n for r in report["methods"].values() for n in (*r["pairs"], *r.get("failed", {}))})
    lines = [f"{report['camera'].capitalize()} camera, Setup {report['setup']}, {report['layout']} layout — "
             "CPSNR dB per pair; mean CPSNR, RGB PSNR, SSIM, s/pair",
             "", "| method | " + " | ".join(names) + " | CPSNR | RGB PSNR | SSIM | s |",
             "|---|" + "---:|" * (len(names) + 4)]
    for method, r in report["methods"].items():
        m = r["mean"]
        cells = " | ".join(f"{r['pairs'][n]['cpsnr']:.2f}" if n in r["pairs"] else "refused" for n in names)
        lines.append(f"| {method} | {cells} | **{m['cpsnr']:.2f}** | {m['rgb_psnr']:.2f} | {m['ssim']:.4f} | {m['seconds']:.2f} |")
    lines += ["", "Where the error is: mean CPSNR dB by region (its share of the squared error; of the pixels), "
              "over the pairs that have the region", "", "| method | " + " | ".join(REGIONS) + " |",
              "|---|" + "---:|" * len(REGIONS)]
    for method, r in report["methods"].items():
        by_region = r["mean"]["regions"]
        lines.append(f"| {method} | " + " | ".join(
            f"{by_region[g]['cpsnr']:.2f} ({by_region[g]['error_share']:.0%}; {by_region[g]['pixels']:.0%})"
            if g in by_region else "–" for g in REGIONS) + " |")
    return "\n".join(lines)


def paper_rows(methods: dict, pairs: list[Path]) -> list[dict]:
    """Each method's mean and per-pair CPSNR, both setups, both evaluation cameras, paper layout: the rows of the
    benchmarks that compare runtime policies against `sgbm_gf` in one run."""
    rows = []
    for camera in EVAL_CAMERAS:
        for setup in (1, 2):
            for name, method in methods.items():
                r = evaluate_method(method, pairs, setup, "paper", camera)
                rows.append({"camera": camera, "setup": setup, "method": name, "cpsnr": r["mean"]["cpsnr"],
                             "seconds": r["mean"]["seconds"], "pairs": {k: v["cpsnr"] for k, v in r["pairs"].items()},
                             "failed": r["failed"]})
                print(f"{camera:8} setup {setup} {name:24} {r['mean']['cpsnr']:6.2f} dB {r['mean']['seconds']:5.2f} s"
                      + (f"  failed: {', '.join(r['failed'])}" if r["failed"] else ""), flush=True)
    return rows


def setups(rows: list[dict]) -> Iterator[tuple[str, int, dict[str, dict]]]:
    """(camera, setup, method -> row) over `paper_rows`' rows, in the order the tables list them."""
    for camera in EVAL_CAMERAS:
        for setup in (1, 2):
            yield camera, setup, {r["method"]: r for r in rows if (r["camera"], r["setup"]) == (camera, setup)}


def gains(row: dict[str, dict], method: str, against: str, names: list[str]) -> str:
    """Table cells: `method`'s CPSNR less `against`'s, per pair."""
    return " | ".join(f"{row[method]['pairs'][n] - row[against]['pairs'][n]:+.2f}" for n in names)


def write_markdown(result: dict, path: Path) -> None:
    machine = result["machine"]
    head = (f"Runtime {result['runtime']}: {result['source']}; {machine['cpu']}, {machine['cores']} cores, "
            f"load average {machine.get('load_average_1min_at_start')} at the start")
    path.write_text("\n\n".join([head, *(markdown(report) for report in result["reports"])]) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    add_network_arguments(p)
    p.add_argument("--cameras", nargs="+", choices=list(EVAL_CAMERAS), default=list(EVAL_CAMERAS))
    p.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    p.add_argument("--no-baselines", action="store_true", help="only the network (its numbers alone)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "quality.json")
    args = p.parse_args()
    check_network_arguments(p, args)
    pairs = list_pairs(args.pairs_dir)
    network = network_from_arguments(args)
    methods = {"dualcam": network} | ({} if args.no_baselines else BASELINES)
    reports = []
    for camera in args.cameras:
        for setup in (1, 2):
            for layout in args.layouts:
                report = {"camera": camera, "setup": setup, "layout": layout,
                          "methods": {name: evaluate_method(m, pairs, setup, layout, camera)
                                      for name, m in methods.items()}}
                reports.append(report)
                print(markdown(report) + "\n", flush=True)
    machine = cpu_info()
    source = str(args.checkpoint or "shipped mobile.pt") if args.runtime == "torch" else str(args.models or "shipped models")
    result = {"runtime": args.runtime, "source": source, "machine": machine, "reports": reports}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, args.out.with_suffix(".md"))


if __name__ == "__main__":
    main()
