"""Size and CPU cost of each preset for one 256x512 tile: the numbers behind the `mobile` preset's choice.

    python benchmarks/presets.py [--repeats 3] [--out benchmarks/results/presets.json]

Each preset runs in its own process so its peak RSS is its own. Median of repeats, torch fp32 eager,
no autograd; the machine is recorded with the results.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def measure(name: str, height: int, width: int, repeats: int) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from dualcam.model.config import preset
    from dualcam.model.network import DualCamNet

    cfg = preset(name)
    net = DualCamNet(cfg).eval()
    x = (torch.rand(1, 1, height, width), torch.rand(1, 1, height, width + cfg.max_disparity),
         torch.rand(1, 2, height, width + cfg.max_disparity))
    with torch.no_grad():
        with FlopCounterMode(display=False) as counter:
            net(*x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            net(*x)
            times.append(time.perf_counter() - start)
    return {"preset": name, "params": net.num_params(), "gflop": counter.get_total_flops() / 1e9,
            "seconds": statistics.median(times), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "config": cfg.to_dict()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tile", default="256x512")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--presets", nargs="+", default=["tiny", "mobile", "paper"])
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "presets.json")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    height, width = map(int, args.tile.split("x"))
    if args.one:
        print(json.dumps(measure(args.one, height, width, args.repeats)))
        return
    rows = []
    for name in args.presets:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--tile", args.tile, "--repeats",
                              str(args.repeats)], check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"{name:8} {r['params']:>10,} params {r['gflop']:8.1f} GFLOP {r['seconds']:7.2f} s "
              f"{r['peak_rss_mb']:7.0f} MB", flush=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    args.out.write_text(json.dumps({"tile": args.tile, "machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
