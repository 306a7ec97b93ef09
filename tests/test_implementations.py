"""Every matching implementation (model/implementations.py) computes the reference function, and the
network's parameters stay those of the checkpoints already trained."""
from __future__ import annotations

import collections

import onnx
import pytest
import torch
from torch import nn

from dualcam.export.onnx_export import export_onnx, max_abs_difference
from dualcam.export.quantize import fused_op_counts, quantize_int8, synthetic_tiles
from dualcam.export.wrapper import TileColorizer, TileShape
from dualcam.model.checkpoint import SHIPPED_WEIGHTS, load_checkpoint, load_model
from dualcam.model.config import DualCamConfig, preset
from dualcam.model.implementations import IMPLEMENTATIONS, matching
from dualcam.model.network import DualCamNet

REWRITES = [name for name in IMPLEMENTATIONS if name != "reference"]
TINY_TILE = TileShape(16, 32, preset("tiny").max_disparity)


def randomised(config: DualCamConfig, seed: int = 0) -> DualCamNet:
    """Weights large enough for peaked candidate weights, and BatchNorm statistics far from the identity."""
    generator = torch.Generator().manual_seed(seed)
    net = DualCamNet(config)
    for module in net.modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            weight = module.weight
            # an output of a stride-2 transposed conv sums 1/8 of the kernel taps of every input channel
            fan_in = weight.shape[0] * weight[0, 0].numel() // 8 if module.transposed else weight[0].numel()
            weight.data = torch.randn(weight.shape, generator=generator) * (2 / fan_in) ** 0.5
            if module.bias is not None:
                module.bias.data = torch.randn(module.bias.shape, generator=generator) / 10
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            channels = module.num_features
            module.running_mean = torch.rand(channels, generator=generator) - 0.5
            module.running_var = torch.rand(channels, generator=generator) * 2 + 0.25
            module.weight.data = torch.rand(channels, generator=generator) + 0.5
            module.bias.data = torch.rand(channels, generator=generator) * 0.4 - 0.2
    return net.eval()


def max_difference(net: DualCamNet, tile: TileShape, implementation: str, dtype: torch.dtype = torch.float32) -> float:
    net, inputs = net.to(dtype), [x.to(dtype) for x in tile.example(seed=1)]
    with torch.no_grad():
        return (TileColorizer(net, tile)(*inputs) - TileColorizer(net, tile, implementation)(*inputs)).abs().max().item()


@pytest.fixture(scope="module")
def shipped() -> DualCamNet:
    return load_model()


@pytest.mark.parametrize("implementation", REWRITES)
@pytest.mark.parametrize("changes", [{}, {"attention": False}, {"weighted_average": False}, {"weight_norm": "none"},
                                     {"color_residue": False}, {"residue_sees_spread": True}, {"residue_gate": True},
                                     {"max_disparity": 8}])  # 8: one plane at the bottom
def test_every_config_switch_is_rewritten_exactly(implementation, changes):
    """In float64 only rounding is left: a misplaced tap, phase or BatchNorm would show by orders above 1e-9."""
    config = preset("tiny", **changes)
    net = randomised(config)
    if config.residue_gate:
        net.gate.fill_(20.0)  # so the fade reaches the output
    tile = TileShape(TINY_TILE.height, TINY_TILE.width, config.max_disparity)
    if config.weighted_average and config.weight_norm == "softmax":
        with torch.no_grad():
            weights = net.weight_volume(*tile.example(seed=1)[:2])
        # Far from uniform (1/d each), so a wrong logit would show in the colours.
        assert weights.amax(dim=1).mean() > 2 / config.max_disparity
    assert max_difference(net, tile, implementation, torch.float64) < 1e-9


@pytest.mark.parametrize("implementation", REWRITES)
def test_equals_the_reference_with_the_shipped_weights(shipped, implementation):
    assert max_difference(shipped, TileShape(16, 32, shipped.config.max_disparity), implementation) < 1e-5


def test_parameters_are_the_trained_checkpoints_and_rewrites_add_none(shipped):
    """Checkpoints trained before the implementations existed still load (weights_only), key for key."""
    state = load_checkpoint(SHIPPED_WEIGHTS)["model"]
    assert list(shipped.state_dict()) == list(state)
    before = {name: p.clone() for name, p in shipped.state_dict().items()}
    for name in REWRITES:
        matching(shipped, name)
    assert list(shipped.state_dict()) == list(before)
    assert all(torch.equal(before[k], v) for k, v in shipped.state_dict().items())


def test_unknown_or_training_mode_implementations_are_refused():
    net = DualCamNet(preset("tiny"))
    with pytest.raises(ValueError, match="eval"):
        matching(net, "fast")
    with pytest.raises(ValueError, match="choose from"):
        matching(net.eval(), "cuda")


@pytest.fixture(scope="module")
def fast_onnx(shipped, tmp_path_factory):
    tile = TileShape(32, 64, shipped.config.max_disparity)
    return tile, export_onnx(TileColorizer(shipped, tile, "fast"), tile, tmp_path_factory.mktemp("fast") / "fast.onnx")


def test_fast_graph_equals_torch_and_has_no_transposed_conv_or_softmax(shipped, fast_onnx):
    tile, path = fast_onnx
    assert max_abs_difference(TileColorizer(shipped, tile), path, [tile.feeds(seed) for seed in (1, 2)]) < 1e-5
    ops = collections.Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    assert "ConvTranspose" not in ops and "Softmax" not in ops and ops["Exp"] == 1


def test_fast_int8_quantizes_every_conv_of_the_weight_volume(shipped, fast_onnx, tmp_path):
    """ResNet1 (run on both lumas), the attention and every hourglass conv, transposed ones included, become
    QLinearConv; the colour-residue ResNets and the softmax-weighted average stay float."""
    tile, path = fast_onnx
    int8 = quantize_int8(path, tmp_path / "int8.onnx", list(synthetic_tiles(tile, 2, seed=1)))
    ops = fused_op_counts(int8)
    convs = lambda module: sum(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())  # noqa: E731
    # Without the concatenated volume, the attention's first conv is two (mono, reference) and the hourglass's
    # first is four (the mono features' summed taps, the two end corrections, the reference half).
    split = 1 + 3
    assert ops["QLinearConv"] == 2 * convs(shipped.features) + convs(shipped.attention) + convs(shipped.regulation) + split
    # float: ResNet2/3/4 and the 1x1 conv with ones that sums the softmax's weights
    assert "ConvTranspose" not in ops and ops["Conv"] == 3 * convs(shipped.chroma_features) + 1 and "Exp" in ops
