"""dualcam-eval: the network and the classical baselines, measured the same way in the same run.

    dualcam-eval PAIRS_DIR [--setup 1|2] [--layout paper|swapped] [--camera plain|consumer]
                 [--runtime int8|fp32|mobile|mobile_int8|torch] [--models DIR | --checkpoint PATH] [--json]

Inputs are simulated from real colour stereo pairs (README, "Evaluation"): the mono camera's view loses
its colour and both views get the setup's signal-dependent noise. CPSNR is over Cb and Cr against the
clean mono view; RGB PSNR and SSIM are of the merged output (luma = the noisy mono input).

The network is measured exactly as users run it, through `dualcam.runtime.colorize`'s pipeline: its geometry
measurement, chroma working scale, tiles, chroma filter and merge, with an exported model (int8 unless --runtime
says otherwise) or, with `--runtime torch`, a checkpoint's network in PyTorch on the same tiles (for checkpoints
not exported yet).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dualcam.runtime.color import rgb_to_ycbcr, ycbcr_to_rgb
from dualcam.runtime.manifest import ROLES

from .baselines import BASELINES
from .metrics import REGIONS, cpsnr, cpsnr_by_region, occluded_in_left, occluded_in_right, region_masks, rgb_psnr, ssim_rgb
from .pairs import list_pairs, load_dev_pair
from .simulate import CONSUMER_CAMERA, simulate_capture

# (mono Y, colour RGB) in the network's arrangement -> (H, W, 2) Cb/Cr of the mono view.
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
LAYOUTS = ("paper", "swapped")  # paper: the mono camera is the right one; swapped: the left one
METRICS = ("cpsnr", "rgb_psnr", "ssim", "seconds")
# plain: the paper's protocol; consumer: the colour view first recorded by a fixed small-sensor camera
EVAL_CAMERAS = {"plain": None, "consumer": CONSUMER_CAMERA}


def pipeline_method(session, max_chroma_scale: float = 1.0, chroma_filter: bool = True) -> Method:
    """What `dualcam-run` computes, through its Python API, with `session` (an onnxruntime model, or the torch
    network as `predict.TorchModel`): each pair handed over as 16-bit samples (so the file format's rounding does
    not blur the comparison), Cb/Cr read back from the 16-bit RGB result, gamut clipping included."""
    from dualcam.runtime.colorize import Colorizer
    from dualcam.runtime.pair import load_pair

    colorizer = Colorizer(session, max_chroma_scale=max_chroma_scale, chroma_filter=chroma_filter)

    def run(mono_y: np.ndarray, color_rgb: np.ndarray) -> np.ndarray:
        to16 = lambda x: np.rint(np.clip(x, 0, 1) * 65535).astype(np.uint16)  # noqa: E731
        rgb, _ = colorizer(load_pair(to16(mono_y), to16(color_rgb)))
        return rgb_to_ycbcr(rgb.astype(np.float32) / 65535)[..., 1:]

    return run


def network_method(net, name: str = "in memory") -> Method:
    """A torch network through the pipeline."""
    from .predict import TorchModel

    return pipeline_method(TorchModel(net, name))


def runtime_method(model: str = "int8", models_dir: Path | None = None, **options) -> Method:
    """An exported model (a role in `models_dir`, the shipped models by default) through the pipeline."""
    from dualcam.runtime.session import OrtModel

    return pipeline_method(OrtModel.load(model, **({} if models_dir is None else {"models_dir": models_dir})), **options)


def capture_seed(name: str, setup: int, layout: str, camera: str = "plain") -> int:
    """Noise depends on the pair, setup, layout and camera only: every method sees the very same inputs.
    (The plain camera's seeds are those of every earlier report.)"""
    return zlib.crc32(f"{name}/{setup}/{layout}".encode() + (b"" if camera == "plain" else f"/{camera}".encode()))


def evaluate_pair(method: Method, pair_dir: Path, setup: int, layout: str, camera: str = "plain") -> dict[str, float]:
    """One pair, its colour view recorded by one of EVAL_CAMERAS."""
    from dualcam.runtime.errors import InputError
    from dualcam.runtime.imageio import Image, as_color

    pair = load_dev_pair(pair_dir)
    for name, view in (("left.png", pair.left), ("right.png", pair.right)):
        try:
            as_color(Image(view, 8, pair_dir / name))
        except InputError:
            raise ValueError(f"{pair_dir / name}: has no colour; a pair needs two colour views, or its CPSNR "
                             "measures nothing") from None
    mono_view, color_view = (pair.right, pair.left) if layout == "paper" else (pair.left, pair.right)
    seed = capture_seed(pair.name, setup, layout, camera)
    mono_y, color_rgb = simulate_capture(mono_view, color_view, setup, seed, EVAL_CAMERAS[camera])
    flip = layout == "swapped"  # bring the colour camera to the left, where the network expects it
    if flip:
        mono_y, color_rgb = mono_y[:, ::-1].copy(), color_rgb[:, ::-1].copy()
    start = time.perf_counter()
    cbcr = method(mono_y, color_rgb)
    seconds = time.perf_counter() - start
    if flip:
        mono_y, cbcr = mono_y[:, ::-1], cbcr[:, ::-1]
    output = ycbcr_to_rgb(np.dstack([mono_y, cbcr]))
    truth = rgb_to_ycbcr(mono_view)
    return {
        "cpsnr": cpsnr(cbcr, truth[..., 1:]),
        "rgb_psnr": rgb_psnr(output, mono_view),
        "ssim": ssim_rgb(output, mono_view),
        "seconds": seconds,
        "regions": cpsnr_by_region(cbcr, truth[..., 1:], regions(pair, layout, truth[..., 1:])),
    }


def regions(pair, layout: str, true_cbcr: np.ndarray) -> dict[str, np.ndarray]:
    """Where in the mono view the error is (metrics.region_masks). The strip the colour camera cannot see lies on
    the side away from it, as wide as the pair's largest disparity (99th percentile: of the ground truth where the
    pair has it, else of the feature matches); occlusions only where ground truth gives them."""
    from dualcam.runtime.color import rgb_to_luma
    from dualcam.runtime.rectify import check_rectification

    if pair.disp_left is not None:
        disparity = pair.disp_left[np.isfinite(pair.disp_left) & (pair.disp_left > 0)]
        width = float(np.percentile(disparity, 99))
        occluded = occluded_in_right(pair.disp_left) if layout == "paper" else occluded_in_left(pair.disp_left)
    else:
        check = check_rectification(rgb_to_luma(pair.right), pair.left)
        width, occluded = (0.0 if check.too_few_matches else check.disparity_range[1]), None
    # paper: the mono camera is the right one, and sees past the colour camera's view on its right
    return region_masks(true_cbcr, "right" if layout == "paper" else "left", width, occluded)


def add_network_arguments(p: argparse.ArgumentParser) -> None:
    """--runtime/--models/--checkpoint, shared by dualcam-eval and the quality benchmark."""
    p.add_argument("--runtime", choices=(*ROLES, "torch"), default="int8",
                   help="an exported model through dualcam.runtime (default int8, what dualcam-run uses on a CPU), "
                        "or torch: a checkpoint on the whole image")
    p.add_argument("--models", type=Path, default=None,
                   help="an export folder (dualcam-export --out) for the runtime; default: the shipped models")
    p.add_argument("--checkpoint", type=Path, default=None, help="with --runtime torch; default: the shipped weights")


def check_network_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a combination that would silently measure another model than the one named."""
    if args.checkpoint is not None and args.runtime != "torch":
        p.error("--checkpoint needs --runtime torch (or export it and give --models)")
    if args.models is not None and args.runtime == "torch":
        p.error("--models is an export folder for the runtime; with --runtime torch give --checkpoint")


def network_from_arguments(args: argparse.Namespace) -> Method:
    if args.runtime == "torch":
        from .checkpoint import load_model

        return network_method(load_model(args.checkpoint), str(args.checkpoint or "shipped mobile.pt"))
    return runtime_method(args.runtime, args.models)


def evaluate_method(method: Method, pair_dirs: list[Path], setup: int, layout: str, camera: str = "plain",
                    progress: Callable[[str], None] | None = None) -> dict:
    """Every pair; one that fails (unreadable, refused by the runtime) is reported under "failed" and
    left out of the mean, so the others' results survive. `progress` hears each pair's name before it runs."""
    pairs, failed = {}, {}
    for d in pair_dirs:
        if progress is not None:
            progress(Path(d).name)
        try:
            pairs[Path(d).name] = evaluate_pair(method, Path(d), setup, layout, camera)
        except ValueError as error:  # the runtime's InputError is a ValueError too
            failed[Path(d).name] = str(error)
    mean = {m: float(np.mean([p[m] for p in pairs.values()])) if pairs else float("nan") for m in METRICS}
    mean["regions"] = {region: {key: float(np.mean([p["regions"][region][key] for p in pairs.values()
                                                    if p["regions"][region]["cpsnr"] is not None]))
                                for key in ("pixels", "cpsnr", "error_share")}
                       for region in REGIONS if any(p["regions"][region]["cpsnr"] is not None for p in pairs.values())}
    return {"mean": mean, "pairs": pairs, "failed": failed}


def format_table(report: dict) -> str:
    pair_names = sorted({n for r in report["methods"].values() for n in (*r["pairs"], *r["failed"])})
    head = f"setup {report['setup']}, {report['layout']} layout — CPSNR dB (mean RGB PSNR, SSIM, s)"
    lines = [head, f"{'method':<10}" + "".join(f"{n[:14]:>15}" for n in pair_names) + f"{'mean':>8}  rgb    ssim   s"]
    for name, result in report["methods"].items():
        cells = "".join(f"{result['pairs'][n]['cpsnr']:>15.2f}" if n in result["pairs"] else f"{'failed':>15}"
                        for n in pair_names)
        m = result["mean"]
        lines.append(f"{name:<10}{cells}{m['cpsnr']:>8.2f}  {m['rgb_psnr']:.2f}  {m['ssim']:.4f} {m['seconds']:.2f}")
    lines += ["", "where the error is — mean CPSNR dB by region (its share of the squared error; of the pixels)",
              f"{'method':<10}" + "".join(f"{region:>24}" for region in REGIONS)]
    for name, result in report["methods"].items():
        by_region = result["mean"]["regions"]
        lines.append(f"{name:<10}" + "".join(
            f"{by_region[r]['cpsnr']:>10.2f} ({by_region[r]['error_share']:4.0%}; {by_region[r]['pixels']:4.0%})"
            if r in by_region else f"{'-':>24}" for r in REGIONS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="dualcam-eval", description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path, help="folder of pairs: <pair>/left.png, right.png")
    p.add_argument("--setup", type=int, choices=(1, 2), default=1, help="noise setup of the paper's Table 2")
    p.add_argument("--layout", choices=LAYOUTS, default="paper")
    p.add_argument("--camera", choices=list(EVAL_CAMERAS), default="plain",
                   help="plain: the paper's protocol; consumer: the colour view first recorded by a small-sensor "
                        "camera (half resolution, JPEG q80, its own tone and white balance)")
    add_network_arguments(p)
    p.add_argument("--no-baselines", action="store_true", help="only the network")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args(argv)

    check_network_arguments(p, args)
    try:
        pair_dirs = list_pairs(args.pairs_dir)
        if not pair_dirs:
            raise ValueError(f"{args.pairs_dir}: no pairs (folders with left.png and right.png)")
        network = network_from_arguments(args)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"dualcam-eval: {error}", file=sys.stderr)
        return 2
    methods = {"dualcam": network} | ({} if args.no_baselines else BASELINES)
    report = {"setup": args.setup, "layout": args.layout, "camera": args.camera, "runtime": args.runtime,
              "methods": {}}
    for name, method in methods.items():
        report["methods"][name] = evaluate_method(method, pair_dirs, args.setup, args.layout, args.camera,
                                                  lambda pair: print(f"dualcam-eval: {name} on {pair} ...", file=sys.stderr))
        if not args.json:
            print(f"{name}: mean CPSNR {report['methods'][name]['mean']['cpsnr']:.2f} dB", file=sys.stderr)
    print(json.dumps(report) if args.json else format_table(report))
    failures = {f"{pair} ({name})": why for name, r in report["methods"].items() for pair, why in r["failed"].items()}
    for what, why in failures.items():
        print(f"dualcam-eval: {what} failed: {why}", file=sys.stderr)
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
