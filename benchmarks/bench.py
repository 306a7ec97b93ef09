"""dualcam-bench: per-tile and whole-pipeline speed and memory on this machine, against its measured peaks.

    dualcam-bench                                   # everything, results under benchmarks/results/
    dualcam-bench --sizes 0.5 1 --budgets 1024 --no-reference --out /tmp/bench

Each configuration runs in a fresh process (warm-up, then repeats; median, min and max; peak RSS from the
OS). Per tile: torch eager fp32 and every model of the export folder (fp32, int8, .ort, mobile), plus the
reference 3-D graphs exported on the fly for comparison, and the default model's time by operator. Whole
pipeline: `dualcam-run` and `sgbm_gf` on upscaled real pairs at each size; the largest size again under each
memory budget. Export: `dualcam-export --int8 --ort` of the same weights, its time and peak memory. Writes
bench.json, bench.md and PNG plots.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from dualcam.runtime.session import DEFAULT_BUDGET_MB

from .machine import in_fresh_process

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MODELS = ROOT / "runtime" / "models"


def measure_apart(job: dict) -> dict:
    """One measurement (see `one`) in a new interpreter."""
    return in_fresh_process(["-m", "dualcam.benchmarks.bench", "--one", json.dumps(job)])


def one(job: dict) -> dict:
    from . import pipeline, tile

    kind = job.pop("kind")
    if kind == "onnx":
        return tile.measure_onnx(Path(job["path"]), job["warmup"], job["repeats"], job["threads"])
    if kind == "torch":
        return tile.measure_torch(**job)
    if kind == "profile":
        return tile.op_profile(Path(job["path"]), job["repeats"], job["threads"])
    if kind == "export":
        return measure_export(job["argv"])
    if kind == "sgbm_gf":
        return pipeline.measure_sgbm_gf(Path(job["mono"]), Path(job["color"]), job["max_disparity"], job["warmup"], job["repeats"])
    if kind == "peaks":
        from .machine import peaks

        return peaks()
    raise ValueError(f"unknown job {kind!r}")


def same_export(manifest: dict) -> list[str]:
    """dualcam-export arguments for the weights and tile of an export folder's manifest."""
    source = manifest["source"]
    weights = ["--checkpoint", str(ROOT / "model" / "weights" / source["checkpoint"])] if source.get("trained") \
        else ["--preset", source["preset"], "--seed", str(source["seed"])]
    return [*weights, "--tile", f"{manifest['tile']['height']}x{manifest['tile']['width']}"]


def export_reference(models: Path, folder: Path, log) -> Path:
    """The 3-D reference graphs (fp32, int8) of the same weights and tile, for the comparison."""
    manifest = json.loads((models / "manifest.json").read_text())
    log(f"exporting the reference 3-D graphs ({manifest['tile']['height']}x{manifest['tile']['width']}) for comparison")
    subprocess.run([sys.executable, "-m", "dualcam.export.cli", *same_export(manifest), "--int8", "--no-mobile",
                    "--implementation", "reference", "--out", str(folder)], check=True, capture_output=True, text=True)
    return folder


