"""The 2-D matching: `DualCamNet.match` with 2-D convs on tensors of rank <= 4, for phone accelerators.

ONNX Runtime's NNAPI and CoreML (MLProgram) execution providers run only 1-D/2-D Conv; NNAPI has no
ConvTranspose or ReduceSum, CoreML no Pad, and both need static shapes. A graph with one op they lack is
cut into partitions that bounce between the accelerator and the CPU. So the 3-D part is rewritten exactly,
keeping the volume (1, C, D, h, w) as (D, C, h, w), candidates folded into the batch:

- a 3x3x3 conv is one 2-D conv over the three depth neighbours stacked on the channels; zero planes
  concatenated at both ends stand in for the depth padding;
- its stride 2 in depth reads the neighbours of the even planes from a free reshape (D, C) -> (D/2, 2C);
- the 4x4x4 stride-2 transposed conv is eight sub-pixel phases produced by one 2x2 2-D conv, interleaved
  with reshapes and concats (torch's pixel_shuffle exports as DepthToSpace in CRD mode, which NNAPI lacks);
- every BatchNorm is folded into the conv before it;
- softmax runs over the channel axis of (1, d, H, W), and the weighted sum over candidates is a 1x1 conv
  with ones (no ReduceSum);
- the concatenated volume [mono; reference shifted by k] is never built: the layers that read it are linear in
  its two halves, so the mono half goes through them once, unshifted, and only the reference half is formed per
  candidate. The attention's first 1x1 conv is applied to the reference features once and the result shifted;
  the hourglass's first 3x3x3 conv sees the mono features, the same on every candidate plane, through one 2-D
  conv with its three depth taps summed (less the tap that falls off each end), and the attended reference
  planes through a 3x3x3 conv of half the width.

Weights are regrouped once, in __init__. Batch 1 only (a tile).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import DualCamConfig
from .folding import conv_and_relu, fold_batchnorms, subpixel_phases
from .regulation import Hourglass3d, encode_decode


def shift_in_depth(x: Tensor, step: int) -> Tensor:
    """(D, C, h, w) -> plane z holds x[z + step], step in {-1, 1}, and zeros where that is outside x."""
    zeros = x[:1] * 0  # from x: a zeros constant would be stored in the model file at the tile's full size
    if x.shape[0] == 1:
        return zeros
    return torch.cat([zeros, x[:-1]]) if step < 0 else torch.cat([x[1:], zeros])


def depth_neighbours(x: Tensor) -> Tensor:
    """(D, C, h, w) -> (D, 3C, h, w): planes z - 1, z, z + 1 side by side on the channels."""
    return torch.cat([shift_in_depth(x, -1), x, shift_in_depth(x, 1)], dim=1)


def even_depth_neighbours(x: Tensor) -> Tensor:
    """(D, C, h, w), D even -> (D/2, 3C, h, w): planes 2z - 1, 2z, 2z + 1, for a stride-2 conv in depth."""
    depth, channels = x.shape[:2]
    pairs = x.reshape(depth // 2, 2 * channels, *x.shape[2:])  # planes 2z, 2z + 1
    return torch.cat([shift_in_depth(pairs[:, channels:], -1), pairs], dim=1)


def interleave(phases: list[list[Tensor]]) -> Tensor:
    """phases[ph][pw] (N, C, h, w) -> (N, C, 2h, 2w) with out[..., 2i + ph, 2j + pw] = phases[ph][pw][..., i, j].

    Pixels are interleaved by concatenating on a trailing axis of length 1 and reshaping, so that no tensor
    has rank 5.
    """
    batch, channels, height, width = phases[0][0].shape
    rows = []
    for row in phases:
        columns = torch.cat([p.reshape(batch, channels * height, width, 1) for p in row], dim=3)
        rows.append(columns.reshape(batch, channels * height, 1, 2 * width))
    return torch.cat(rows, dim=2).reshape(batch, channels, 2 * height, 2 * width)


class DepthConv(nn.Module):
    """Conv3d 3x3x3, padding 1, stride 1 or 2 in every axis (+ReLU), on (D, C, h, w) volumes."""

    def __init__(self, conv: nn.Conv3d, relu: bool):
        super().__init__()
        stride = conv.stride[0]
        if (conv.kernel_size, conv.padding, conv.stride, conv.dilation, conv.groups) != (
            (3, 3, 3), (1, 1, 1), (stride,) * 3, (1, 1, 1), 1
        ) or stride not in (1, 2):
            raise ValueError(f"only 3x3x3 convs with padding 1 and stride 1 or 2 are supported, not {conv}")
        weight = conv.weight.detach()
        out_channels, in_channels = weight.shape[:2]
        # (out, in, depth, kh, kw) -> (out, depth * in, kh, kw): taps ordered like depth_neighbours' channels
        self.register_buffer("weight", weight.transpose(1, 2).reshape(out_channels, 3 * in_channels, 3, 3).clone())
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().clone())
        self.stride = stride
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        taps = depth_neighbours(x) if self.stride == 1 else even_depth_neighbours(x)
        y = F.conv2d(taps, self.weight, self.bias, self.stride, 1)
        return F.relu(y) if self.relu else y


class DepthConvTranspose(nn.Module):
    """ConvTranspose3d 4x4x4, stride 2, padding 1 (x2 in every axis, +ReLU): (D, C, h, w) -> (2D, C', 2h, 2w).

    One 2x2 conv with padding 1 over the stacked depth neighbours computes all eight phases (p_h, p_w, p_d):
    depth phase p_d reads neighbours p_d + j_d, and output pixel (i + p_h, j + p_w) is the spatial phase's
    output pixel (i, j).
    """

    def __init__(self, conv: nn.ConvTranspose3d, relu: bool):
        super().__init__()
        phases = subpixel_phases(conv)  # (pd, ph, pw, out, in, jd, jh, jw)
        out_channels, in_channels = phases.shape[3:5]
        weight = phases.new_zeros(2, 2, 2, out_channels, 3, in_channels, 2, 2)  # ph, pw, pd, out, tap, in, jh, jw
        for pd in range(2):
            for jd in range(2):
                weight[:, :, pd, :, pd + jd] = phases[pd, :, :, :, :, jd]
        self.register_buffer("weight", weight.reshape(8 * out_channels, 3 * in_channels, 2, 2))
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().repeat(8))
        self.out_channels = out_channels
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        y = F.conv2d(depth_neighbours(x), self.weight, self.bias, 1, 1)  # (D, 8C', h + 1, w + 1)
        if self.relu:
            y = F.relu(y)
        depth, height, width = x.shape[0], *x.shape[2:]
        block = 2 * self.out_channels  # (pd, out) for one spatial phase
        phases = [
            [
                # (D, 2C') -> (2D, C'): depth phase pd of plane m lands on plane 2m + pd
                y[:, (2 * ph + pw) * block : (2 * ph + pw + 1) * block, ph : ph + height, pw : pw + width]
                .reshape(2 * depth, self.out_channels, height, width)
                for pw in range(2)
            ]
            for ph in range(2)
        ]
        return interleave(phases)


def conv2d_of(weight: Tensor, bias: Tensor | None = None) -> nn.Conv2d:
    """A fixed Conv2d (padding keeps the size) holding `weight` (out, in, k, k)."""
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[-1], padding=weight.shape[-1] // 2,
                     bias=bias is not None, dtype=weight.dtype)
    conv.weight.data.copy_(weight)
    if bias is not None:
        conv.bias.data.copy_(bias)
    return conv.requires_grad_(False)


class SplitDepthConv(nn.Module):
    """The hourglass's first conv (3x3x3 + ReLU) on [mono; reference planes] without the concatenated volume.

    The mono half is one plane repeated over depth, so its three depth taps sum into one 2-D conv, computed once;
    at the first and last plane the depth padding drops one tap, subtracted there through (D, 1, 1, 1) masks.
    """

    def __init__(self, conv: nn.Conv3d, relu: bool, mono_channels: int, depth: int):
        super().__init__()
        weight = conv.weight.detach()  # (out, in, depth, kh, kw)
        mono, reference = weight[:, :mono_channels], weight[:, mono_channels:]
        self.mono = conv2d_of(mono.sum(dim=2))
        self.mono_before, self.mono_after = conv2d_of(-mono[:, :, 0]), conv2d_of(-mono[:, :, 2])
        half = nn.Conv3d(reference.shape[1], reference.shape[0], 3, 1, 1, bias=conv.bias is not None,
                         dtype=weight.dtype)
        half.weight.data.copy_(reference)
        if conv.bias is not None:
            half.bias.data.copy_(conv.bias.detach())
        self.reference = DepthConv(half, relu=False)
        planes = torch.arange(depth, dtype=weight.dtype).view(-1, 1, 1, 1)
        self.register_buffer("first", (planes == 0).to(weight.dtype))  # the plane without a tap before it
        self.register_buffer("last", (planes == depth - 1).to(weight.dtype))  # ... and without one after it
        self.relu = relu

    def forward(self, mono: Tensor, reference: Tensor) -> Tensor:
        y = self.reference(reference) + self.mono(mono)
        y = y + self.first * self.mono_before(mono) + self.last * self.mono_after(mono)
        return F.relu(y) if self.relu else y


class SplitTop(nn.Module):
    """The hourglass's top block on the volume's two halves: (mono (1, n, h, w), reference (D, n, h, w))."""

    def __init__(self, first: SplitDepthConv, rest: nn.Module):
        super().__init__()
        self.first, self.rest = first, rest

    def forward(self, halves: tuple[Tensor, Tensor]) -> Tensor:
        return self.rest(self.first(*halves))


class PlanarHourglass(nn.Module):
    """Hourglass3d on the volume's halves (mono (1, n, h, w), reference planes (d/2, n, h, w)) -> (d, 1, 2h, 2w)
    logits, BatchNorms folded."""

    def __init__(self, hourglass: Hourglass3d, mono_channels: int, depth: int):
        super().__init__()
        hourglass = fold_batchnorms(hourglass)
        first, *rest = (conv_and_relu(block) for block in hourglass.top)
        self.top = SplitTop(SplitDepthConv(*first, mono_channels, depth),
                            nn.Sequential(*(DepthConv(*block) for block in rest)))
        self.down = nn.ModuleList(
            nn.Sequential(*(DepthConv(*conv_and_relu(block)) for block in level)) for level in hourglass.down
        )
        self.up = nn.ModuleList(DepthConvTranspose(*conv_and_relu(block)) for block in hourglass.up)
        self.to_weights = DepthConvTranspose(*conv_and_relu(hourglass.to_weights))

    def forward(self, mono: Tensor, reference: Tensor) -> Tensor:
        return self.to_weights(encode_decode(self.top, self.down, self.up, (mono, reference)))


def pointwise_conv2d(conv: nn.Conv3d) -> nn.Conv2d:
    """A 1x1x1 Conv3d as the equivalent 1x1 Conv2d on (D, C, h, w) volumes."""
    flat = nn.Conv2d(conv.in_channels, conv.out_channels, 1, bias=conv.bias is not None, dtype=conv.weight.dtype)
    flat.weight.data.copy_(conv.weight.detach()[..., 0])
    if conv.bias is not None:
        flat.bias.data.copy_(conv.bias.detach())
    return flat.requires_grad_(False)


class PlanarMatching(nn.Module):
    """`DualCamNet.match` with rank <= 4 tensors, 2-D convs and ops NNAPI and CoreML both run (batch 1)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.config: DualCamConfig = net.config
        features, depth = self.config.features, self.config.max_disparity // 2
        if net.attention is not None:  # sigmoid(conv([mono; reference])) -> sigmoid(conv) -> A
            hidden, _, score, _ = net.attention.score
            weight = hidden.weight.detach()[..., 0, 0, 0]
            self.attend_mono = conv2d_of(weight[:, :features, None, None], hidden.bias.detach())
            self.attend_reference = conv2d_of(weight[:, features:, None, None])
            self.attention_score = pointwise_conv2d(score)
        self.regulation = PlanarHourglass(net.regulation, features, depth)
        dtype = next(net.parameters()).dtype
        candidates = torch.arange(self.config.max_disparity, dtype=dtype).view(1, -1, 1, 1)
        self.register_buffer("candidates", candidates)  # 1x1 conv: sum_k k * W_k
        self.register_buffer("ones", torch.ones_like(candidates))  # 1x1 conv: sum_k W_k

    def reference_planes(self, mono: Tensor, reference: Tensor) -> Tensor:
        """(d/2, n, H/2, W/2): the reference half of the volume, candidate k in the batch, re-weighted by the
        attention, whose first conv reads the mono and reference features once each."""
        depth, width = self.config.max_disparity // 2, mono.shape[-1]
        shifted = torch.cat([reference[..., k : k + width] for k in range(depth)])
        if self.config.attention:
            attended = self.attend_reference(reference)
            hidden = torch.sigmoid(self.attend_mono(mono) + torch.cat([attended[..., k : k + width] for k in range(depth)]))
            shifted = shifted * torch.sigmoid(self.attention_score(hidden))
        return shifted

    def weights(self, logits: Tensor) -> Tensor:
        """(1, d, H, W) logits -> W, as `normalise` or `soft_argmax_weights` compute it."""
        if self.config.weighted_average:
            return torch.softmax(logits, dim=1) if self.config.weight_norm == "softmax" else logits
        position = F.conv2d(torch.softmax(logits, dim=1), self.candidates)
        distance = torch.maximum(self.candidates - position, position - self.candidates)  # |k - position|
        return F.relu(1 - distance)

    def logits(self, mono: Tensor, reference: Tensor) -> Tensor:
        """Half-resolution features -> (1, d, H, W) regulation output."""
        logits = self.regulation(mono, self.reference_planes(mono, reference))  # (d, 1, H, W)
        return logits.reshape(1, -1, *logits.shape[-2:])

    def forward(self, mono: Tensor, reference: Tensor, ref_cbcr: Tensor) -> Tensor:
        weights = self.weights(self.logits(mono, reference))
        height, width = weights.shape[-2:]
        channels = ref_cbcr.shape[1]
        chroma = ref_cbcr.reshape(channels, 1, height, -1)  # Cb and Cr (and any other averaged plane) in the batch
        shifted = torch.cat([chroma[..., k : k + width] for k in range(self.config.max_disparity)], dim=1)
        return F.conv2d(shifted * weights, self.ones).reshape(1, channels, height, width)
