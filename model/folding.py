"""Trained modules rewritten for export: BatchNorms folded into convs, transposed convs split into phases.

The rewrites derive their weights from the trained modules once, when an export implementation is built;
the network's own parameters (and the checkpoints' keys) are untouched.
"""
from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batchnorms(module: nn.Module) -> nn.Module:
    """An eval copy of `module` with every BatchNorm folded into the conv before it in its Sequential."""
    module = copy.deepcopy(module).eval()
    for sequential in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for i in range(1, len(sequential)):
            conv, norm = sequential[i - 1], sequential[i]
            if isinstance(conv, nn.modules.conv._ConvNd) and isinstance(norm, nn.modules.batchnorm._BatchNorm):
                sequential[i - 1] = fuse_conv_bn_eval(conv, norm, transpose=conv.transposed)
                sequential[i] = nn.Identity()
    left = [name for name, m in module.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if left:
        raise ValueError(f"BatchNorm not preceded by a conv in a Sequential, cannot fold: {left}")
    return module


def conv_and_relu(block: nn.Module) -> tuple[nn.Module, bool]:
    """A folded regulation block (a bare conv, or conv, Identity, ReLU) -> (its conv, whether a ReLU follows)."""
    if not isinstance(block, nn.Sequential):
        return block, False
    return block[0], any(isinstance(m, nn.ReLU) for m in block)


def subpixel_phases(conv: nn.ConvTranspose3d) -> Tensor:
    """ConvTranspose3d 4x4x4, stride 2, padding 1 -> its eight phases as 2x2x2 conv kernels.

    Along each axis, output 2m + p sums the inputs m - 1 + p + j (j = 0, 1) with kernel tap 3 - p - 2j:
    over the input padded by 1, a 2x2x2 conv at position m + p. Returns (pd, ph, pw, out, in, jd, jh, jw).
    """
    if (conv.kernel_size, conv.stride, conv.padding, conv.output_padding, conv.dilation, conv.groups) != (
        (4, 4, 4), (2, 2, 2), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1
    ):
        raise ValueError(f"only 4x4x4 transposed convs with stride 2 and padding 1 are supported, not {conv}")
    taps = torch.tensor([[3, 1], [2, 0]])  # taps[p, j] = 3 - p - 2j
    weight = conv.weight.detach().transpose(0, 1)  # (out, in, depth, kh, kw)
    phases = weight[:, :, taps[:, None, None, :, None, None], taps[None, :, None, None, :, None],
                    taps[None, None, :, None, None, :]]  # (out, in, pd, ph, pw, jd, jh, jw)
    return phases.permute(2, 3, 4, 0, 1, 5, 6, 7).contiguous()
