"""dualcam-export: the trained network as the files a phone runs, with a manifest that says what each is.

    dualcam-export --int8                          # the shipped weights -> ./dualcam-models/
    dualcam-export --int8 --ort --pairs PAIRS_DIR --out runtime/models

Steps: tile wrapper -> ONNX (fp32, onnxsim) -> parity against torch on real tiles -> int8 QDQ ->
the 2-D mobile graph and its usability report -> .ort -> CoreML -> manifest.json. The fp32 and int8 models,
for CPUs, take any tile up to --tile (the runtime fits tiles to each pair and its memory budget); the mobile
models and CoreML packages, for phones' execution providers, take exactly --tile. With --pairs, the int8
and fp32 models are also compared through the runtime's tiled path on those real pairs. The fp32 and int8
models use the matching implementation --implementation names (model/implementations.py; "fast" by
default), the mobile model the "planar" one; the manifest records them and the command.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import onnx
import onnxruntime as ort
import torch
from tqdm import tqdm

from dualcam.benchmarks.machine import cpu_info
from dualcam.model.checkpoint import SHIPPED_WEIGHTS, load_checkpoint, load_model
from dualcam.model.config import preset
from dualcam.model.network import DualCamNet
from dualcam.runtime.manifest import MANIFEST, ModelChoice, sha256
from dualcam.runtime.pair import load_pair
from dualcam.runtime.report import peak_memory_mb
from dualcam.runtime.tiling import DEFAULT_TILE

from .onnx_export import OPSET, agreement, export_onnx, parity_session
from .quantize import Feeds, fused_op_counts, quantize_int8, real_tiles, synthetic_tiles
from .wrapper import TileColorizer, TileShape

SAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "samples"
FORMAT_VERSION = 1


def sample_tiles(tile: TileShape) -> list[Feeds]:
    """Tiles of the bundled real sample pair, as dualcam-run cuts them."""
    return list(real_tiles(tile, load_pair(SAMPLES / "motorcycle_mono.png", SAMPLES / "motorcycle_color.png")))


def tiled_quality(models: dict[str, ModelChoice], pairs_dir: Path, progress: Callable[[], object]) -> dict:
    """Mean CPSNR of each model through dualcam-run's pipeline on real pairs, Setup1 and Setup2."""
    from dualcam.model.evaluate import evaluate_method, list_pairs, pipeline_method
    from dualcam.runtime.session import OrtModel

    pair_dirs = list_pairs(pairs_dir)
    if not pair_dirs:
        raise ValueError(f"{pairs_dir}: no pairs (folders with left.png and right.png)")
    result = {"pairs": [p.name for p in pair_dirs]}
    for setup in (1, 2):
        row = {}
        for role, choice in models.items():
            measured = evaluate_method(pipeline_method(OrtModel(choice, "cpu")), pair_dirs, setup, "paper")
            if measured["failed"]:  # the manifest's numbers are over every pair or none
                raise ValueError("; ".join(f"{name}: {why}" for name, why in measured["failed"].items()))
            row[role] = round(measured["mean"]["cpsnr"], 3)
            progress()
        row["int8_loss_db"] = round(row["fp32"] - row["int8"], 3) if "int8" in row else None
        if "mobile_int8" in row:  # the mobile graph computes what the fp32 one does (its parity is measured)
            row["mobile_int8_loss_db"] = round(row["fp32"] - row["mobile_int8"], 3)
        result[f"setup{setup}"] = row
    return result


