"""Simulated dual-lens captures from colour stereo pairs (paper Table 2), for evaluation and training.

Evaluation (`simulate_capture`) is the project's evaluation protocol (README); `CONSUMER_CAMERA` is a
fixed small-sensor colour camera for a harder validation. Training (`simulate_training_capture`) adds
the differences between two real phone cameras, so the network relies neither on the mono luma
equalling the reference's Y nor on a clean, sharp, full-resolution reference. The target chroma is
always the clean chroma of the mono view, computed elsewhere; nothing here changes its colours.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dualcam.runtime.color import LUMA_WEIGHTS, rgb_to_luma, rgb_to_ycbcr, ycbcr_to_rgb

# Setup -> (mono sigma, colour sigma); noise std = sigma * sqrt(clean value).
SETUPS: dict[int, tuple[float, float]] = {1: (0.01, 0.03), 2: (0.01, 0.07)}


def add_signal_dependent_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """img + sigma * sqrt(img) * N(0, 1), clipped to [0, 1]: shot-noise-like, std = sigma * sqrt(kappa)."""
    img = img.astype(np.float32, copy=False)
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img + np.float32(sigma) * np.sqrt(np.maximum(img, 0.0)) * noise, 0.0, 1.0)


def simulate_capture(
    mono_view_rgb: np.ndarray, color_view_rgb: np.ndarray, setup: int, seed: int,
    camera: "CameraModel | None" = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation's simulated inputs: (mono Y + noise (H,W), colour view + noise (H,W,3)), deterministic
    in seed. With `camera` (e.g. CONSUMER_CAMERA) the colour view is first recorded by that camera.

    The two cameras draw from independent child streams of `seed`, so one's noise does not depend on
    the other's image size.
    """
    mono_sigma, color_sigma = SETUPS[setup]
    mono_rng, color_rng, camera_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    mono_y = add_signal_dependent_noise(rgb_to_luma(mono_view_rgb), mono_sigma, mono_rng)
    if camera is not None:
        color_view_rgb = color_camera(color_view_rgb, camera_rng, camera)
    color = add_signal_dependent_noise(color_view_rgb, color_sigma, color_rng)
    return mono_y, color


