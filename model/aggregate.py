"""From the weight volume W to the rough colours C0 (paper Eq. 1): C0 = sum_k W_k * C_R(i + k)."""
from __future__ import annotations

import torch
from torch import Tensor


def normalise(logits: Tensor, mode: str) -> Tensor:
    """(B, d, H, W) regulation output -> W. The paper leaves this open; see the model card."""
    return torch.softmax(logits, dim=1) if mode == "softmax" else logits


def soft_argmax_weights(logits: Tensor) -> Tensor:
    """Ablation 'no weighted average': one candidate per pixel at the soft-argmax position.

    The position is fractional, so its colour is the linear interpolation of the two neighbouring
    candidates, written as a 'tent' weight volume that the same weighted average consumes.
    """
    candidates = torch.arange(logits.shape[1], dtype=logits.dtype, device=logits.device).view(1, -1, 1, 1)
    position = (torch.softmax(logits, dim=1) * candidates).sum(dim=1, keepdim=True)
    return (1 - (candidates - position).abs()).clamp(min=0)


def weighted_average(weights: Tensor, reference: Tensor) -> Tensor:
    """(B, d, H, W) weights and (B, C, H, W + d - 1 or more) reference -> (B, C, H, W).

    W does not depend on the channel, so Cb and Cr share one weight volume.
    """
    candidates, width = weights.shape[1], weights.shape[-1]
    out = weights[:, None, 0] * reference[..., 0:width]
    for k in range(1, candidates):
        out = out + weights[:, None, k] * reference[..., k : k + width]
    return out
