"""Training samples: synthetic stereo scenes seen through a simulated mono + colour camera pair."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from dualcam.runtime.color import rgb_to_ycbcr
from .simulate import simulate_training_capture
from .synthetic import SceneConfig, sample


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) float array -> (C, H, W) float tensor."""
    image = image[..., None] if image.ndim == 2 else image
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))


class SyntheticStereoDataset(Dataset):
    """Item i is a deterministic function of (seed, i): reproducible, and shardable across ranks by index.

    Scenes are rendered d columns wider than the crop so the reference carries all d candidates of every
    mono pixel, like an interior runtime tile; with probability `edge_fraction` the reference is cut to
    the mono width instead, like the right border of a whole image (the network replicates the edge).
    Half of the items use the left view as the mono camera, flipped into the network's arrangement.
    """

    def __init__(self, seed: int, height: int, width: int, max_disparity: int, length: int = 10**9,
                 edge_fraction: float = 0.25):
        self.seed, self.length, self.edge_fraction = seed, length, edge_fraction
        self.width, self.max_disparity = width, max_disparity
        self.scene = SceneConfig(height=height, width=width + max_disparity, max_disparity=float(max_disparity))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        stereo = sample(self.seed, index, self.scene)
        rng = np.random.default_rng((self.seed, index, 1))
        mono_view, color_view = stereo.right, stereo.left
        if rng.random() < 0.5:
            mono_view, color_view = stereo.left[:, ::-1], stereo.right[:, ::-1]
        mono_view = mono_view[:, : self.width]
        ref_width = self.width if rng.random() < self.edge_fraction else self.width + self.max_disparity
        color_view = color_view[:, :ref_width]
        mono_y, color_rgb = simulate_training_capture(mono_view, color_view, rng)
        reference = rgb_to_ycbcr(color_rgb)
        target = rgb_to_ycbcr(mono_view)[..., 1:]
        if ref_width < self.width + self.max_disparity:  # equal widths let a batch stack
            reference = np.pad(reference, ((0, 0), (0, self.width + self.max_disparity - ref_width), (0, 0)), mode="edge")
        return {
            "mono_y": to_tensor(mono_y),
            "ref_y": to_tensor(reference[..., 0]),
            "ref_cbcr": to_tensor(reference[..., 1:]),
            "target": to_tensor(target),
        }
