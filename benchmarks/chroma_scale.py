"""The chroma policy as a quality lever: CPSNR and time against a cap on the working scale, with and
without the chroma filter.

    python benchmarks/chroma_scale.py PAIRS_DIR [--caps 1 0.75 0.5 0.35 0.25] [--filter on off]
                                      [--out benchmarks/results/chroma_scale.json]

The network runs as `dualcam-run` runs it (shipped int8 model through the runtime) with
`max_chroma_scale` = each cap; `sgbm_gf` is measured in the same run. Both setups, plain and consumer cameras,
paper layout. A lower scale averages more of the colour camera's noise but blurs colour edges the
guided upsampling cannot restore; the chroma filter averages only a 3x3 window, where chroma does not follow
the mono image.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from dualcam.benchmarks.machine import cpu_info
from dualcam.benchmarks.quality import paper_rows
from dualcam.model.evaluate import BASELINES, EVAL_CAMERAS, list_pairs, runtime_method


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    p.add_argument("--caps", type=float, nargs="+", default=[1.0, 0.75, 0.5, 0.35, 0.25])
    p.add_argument("--filter", nargs="+", choices=("on", "off"), default=["on"], help="the chroma filter")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "chroma_scale.json")
    args = p.parse_args()
    pairs = list_pairs(args.pairs_dir)
    methods = {f"dualcam@{cap:g}" + ("" if state == "on" else " unfiltered"):
               runtime_method(max_chroma_scale=cap, chroma_filter=state == "on")
               for cap in args.caps for state in args.filter}
    methods["sgbm_gf"] = BASELINES["sgbm_gf"]
    rows = paper_rows(methods, pairs)
    args.out.write_text(json.dumps({"machine": cpu_info(), "pairs": [q.name for q in pairs], "rows": rows}, indent=1) + "\n")
    lines = ["| camera, setup | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    for camera in EVAL_CAMERAS:
        for setup in (1, 2):
            cells = [next(r for r in rows if (r["camera"], r["setup"], r["method"]) == (camera, setup, m)) for m in methods]
            lines.append(f"| {camera}, {setup} | " + " | ".join(
                f"{c['cpsnr']:.2f}" + ("*" if c["failed"] else "") for c in cells) + " |")
    seconds = [sum(r["seconds"] for r in rows if r["method"] == m) / 4 for m in methods]
    lines.append("| mean s/pair | " + " | ".join(f"{s:.2f}" for s in seconds) + " |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n\n* a pair refused by the runtime: the mean is over the others\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
