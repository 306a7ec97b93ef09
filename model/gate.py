"""The residue gate g (config `residue_gate`), fitted on training pairs.

    python -m dualcam.model.gate WEIGHTS --pairs DIR [DIR ...] --out GATED.pt

The colour residue removes noise from C0 but also blurs true colour edges, and it does the latter where W blends
candidates of different colours: there C0 + residue is worse than C0 (benchmarks/edge_error.py). The gate fades the
residue with that spread, C = C0 + (1 - min(1, g * spread)) * residue. g is one number: it is chosen here, on the
training pairs as the evaluation captures them (both setups, both cameras), by the mean CPSNR of the whole frame at
the runtime's working scale, and written with the weights into a checkpoint that carries residue_gate.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dualcam.runtime.arrangement import Arrangement
from dualcam.runtime.color import rgb_to_ycbcr
from dualcam.runtime.geometry import GeometryOptions, measure
from dualcam.runtime.manifest import ModelSpec
from dualcam.runtime.pair import load_pair

from .aggregate import weighted_average
from .checkpoint import load_checkpoint, save_checkpoint
from .config import DualCamConfig
from .evaluate import EVAL_CAMERAS, capture_seed
from .network import DualCamNet, residue_kept, spread_around
from .pairs import list_pairs, load_dev_pair
from .simulate import simulate_capture

GATES = (0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0)


@dataclass
class Frame:
    """One pair as captured, in the network's frame at the runtime's working scale, cropped to the stride."""

    mono: torch.Tensor  # (1, 1, h, w)
    reference: torch.Tensor  # (1, 3, h, w) YCbCr
    truth: np.ndarray  # (h, w, 2) the mono view's true Cb/Cr
    arrangement: Arrangement


def network_frame(folder: Path, setup: int, camera: str, stride: int, max_disparity: int) -> Frame:
    """The pair in `folder` captured as the evaluation captures it (paper layout), arranged as `dualcam-run` would."""
    pair = load_dev_pair(folder)
    mono_y, color_rgb = simulate_capture(pair.right, pair.left, setup, capture_seed(pair.name, setup, "paper", camera),
                                         EVAL_CAMERAS[camera])
    loaded = load_pair(mono_y, color_rgb)
    spec = ModelSpec.for_tile(256, 512, max_disparity, stride=stride)
    arrangement = measure(loaded, spec, GeometryOptions(accept_unverified=True)).arrangement
    truth = rgb_to_ycbcr(pair.right)[..., 1:]
    mono, reference = arrangement.mono(loaded.mono_y), arrangement.reference(loaded.color_rgb)
    height, width = (v - v % stride for v in mono.shape)

    def tensor(image: np.ndarray) -> torch.Tensor:
        planes = image[:height, :width].reshape(height, width, -1).transpose(2, 0, 1)
        return torch.from_numpy(np.ascontiguousarray(planes))[None].float()

    truth_frame = np.dstack([arrangement.mono(truth[..., c]) for c in (0, 1)])[:height, :width]
    return Frame(tensor(mono), tensor(reference), truth_frame, arrangement)


@torch.no_grad()
def parts(net: DualCamNet, frame: Frame) -> dict[str, torch.Tensor]:
    """W, C0, the spread of the candidates' colours and the ungated residue over the whole frame."""
    width = frame.mono.shape[-1]
    reference = frame.reference[..., : width + net.config.max_disparity]
    ref_y, ref_cbcr = (net.pad_reference(reference[:, c], width) for c in (slice(0, 1), slice(1, 3)))
    weights = net.weights(net.features(frame.mono), net.features(ref_y))
    averaged = weighted_average(weights, torch.cat([ref_cbcr, ref_cbcr * ref_cbcr], 1))
    rough, spread = averaged[:, :2], spread_around(averaged[:, :2], averaged[:, 2:])
    return {"weights": weights, "C0": rough, "spread": spread, "residue": net.residue_of(rough, frame.mono, spread)}


def cpsnr_db(chroma: torch.Tensor, truth: np.ndarray) -> float:
    return float(-10 * np.log10(((chroma[0].numpy().transpose(1, 2, 0) - truth) ** 2).mean()))


def fit(net: DualCamNet, pair_dirs: list[Path], gates: tuple[float, ...] = GATES) -> tuple[float, dict[float, float]]:
    """The gate of the highest mean CPSNR over the pairs, both setups and both evaluation cameras; and each gate's."""
    scores = {g: [] for g in gates}
    for folder in pair_dirs:
        for setup in (1, 2):
            for camera in EVAL_CAMERAS:
                frame = network_frame(folder, setup, camera, net.config.stride, net.config.max_disparity)
                p = parts(net, frame)
                for g in gates:
                    scores[g].append(cpsnr_db(p["C0"] + residue_kept(g, p["spread"]) * p["residue"], frame.truth))
    means = {g: float(np.mean(v)) for g, v in scores.items()}
    return max(means, key=means.get), means


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path)
    p.add_argument("--pairs", type=Path, nargs="+", required=True, help="folders of training pairs (left/right.png)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    state = load_checkpoint(args.weights)
    net = DualCamNet(DualCamConfig.from_dict(state["config"]).with_(residue_gate=True))
    net.load_state_dict(state["model"], strict=False)  # the gate starts at 0: the weights as they were
    net.eval()
    pairs = [d for root in args.pairs for d in list_pairs(root)]
    gate, means = fit(net, pairs)
    net.gate.fill_(gate)
    print("gate  mean CPSNR dB over " + ", ".join(d.name for d in pairs))
    for g, mean in means.items():
        print(f"{g:4g}  {mean:.3f}" + ("  <- chosen" if g == gate else ""))
    training = dict(state.get("training", {}), gate={"value": gate, "pairs": [d.name for d in pairs],
                                                     "mean_cpsnr_by_gate": {str(g): round(m, 3) for g, m in means.items()}})
    save_checkpoint(args.out, net, training=training)


if __name__ == "__main__":
    main()
