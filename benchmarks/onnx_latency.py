"""Latency and peak memory of each exported model for one tile, onnxruntime on this CPU.

    python benchmarks/onnx_latency.py [--models runtime/models] [--repeats 10] [--threads 0]

Each model runs in its own process that imports only the torch-free runtime (peak RSS is its own), on a
real tile of the bundled sample pair, after one warm-up run, through the runtime's own session settings;
the median of the repeats is reported with the machine.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

from dualcam.benchmarks.machine import cpu_info, in_fresh_process

RESULTS = Path(__file__).parent / "results"
SAMPLES = Path(__file__).parent.parent / "runtime" / "samples"


def measure(path: Path, repeats: int, threads: int) -> dict:
    """In a fresh process that imports only the runtime (no torch): load, warm up, time, peak RSS."""
    from dualcam.runtime.color import rgb_to_ycbcr
    from dualcam.runtime.imageio import as_color, as_mono, read_image
    from dualcam.runtime.session import TileModel
    from dualcam.runtime.tiling import TileGrid

    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    model = TileModel(path, threads=threads)
    load = time.perf_counter() - start
    mono = as_mono(read_image(SAMPLES / "motorcycle_mono.png"))
    ref = rgb_to_ycbcr(as_color(read_image(SAMPLES / "motorcycle_color.png")))
    grid = TileGrid(*mono.shape, model.tile_height, model.tile_width, model.max_disparity, overlap=0)
    tile = next(grid.tiles(mono, ref))[2:]  # the top-left tile
    model(*tile)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(*tile)
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "min": min(times), "load_seconds": load,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "imports_rss_mb": base_mb,
            "tile": f"{model.tile_height}x{model.tile_width}"}


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
        rows[role] = in_fresh_process([__file__, "--one", str(args.models / entry["file"]),
                                       "--repeats", str(args.repeats), "--threads", str(args.threads)])
        r = rows[role]
        print(f"{role:12} {r['seconds']:6.3f} s/tile (min {r['min']:.3f})  peak RSS {r['peak_rss_mb']:6.0f} MB", flush=True)
    machine = cpu_info()
    import onnxruntime

    args.out.write_text(json.dumps({"machine": machine, "onnxruntime": onnxruntime.__version__,
                                    "threads": args.threads, "repeats": args.repeats, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
