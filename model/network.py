"""The colorization network of Dong et al. (AAAI 2019), assembled from its parts."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .aggregate import normalise, soft_argmax_weights, weighted_average
from .attention import CandidateAttention
from .config import DualCamConfig
from .cost_volume import concat_volume
from .features import ResNet
from .regulation import Hourglass3d

# (mono features, reference features, reference Cb/Cr) -> C0: the cost volume, attention, regulation and
# weighted average. DualCamNet.match is the reference; model/implementations.py holds the export rewrites.
Matching = Callable[[Tensor, Tensor, Tensor], Tensor]


class DualCamNet(nn.Module):
    """Mono luma + reference (colour camera) luma and chroma -> chroma of the mono view.

    Inputs are (B, 1, H, W) mono Y, (B, 1, H, W_ref) reference Y and (B, 2, H, W_ref) reference Cb/Cr on
    [0, 1], with H and W multiples of `config.stride`. The reference may be wider than the mono view, by up
    to d columns on the right (the search side); narrower references are extended by edge replication,
    which is what the network sees at the right border of a whole image.
    """

    def __init__(self, config: DualCamConfig):
        super().__init__()
        self.config = config
        n, blocks = config.features, config.res_blocks
        self.features = ResNet(1, n, blocks, n, stride=2)  # ResNet1, shared by mono and reference
        self.attention = CandidateAttention(n) if config.attention else None
        self.regulation = Hourglass3d(n, config.hourglass_levels)
        if config.color_residue:
            self.chroma_features = ResNet(2 if config.residue_sees_spread else 1, n, blocks, n)  # ResNet2, on C0
            self.luma_features = ResNet(1, n, blocks, n)  # ResNet3, on the mono Y
            self.residue = ResNet(2 * n, n, blocks, 1)  # ResNet4
            if config.residue_gate:
                # g: 0 leaves the residue whole (the paper's Eq. 2); fitted on training pairs (model/gate.py)
                self.register_buffer("gate", torch.zeros(1))

    def pad_reference(self, reference: Tensor, width: int) -> Tensor:
        """Make the reference exactly width + d wide: crop extra context, replicate the edge if short."""
        target = width + self.config.max_disparity
        if reference.shape[-1] >= target:
            return reference[..., :target]
        return F.pad(reference, (0, target - reference.shape[-1], 0, 0), mode="replicate")

    def weight_volume(self, mono_y: Tensor, ref_y: Tensor) -> Tensor:
        """(B, d, H, W) weights over candidates, computed once and shared by Cb and Cr."""
        return self.weights(self.features(mono_y), self.features(ref_y))

    def weights(self, mono: Tensor, reference: Tensor) -> Tensor:
        """Half-resolution features of both lumas -> (B, d, H, W) weights W."""
        volume = concat_volume(mono, reference, self.config.max_disparity // 2)
        if self.attention is not None:
            volume = self.attention(volume)
        logits = self.regulation(volume)
        if not self.config.weighted_average:
            return soft_argmax_weights(logits)
        return normalise(logits, self.config.weight_norm)

    def match(self, mono: Tensor, reference: Tensor, ref_cbcr: Tensor) -> Tensor:
        """The reference Matching: features of both lumas and the reference chroma -> C0 (Eq. 1)."""
        return weighted_average(self.weights(mono, reference), ref_cbcr)

    def refine(self, rough: Tensor, mono_y: Tensor, spread: Tensor | None = None) -> Tensor:
        """Colour-residue joint learning (Eq. 2): C = C0 + ResNet4(ResNet2(C0), ResNet3(Y)). With residue_gate the
        residue fades where the candidates' colours `spread`: there it blurs a true colour edge more often than it
        removes noise (benchmarks/edge_error.py)."""
        residue = self.residue_of(rough, mono_y, spread)
        if self.config.residue_gate:
            residue = residue * residue_kept(self.gate, spread)
        return rough + residue

    def residue_of(self, rough: Tensor, mono_y: Tensor, spread: Tensor | None = None) -> Tensor:
        """ResNet4(ResNet2(C0), ResNet3(Y)), ungated. With residue_sees_spread, ResNet2 sees each channel's `spread`
        beside it: C0 alone cannot tell a colour from a blend of two."""
        batch, channels = rough.shape[:2]
        planes = torch.stack([rough, spread], dim=2) if self.config.residue_sees_spread else rough.unsqueeze(2)
        chroma = self.chroma_features(planes.flatten(0, 1))  # Cb and Cr share the weights
        luma = self.luma_features(mono_y)  # each image's Cb and Cr sit side by side in the batch
        luma = torch.cat([luma] * channels) if batch == 1 else luma.repeat_interleave(channels, dim=0)  # 1: Concat
        return self.residue(torch.cat([chroma, luma], dim=1)).view(batch, channels, *rough.shape[-2:])

    def forward(self, mono_y: Tensor, ref_y: Tensor, ref_cbcr: Tensor, matching: Matching | None = None,
                reconstruct_luma: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """`matching` replaces `match` with an equal export rewrite (model/implementations.py). `reconstruct_luma`
        (training): also the weight volume applied to the reference luma, sum_k W_k * Y_R(i + k), which must
        reproduce the mono luma where the pixel is visible to both cameras: (chroma, luma)."""
        height, width = mono_y.shape[-2:]
        stride = self.config.stride
        if height % stride or width % stride:
            raise ValueError(f"input {height}x{width} must be a multiple of {stride}; pad it first")
        ref_y = self.pad_reference(ref_y, width)
        ref_cbcr = self.pad_reference(ref_cbcr, width)
        with_spread = self.config.uses_spread
        # W does not depend on the channel, so any plane of the reference averages with it: Cb, Cr, their
        # squares (for the spread) and, for the luma loss, Y.
        planes = [ref_cbcr] + ([ref_cbcr * ref_cbcr] if with_spread else []) + ([ref_y] if reconstruct_luma else [])
        averaged = torch.cat(planes, dim=1)
        rough = (self.match if matching is None else matching)(self.features(mono_y), self.features(ref_y), averaged)
        chroma, luma = rough[:, :2], rough[:, 4 if with_spread else 2:]
        if self.config.color_residue:
            chroma = self.refine(chroma, mono_y, spread_around(chroma, rough[:, 2:4]) if with_spread else None)
        return (chroma, luma) if reconstruct_luma else chroma

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def residue_kept(gate: Tensor | float, spread: Tensor) -> Tensor:
    """The share of the residue the gate keeps: 1 - min(1, g * spread), all of it where W settles on one colour."""
    return 1 - torch.clamp(gate * spread, 0, 1)


def spread_around(mean: Tensor, mean_of_squares: Tensor) -> Tensor:
    """W-weighted standard deviation of the candidates' colours from their averages E[C] and E[C^2]: near 0 where
    W settles on one colour, large where it blends two surfaces (at chroma edges, in occlusions)."""
    return torch.sqrt(torch.clamp(mean_of_squares - mean * mean, min=0) + 1e-6)
