"""Simulated dual-lens captures from colour stereo pairs (paper Table 2), for evaluation and training.

Evaluation (`simulate_capture`) is exactly DESIGN.md's protocol. Training (`simulate_training_capture`)
adds the photometric differences of two real cameras so the network does not learn to rely on the
mono luma equalling the reference's Y. The target chroma is always the clean chroma of the mono view,
computed elsewhere; nothing here changes the mono view's colours.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dualcam.runtime.color import LUMA_WEIGHTS, rgb_to_luma

# Setup -> (mono sigma, colour sigma); noise std = sigma * sqrt(clean value).
SETUPS: dict[int, tuple[float, float]] = {1: (0.01, 0.03), 2: (0.01, 0.07)}


def add_signal_dependent_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """img + sigma * sqrt(img) * N(0, 1), clipped to [0, 1]: shot-noise-like, std = sigma * sqrt(kappa)."""
    img = img.astype(np.float32, copy=False)
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img + np.float32(sigma) * np.sqrt(np.maximum(img, 0.0)) * noise, 0.0, 1.0)


def simulate_capture(
    mono_view_rgb: np.ndarray, color_view_rgb: np.ndarray, setup: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """DESIGN.md's simulated inputs: (mono Y + noise (H,W), colour view + noise (H,W,3)), deterministic in seed.

    The two cameras draw from independent child streams of `seed`, so one's noise does not depend on
    the other's image size.
    """
    mono_sigma, color_sigma = SETUPS[setup]
    mono_rng, color_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    mono_y = add_signal_dependent_noise(rgb_to_luma(mono_view_rgb), mono_sigma, mono_rng)
    color = add_signal_dependent_noise(color_view_rgb, color_sigma, color_rng)
    return mono_y, color


@dataclass
class CameraModel:
    """Ranges of the per-capture photometric differences drawn for training (uniform in each range)."""

    # Exposure/gain and tone curve of the mono camera; they change only the network's luma input.
    mono_gain: tuple[float, float] = (0.85, 1.15)
    mono_gamma: tuple[float, float] = (0.85, 1.15)
    # The colour camera's gain/gamma also shift the reference chroma away from the target, so they stay
    # mild: the network should learn to copy chroma, not to undo a colour cast.
    color_gain: tuple[float, float] = (0.9, 1.1)
    color_gamma: tuple[float, float] = (0.9, 1.1)
    # Mono spectral response = (1 - t) * BT.601 luma weights + t * flat (panchromatic), t in this range,
    # then each weight scaled by 1 + U(-weight_jitter, weight_jitter) and renormalised to sum 1.
    panchromatic: tuple[float, float] = (0.0, 0.5)
    weight_jitter: float = 0.1
    # Probability of Setup1 noise (otherwise Setup2).
    p_setup1: float = 0.5

    def mono_weights(self, rng: np.random.Generator) -> np.ndarray:
        """Random RGB -> mono weights near BT.601, summing to 1."""
        t = rng.uniform(*self.panchromatic)
        w = (1.0 - t) * LUMA_WEIGHTS.astype(np.float64) + t / 3.0
        w = w * (1.0 + rng.uniform(-self.weight_jitter, self.weight_jitter, size=3))
        return (w / w.sum()).astype(np.float32)


def _gain_gamma(img: np.ndarray, gain: float, gamma: float) -> np.ndarray:
    return np.clip(np.float32(gain) * np.power(np.clip(img, 0.0, 1.0), np.float32(gamma)), 0.0, 1.0)


def shift_vertically(img: np.ndarray, dy: float) -> np.ndarray:
    """Content moves down by `dy` pixels (sub-pixel, bilinear); rows entering at the border are replicated."""
    h, w = img.shape[:2]
    m = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, dy]], dtype=np.float64)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(img.shape)


def simulate_training_capture(
    mono_view_rgb: np.ndarray,
    color_view_rgb: np.ndarray,
    rng: np.random.Generator,
    vertical_jitter: float = 0.5,
    camera: CameraModel | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A randomised capture for training: (mono luma (H,W), colour image (H,W,3)), float32 in [0, 1].

    Mono: random spectral weights, gain, gamma, then Setup mono noise. Colour: gain, gamma, a vertical
    shift uniform in +-`vertical_jitter` px (rectification error; 0 disables), then Setup colour noise.
    Noise is applied last because it is a property of the sensor's recorded signal.
    """
    cam = camera or CameraModel()
    mono_sigma, color_sigma = SETUPS[1 if rng.random() < cam.p_setup1 else 2]

    mono = mono_view_rgb.astype(np.float32, copy=False) @ cam.mono_weights(rng)
    mono = _gain_gamma(mono, rng.uniform(*cam.mono_gain), rng.uniform(*cam.mono_gamma))

    color = _gain_gamma(color_view_rgb, rng.uniform(*cam.color_gain), rng.uniform(*cam.color_gamma))
    if vertical_jitter > 0:
        color = shift_vertically(color, rng.uniform(-vertical_jitter, vertical_jitter))

    return add_signal_dependent_noise(mono, mono_sigma, rng), add_signal_dependent_noise(color, color_sigma, rng)
