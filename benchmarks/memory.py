"""Peak memory of dualcam-run on a 12-megapixel pair against the memory budget it was given.

    python benchmarks/memory.py [--budgets 1536 2048 4096] [--size 4000x3000]

The pair is the bundled sample upscaled to the size (disparities scale with it, so the chroma working
scale drops as on a real phone's 12 MP capture). Each run is a separate process; its peak RSS is read
from the operating system (wait4), output writing included.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "runtime" / "samples"


def run(mono: Path, color: Path, out: Path, budget: int) -> dict:
    argv = [sys.executable, "-m", "dualcam.runtime.cli", str(mono), str(color), "-o", str(out),
            "--memory-budget", str(budget), "--json", "-q"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, unlike RUSAGE_CHILDREN
        seconds = time.perf_counter() - start
        stdout.seek(0), stderr.seek(0)
        output, error = stdout.read(), stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return {"budget_mb": budget, "exit": code, "error": error.strip().splitlines()[-1]}
    report = json.loads(output)
    return {"budget_mb": budget, "exit": 0, "seconds": round(seconds, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "peak_rss_before_writing_mb": report["peak_rss_mb"], "estimated_peak_mb": report["tiles"]["estimated_peak_mb"],
            "memory_arena": report["tiles"]["memory_arena"], "tiles": report["tiles"]["count"],
            "chroma_scale": report["chroma_scale"], "timings_s": report["timings_s"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budgets", type=int, nargs="+", default=[1024, 1536, 2048, 4096])
    p.add_argument("--size", default="4000x3000")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "memory.json")
    args = p.parse_args()
    width, height = map(int, args.size.split("x"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pair = []
        for name in ("mono", "color"):
            image = cv2.imread(str(SAMPLES / f"motorcycle_{name}.png"), cv2.IMREAD_UNCHANGED)
            path = Path(tmp) / f"{name}.png"
            cv2.imwrite(str(path), cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC))
            pair.append(path)
        for budget in args.budgets:
            rows.append(run(*pair, Path(tmp) / "out.png", budget))
            print(json.dumps(rows[-1]), flush=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    args.out.write_text(json.dumps({"size": args.size, "machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
