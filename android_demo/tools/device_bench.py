"""On-device latency and peak memory of the exported models, per execution provider, through the app's benchmark mode.

    python android_demo/tools/device_bench.py [--apk app-debug.apk] [--models runtime/models] [--repeats 10]
                                              [--providers cpu,xnnpack,nnapi] [--parse LOGCAT.txt]

With a phone attached (adb, USB debugging on): installs the APK if given, pushes manifest.json and the .ort models
into the app's external files (the app prefers them to its own assets), then for each provider starts the app's
benchmark mode in a fresh process (`am start -S`, so each peak memory is its own), reads its one line from logcat
and prints a table in the row format of benchmarks/onnx_latency.py. `--parse` prints the table of a saved
`adb logcat -v raw -s DualcamBench` instead. With no adb or no device it stops with one line and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

PACKAGE = "dev.dualcam.app"
ACTIVITY = f"{PACKAGE}/.MainActivity"
LOG_TAG = "DualcamBench"
RESULT, ERROR = "DUALCAM_BENCH", "DUALCAM_BENCH_ERROR"
MODELS = Path(__file__).resolve().parents[2] / "runtime" / "models"
REMOTE_MODELS = f"/sdcard/Android/data/{PACKAGE}/files/models"
TIMEOUT_S = 600


class NoDevice(RuntimeError):
    """No adb, or no phone that adb can reach."""


def parse(log: str) -> list[dict]:
    """Benchmark lines of a logcat dump (other lines ignored) -> one dict per provider; failures carry 'error'."""
    rows = []
    for line in log.splitlines():
        tag, _, payload = line.strip().partition(" ")
        if tag in (RESULT, ERROR):
            row = json.loads(payload)
            if tag == ERROR and "error" not in row:
                raise ValueError(f"an error line without its error: {line!r}")
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    """The rows as benchmarks/onnx_latency.py prints its own: one line per provider and model."""
    lines = []
    for r in rows:
        name = f"{r['provider']}/{r.get('model', '-')}"
        if "error" in r:
            lines.append(f"{name:20} failed: {r['error']}")
        else:
            peak = "     ?" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:6.0f}"
            lines.append(f"{name:20} {r['median']:6.3f} s/tile (min {r['min']:.3f}, max {r['max']:.3f}, {r['repeats']} runs, "
                         f"{r['tile']})  load {r['load_seconds']:.2f} s  peak RSS {peak} MB")
    return "\n".join(lines)


def adb(*args: str, check: bool = True) -> str:
    return subprocess.run(["adb", *args], check=check, capture_output=True, text=True).stdout


def device() -> str:
    """The attached phone in words; NoDevice if there is none."""
    if shutil.which("adb") is None:
        raise NoDevice("adb not found: install Android platform-tools and attach a phone with USB debugging on")
    state = subprocess.run(["adb", "get-state"], capture_output=True, text=True)
    if state.returncode != 0 or state.stdout.strip() != "device":
        raise NoDevice(f"no device: adb sees none ({(state.stderr or state.stdout).strip() or 'no answer'})")
    props = [adb("shell", "getprop", p).strip() for p in ("ro.product.model", "ro.soc.model", "ro.build.version.release")]
    return f"{props[0]} ({props[1] or 'SoC unknown'}), Android {props[2]}"


def run_provider(provider: str, repeats: int) -> dict:
    """One provider in a fresh app process; waits for its line in logcat."""
    adb("logcat", "-c")
    adb("shell", "am", "start", "-S", "-W", "-n", ACTIVITY, "--es", "benchmark", provider, "--ei", "repeats", str(repeats))
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        rows = parse(adb("logcat", "-d", "-v", "raw", "-s", f"{LOG_TAG}:I"))
        if rows:
            return rows[-1]
        time.sleep(2)
    return {"provider": provider, "error": f"no result in logcat after {TIMEOUT_S} s"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--apk", type=Path, help="install this APK first (the Gradle build's app-debug.apk)")
    p.add_argument("--models", type=Path, default=MODELS, help="folder with manifest.json and the .ort models")
    p.add_argument("--providers", default="cpu,xnnpack,nnapi")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--parse", type=Path, help="print the table of a saved logcat dump instead of running")
    args = p.parse_args(argv)
    if args.parse:
        print(table(parse(args.parse.read_text())))
        return 0
    try:
        phone = device()
    except NoDevice as error:
        print(f"device_bench: {error}", file=sys.stderr)
        return 2
    if args.apk:
        adb("install", "-r", str(args.apk))
    manifest = json.loads((args.models / "manifest.json").read_text())
    adb("shell", "mkdir", "-p", REMOTE_MODELS)
    for name in ["manifest.json"] + [e["file"] for e in manifest["files"].values() if e.get("format") == "ort"]:
        adb("push", str(args.models / name), f"{REMOTE_MODELS}/{name}")
    rows = [run_provider(provider, args.repeats) for provider in args.providers.split(",")]
    print(f"{phone}, models {args.models}")
    print(table(rows))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
