"""Equal-budget ablations: what each training ingredient and each module of the paper's Table 5 is worth.

    python benchmarks/ablations.py PAIRS_DIR --init START.pt --textures TEXTURES [--iters 250]
                                   [--runs runs/ablations] [--out benchmarks/results/ablations.json]

Every variant is fine-tuned from the same starting weights for the same number of iterations with the same
seed, learning rate and crops; only one thing changes per variant. Training runs go through `dualcam-train`
(resumable: run the same command again after an interruption). Then each checkpoint is measured on the real
pairs through the torch path, plain and consumer cameras, both setups, with `sgbm_gf` in the same run.
Short runs measure the direction and rough size of an effect, not what a long run would reach.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from dualcam.benchmarks.machine import cpu_info
from dualcam.model.checkpoint import load_checkpoint, load_model
from dualcam.model.evaluate import BASELINES, EVAL_CAMERAS, evaluate_method, list_pairs, network_method

# name -> (trains on the texture set, other dualcam-train arguments that differ from the recipe, what it tests)
VARIANTS: dict[str, tuple[bool, list[str], str]] = {
    "recipe": (True, [], "the shipped recipe: texture set, realistic cameras, full network"),
    "no_textures": (False, [], "scikit-image's few photos instead of the texture set"),
    "aligned_camera": (True, ["--camera", "aligned"], "realistic cameras without residual misalignment"),
    "ideal_camera": (True, ["--camera", "ideal"], "only the setup noise, no camera differences"),
    "no_attention": (True, ["--set", "attention=false"], "Table 5: the cost volume goes to the regulation unweighted"),
    "no_weighted_average": (True, ["--set", "weighted_average=false"], "Table 5: one candidate by soft-argmax"),
    "no_residue": (True, ["--set", "color_residue=false"], "Table 5: C0 is the output"),
}
CASES = [(camera, setup) for camera in EVAL_CAMERAS for setup in (1, 2)]


def train(name: str, args: argparse.Namespace) -> Path:
    out = args.runs / name
    last = out / "last.pt"
    if last.exists() and load_checkpoint(last)["step"] >= args.iters:
        return last
    with_textures, extra, _ = VARIANTS[name]
    textures = ["--textures", str(args.textures)] if with_textures else []
    command = [sys.executable, "-m", "dualcam.model.train", "--preset", "mobile", "--init", str(args.init),
               "--iters", str(args.iters), "--lr", "5e-4", "--batch", "4", "--crop", "128x256", "--seed", "2",
               "--camera", "realistic", *textures, "--workers", "1", "--threads", "2", "--ckpt-every", "50",
               "--out", str(out), *extra]
    print(" ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)
    return last


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path)
    p.add_argument("--init", type=Path, required=True, help="the common starting weights")
    p.add_argument("--textures", type=Path, required=True, help="python -m dualcam.model.textures build DIR")
    p.add_argument("--iters", type=int, default=250)
    p.add_argument("--runs", type=Path, default=Path("runs/ablations"))
    p.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ablations.json")
    args = p.parse_args()
    checkpoints = {"start": args.init} | {name: train(name, args) for name in args.only}

    pairs = list_pairs(args.pairs_dir)
    methods = {name: network_method(load_model(path)) for name, path in checkpoints.items()}
    methods["sgbm_gf"] = BASELINES["sgbm_gf"]
    rows = []
    for camera, setup in CASES:
        for name, method in methods.items():
            r = evaluate_method(method, pairs, setup, "paper", camera)
            rows.append({"camera": camera, "setup": setup, "variant": name, "cpsnr": r["mean"]["cpsnr"],
                         "pairs": {k: v["cpsnr"] for k, v in r["pairs"].items()}, "failed": r["failed"]})
            print(f"{camera:8} setup {setup} {name:20} {r['mean']['cpsnr']:6.2f} dB", flush=True)
    states = {name: load_checkpoint(path) for name, path in checkpoints.items() if name != "start"}
    training = {name: {k: state[k] for k in ("step", "elapsed")} for name, state in states.items()}
    args.out.write_text(json.dumps({"machine": cpu_info(), "pairs": [q.name for q in pairs], "iters": args.iters,
                                    "training": training, "rows": rows}, indent=1) + "\n")
    cell = {(r["camera"], r["setup"], r["variant"]): r for r in rows}
    heads = [f"{c} S{s}" for c, s in CASES]
    lines = ["| variant | what changes | " + " | ".join(heads) + " | mean Δ vs recipe |",
             "|---|---|" + "---:|" * (len(CASES) + 1)]
    for name in methods:
        values = [cell[(c, s, name)]["cpsnr"] for c, s in CASES]
        what = VARIANTS[name][2] if name in VARIANTS else ("starting weights, not trained here" if name == "start"
                                                            else "classical baseline")
        delta = ""
        if "recipe" in methods and name != "recipe":
            delta = f"{sum(v - cell[(c, s, 'recipe')]['cpsnr'] for v, (c, s) in zip(values, CASES)) / len(CASES):+.2f}"
        lines.append(f"| {name} | {what} | " + " | ".join(f"{v:.2f}" for v in values) + f" | {delta} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
