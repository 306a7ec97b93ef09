"""Attention over candidates (paper Eq. 4): re-weights the reference half of the volume."""
from __future__ import annotations

import torch
from torch import Tensor, nn


class CandidateAttention(nn.Module):
    """Two 1x1x1 3-D convs (n filters, then 1), each followed by a sigmoid, give A (h x w x d).

    The reference half of the concatenated volume is multiplied by A; the mono half is kept.
    """

    def __init__(self, features: int):
        super().__init__()
        self.score = nn.Sequential(
            nn.Conv3d(2 * features, features, 1), nn.Sigmoid(), nn.Conv3d(features, 1, 1), nn.Sigmoid()
        )

    def forward(self, volume: Tensor) -> Tensor:
        mono, reference = volume.chunk(2, dim=1)
        return torch.cat([mono, reference * self.score(volume)], dim=1)
