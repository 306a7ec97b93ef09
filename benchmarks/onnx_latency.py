"""Latency and peak memory of each exported model for one tile, onnxruntime on this CPU.

    python benchmarks/onnx_latency.py [--models runtime/models] [--repeats 10] [--threads 0]

Each model runs in its own process (peak RSS is its own), on a real tile of the bundled sample pair,
after one warm-up run; the median of the repeats is reported with the machine.
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

RESULTS = Path(__file__).parent / "results"


def measure(path: Path, repeats: int, threads: int) -> dict:
    import onnxruntime as ort

    from dualcam.export.cli import sample_tiles
    from dualcam.export.wrapper import TileShape

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    start = time.perf_counter()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    load = time.perf_counter() - start
    _, _, height, width = session.get_inputs()[0].shape
    tile = TileShape(height, width, session.get_inputs()[1].shape[3] - width)
    feeds = sample_tiles(tile)[0]
    session.run(None, feeds)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "min": min(times), "load_seconds": load,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "tile": f"{height}x{width}"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=Path, default=Path(__file__).parent.parent / "runtime" / "models")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: onnxruntime's default)")
    p.add_argument("--out", type=Path, default=RESULTS / "onnx_latency.json")
    p.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeats, args.threads)))
        return
    manifest = json.loads((args.models / "manifest.json").read_text())
    rows = {}
    for role, entry in manifest["files"].items():
        if entry.get("format") not in ("onnx", "ort"):
            continue
        out = subprocess.run([sys.executable, __file__, "--one", str(args.models / entry["file"]),
                              "--repeats", str(args.repeats), "--threads", str(args.threads)],
                             check=True, capture_output=True, text=True).stdout
        rows[role] = json.loads(out.strip().splitlines()[-1])
        r = rows[role]
        print(f"{role:12} {r['seconds']:6.3f} s/tile (min {r['min']:.3f})  peak RSS {r['peak_rss_mb']:6.0f} MB", flush=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    import onnxruntime

    args.out.write_text(json.dumps({"machine": machine, "onnxruntime": onnxruntime.__version__,
                                    "threads": args.threads, "repeats": args.repeats, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
