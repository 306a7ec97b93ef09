"""Training losses: the chroma error where the item has colour labels, and a luma reconstruction that needs none.

The weight volume W says where each mono pixel's colour is in the reference; applied to the reference's luma it
must give back the mono luma wherever both cameras see the pixel. That holds on any real pair, so a camera maker's
own mono+colour captures, which have no colour label, can still teach the matching (Dong et al.'s follow-up,
Cycle-CNN, adapts to unlabelled pairs in the same spirit). Occluded pixels, which no weights could reproduce, are
left out by a left-right consistency check of block matching (the dataset's "seen").
"""
from __future__ import annotations

from torch import Tensor


def chroma_loss(pred: Tensor, target: Tensor, labelled: Tensor) -> Tensor:
    """Mean squared Cb/Cr error over the labelled items of the batch (0 when none is)."""
    per_item = (pred.float() - target).pow(2).flatten(1).mean(1)
    return (per_item * labelled).sum() / labelled.sum().clamp(min=1)


def standardised(luma: Tensor) -> Tensor:
    """Mean 0 and standard deviation 1 per item: the two cameras' gains, offsets and responses differ, and W's
    weights sum to one, so the reconstruction of a mono crop is the same affine change of it."""
    mean = luma.mean(dim=(1, 2, 3), keepdim=True)
    return (luma - mean) / luma.std(dim=(1, 2, 3), keepdim=True).clamp(min=1e-3)


def luma_reconstruction_loss(luma: Tensor, mono_y: Tensor, seen: Tensor) -> Tensor:
    """Mean |sum_k W_k * Y_R(i + k) - Y_M(i)| over the pixels both cameras see, both standardised.

    `luma`: the network's reconstruction, `mono_y` and `seen`: (B, 1, H, W)."""
    return ((standardised(luma.float()) - standardised(mono_y)).abs() * seen).sum() / seen.sum().clamp(min=1)
