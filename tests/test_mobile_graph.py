from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from dualcam.export.mobile import conv_weight_ranks, mobile_usability
from dualcam.export.onnx_export import export_onnx, max_abs_difference
from dualcam.export.wrapper import TileColorizer, TileShape
from dualcam.model.checkpoint import load_model
from dualcam.model.planar import DepthConv

# Ops that NNAPI's and CoreML MLProgram's lists both contain and the rewrite needs (Max: soft-argmax only).
MOBILE_OPS = {"Add", "Concat", "Conv", "Max", "Mul", "Relu", "Reshape", "Sigmoid", "Slice", "Softmax", "Sub"}


@pytest.fixture(scope="module")
def shipped():
    return load_model()


@pytest.fixture(scope="module")
def shipped_tile(shipped) -> TileShape:
    return TileShape(16, 32, shipped.config.max_disparity)


@pytest.fixture(scope="module")
def shipped_onnx(shipped, shipped_tile, tmp_path_factory):
    return export_onnx(TileColorizer(shipped, shipped_tile, "planar"), shipped_tile,
                       tmp_path_factory.mktemp("mobile") / "mobile.onnx")


def test_onnx_export_equals_torch(shipped, shipped_tile, shipped_onnx):
    tiles = [shipped_tile.feeds(seed) for seed in (1, 2)]
    assert max_abs_difference(TileColorizer(shipped, shipped_tile), shipped_onnx, tiles) < 1e-5


def test_onnx_graph_has_2d_convs_rank_4_tensors_and_mobile_ops_only(shipped_onnx):
    model = onnx.load(str(shipped_onnx))
    graph = onnx.shape_inference.infer_shapes(model).graph
    assert {node.op_type for node in graph.node} <= MOBILE_OPS
    assert set(conv_weight_ranks(model).values()) == {4}
    shapes = {v.name: v.type.tensor_type.shape for v in [*graph.input, *graph.value_info, *graph.output]}
    outputs = [name for node in graph.node for name in node.output]
    assert all(name in shapes for name in outputs)  # every tensor's rank is known...
    assert max(len(shape.dim) for shape in shapes.values()) <= 4  # ...and at most 4
    assert max(len(init.dims) for init in graph.initializer) <= 4
    # Caveats the checker lists but does not check: constant Conv weights and bias (NNAPI), Slice bounds (CoreML).
    constants = {init.name for init in graph.initializer}
    for node in graph.node:
        if node.op_type in ("Conv", "Slice"):
            assert set(node.input[1:]) <= constants, node.name


def test_usability_checker_puts_every_node_in_one_partition(shipped_onnx, tmp_path):
    usability = mobile_usability(shipped_onnx, tmp_path / "report.txt")
    for ep in ("NNAPI", "CoreML MLProgram"):
        assert usability[ep]["partitions"] == 1, usability[ep]
        assert usability[ep]["supported"] == usability[ep]["total"] > 100
    assert "Checking NNAPI" in (tmp_path / "report.txt").read_text()


def save_graph(path: Path, nodes: list[onnx.NodeProto], initializers: dict[str, np.ndarray],
               input_shape: list[int], output_shape: list[int]) -> Path:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
                              [numpy_helper.from_array(value, name) for name, value in initializers.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    return path


def test_usability_parsing_counts_what_each_ep_lacks(tmp_path):
    """Conv -> Pad -> Relu -> ReduceSum: NNAPI lacks ReduceSum, CoreML MLProgram lacks Pad.

    (A Pad before a Conv would be fused into it by the optimisation the checker runs first.)
    """
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Pad", ["a", "pads"], ["b"]),
             helper.make_node("Relu", ["b"], ["c"]),
             helper.make_node("ReduceSum", ["c"], ["y"])]
    initializers = {"w": np.full((1, 1, 3, 3), 0.1, np.float32), "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1])}
    usability = mobile_usability(save_graph(tmp_path / "g.onnx", nodes, initializers, [1, 1, 4, 4], [1, 1, 1, 1]))
    assert usability["NNAPI"] == {"supported": 3, "total": 4, "partitions": 1,
                                  "unsupported_ops": ["ai.onnx:ReduceSum"]}
    assert usability["CoreML MLProgram"] == {"supported": 3, "total": 4, "partitions": 2,
                                             "unsupported_ops": ["ai.onnx:Pad"]}


def test_conv_weight_ranks_sees_3d_convs(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="volume", pads=[1] * 6)]
    initializers = {"w": np.full((1, 1, 3, 3, 3), 0.1, np.float32)}
    path = save_graph(tmp_path / "g.onnx", nodes, initializers, [1, 1, 2, 4, 4], [1, 1, 2, 4, 4])
    assert conv_weight_ranks(path) == {"volume": 5}


def test_unsupported_shapes_are_refused(shipped):
    with pytest.raises(ValueError, match="disagree"):
        TileColorizer(shipped, TileShape(16, 32, 32), "planar")
    with pytest.raises(ValueError, match="multiple of 16"):
        TileColorizer(shipped, TileShape(8, 32, 64), "planar")
    with pytest.raises(ValueError, match="3x3x3"):
        DepthConv(nn.Conv3d(2, 2, 5, padding=2), relu=False)