@dataclass(frozen=True)
class CameraModel:
    """Ranges of the per-capture differences between two real phone cameras, drawn for training.

    Each (lo, hi) is sampled uniformly; p_* are probabilities. The colour camera's tone, white balance
    and vignetting also shift the reference chroma away from the target, so they stay mild: the
    network should learn to copy and clean chroma, not to undo a colour cast it cannot observe.
    """

    # Exposure/gain and tone curve of the mono camera; they change only the network's luma input.
    mono_gain: tuple[float, float] = (0.85, 1.15)
    mono_gamma: tuple[float, float] = (0.85, 1.15)
    # Mono spectral response = (1 - t) * BT.601 luma weights + t * flat (panchromatic), t in this range,
    # then each weight scaled by 1 + U(-weight_jitter, weight_jitter) and renormalised to sum 1.
    panchromatic: tuple[float, float] = (0.0, 0.5)
    weight_jitter: float = 0.1
    # Colour camera: exposure, gamma, an S-shaped contrast curve (0 = none), red/blue white-balance gains.
    color_gain: tuple[float, float] = (0.9, 1.1)
    color_gamma: tuple[float, float] = (0.9, 1.1)
    color_contrast: tuple[float, float] = (-0.3, 0.3)
    white_balance: tuple[float, float] = (0.95, 1.05)
    # Brightness falloff to the corners: 1 - v * r^2, r = 1 at a corner of the (whole) frame.
    vignetting: tuple[float, float] = (0.0, 0.3)
    # Optics and sensor of the colour camera: Gaussian defocus (px), a sensor of lower resolution
    # (downscale factor, then upsampled to the mono grid), chroma at half resolution (demosaicing).
    p_defocus: float = 0.5
    defocus_sigma: tuple[float, float] = (0.3, 1.2)
    p_low_resolution: float = 0.5
    low_resolution: tuple[float, float] = (1.0, 2.0)
    p_chroma_subsampling: float = 0.7
    # Residual rectification error: vertical shift (px) and roll (degrees) of the colour camera.
    vertical_shift: float = 1.0
    rotation_deg: float = 0.2
    # JPEG compression of the colour image.
    p_jpeg: float = 0.7
    jpeg_quality: tuple[int, int] = (70, 95)
    # Probability of Setup1 noise (otherwise Setup2).
    p_setup1: float = 0.5

    @classmethod
    def ideal(cls, p_setup1: float = 1.0) -> "CameraModel":
        """Two perfect, identical, aligned cameras: only the setup's noise remains (tests, ablations)."""
        return cls(mono_gain=(1, 1), mono_gamma=(1, 1), panchromatic=(0, 0), weight_jitter=0.0,
                   color_gain=(1, 1), color_gamma=(1, 1), color_contrast=(0, 0), white_balance=(1, 1),
                   vignetting=(0, 0), p_defocus=0.0, p_low_resolution=0.0, p_chroma_subsampling=0.0,
                   vertical_shift=0.0, rotation_deg=0.0, p_jpeg=0.0, p_setup1=p_setup1)

    def mono_weights(self, rng: np.random.Generator) -> np.ndarray:
        """Random RGB -> mono weights near BT.601, summing to 1."""
        t = rng.uniform(*self.panchromatic)
        w = (1.0 - t) * LUMA_WEIGHTS.astype(np.float64) + t / 3.0
        w = w * (1.0 + rng.uniform(-self.weight_jitter, self.weight_jitter, size=3))
        return (w / w.sum()).astype(np.float32)


# A fixed "consumer camera" for validation: a small-sensor colour camera of half the mono resolution,
# JPEG at quality 80, its own tone curve and white balance (drawn per pair from a seed).
CONSUMER_CAMERA = CameraModel(
    mono_gain=(1, 1), mono_gamma=(1, 1), panchromatic=(0, 0), weight_jitter=0.0,
    color_gain=(0.92, 1.08), color_gamma=(0.9, 1.1), color_contrast=(-0.2, 0.2), white_balance=(0.95, 1.05),
    vignetting=(0.1, 0.2), p_defocus=0.0, p_low_resolution=1.0, low_resolution=(2.0, 2.0),
    p_chroma_subsampling=1.0, vertical_shift=0.0, rotation_deg=0.0, p_jpeg=1.0, jpeg_quality=(80, 80),
)


def _gain_gamma(img: np.ndarray, gain: float, gamma: float) -> np.ndarray:
    return np.clip(np.float32(gain) * np.power(np.clip(img, 0.0, 1.0), np.float32(gamma)), 0.0, 1.0)


def _contrast(img: np.ndarray, amount: float) -> np.ndarray:
    """Blend towards (amount > 0) or away from (< 0) a smoothstep S-curve: a camera's tone mapping."""
    s = img * img * (3.0 - 2.0 * img)
    return np.clip(img + np.float32(amount) * (s - img), 0.0, 1.0)


def _vignetting(shape: tuple[int, int], strength: float, frame: tuple[float, float, float, float]) -> np.ndarray:
    """(H, W) gain 1 - strength * r^2 for a crop at (x0, y0) of a frame of size (fw, fh)."""
    x0, y0, fw, fh = frame
    y = (np.arange(shape[0], dtype=np.float32) + y0 - fh / 2) / (fh / 2)
    x = (np.arange(shape[1], dtype=np.float32) + x0 - fw / 2) / (fw / 2)
    return 1.0 - np.float32(strength) * (x[None, :] ** 2 + y[:, None] ** 2) / 2.0


