"""Training-step speed of each speed option on this machine: the measurement to make first on a GPU.

    python benchmarks/train_speed.py --preset mobile --batch 8 --crop 256x512 --steps 10 --workers 6
    python benchmarks/train_speed.py --variants bf16 fp32 --preset tiny --crop 32x64 --steps 2   # a CPU check
    python benchmarks/train_speed.py --plan results/train_speed_cuda.json --minutes 7   # -> dualcam-train options

Each variant is `dualcam-train --profile STEPS` with its options, in a fresh process (CUDA if present):
median seconds per step, BatchNorm's share of the step, the top operators, and whether the loss stayed
finite (a variant whose loss diverges is never planned). One GPU attempt spent 57 % of a
bf16 step in CUDA's 5-D BatchNorm kernels; the options change kernels and memory layout, not the numbers
(tests/test_train.py). Writes results/train_speed_<device>.{json,md} with the machine. `--plan` turns a
result into the options of the fastest variant and the iterations that fit the minutes (so the learning-rate
schedule ends when the time does): what `make gpu-train` trains with.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from dualcam.benchmarks.machine import cpu_info

RESULTS = Path(__file__).parent / "results"
VARIANTS = {
    "bf16": ["--bf16"],
    "bf16, channels-last": ["--bf16", "--channels-last"],
    "bf16, fp32 BatchNorm": ["--bf16", "--fp32-batchnorm"],
    "bf16, channels-last, fp32 BatchNorm": ["--bf16", "--channels-last", "--fp32-batchnorm"],
    "fp32": ["--no-bf16"],
    "fp32, channels-last": ["--no-bf16", "--channels-last"],
    "fp32, compiled": ["--no-bf16", "--compile"],
    "bf16, channels-last, fp32 BatchNorm, compiled": ["--bf16", "--channels-last", "--fp32-batchnorm", "--compile"],
}


def markdown(result: dict) -> str:
    rows = result["rows"]
    fastest = min([r["step_seconds"] for r in rows.values() if r.get("finite")] or [float("nan")])
    lines = [f"Training step, preset {result['preset']}, batch {result['batch']}, crop {result['crop']}, "
             f"{result['device']}; median of {result['steps']} steps", "",
             "| variant | s / step | vs fastest usable | BatchNorm share | top operator |", "|---|---:|---:|---:|---|"]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error']} | | | |")
            continue
        top = r["operators"][0]
        lines.append(f"| {name} | {r['step_seconds']:.4f} | {r['step_seconds'] / fastest:.2f}× | "
                     f"{100 * r['batchnorm_share']:.1f} % | {top[0][:60]} ({100 * top[1]:.0f} %) |"
                     + ("" if r["finite"] else " **the loss diverged: not usable**"))
    return "\n".join(lines)


def plan(result: dict, minutes: float, margin: float = 0.85) -> list[str]:
    """dualcam-train options: the fastest variant's, and --iters for `margin` of the minutes at its speed (the
    rest for start-up, data and checkpoints; --minutes still stops the run in time)."""
    timed = {name: r for name, r in result["rows"].items() if "error" not in r and r["finite"]}
    if not timed:
        raise SystemExit("train_speed: no variant trained with a finite loss, nothing to plan")
    name = min(timed, key=lambda n: timed[n]["step_seconds"])
    iters = max(1, int(margin * 60 * minutes / timed[name]["step_seconds"]))
    row = timed[name]
    threads = ["--threads", str(row["threads"])] if row.get("threads") else []
    return ["--iters", str(iters), *VARIANTS[row.get("variant", name)], *threads]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--preset", default="mobile")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", default="256x512")
    p.add_argument("--steps", type=int, default=10, help="timed steps, then as many profiled")
    p.add_argument("--workers", type=int, default=1, help="data loader processes (scenes are rendered first)")
    p.add_argument("--threads", type=int, nargs="+", default=[0], help="torch CPU threads, each a row (0: default)")
    p.add_argument("--out", type=Path, default=None, help="default: results/train_speed_<device>.json")
    p.add_argument("--plan", type=Path, metavar="RESULT", help="print the training options for --minutes and stop")
    p.add_argument("--minutes", type=float, default=7.0, help="with --plan: the training's wall time")
    args = p.parse_args(argv)
    if args.plan:
        print(" ".join(plan(json.loads(args.plan.read_text()), args.minutes)))
        return
    rows, device = {}, "cpu"
    with tempfile.TemporaryDirectory(prefix="dualcam-train-speed.") as tmp:
        runs = [(variant, threads) for threads in args.threads for variant in args.variants]
        for i, (variant, threads) in enumerate(runs):
            folder = Path(tmp) / str(i)
            name = variant if args.threads == [0] else f"{variant}, {threads} thread{'s' * (threads != 1)}"
            command = [sys.executable, "-m", "dualcam.model.train", "--preset", args.preset, "--batch", str(args.batch),
                       "--crop", args.crop, "--workers", str(args.workers), "--iters", str(3 + 2 * args.steps),
                       "--threads", str(threads), "--profile", str(args.steps), "--out", str(folder), *VARIANTS[variant]]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                rows[name] = {"error": (run.stderr.strip().splitlines() or ["exit %d" % run.returncode])[-1][:200]}
            else:
                rows[name] = json.loads((folder / "profile.json").read_text()) | {"variant": variant, "threads": threads}
                device = rows[name]["gpu"] or rows[name]["device"]
            print(f"{name:48} " + (f"{rows[name]['step_seconds']:.4f} s/step, BatchNorm "
                                   f"{100 * rows[name]['batchnorm_share']:.1f} %" if "error" not in rows[name]
                                   else f"failed: {rows[name]['error']}"), flush=True)
    result = {"preset": args.preset, "batch": args.batch, "crop": args.crop, "steps": args.steps, "device": device,
              "machine": cpu_info(), "rows": rows}
    out = args.out or RESULTS / f"train_speed_{'cpu' if device == 'cpu' else 'cuda'}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(result) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
