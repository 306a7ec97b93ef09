"""3-D regulation (GC-Net's hourglass): context over space and candidates, ending in the weight volume."""
from __future__ import annotations

from torch import Tensor, nn


def conv3d_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, 3, stride, 1, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
    )


def upsample3d(in_channels: int, out_channels: int, norm: bool = True) -> nn.Module:
    """x2 in every axis. Kernel 4, stride 2, padding 1 doubles exactly without output_padding,
    which CoreML's converter rejects for 3-D transposed convs."""
    conv = nn.ConvTranspose3d(in_channels, out_channels, 4, 2, 1, bias=not norm)
    if not norm:
        return conv
    return nn.Sequential(conv, nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True))


class Hourglass3d(nn.Module):
    """(B, 2n, d/2, h/2, w/2) volume -> (B, d, h, w) unnormalised weight volume at full resolution.

    Two 3x3x3 convs (n), then `levels` encoder levels of a stride-2 conv and two convs (2n); the decoder
    upsamples with transposed convs and adds the encoder output of the same level; a last transposed conv
    to one feature doubles resolution and candidates back to the full-resolution d.
    """

    def __init__(self, features: int, levels: int):
        super().__init__()
        wide = 2 * features
        self.top = nn.Sequential(conv3d_bn_relu(2 * features, features), conv3d_bn_relu(features, features))
        self.down = nn.ModuleList(
            nn.Sequential(
                conv3d_bn_relu(features if level == 0 else wide, wide, stride=2),
                conv3d_bn_relu(wide, wide),
                conv3d_bn_relu(wide, wide),
            )
            for level in range(levels)
        )
        self.up = nn.ModuleList(
            upsample3d(wide, features if level == 0 else wide) for level in range(levels)
        )
        self.to_weights = upsample3d(features, 1, norm=False)

    def forward(self, volume: Tensor) -> Tensor:
        return self.to_weights(encode_decode(self.top, self.down, self.up, volume)).squeeze(1)


def encode_decode(top: nn.Module, down: nn.ModuleList, up: nn.ModuleList, volume: Tensor) -> Tensor:
    """The hourglass's path: encoder levels, then decoder levels each adding the encoder output of its size.

    Shared with the export's 2-D rewrite, so both always wire the levels the same way.
    """
    skips = [top(volume)]
    for level in down:
        skips.append(level(skips[-1]))
    x = skips.pop()
    for level in reversed(up):
        x = level(x) + skips.pop()
    return x
