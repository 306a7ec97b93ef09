"""Torch -> ONNX (one file, static tile shape) -> onnxsim, and the parity check against torch."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from .wrapper import TileShape

OPSET = 18  # the dynamo exporter's floor that down-converts cleanly (ONDEVICE.md)


def export_onnx(module: nn.Module, tile: TileShape, path: str | Path, simplify: bool = True) -> Path:
    """Write `module` (a tile wrapper taking mono_y, ref_y, ref_cbcr) as a self-contained ONNX file.

    Weights are embedded (no external .data file: NNAPI rejects external initializers) and every shape
    is static. onnxsim then folds constants and fuses BatchNorm into the convolutions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, tile.example(), dynamo=True, opset_version=OPSET,
                                    input_names=list(tile.inputs()), output_names=list(tile.outputs()),
                                    external_data=False, verbose=False)
    model = program.model_proto
    if simplify:
        import onnxsim

        model, ok = onnxsim.simplify(model)
        if not ok:
            raise RuntimeError("onnxsim could not validate the simplified model")
    onnx.checker.check_model(model)
    tmp = path.with_suffix(".tmp")
    onnx.save_model(model, tmp, save_as_external_data=False)
    tmp.replace(path)
    return path


def session(path: str | Path, threads: int = 0) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_tile(sess: ort.InferenceSession, inputs: tuple[np.ndarray, ...] | tuple[torch.Tensor, ...]) -> np.ndarray:
    feeds = {i.name: np.asarray(x, dtype=np.float32) for i, x in zip(sess.get_inputs(), inputs)}
    return sess.run(None, feeds)[0]


def max_abs_difference(module: nn.Module, path: str | Path, tiles: list[tuple[torch.Tensor, ...]]) -> float:
    """Largest |onnxruntime - torch| over the given tiles, fp32 on the CPU."""
    sess = session(path)
    worst = 0.0
    with torch.no_grad():
        for tile in tiles:
            expected = module(*tile).numpy()
            worst = max(worst, float(np.abs(run_tile(sess, tile) - expected).max()))
    return worst