def convert_to_ort(onnx_path: Path, out_dir: Path) -> Path:
    """onnxruntime's own converter, 'Runtime' style: basic optimizations baked in, the rest replayed at
    load time for whichever execution provider runs it (the style its docs give for NNAPI and CoreML)."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(onnx_path, Path(tmp) / onnx_path.name)
        subprocess.run([sys.executable, "-m", "onnxruntime.tools.convert_onnx_models_to_ort", tmp,
                        "--output_dir", str(out_dir), "--optimization_style", "Runtime"],
                       check=True, capture_output=True, text=True)
    produced = out_dir / (onnx_path.stem + ".with_runtime_opt.ort")
    target = out_dir / (onnx_path.stem + ".ort")
    produced.replace(target)
    for extra in out_dir.glob("*.config"):
        extra.unlink()
    return target


def load_network(args: argparse.Namespace) -> tuple[DualCamNet, dict]:
    if args.preset:
        torch.manual_seed(args.seed)
        net = DualCamNet(preset(args.preset)).eval()
        return net, {"preset": args.preset, "trained": False, "seed": args.seed}
    path = Path(args.checkpoint or SHIPPED_WEIGHTS)
    state = load_checkpoint(path)
    return load_model(path), {"checkpoint": path.name, "sha256": sha256(path), "trained": True,
                              "step": state.get("step"), "training": state.get("training")}


GRAPHS = {"reference": "3-D", "fast": "2-D, CPU layout", "planar": "2-D (NNAPI, CoreML EP)"}


def export_all(args: argparse.Namespace, out: Path, log: Callable[[str, int], "Stage"]) -> dict:
    net, source = load_network(args)
    tile = TileShape.parse(args.tile, net.config.max_disparity, net.config.stride)
    spec = tile.spec()
    reference = TileColorizer(net, tile)
    wrapper = TileColorizer(net, tile, args.implementation)
    files: dict[str, dict] = {}
    manifest = {
        "format_version": FORMAT_VERSION,
        "dualcam_version": version("dualcam"),
        # How to make this export again; the pairs are named under measured.tiled_cpsnr, not by their path here.
        "command": " ".join(["dualcam-export", *("PAIRS_DIR" if prev == "--pairs" else a
                                                 for prev, a in zip([""] + args.argv, args.argv))]),
        "source": source,
        "config": net.config.to_dict(),
        "tile": {"height": tile.height, "width": tile.width, "reference_width": tile.reference_width,
                 "stride": net.config.stride, "overlap": spec.overlap},
        "max_disparity": tile.max_disparity,
        "inputs": {k: list(v) for k, v in tile.inputs().items()},
        "outputs": {k: list(v) for k, v in tile.outputs().items()},
        "values": "BT.601 full-range Y, Cb, Cr on [0, 1], float32, NCHW, batch 1",
        "camera_side": ("the colour camera is left of the mono camera: the candidates of mono pixel x are "
                        "reference columns x .. x + max_disparity - 1, so ref_y/ref_cbcr extend max_disparity "
                        "columns to the right of the mono tile; for the other arrangement flip both images "
                        "horizontally, run, flip the result back"),
        "chroma_working_scale": {"range_margin": spec.range_margin, "min_scale": spec.min_scale,
                                 "rule": "scale = min(1, range_margin * max_disparity / measured 99th-percentile "
                                         "disparity), at least min_scale; chroma is predicted at that scale "
                                         "and upsampled guided by the full-resolution mono"},
        "opset": OPSET,
        "tools": {name: version(name) for name in ("torch", "onnx", "onnxruntime", "onnxsim")},
        "files": files,
        # int8 kernels differ by CPU: the same int8 file agrees with fp32 at 67 dB on an AVX-512 VNNI CPU and at
        # 58 dB on an AVX2 one (onnxruntime's u8s8 kernels without VNNI can saturate), so say where it was measured.
        "measured": {"machine": {k: v for k, v in cpu_info().items() if k in ("cpu", "cores", "isa")}},
    }
    parity_tiles = sample_tiles(tile)[:4] + list(synthetic_tiles(tile, 2, seed=7))
    smaller = replace(tile, **{side: max(tile.stride, getattr(tile, side) // 2 // tile.stride * tile.stride)
                               for side in ("height", "width")})
    free_tiles = parity_tiles + list(synthetic_tiles(smaller, 1, seed=8))  # the CPU models at a tile they fit, too

    def add(role: str, path: Path, **info) -> None:
        files[role] = {"file": path.name, "sha256": sha256(path), "bytes": path.stat().st_size, **info}

    stage = log("ONNX fp32: export, onnxsim, parity", 1 + len(free_tiles))
    fp32 = export_onnx(wrapper, tile, out / "dualcam_fp32.onnx", dynamic=True)
    stage.step()
    add("fp32", fp32, format="onnx", precision="fp32", graph=GRAPHS[args.implementation], implementation=args.implementation,
        dynamic_tile=True)
    manifest["measured"]["fp32_vs_torch"] = agreement(reference, fp32, free_tiles, stage.step)
    stage.done()

    if args.int8:
        calibration = sample_tiles(tile) + list(synthetic_tiles(tile, args.calibration_scenes, seed=1000))
        stage = log("int8 QDQ: calibrate, quantize, parity", len(calibration) + 1 + len(free_tiles))
        int8 = quantize_int8(fp32, out / "dualcam_int8.onnx", calibration, keep=args.keep_float, progress=stage.step)
        stage.step()
        add("int8", int8, format="onnx", precision="int8 QDQ (U8 activations, S8 per-channel weights)",
            graph=GRAPHS[args.implementation], implementation=args.implementation, dynamic_tile=True)
        manifest["int8"] = {"keep_float": args.keep_float, "calibration": {
            "method": "min-max", "real_tiles": len(calibration) - args.calibration_scenes,
            "real_source": "the bundled sample pair (runtime/samples)", "synthetic_tiles": args.calibration_scenes},
            "fused_op_counts_x86": fused_op_counts(int8)}
        fp32_session = parity_session(fp32)
        manifest["measured"]["int8_vs_fp32"] = agreement(fp32_session, int8, free_tiles, stage.step)
        stage.done()

    if args.mobile:
        from .mobile import conv_weight_ranks, mobile_usability

        stage = log("mobile graph (2-D only): export, usability report, parity", 2 + len(parity_tiles))
        mobile = export_onnx(TileColorizer(net, tile, "planar"), tile, out / "dualcam_mobile.onnx")
        stage.step()
        add("mobile", mobile, format="onnx", precision="fp32", graph=GRAPHS["planar"], implementation="planar")
        usability = mobile_usability(mobile, out / "mobile_usability.txt")
        stage.step()
        add("usability_report", out / "mobile_usability.txt", format="text")
        manifest["mobile"] = {"usability": usability,
                              "max_conv_weight_rank": max(conv_weight_ranks(onnx.load(mobile)).values())}
        manifest["measured"]["mobile_vs_torch"] = agreement(reference, mobile, parity_tiles, stage.step)
        stage.done()
        if args.int8:  # for NPUs, which reach their speed in int8: NNAPI takes the QDQ graph whole, CoreML does not
            stage = log("mobile int8 QDQ: calibrate, quantize, usability report, parity", len(calibration) + 2 + len(parity_tiles))
            mobile_int8 = quantize_int8(mobile, out / "dualcam_mobile_int8.onnx", calibration, keep=args.keep_float,
                                        progress=stage.step)
            stage.step()
            add("mobile_int8", mobile_int8, format="onnx", precision=files["int8"]["precision"], graph=GRAPHS["planar"],
                implementation="planar")
            manifest["mobile"]["int8_usability"] = mobile_usability(mobile_int8, out / "mobile_int8_usability.txt")
            stage.step()
            add("int8_usability_report", out / "mobile_int8_usability.txt", format="text")
            manifest["measured"]["mobile_int8_vs_mobile"] = agreement(parity_session(mobile), mobile_int8, parity_tiles,
                                                                      stage.step)
            stage.done()

    if args.ort:
        roles = [r for r in ("int8", "mobile", "mobile_int8") if r in files] or ["fp32"]
        tiles = {role: free_tiles if files[role].get("dynamic_tile") else parity_tiles for role in roles}
        stage = log("ORT format: convert, parity", sum(1 + len(t) for t in tiles.values()))
        for role in roles:
            onnx_path = out / files[role]["file"]
            converted = convert_to_ort(onnx_path, out)
            stage.step()
            add(f"{role}_ort", converted, format="ort", of=role, dynamic_tile=files[role].get("dynamic_tile", False))
            session = parity_session(onnx_path)
            manifest["measured"][f"{role}_ort_vs_onnx"] = agreement(session, converted, tiles[role], stage.step)
        stage.done()

    if args.coreml:
        from .coreml import export_coreml, op_inventory

        stage = log("CoreML ML Program: fp16, int8 weights", 2)
        manifest["tools"]["coremltools"] = version("coremltools")
        for role, int8_weights in (("coreml_fp16", False), ("coreml_int8_weights", True)):
            package = export_coreml(reference, tile, out / f"dualcam_{role.removeprefix('coreml_')}.mlpackage",
                                    int8_weights=int8_weights)
            ops = dict(op_inventory(package).most_common())
            # A package is a folder; zipped, it is one file with one checksum.
            archive = Path(shutil.make_archive(str(package), "zip", package.parent, package.name))
            shutil.rmtree(package)
            add(role, archive, format="mlpackage (zip)", graph="3-D", ops=ops)
            stage.step()
        stage.done()

    if args.pairs:
        models = {role: ModelChoice(out / files[role]["file"], role, files[role]["sha256"],
                                    replace(spec, dynamic=files[role].get("dynamic_tile", False)))
                  for role in ("fp32", "int8", "mobile_int8") if role in files}
        stage = log(f"quality through dualcam-run's pipeline on {args.pairs}", 2 * len(models))
        manifest["measured"]["tiled_cpsnr"] = tiled_quality(models, args.pairs, stage.step)
        stage.done()
    return manifest


class Stage:
    """One export stage on stderr: a progress bar over its steps, closed with its time and the process's peak
    memory so far (which stage raised it shows in the log)."""

    def __init__(self, what: str, steps: int):
        self.start = time.perf_counter()
        self.bar = tqdm(total=steps, desc=f"dualcam-export: {what}", unit="step", file=sys.stderr, dynamic_ncols=True,
                        bar_format="{desc}: {bar:20} {n_fmt}/{total_fmt} [{elapsed}]{postfix}")

    def step(self) -> None:
        self.bar.update()

    def done(self) -> None:
        self.bar.set_postfix_str(f"{time.perf_counter() - self.start:.1f} s, peak memory so far {peak_memory_mb():.0f} MB")
        self.bar.close()


def quiet_libraries() -> None:
    """The libraries' notices that say nothing about this export (warnings and errors still show): onnxruntime's
    info and warnings about its own graph optimisations, and the torch exporter's list of the torchvision ops it
    skips because torchvision is not installed."""
    ort.set_default_logger_severity(3)
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="dualcam-export", description=__doc__.splitlines()[0])
    source = p.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", type=Path, help="trained weights (default: the shipped mobile weights)")
    source.add_argument("--preset", help="an untrained network of this preset (to try the pipeline)")
    p.add_argument("--seed", type=int, default=0, help="initialisation of an untrained --preset")
    p.add_argument("--tile", default="{}x{}".format(*DEFAULT_TILE),
                   help="tile HxW of the mobile models, and the largest the CPU models are run on")
    p.add_argument("--implementation", default="fast", choices=("fast", "reference"),
                   help="matching implementation of the fp32 and int8 models (the mobile model is always 'planar')")
    p.add_argument("--int8", action="store_true", help="add the int8 QDQ models (of the CPU graph and the mobile graph)")
    p.add_argument("--ort", action="store_true", help="add .ort files of the int8 and mobile models")
    p.add_argument("--coreml", action="store_true", help="add CoreML packages (fp16, int8 weights)")
    p.add_argument("--no-mobile", dest="mobile", action="store_false", help="skip the 2-D mobile graph")
    p.add_argument("--keep-float", default="refine", choices=("refine", "none"),
                   help="int8: what stays float (see dualcam.export.quantize.float_nodes)")
    p.add_argument("--calibration-scenes", type=int, default=8, help="synthetic calibration tiles")
    p.add_argument("--pairs", type=Path, help="real pairs (dev layout) to measure fp32 vs int8 quality on")
    p.add_argument("--out", type=Path, default=Path("dualcam-models"))
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out
    if out.exists() and not (out / MANIFEST).exists() and any(out.iterdir()):
        print(f"dualcam-export: {out}: exists and is not a dualcam export; choose another --out", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))

    quiet_libraries()
    try:
        manifest = export_all(args, staging, Stage)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    except (OSError, ValueError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"dualcam-export: {error}", file=sys.stderr)
        return 2
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # Swap the finished export in; a previous export there (it has a manifest) is replaced whole.
    if out.exists():
        shutil.rmtree(out)
    staging.chmod(0o755)  # mkdtemp makes it private; an export is meant to be shared
    staging.rename(out)
    for role, entry in manifest["files"].items():
        print(f"{out / entry['file']}  {role}  {entry['bytes'] / 1e6:.2f} MB")
    print(json.dumps(manifest["measured"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