def _resample(img: np.ndarray, factor: float) -> np.ndarray:
    """Down by `factor` (area), back up (bilinear): detail a smaller sensor never recorded."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(img.shape)


def _subsample_chroma(rgb: np.ndarray) -> np.ndarray:
    ycc = rgb_to_ycbcr(rgb)
    ycc[..., 1:] = _resample(np.ascontiguousarray(ycc[..., 1:]), 2.0)
    return np.clip(ycbcr_to_rgb(ycc), 0.0, 1.0)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode as an 8-bit JPEG (OpenCV's 4:2:0), as a phone's colour camera stores it."""
    bgr = np.round(np.clip(rgb[..., ::-1], 0, 1) * 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255


def shift_vertically(img: np.ndarray, dy: float, degrees: float = 0.0) -> np.ndarray:
    """Content moves down by `dy` pixels and turns by `degrees` about the centre (sub-pixel, bilinear);
    rows entering at the border are replicated."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, 1.0)
    m[1, 2] += dy
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(img.shape)


def color_camera(rgb: np.ndarray, rng: np.random.Generator, cam: CameraModel,
                 frame: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """The colour camera's recording of a clean view, before sensor noise: optics, sensor resolution,
    demosaicing, misalignment, tone, white balance, vignetting, JPEG. `frame` = (x0, y0, fw, fh) places
    the view in the whole frame for vignetting; default: the view is the frame."""
    out = rgb.astype(np.float32, copy=True)
    if rng.random() < cam.p_defocus:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(*cam.defocus_sigma)).reshape(out.shape)
    if rng.random() < cam.p_low_resolution:
        out = _resample(out, rng.uniform(*cam.low_resolution))
    if rng.random() < cam.p_chroma_subsampling:
        out = _subsample_chroma(out)
    dy, roll = rng.uniform(-1, 1, 2) * (cam.vertical_shift, cam.rotation_deg)
    if dy or roll:
        out = shift_vertically(out, dy, roll)
    out = _contrast(_gain_gamma(out, rng.uniform(*cam.color_gain), rng.uniform(*cam.color_gamma)),
                    rng.uniform(*cam.color_contrast))
    balance = np.array([rng.uniform(*cam.white_balance), 1.0, rng.uniform(*cam.white_balance)], np.float32)
    out = out * balance * _vignetting(out.shape[:2], rng.uniform(*cam.vignetting),
                                      frame or (0, 0, out.shape[1], out.shape[0]))[..., None]
    out = np.clip(out, 0.0, 1.0)
    if rng.random() < cam.p_jpeg:
        out = _jpeg(out, rng.integers(cam.jpeg_quality[0], cam.jpeg_quality[1] + 1))
    return out


def simulate_training_capture(
    mono_view_rgb: np.ndarray,
    color_view_rgb: np.ndarray,
    rng: np.random.Generator,
    camera: CameraModel | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A randomised capture for training: (mono luma (H,W), colour image (H,W,3)), float32 in [0, 1].

    Mono: random spectral weights, gain, gamma. Colour: `color_camera`. Then each camera's Setup1 or
    Setup2 noise, last, exactly as the evaluation applies it.
    """
    cam = camera or CameraModel()
    mono_sigma, color_sigma = SETUPS[1 if rng.random() < cam.p_setup1 else 2]
    mono = mono_view_rgb.astype(np.float32, copy=False) @ cam.mono_weights(rng)
    mono = _gain_gamma(mono, rng.uniform(*cam.mono_gain), rng.uniform(*cam.mono_gamma))
    # A training crop is a part of a larger frame: place it for the vignetting.
    h, w = color_view_rgb.shape[:2]
    scale = rng.uniform(1.0, 3.0)
    frame = (rng.uniform(0, (scale - 1) * w), rng.uniform(0, (scale - 1) * h), scale * w, scale * h)
    color = color_camera(color_view_rgb, rng, cam, frame)
    return add_signal_dependent_noise(mono, mono_sigma, rng), add_signal_dependent_noise(color, color_sigma, rng)
