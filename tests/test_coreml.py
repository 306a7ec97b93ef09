import sys
from collections import Counter

import numpy as np
import pytest
import torch
from torch import nn

ct = pytest.importorskip("coremltools")

from coremltools.proto import MIL_pb2  # noqa: E402

from dualcam.export.coreml import export_coreml, op_inventory, operations  # noqa: E402
from dualcam.export.wrapper import TileColorizer, TileShape  # noqa: E402
from dualcam.model.checkpoint import load_model  # noqa: E402
from dualcam.model.config import preset  # noqa: E402
from dualcam.model.network import DualCamNet  # noqa: E402

FP16, FP32, INT8 = MIL_pb2.DataType.FLOAT16, MIL_pb2.DataType.FLOAT32, MIL_pb2.DataType.INT8


def tiny_colorizer() -> TileColorizer:
    torch.manual_seed(0)
    net = DualCamNet(preset("tiny")).eval()
    return TileColorizer(net, TileShape(32, 64, net.config.max_disparity))


def mobile_colorizer() -> TileColorizer:
    net = load_model()
    return TileColorizer(net, TileShape(16, 32, net.config.max_disparity))


def package_bytes(path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    module = tiny_colorizer()
    path = tmp_path_factory.mktemp("tiny") / "tiny.mlpackage"
    path.mkdir()
    (path / "stale").write_text("an older export, to be replaced")
    return module, export_coreml(module, module.tile, path)


@pytest.fixture(scope="module")
def mobile(tmp_path_factory):
    module = mobile_colorizer()
    folder = tmp_path_factory.mktemp("mobile")
    return (module,
            export_coreml(module, module.tile, folder / "fp16.mlpackage"),
            export_coreml(module, module.tile, folder / "int8.mlpackage", int8_weights=True))


def test_package_has_the_tile_contract_and_metadata(tiny):
    module, path = tiny
    assert path.is_dir() and not (path / "stale").exists()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no staging folder left behind
    spec = ct.utils.load_spec(str(path))

    def shapes(features):
        return {f.name: tuple(f.type.multiArrayType.shape) for f in features}

    assert shapes(spec.description.input) == module.tile.inputs()
    assert shapes(spec.description.output) == module.tile.outputs()
    array = ct.proto.FeatureTypes_pb2.ArrayFeatureType
    assert {f.type.multiArrayType.dataType for f in (*spec.description.input, *spec.description.output)} == {
        array.FLOAT32
    }
    meta = spec.description.metadata
    assert meta.author and meta.shortDescription and meta.versionString
    assert meta.userDefined["tile"] == "32x64" and meta.userDefined["weights"] == "fp16"
    assert all(f.shortDescription for f in (*spec.description.input, *spec.description.output))


def test_program_computes_in_fp16_with_the_networks_ops(tiny):
    _, path = tiny
    inventory = op_inventory(path)
    assert {"conv", "conv_transpose", "softmax", "sigmoid", "concat", "slice_by_index"} <= set(inventory)
    assert not any(op.startswith("constexpr_") for op in inventory)
    ops = list(operations(path))
    assert {op.outputs[0].type.tensorType.dataType for op in ops if op.type in ("conv", "conv_transpose")} == {FP16}
    casts = [op.outputs[0].type.tensorType.dataType for op in ops if op.type == "cast"]
    assert sorted(casts) == sorted([FP16] * 3 + [FP32])  # float32 in and out, fp16 inside


def test_int8_weights_are_constexpr_dequantized_and_smaller(mobile):
    _, fp16, int8 = mobile
    assert "constexpr_affine_dequantize" not in op_inventory(fp16)
    dequantize = [op for op in operations(int8) if op.type == "constexpr_affine_dequantize"]
    assert dequantize
    assert {op.attributes["quantized_data"].type.tensorType.dataType for op in dequantize} == {INT8}
    assert {op.outputs[0].type.tensorType.dataType for op in dequantize} == {FP16}
    # Each quantized weight's const became one constexpr op; the compute ops are the same.
    fp16_ops, int8_ops = op_inventory(fp16), op_inventory(int8)
    assert fp16_ops - int8_ops == Counter(const=len(dequantize))
    assert int8_ops - fp16_ops == Counter(constexpr_affine_dequantize=len(dequantize))
    assert package_bytes(int8) < 0.75 * package_bytes(fp16)


class Unconvertible(nn.Module):
    """A transposed 3-D conv with output_padding: coremltools 9 refuses it (1-D/2-D only)."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose3d(1, 2, 3, stride=2, padding=1, output_padding=1)

    def forward(self, mono_y, ref_y, ref_cbcr):
        return self.up(mono_y.unsqueeze(2))[:, :, 0, ::2, ::2]


def test_failed_conversion_leaves_the_previous_package(tmp_path):
    target = tmp_path / "model.mlpackage"
    target.mkdir()
    (target / "previous").write_text("kept")
    with pytest.raises(ValueError, match="output_padding"):
        export_coreml(Unconvertible(), TileShape(16, 32, 16), target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert [p.name for p in target.iterdir()] == ["previous"]


def test_only_mlpackage_paths_are_written(tmp_path):
    with pytest.raises(ValueError, match="mlpackage"):
        export_coreml(Unconvertible(), TileShape(16, 32, 16), tmp_path / "model.mlmodel")
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(sys.platform != "darwin", reason="Core ML predictions need macOS; elsewhere coremltools only converts")
def test_predictions_match_torch_on_macos(mobile):
    module, fp16, int8 = mobile
    inputs = module.tile.example(seed=2)
    with torch.no_grad():
        expected = module(*inputs).numpy()
    feeds = {name: x.numpy() for name, x in zip(module.tile.inputs(), inputs)}
    for path, tolerance in ((fp16, 0.02), (int8, 0.05)):
        got = ct.models.MLModel(str(path)).predict(feeds)["cbcr"]
        assert np.abs(got - expected).max() < tolerance, path.name
