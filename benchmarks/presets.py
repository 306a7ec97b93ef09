"""Size and CPU cost of each preset for one 256x512 tile: the numbers behind the `mobile` preset's choice.

    python benchmarks/presets.py [--repeats 3] [--out benchmarks/results/presets.json]
    python benchmarks/presets.py --device cuda --bf16 --repeats 20 --out benchmarks/results/presets_cuda_bf16.json

Each preset runs in its own process so its peak memory is its own (RSS on the CPU, the allocator's peak
on a GPU). Median of repeats after one warm-up, torch eager, no autograd; the machine is recorded.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

from dualcam.benchmarks.machine import cpu_info, in_fresh_process


def measure(name: str, height: int, width: int, repeats: int, device: str, bf16: bool) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from dualcam.model.config import preset
    from dualcam.model.network import DualCamNet

    cfg = preset(name)
    net = DualCamNet(cfg).eval().to(device)
    x = (torch.rand(1, 1, height, width), torch.rand(1, 1, height, width + cfg.max_disparity),
         torch.rand(1, 2, height, width + cfg.max_disparity))
    x = tuple(t.to(device) for t in x)
    cuda = device.startswith("cuda")
    torch.backends.cudnn.benchmark = True
    with torch.no_grad(), torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
        with FlopCounterMode(display=False) as counter:
            net(*x)  # also the warm-up
        times = []
        for _ in range(repeats):
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            net(*x)
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    peak_mb = (torch.cuda.max_memory_allocated() / 2**20 if cuda
               else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"preset": name, "params": net.num_params(), "gflop": counter.get_total_flops() / 1e9,
            "seconds": statistics.median(times), "peak_mb": peak_mb, "config": cfg.to_dict()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tile", default="256x512")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--presets", nargs="+", default=["tiny", "mobile", "paper"])
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "presets.json")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast, as in training")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    height, width = map(int, args.tile.split("x"))
    if args.one:
        print(json.dumps(measure(args.one, height, width, args.repeats, args.device, args.bf16)))
        return
    rows = []
    for name in args.presets:
        rows.append(in_fresh_process([__file__, "--one", name, "--tile", args.tile, "--repeats", str(args.repeats),
                                      "--device", args.device] + ["--bf16"] * args.bf16))
        r = rows[-1]
        print(f"{name:8} {r['params']:>10,} params {r['gflop']:8.1f} GFLOP {r['seconds']:7.2f} s "
              f"{r['peak_mb']:7.0f} MB", flush=True)
    machine = cpu_info()
    if args.device.startswith("cuda"):
        import torch

        machine["gpu"] = torch.cuda.get_device_name()
    args.out.write_text(json.dumps({"tile": args.tile, "device": args.device, "bf16": args.bf16,
                                    "machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
