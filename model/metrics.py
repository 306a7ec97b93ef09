"""Image-quality metrics: CPSNR (PSNR over Cb and Cr), RGB PSNR and SSIM; whole image, no border crop,
peak 1 on [0, 1] values."""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


def _psnr(pred: np.ndarray, true: np.ndarray) -> float:
    if pred.shape != true.shape:
        raise ValueError(f"shape mismatch: {pred.shape} vs {true.shape}")
    mse = float(np.mean((pred.astype(np.float64) - true.astype(np.float64)) ** 2))
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(1.0 / mse))


def cpsnr(pred_cbcr: np.ndarray, true_cbcr: np.ndarray) -> float:
    """PSNR over the Cb and Cr planes (H,W,2) together: the number the project steers by."""
    if pred_cbcr.shape[-1] != 2:
        raise ValueError(f"expected (H,W,2) Cb/Cr, got {pred_cbcr.shape}")
    return _psnr(pred_cbcr, true_cbcr)


def rgb_psnr(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """PSNR over all three RGB channels; capped near 40 dB by the mono noise kept in the output luma."""
    return _psnr(pred_rgb, true_rgb)


def ssim_rgb(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """scikit-image SSIM of (H,W,3) RGB, channels averaged."""
    if pred_rgb.shape != true_rgb.shape:
        raise ValueError(f"shape mismatch: {pred_rgb.shape} vs {true_rgb.shape}")
    return float(
        structural_similarity(
            pred_rgb.astype(np.float64), true_rgb.astype(np.float64), channel_axis=-1, data_range=1.0
        )
    )