def measure_export(argv: list[str]) -> dict:
    """One dualcam-export run in this process (a fresh one: its peak RSS is the export's)."""
    import contextlib
    import time

    from dualcam.export.cli import main as export
    from dualcam.runtime.report import peak_memory_mb

    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the last line of stdout is this measurement's JSON
        code = export(argv)
    return {"command": " ".join(["dualcam-export", *argv[:-2]]), "exit": code,
            "seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak_memory_mb())}


def export_suite(manifest: dict, work: Path, log) -> dict:
    """dualcam-export --int8 --ort of the same weights and tile: time and peak memory (a laptop must run it)."""
    log("export: dualcam-export --int8 --ort")
    return measure_apart({"kind": "export", "argv": [*same_export(manifest), "--int8", "--ort", "--out", str(work / "export")]})


def tile_suite(args: argparse.Namespace, manifest: dict, work: Path, log) -> dict:
    from .tile import tile_gflop

    height, width = manifest["tile"]["height"], manifest["tile"]["width"]
    gflop = tile_gflop(manifest["config"], height, width)
    common = {"warmup": args.warmup, "repeats": args.repeats}
    rows = {}
    log("tile: torch eager fp32")
    rows["torch_eager_fp32"] = {"graph": "reference 3-D (torch)", **measure_apart(
        {"kind": "torch", "config": manifest["config"], "height": height, "width": width, **common})}
    folders = [(args.models, "")]
    if args.reference:
        folders.append((export_reference(args.models, work / "reference", log), "reference_"))
    for folder, prefix in folders:
        files = json.loads((folder / "manifest.json").read_text())["files"]
        for role, entry in files.items():
            if entry.get("format") not in ("onnx", "ort"):
                continue
            log(f"tile: {prefix}{role}")
            of = files.get(entry.get("of"), entry)
            rows[prefix + role] = {"graph": of.get("graph"), "precision": of.get("precision"), "format": entry["format"],
                                   **measure_apart({"kind": "onnx", "path": str(folder / entry["file"]),
                                                       "threads": args.threads, **common})}
    for row in rows.values():
        row["gflops_effective"] = round(gflop / row["median_s"], 1)
    suite = {"tile": f"{height}x{width}", "gflop_per_tile": round(gflop, 2), "rows": rows}
    default = "int8" if "int8" in manifest["files"] else "fp32"
    log(f"tile: {default} by operator (onnxruntime's profiler)")
    suite["op_profile"] = {"model": default, **measure_apart({"kind": "profile", "repeats": args.repeats, "threads": args.threads,
                                                              "path": str(args.models / manifest["files"][default]["file"])})}
    return suite


def pipeline_suite(args: argparse.Namespace, manifest: dict, work: Path, log) -> dict:
    from .pipeline import run_dualcam, source_pairs, write_pair

    # by path, so that --models is what runs; int8 is dualcam-run's default on CPUs, fp32 a second setting
    models = {role: str(args.models / manifest["files"][role]["file"]) for role in ("int8", "fp32") if role in manifest["files"]}
    default = models.get("int8") or models["fp32"]
    one_mp = min(args.sizes, key=lambda size: abs(size - 1))
    rows, budgets = [], []
    for name, (mono, color) in source_pairs(args.pairs).items():
        for megapixels in args.sizes:
            pair = write_pair(mono, color, megapixels, work / f"{name}_{megapixels}mp")
            log(f"pipeline: {name} {megapixels} MP")
            run = run_dualcam(*pair, args.budget, default)
            height, width = cv2_shape(pair[0])
            row = {"pair": name, "megapixels": round(height * width / 1e6, 2), "size": f"{width}x{height}", "dualcam_run": run}
            if run["exit"] == 0 and run["disparity_max_px"]:
                search = 16 * -(-int(run["disparity_max_px"]) // 16)
                row["sgbm_gf"] = measure_apart({"kind": "sgbm_gf", "mono": str(pair[0]), "color": str(pair[1]),
                                                   "max_disparity": search, "warmup": 0, "repeats": 1})
                row["dualcam_over_sgbm_gf"] = round(run["seconds"] / row["sgbm_gf"]["median_s"], 2)
            if megapixels == one_mp and "fp32" in models and models["fp32"] != default:
                row["dualcam_run_fp32"] = run_dualcam(*pair, args.budget, models["fp32"])
            rows.append(row)
        largest = work / f"{name}_{max(args.sizes)}mp"
        for budget in args.budgets:
            log(f"pipeline: {name} {max(args.sizes)} MP, budget {budget} MB")
            budgets.append({"pair": name, "megapixels": max(args.sizes),
                            **run_dualcam(largest / "mono.png", largest / "color.png", budget, default)})
    return {"default_budget_mb": args.budget, "rows": rows, "budgets": budgets}


def cv2_shape(path: Path) -> tuple[int, int]:
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape[:2]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="dualcam-bench", description=__doc__.splitlines()[0])
    p.add_argument("--models", type=Path, default=MODELS, help="a dualcam-export folder (default: the shipped models)")
    p.add_argument("--pairs", type=Path, help="folders with left.png/right.png to upscale (default: the bundled sample)")
    p.add_argument("--sizes", type=float, nargs="+", default=[0.5, 1, 3, 12], help="megapixels of the whole-pipeline pairs")
    p.add_argument("--budgets", type=int, nargs="*", default=[600, 2048], help="MB, at the largest size")
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET_MB, help="MB for the runs at each size (dualcam-run's default)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: the runtime's default)")
    p.add_argument("--no-reference", dest="reference", action="store_false", help="skip exporting the 3-D reference graphs")
    p.add_argument("--no-pipeline", dest="pipeline", action="store_false", help="per-tile suite only")
    p.add_argument("--no-export", dest="export", action="store_false", help="skip timing dualcam-export --int8 --ort")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for bench.json, bench.md and the plots")
    p.add_argument("--one", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return 0
    from .machine import cpu_info
    from .report import write_report

    def log(message: str) -> None:
        print(f"dualcam-bench: {message}", file=sys.stderr, flush=True)

    manifest = json.loads((args.models / "manifest.json").read_text())
    result = {"machine": cpu_info(), "command": " ".join(["dualcam-bench", *(argv if argv is not None else sys.argv[1:])]),
              "settings": {"warmup": args.warmup, "repeats": args.repeats, "threads": args.threads}}
    log("GEMM peaks")
    # apart, as every measurement: this process spawns the dualcam-run children, and a child's peak RSS (wait4)
    # counts what its parent held when it was forked
    result["peaks"] = measure_apart({"kind": "peaks"})
    result["tiled_cpsnr"] = manifest.get("measured", {}).get("tiled_cpsnr")
    args.out.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after each suite, so a long run interrupted keeps what it measured
        (args.out / "bench.json").write_text(json.dumps(result, indent=1) + "\n")
        write_report(result, args.out)

    with tempfile.TemporaryDirectory(prefix="dualcam-bench.") as tmp:
        # The pipeline first, while this process is small: the tile suite counts FLOPs with torch in it.
        pipeline = pipeline_suite(args, manifest, Path(tmp), log) if args.pipeline else None
        result["tile"] = tile_suite(args, manifest, Path(tmp), log)
        if pipeline is not None:
            result["pipeline"] = pipeline
        save()
        if args.export:
            result["export"] = export_suite(manifest, Path(tmp), log)
            save()
    print((args.out / "bench.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
