"""Training samples: stereo views seen through a simulated mono + colour camera pair.

Three sources give the views, all cut to the same (height, width + d) window: the procedural scenes of
`synthetic` (the default, needs nothing on disk), a SceneFlow download (the paper's training set) and real
colour stereo photographs (grey one view and it is a labelled real capture); `MixedDataset` interleaves them.
`UnlabelledPairs` gives windows of real pairs whose mono view's colours are not known (or not used), for the
luma-reconstruction loss alone. Every item says whether its target is a label ("labelled": 1 or 0).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from dualcam.runtime.color import rgb_to_ycbcr
from dualcam.runtime.confidence import LOW, stereo_consistency

from .pairs import RealPair, SceneFlowIndex, load_dev_pair, read_rgb
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
        ref_width = self.reference_width(rng)
        mono_y, color_rgb = simulate_training_capture(mono_view, color_view[:, :ref_width], rng, self.camera)
        return training_item(mono_y, color_rgb, full_width, rgb_to_ycbcr(mono_view)[..., 1:])

    def reference_width(self, rng: np.random.Generator) -> int:
        """The reference's width: all d candidates, or (edge_fraction) cut to the mono width like a right border."""
        return self.width if rng.random() < self.edge_fraction else self.width + self.max_disparity


def training_item(mono_y: np.ndarray, color_rgb: np.ndarray, full_width: int, target: np.ndarray | None) -> dict:
    """The network's inputs, the reference edge-replicated to `full_width`; target None: an unlabelled item.
    "seen" marks the mono pixels whose match block matching finds consistently both ways (not occluded, not
    ambiguous): where the luma-reconstruction loss applies."""
    reference = np.pad(rgb_to_ycbcr(color_rgb), ((0, 0), (0, full_width - color_rgb.shape[1]), (0, 0)), mode="edge")
    width = mono_y.shape[1]
    padded = np.pad(mono_y, ((0, 0), (0, full_width - width)), mode="edge")  # both of one width for the check
    seen = stereo_consistency(padded, reference[..., 0], full_width - width)[:, :width] > LOW
    labelled = target is not None
    return {
        "mono_y": to_tensor(mono_y),
        "ref_y": to_tensor(reference[..., 0]),
        "ref_cbcr": to_tensor(reference[..., 1:]),
        "target": to_tensor(target if labelled else np.zeros((*mono_y.shape, 2), np.float32)),
        "labelled": torch.tensor(float(labelled)),
        "seen": to_tensor(seen.astype(np.float32)),
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


# The largest disparity of a real pair's window is kept this far inside the d candidates, as the runtime's
# working scale keeps it (its manifest's range margin).
REAL_RANGE_MARGIN = 0.85
REAL_EXTRA_SCALE = (0.6, 1.0)  # a further random downscale: the runtime colours pairs at many working scales


def disparity_percentiles(left: np.ndarray, right: np.ndarray) -> tuple[float, float]:
    """1st and 99th percentiles of x_left - x_right (the project's d: right x <-> left x + d) of a rectified real
    pair: SIFT matches of the contrast-equalised (CLAHE) lumas, all features, at up to 1600 px, kept where a
    RANSAC fundamental matrix explains them within 1.5 px. Equalising finds the dark, near objects whose
    disparities are the largest (on one car-mounted pair: 107 px, where the runtime's quick matching sees 37)."""
    from dualcam.runtime.color import rgb_to_luma
    from dualcam.runtime.matching import sift_matches

    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))

    def equalised(rgb: np.ndarray) -> np.ndarray:
        return clahe.apply(np.rint(rgb_to_luma(rgb) * 255).astype(np.uint8)).astype(np.float32) / 255

    matches = sift_matches(equalised(right), equalised(left), max_side=1600, max_features=0)
    if len(matches.mono) < 30:
        raise ValueError(f"{len(matches.mono)} feature matches: too few to measure its disparities")
    _, inliers = cv2.findFundamentalMat(matches.mono.astype(np.float32), matches.color.astype(np.float32),
                                        cv2.FM_RANSAC, 1.5, 0.999)
    inliers = inliers.ravel().astype(bool)
    low, high = np.percentile(matches.color[inliers, 0] - matches.mono[inliers, 0], [1, 99])
    return float(low), float(high)


