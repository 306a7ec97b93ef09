"""Torch -> CoreML: the fixed-tile wrapper as an fp16 ML Program (.mlpackage), optionally with int8 weights.

coremltools converts, quantizes and inspects models on any OS, but only macOS can run one (predictions go
through the Core ML framework). Nothing here predicts, so export works on Linux; the parity check against
torch runs only on a Mac (tests/test_coreml.py).
"""
from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import coremltools as ct
import coremltools.optimize.coreml as cto
import numpy as np
import torch
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.frontend.torch import register_torch_op
from coremltools.converters.mil.frontend.torch.torch_op_registry import _TORCH_OPS_REGISTRY
from coremltools.proto import MIL_pb2
from torch import nn

from .wrapper import TileShape

# iOS 16 / macOS 13 is the oldest target whose opset has the constexpr ops that store int8 weights
# (constexpr_affine_dequantize); ML Programs and fp16 compute alone would allow iOS 15.
DEPLOYMENT_TARGET = ct.target.iOS16

# Weight-only int8 of convolution weights, one symmetric scale per output channel; other constants (such
# as zero padding) stay as they are. The threshold keeps tensors of 2,048 elements or fewer in fp16: in
# the mobile model these are the one-channel input/output convs and the attention's 1x1x1 convs (under 1%
# of the weights). Emulated in torch, quantizing them as well drops the agreement with the fp32 output
# from 53.9 to 45.7 dB PSNR.
_CONV_INT8 = cto.OpLinearQuantizerConfig(
    mode="linear_symmetric", dtype="int8", granularity="per_channel", weight_threshold=2048
)
INT8_WEIGHTS = cto.OptimizationConfig(op_type_configs={"conv": _CONV_INT8, "conv_transpose": _CONV_INT8})

DESCRIPTIONS = {
    "mono_y": "luma of the mono camera's tile",
    "ref_y": "luma of the colour camera, the tile plus max_disparity columns on its right",
    "ref_cbcr": "Cb and Cr of the colour camera, the same columns as ref_y",
    "cbcr": "Cb and Cr of the mono camera's tile",
}


def _register_int_cast_for_numpy_2_4() -> None:
    """coremltools 9.0 folds aten::Int of a traced shape with int() on a (1,)-shaped array, which numpy >= 2.4
    rejects; the wrapper's slice bounds hit it. Fixed upstream after 9.0 (apple/coremltools#2632)."""
    convert_int = _TORCH_OPS_REGISTRY.get_func("int")

    @register_torch_op(torch_alias=["int"], override=True)
    def _int(context, node) -> None:
        value = context[node.inputs[0]]
        if value.can_be_folded_to_const() and np.ndim(value.val) > 0:
            context.add(mb.const(val=int(np.asarray(value.val).item()), name=node.name))
        else:
            convert_int(context, node)


_register_int_cast_for_numpy_2_4()


def export_coreml(module: nn.Module, tile: TileShape, path: str | Path, int8_weights: bool = False) -> Path:
    """Write `module` (a tile wrapper taking mono_y, ref_y, ref_cbcr) as an ML Program package.

    Inputs and output keep the float32 interface of the ONNX export, with static shapes; the program
    computes in fp16. A failed export leaves `path` as it was.
    """
    path = Path(path)
    if path.suffix != ".mlpackage":
        raise ValueError(f"{path} must end in .mlpackage")
    model = _convert(module, tile)
    if int8_weights:
        model = cto.linear_quantize_weights(model, INT8_WEIGHTS)
    _describe(model, tile, int8_weights)
    _save_atomically(model, path)
    return path


def _convert(module: nn.Module, tile: TileShape) -> ct.models.MLModel:
    module = module.eval()
    with torch.no_grad():
        # The tracer's own check re-traces the module (seconds per tile); one forward on other inputs
        # catches the same thing here: control flow that depends on input values.
        traced = torch.jit.trace(module, tile.example(), check_trace=False)
        other = tile.example(seed=1)
        if not torch.allclose(traced(*other), module(*other), atol=1e-5):
            raise RuntimeError("the traced graph disagrees with the module on new inputs: it branches on values")
    return ct.convert(
        traced,
        convert_to="mlprogram",
        inputs=[ct.TensorType(name=name, shape=shape, dtype=np.float32) for name, shape in tile.inputs().items()],
        outputs=[ct.TensorType(name=name, dtype=np.float32) for name in tile.outputs()],
        compute_precision=ct.precision.FLOAT16,
        minimum_deployment_target=DEPLOYMENT_TARGET,
        skip_model_load=True,  # loading compiles the model, which only macOS can, and export never predicts
    )


def _describe(model: ct.models.MLModel, tile: TileShape, int8_weights: bool) -> None:
    model.author = "dualcam"
    model.license = "Apache-2.0"
    model.version = version("dualcam")
    model.short_description = (
        "Colorizes one tile of a monochrome camera image from the colour camera beside it "
        "(Dong et al., AAAI 2019). All values are on [0, 1]."
    )
    for name, shape in tile.inputs().items():
        model.input_description[name] = f"{DESCRIPTIONS[name]}, shape {shape}"
    for name, shape in tile.outputs().items():
        model.output_description[name] = f"{DESCRIPTIONS[name]}, shape {shape}"
    model.user_defined_metadata["tile"] = f"{tile.height}x{tile.width}"
    model.user_defined_metadata["max_disparity"] = str(tile.max_disparity)
    model.user_defined_metadata["weights"] = "int8" if int8_weights else "fp16"


def _save_atomically(model: ct.models.MLModel, path: Path) -> None:
    """Build the package in a hidden folder next to `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as staging:
        staged = Path(staging) / path.name
        model.save(str(staged))
        if path.exists():
            path.rename(Path(staging) / "replaced")  # deleted with the staging folder
        staged.rename(path)


def operations(path: str | Path) -> Iterator[MIL_pb2.Operation]:
    """Every operation of a saved ML Program, nested blocks included, in program order."""
    spec = ct.utils.load_spec(str(path))
    if spec.WhichOneof("Type") != "mlProgram":
        raise ValueError(f"{path} is not an ML Program")

    def walk(block: MIL_pb2.Block) -> Iterator[MIL_pb2.Operation]:
        for op in block.operations:
            yield op
            for nested in op.blocks:
                yield from walk(nested)

    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            yield from walk(block)


def op_inventory(path: str | Path) -> Counter[str]:
    """How many of each MIL op type the saved package holds, e.g. Counter({'const': 386, 'conv': 30, ...})."""
    return Counter(op.type for op in operations(path))
