"""dualcam-eval: the network and the classical baselines, measured the same way in the same run.

    dualcam-eval PAIRS_DIR [--setup 1|2] [--layout paper|swapped] [--checkpoint PATH] [--json]

Inputs are simulated from real colour stereo pairs (DESIGN.md): the mono camera's view loses its
colour and both views get the setup's signal-dependent noise. CPSNR is over Cb and Cr against the
clean mono view; RGB PSNR and SSIM are of the merged output (luma = the noisy mono input).
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

from .baselines import BASELINES
from .metrics import cpsnr, rgb_psnr, ssim_rgb
from .pairs import list_pairs, load_dev_pair
from .simulate import CONSUMER_CAMERA, CameraModel, simulate_capture

# (mono Y, colour RGB) in the network's arrangement -> (H, W, 2) Cb/Cr of the mono view.
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
LAYOUTS = ("paper", "swapped")  # paper: the mono camera is the right one; swapped: the left one
METRICS = ("cpsnr", "rgb_psnr", "ssim", "seconds")



def network_method(model) -> Method:
    from .predict import predict

    return lambda mono_y, color_rgb: predict(model, mono_y, color_rgb).cbcr


def capture_seed(name: str, setup: int, layout: str, camera: str = "plain") -> int:
    """Noise depends on the pair, setup, layout and camera only: every method sees the very same inputs.
    (The plain camera's seeds are those of every earlier report.)"""
    return zlib.crc32(f"{name}/{setup}/{layout}".encode() + (b"" if camera == "plain" else f"/{camera}".encode()))


def evaluate_pair(method: Method, pair_dir: Path, setup: int, layout: str,
                  camera: CameraModel | None = None) -> dict[str, float]:
    """One pair; `camera` records the colour view first (CONSUMER_CAMERA), None = the plain protocol."""
    pair = load_dev_pair(pair_dir)
    mono_view, color_view = (pair.right, pair.left) if layout == "paper" else (pair.left, pair.right)
    seed = capture_seed(pair.name, setup, layout, "plain" if camera is None else "consumer")
    mono_y, color_rgb = simulate_capture(mono_view, color_view, setup, seed, camera)
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
    }


def evaluate_method(method: Method, pair_dirs: list[Path], setup: int, layout: str,
                    camera: CameraModel | None = None) -> dict:
    pairs = {Path(d).name: evaluate_pair(method, Path(d), setup, layout, camera) for d in pair_dirs}
    mean = {m: float(np.mean([p[m] for p in pairs.values()])) for m in METRICS}
    return {"mean": mean, "pairs": pairs}


def format_table(report: dict) -> str:
    pair_names = list(next(iter(report["methods"].values()))["pairs"])
    head = f"setup {report['setup']}, {report['layout']} layout — CPSNR dB (mean RGB PSNR, SSIM, s)"
    lines = [head, f"{'method':<10}" + "".join(f"{n[:14]:>15}" for n in pair_names) + f"{'mean':>8}  rgb    ssim   s"]
    for name, result in report["methods"].items():
        cells = "".join(f"{result['pairs'][n]['cpsnr']:>15.2f}" for n in pair_names)
        m = result["mean"]
        lines.append(f"{name:<10}{cells}{m['cpsnr']:>8.2f}  {m['rgb_psnr']:.2f}  {m['ssim']:.4f} {m['seconds']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="dualcam-eval", description=__doc__.splitlines()[0])
    p.add_argument("pairs_dir", type=Path, help="folder of pairs: <pair>/left.png, right.png")
    p.add_argument("--setup", type=int, choices=(1, 2), default=1, help="noise setup of the paper's Table 2")
    p.add_argument("--layout", choices=LAYOUTS, default="paper")
    p.add_argument("--camera", choices=("plain", "consumer"), default="plain",
                   help="plain: the paper's protocol; consumer: the colour view first recorded by a small-sensor "
                        "camera (half resolution, JPEG q80, its own tone and white balance)")
    p.add_argument("--checkpoint", type=Path, default=None, help="default: the shipped mobile weights")
    p.add_argument("--no-baselines", action="store_true", help="only the network")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args(argv)

    from .checkpoint import load_model

    try:
        pair_dirs = list_pairs(args.pairs_dir)
        if not pair_dirs:
            raise ValueError(f"{args.pairs_dir}: no pairs (folders with left.png and right.png)")
        model = load_model(args.checkpoint)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"dualcam-eval: {error}", file=sys.stderr)
        return 2
    methods = {"dualcam": network_method(model)} | ({} if args.no_baselines else BASELINES)
    camera = CONSUMER_CAMERA if args.camera == "consumer" else None
    report = {"setup": args.setup, "layout": args.layout, "camera": args.camera, "methods": {}}
    for name, method in methods.items():
        report["methods"][name] = evaluate_method(method, pair_dirs, args.setup, args.layout, camera)
        if not args.json:
            print(f"{name}: mean CPSNR {report['methods'][name]['mean']['cpsnr']:.2f} dB", file=sys.stderr)
    print(json.dumps(report) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