class RealStereoDataset(StereoTrainingSet):
    """Random windows of real, rectified colour stereo photographs (folders with left.png and right.png).

    Each window is scaled so the pair's measured disparities fit the d candidates (and randomly smaller), and the
    left view's window shifted so none is negative (3-D cameras converge: their near objects have d < 0).
    """

    def __init__(self, folders: list[Path], seed: int, height: int, width: int, max_disparity: int,
                 edge_fraction: float = 0.25, camera: CameraModel | None = None):
        super().__init__(seed, height, width, max_disparity, edge_fraction, camera)
        if not folders:
            raise ValueError("no real pairs given")
        self.captured = [(Path(folder) / "mono.png").exists() for folder in folders]
        loaded = [self.load(Path(folder), captured) for folder, captured in zip(folders, self.captured)]
        self.pairs, self.ranges = [pair for pair, _ in loaded], [extent for _, extent in loaded]

    def load(self, folder: Path, captured: bool) -> tuple[RealPair, tuple[float, float]]:
        """A folder's pair and its disparity percentiles."""
        pair = load_dev_pair(folder)
        return pair, disparity_percentiles(pair.left, pair.right)

    def views(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        pair, (low, high) = self.pairs[index % len(self.pairs)], self.ranges[index % len(self.pairs)]
        span = high - min(low, 0.0) + 2.0
        scale = min(1.0, REAL_RANGE_MARGIN * self.max_disparity / span) * rng.uniform(*REAL_EXTRA_SCALE)
        rows, cols = self.height, self.width + self.max_disparity
        size = (max(cols + self.max_disparity, round(pair.left.shape[1] * scale)),
                max(rows, round(pair.left.shape[0] * scale)))
        left, right = (cv2.resize(view, size, interpolation=cv2.INTER_AREA) for view in (pair.left, pair.right))
        shift = min(0, int(np.floor(low * size[0] / pair.left.shape[1])) - 2)  # the left window starts this far left
        top = rng.integers(0, size[1] - rows + 1)
        x = rng.integers(-shift, size[0] - cols + 1)
        return left[top : top + rows, x + shift : x + shift + cols], right[top : top + rows, x : x + cols]


class MixedDataset(Dataset):
    """Item i comes from one of `sources`, drawn with their weights by a function of (seed, i) alone."""

    def __init__(self, sources: list[tuple[float, Dataset]], seed: int):
        self.weights = np.array([w for w, _ in sources], np.float64) / sum(w for w, _ in sources)
        self.sources, self.seed = [d for _, d in sources], seed

    def __len__(self) -> int:
        return 10**9

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        choice = np.random.default_rng((self.seed, index, 2)).choice(len(self.sources), p=self.weights)
        return self.sources[choice][index]


class UnlabelledPairs(RealStereoDataset):
    """Windows of real pairs for the luma-reconstruction loss alone: nothing here is a colour label.

    A folder holds a mono+colour capture (mono.png and color.png, on one grid, rows aligned; used as captured, the
    colour camera brought to the left by a mirror if the matches put it on the right), or a colour stereo pair
    (left.png and right.png; one view greyed through the simulated mono camera, its colours never used).
    """

    def load(self, folder: Path, captured: bool) -> tuple[RealPair, tuple[float, float]]:
        if not captured:
            return super().load(folder, captured)
        pair = load_capture(folder)
        low, high = disparity_percentiles(pair.left, pair.right)
        if low + high < 0:  # the colour camera on the right: mirrored into the network's arrangement
            return RealPair(pair.name, pair.left[:, ::-1], pair.right[:, ::-1], None), (-high, -low)
        return pair, (low, high)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not self.captured[index % len(self.pairs)]:
            item = super().__getitem__(index)
            return {**item, "target": torch.zeros_like(item["target"]), "labelled": torch.tensor(0.0)}
        rng = np.random.default_rng((self.seed, index, 1))
        color_view, mono_view = self.views(index, rng)
        return training_item(np.ascontiguousarray(mono_view[:, : self.width, 0]),
                             color_view[:, : self.reference_width(rng)], self.width + self.max_disparity, None)


def load_capture(folder: str | Path) -> RealPair:
    """A mono+colour capture folder as a RealPair: left = the colour image, right = the mono image (grey RGB)."""
    folder = Path(folder)
    color, mono = read_rgb(folder / "color.png"), read_rgb(folder / "mono.png")
    if color.shape != mono.shape:
        raise ValueError(f"{folder / 'color.png'} is {color.shape[:2]}, mono.png is {mono.shape[:2]}: "
                         "bring both onto one grid first")
    return RealPair(folder.name, color, mono, None)
