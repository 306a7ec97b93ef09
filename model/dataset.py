"""Training samples: stereo views seen through a simulated mono + colour camera pair.

Two sources give the views: the procedural scenes of `synthetic` (the default, needs nothing on disk) and
a SceneFlow download (the paper's training set), both cut to the same (height, width + d) window.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from dualcam.runtime.color import rgb_to_ycbcr

from .pairs import SceneFlowIndex
from .simulate import CameraModel, simulate_training_capture
from .synthetic import SceneConfig, sample


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) float array -> (C, H, W) float tensor."""
    image = image[..., None] if image.ndim == 2 else image
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))


class StereoTrainingSet(Dataset):
    """Item i is a deterministic function of (seed, i): reproducible, and shardable across ranks by index.

    Views come d columns wider than the crop so the reference carries all d candidates of every mono
    pixel, like an interior runtime tile; with probability `edge_fraction` the reference is cut to the
    mono width instead, like the right border of a whole image (the network replicates the edge).
    Half of the items use the left view as the mono camera, flipped into the network's arrangement.
    """

    def __init__(self, seed: int, height: int, width: int, max_disparity: int, edge_fraction: float = 0.25,
                 camera: CameraModel | None = None):
        self.seed, self.height, self.width = seed, height, width
        self.max_disparity, self.edge_fraction = max_disparity, edge_fraction
        self.camera = camera or CameraModel()

    def __len__(self) -> int:
        return 10**9  # an endless stream; the trainer picks the indices

    def views(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(left, right) RGB views of shape (height, width + max_disparity, 3)."""
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng((self.seed, index, 1))
        left, right = self.views(index, rng)
        mono_view, color_view = right, left
        if rng.random() < 0.5:
            mono_view, color_view = left[:, ::-1], right[:, ::-1]
        full_width = self.width + self.max_disparity
        mono_view = mono_view[:, : self.width]
        ref_width = self.width if rng.random() < self.edge_fraction else full_width
        mono_y, color_rgb = simulate_training_capture(mono_view, color_view[:, :ref_width], rng, self.camera)
        reference = np.pad(rgb_to_ycbcr(color_rgb), ((0, 0), (0, full_width - ref_width), (0, 0)), mode="edge")
        return {
            "mono_y": to_tensor(mono_y),
            "ref_y": to_tensor(reference[..., 0]),
            "ref_cbcr": to_tensor(reference[..., 1:]),
            "target": to_tensor(rgb_to_ycbcr(mono_view)[..., 1:]),
        }


class SyntheticStereoDataset(StereoTrainingSet):
    def __init__(self, seed: int, height: int, width: int, max_disparity: int, edge_fraction: float = 0.25,
                 camera: CameraModel | None = None, textures: str | None = None):
        super().__init__(seed, height, width, max_disparity, edge_fraction, camera)
        self.scene = SceneConfig(height=height, width=width + max_disparity, max_disparity=float(max_disparity),
                                 textures=textures)

    def views(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        stereo = sample(self.seed, index, self.scene)
        return stereo.left, stereo.right


class SceneFlowDataset(StereoTrainingSet):
    """Random windows of SceneFlow frames, as the paper trained (its disparities may exceed d)."""

    def __init__(self, root: str | Path, seed: int, height: int, width: int, max_disparity: int,
                 edge_fraction: float = 0.25, camera: CameraModel | None = None):
        super().__init__(seed, height, width, max_disparity, edge_fraction, camera)
        self.index = SceneFlowIndex(root)
        if not len(self.index):
            raise ValueError(f"{root}: no SceneFlow training frames (frames_cleanpass/**/left/*.png)")

    def views(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        frame = self.index[index % len(self.index)]
        rows, cols = self.height, self.width + self.max_disparity
        if frame.left.shape[0] < rows or frame.left.shape[1] < cols:
            raise ValueError(f"{self.index.entries[index % len(self.index)].left}: smaller than {cols}x{rows}")
        top = rng.integers(0, frame.left.shape[0] - rows + 1)
        x = rng.integers(0, frame.left.shape[1] - cols + 1)
        return frame.left[top : top + rows, x : x + cols], frame.right[top : top + rows, x : x + cols]
