"""Where the chroma-edge error comes from: the weighted average C0 against the output C = C0 + residue, and how much of
the edge error sits where W blends candidates of different colours.

    python benchmarks/edge_error.py PAIRS_DIR [--checkpoint CKPT] [--out benchmarks/results/edge_error.json]

Each pair as the evaluation captures it (plain camera, Setup 1, paper layout), in the network's frame as `dualcam-run`
arranges it (working scale, candidate offset), the torch network over the whole frame at once (no tiles, no chroma
filter), against the true chroma brought into the same frame. Per pair, in the `edges` and `flat` regions of
`dualcam-eval`: the squared error of C0 and of C, the share of the edge error in the fifth of edge pixels where the
W-weighted spread of the reference chroma is largest, and how the error follows that spread and W's entropy
(correlation).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from dualcam.benchmarks.machine import cpu_info
from dualcam.model.checkpoint import load_model
from dualcam.model.evaluate import list_pairs, regions
from dualcam.model.gate import network_frame, parts
from dualcam.model.pairs import load_dev_pair
from dualcam.runtime.color import rgb_to_ycbcr


def edge_error(net, folder: Path) -> dict:
    frame = network_frame(folder, 1, "plain", net.config.stride, net.config.max_disparity)
    arrangement, (height, width) = frame.arrangement, frame.truth.shape[:2]
    pair = load_dev_pair(folder)
    masks = regions(pair, "paper", rgb_to_ycbcr(pair.right)[..., 1:])
    edges, flat = ((arrangement.mono(masks[name].astype(np.float32)) > 0.5)[:height, :width] for name in ("edges", "flat"))
    p = parts(net, frame)
    weights = p["weights"][0].numpy()
    entropy = -(weights * np.log(weights + 1e-12)).sum(0)
    spread = p["spread"][0].amax(0).numpy()
    top = edges & (spread >= np.quantile(spread[edges], 0.8))
    out = {"working_scale": round(arrangement.scale, 3), "edge_pixels": int(edges.sum())}
    with torch.no_grad():
        refined = net.refine(p["C0"], frame.mono, p["spread"])
    for name, chroma in (("C0", p["C0"]), ("C", refined)):
        squared = ((chroma[0].numpy().transpose(1, 2, 0) - frame.truth) ** 2).sum(2)
        out[name] = {"edge_mse": float(squared[edges].mean()), "flat_mse": float(squared[flat].mean()),
                     "edge_share_in_top_spread": float(squared[top].sum() / squared[edges].sum()),
                     "corr_spread": float(np.corrcoef(spread[edges], squared[edges])[0, 1]),
                     "corr_entropy": float(np.corrcoef(entropy[edges], squared[edges])[0, 1])}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    p.add_argument("--checkpoint", type=Path, default=None, help="default: the shipped weights")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "edge_error.json")
    args = p.parse_args()
    net = load_model(args.checkpoint).eval()
    result = {"machine": cpu_info(), "checkpoint": str(args.checkpoint or "shipped"),
              "pairs": {folder.name: edge_error(net, folder) for folder in list_pairs(args.pairs_dir)}}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"Edge error of {result['checkpoint']}: plain camera, Setup 1, paper layout, whole frame at the working "
             "scale, torch; squared Cb/Cr error per pixel", "",
             "| pair | scale | C0 edges | C edges | C0 flat | C flat | C edge error in the top-fifth spread | "
             "corr(error, spread) | corr(error, W entropy) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in result["pairs"].items():
        c0, c = r["C0"], r["C"]
        lines.append(f"| {name} | {r['working_scale']:g} | {c0['edge_mse']:.2e} | {c['edge_mse']:.2e} | "
                     f"{c0['flat_mse']:.2e} | {c['flat_mse']:.2e} | {100 * c['edge_share_in_top_spread']:.0f} % | "
                     f"{c['corr_spread']:.2f} | {c['corr_entropy']:.2f} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
