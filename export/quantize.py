"""int8: static QDQ quantization of the fp32 tile model, calibrated on real and synthetic tiles.

On x86 the activations are unsigned and the weights signed (U8/S8): that is the pairing whose convs fuse
into QLinearConv. Measured on the mobile model (onnxruntime 1.32, the graph it runs after its fusions):
U8/S8 gives 29 QLinearConv, i.e. every quantized conv (the 24 float Conv are the ones kept in float), with
14 DequantizeLinear; S8/S8 fuses only 13 and leaves 16 as DequantizeLinear -> fp32 Conv -> QuantizeLinear
(118 DequantizeLinear). ARM prefers S8/S8; quantize again for such a target.
What stays in float was decided by measurement (see `KEEP_FLOAT` and the export manifest).
"""
from __future__ import annotations

import collections
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)
from onnxruntime.quantization.calibrate import MinMaxCalibrater, save_tensors_data
from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry
from onnxruntime.quantization.shape_inference import quant_pre_process

from dualcam.runtime.geometry import measure
from dualcam.runtime.pair import Pair

from .wrapper import TileShape

Feeds = dict[str, np.ndarray]


def real_tiles(tile: TileShape, pair: Pair) -> Iterator[Feeds]:
    """The tiles the runtime feeds the model for one real pair: its arrangement measured and applied as
    dualcam-run does it."""
    spec = tile.spec()
    arrangement = measure(pair, spec).arrangement
    mono, reference = arrangement.mono(pair.mono_y), arrangement.reference(pair.color_rgb)
    for _, _, mono, ref_y, ref_cbcr in spec.grid(*mono.shape).tiles(mono, reference):
        yield {"mono_y": mono[None, None], "ref_y": ref_y[None, None],
               "ref_cbcr": np.ascontiguousarray(ref_cbcr.transpose(2, 0, 1)[None])}


def synthetic_tiles(tile: TileShape, count: int, seed: int) -> Iterator[Feeds]:
    """Simulated captures of procedural scenes (the training distribution), cut to the tile."""
    from dualcam.model.dataset import SyntheticStereoDataset

    data = SyntheticStereoDataset(seed, tile.height, tile.width, tile.max_disparity, edge_fraction=0.0)
    for index in range(count):
        item = data[index]
        yield {name: item[name].numpy()[None] for name in ("mono_y", "ref_y", "ref_cbcr")}


class TileReader(CalibrationDataReader):
    """The calibration tiles one by one; `progress` is called as each is handed over."""

    def __init__(self, tiles: Iterable[Feeds], progress: Callable[[], object] | None = None):
        self.tiles, self.progress = iter(tiles), progress

    def get_next(self) -> Feeds | None:
        tile = next(self.tiles, None)
        if tile is not None and self.progress is not None:
            self.progress()
        return tile


def float_nodes(model: onnx.ModelProto, keep: str) -> list[str]:
    """Names of the nodes to leave in float for a `keep` policy.

    "none": quantize everything the quantizer knows. "refine": quantize only what computes the logits of
    the weight volume W (ResNet1, the cost volume, attention, the 3-D regulation) and keep the softmax, the
    weighted average and the colour-residue ResNets in float. Measured on held-out tiles (mobile,
    128x256, output PSNR against fp32): ResNet1 61 dB, attention 78, regulation 67 when quantized alone,
    but ResNet2 48, ResNet3 49 and ResNet4 32 dB: their small chroma residues do not survive one 1/255
    grid per tensor.
    """
    if keep == "none":
        return []
    if keep != "refine":
        raise ValueError(f"unknown keep-float policy {keep!r}")
    producer = {out: node for node in model.graph.node for out in node.output}
    # The first op on the logits: the Softmax, or the fast graph's ReduceMax (its softmax is spelled out).
    normaliser = next(n for n in model.graph.node if n.op_type in ("Softmax", "ReduceMax"))
    weight_volume, frontier = set(), [normaliser]
    while frontier:
        node = frontier.pop()
        for name in node.input:
            parent = producer.get(name)
            if parent is not None and parent.name not in weight_volume:
                weight_volume.add(parent.name)
                frontier.append(parent)
    return [n.name for n in model.graph.node if n.name not in weight_volume]


class LeanMinMaxCalibrater(MinMaxCalibrater):
    """onnxruntime's min-max calibrator, run so that each activation is freed once it is reduced to its min and max.

    The calibrator adds a ReduceMin and a ReduceMax on every tensor to quantize. onnxruntime's default node order
    runs those late, so a whole tile's activations stay alive (5.2 GB for one 256x512 tile of the mobile preset,
    10.4 GB once its memory arena had grown over three tiles); in priority order, without the arena, the
    calibration run needs what the float model needs (1.0 GB).
    """

    def create_inference_session(self) -> None:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # every tensor keeps its name
        options.execution_order = ort.ExecutionOrder.PRIORITY_BASED
        options.enable_cpu_mem_arena = False
        self.infer_session = ort.InferenceSession(self.augmented_model_path, options, providers=self.execution_providers)


def activation_ranges(model_path: Path, tiles: Iterable[Feeds], cache_path: Path,
                      progress: Callable[[], object] | None = None) -> Path:
    """Min-max ranges of the tensors quantize_static quantizes, as its calibration cache file."""
    calibrator = LeanMinMaxCalibrater(model_path, list(set(QLinearOpsRegistry) | set(QDQRegistry)),
                                      augmented_model_path=cache_path.with_name("augmented.onnx"))
    calibrator.augment_graph()
    calibrator.create_inference_session()
    calibrator.collect_data(TileReader(tiles, progress))
    save_tensors_data(calibrator.compute_data(), cache_path)
    return cache_path


def quantize_int8(fp32_path: str | Path, out_path: str | Path, tiles: Iterable[Feeds], keep: str = "refine",
                  progress: Callable[[], object] | None = None) -> Path:
    """Write the U8/S8 per-channel QDQ model of `fp32_path`, calibrated (min-max) on `tiles` (`progress` is
    called as each is used)."""
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        ranges = activation_ranges(prepared, tiles, Path(tmp) / "ranges.json", progress)
        model = onnx.load(prepared)
        tmp_out = out_path.with_suffix(".tmp")
        quantize_static(str(prepared), str(tmp_out), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=float_nodes(model, keep), calibrate_method=CalibrationMethod.MinMax,
                        calibration_cache_path=ranges)
        tmp_out.replace(out_path)
    return out_path


def fused_op_counts(path: str | Path) -> dict[str, int]:
    """Op types of the graph onnxruntime actually runs on this CPU (after its QDQ fusions)."""
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        graph = onnx.load(options.optimized_model_filepath).graph
    return dict(collections.Counter(node.op_type for node in graph.node).most_common())
