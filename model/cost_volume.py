"""Concatenated feature volume over the d candidates on the same row (paper Eq. 3).

Candidate k of mono pixel (j, i) is reference pixel (j, i + k): the mono camera is the right camera of
the pair. A slice per candidate exports to ONNX and converts to CoreML as plain Slice/Concat; unfold and
gather formulations do not (unfold fails in the legacy ONNX exporter and coremltools; gather becomes
GatherND, which NNAPI lacks).
"""
from __future__ import annotations

import torch
from torch import Tensor


def concat_volume(mono: Tensor, reference: Tensor, candidates: int) -> Tensor:
    """(B,C,h,w) mono and (B,C,h,w + candidates - 1 or more) reference -> (B, 2C, candidates, h, w)."""
    width = mono.shape[-1]
    shifted = torch.stack([reference[..., k : k + width] for k in range(candidates)], dim=2)
    return torch.cat([mono.unsqueeze(2).expand_as(shifted), shifted], dim=1)
