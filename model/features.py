"""The 2-D ResNets of the paper: ResNet1 (features for matching) and ResNet2/3/4 (colour residue)."""
from __future__ import annotations

from torch import Tensor, nn


def conv_bn_relu(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(channels, channels, 3),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(x + self.body(x))


class ResNet(nn.Module):
    """5x5 conv (+BN+ReLU) -> residual blocks -> a plain 3x3 conv (no BN, no ReLU).

    ResNet1 uses stride 2 in the first conv (matching at half resolution); ResNet2/3/4 use stride 1,
    and ResNet4 ends in one filter: the colour residue.
    """

    def __init__(self, in_channels: int, features: int, blocks: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.layers = nn.Sequential(
            conv_bn_relu(in_channels, features, 5, stride),
            *[ResidualBlock(features) for _ in range(blocks)],
            nn.Conv2d(features, out_channels, 3, 1, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
