"""Latency and peak memory of each exported model for one tile, onnxruntime on this CPU.

    python benchmarks/onnx_latency.py [--models runtime/models] [--repeats 10] [--threads 0]

The quick per-tile table (`dualcam-bench` measures the same rows, plus torch, the reference graphs and the
whole pipeline). Each model runs in its own process that imports only the torch-free runtime (peak RSS is
its own), on a real tile of the bundled sample pair, after one warm-up run, through the runtime's own
session settings; the median of the repeats is reported with the machine.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from dualcam.benchmarks.bench import measure_apart
from dualcam.benchmarks.machine import cpu_info

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=Path, default=Path(__file__).parent.parent / "runtime" / "models")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: onnxruntime's default)")
    p.add_argument("--out", type=Path, default=RESULTS / "onnx_latency.json")
    args = p.parse_args()
    manifest = json.loads((args.models / "manifest.json").read_text())
    rows = {}
    for role, entry in manifest["files"].items():
        if entry.get("format") not in ("onnx", "ort"):
            continue
        rows[role] = r = measure_apart({"kind": "onnx", "path": str(args.models / entry["file"]), "warmup": 1,
                                        "repeats": args.repeats, "threads": args.threads})
        print(f"{role:12} {r['median_s']:6.3f} s/tile (min {r['min_s']:.3f})  peak RSS {r['peak_rss_mb']:6.0f} MB", flush=True)
    machine = cpu_info()
    args.out.write_text(json.dumps({"machine": machine, "threads": args.threads, "repeats": args.repeats,
                                    "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
