"""Torch -> ONNX (one file, the tile's height and width fixed or free) -> onnxsim, and the parity check against torch."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from dualcam.runtime.session import open_session

from .wrapper import TileShape

OPSET = 18  # the dynamo exporter's floor: down-converting its graphs to 17 fails on Pad


def export_onnx(module: nn.Module, tile: TileShape, path: str | Path, simplify: bool = True,
                dynamic: bool = False) -> Path:
    """Write `module` (a tile wrapper taking mono_y, ref_y, ref_cbcr) as a self-contained ONNX file.

    Weights are embedded (no external .data file: NNAPI rejects external initializers). Every shape is static,
    as phones' execution providers need, unless `dynamic`: then the tile's height and width are free (multiples
    of `tile.stride`, the reference always d columns wider), so the CPU runtime can fit tiles to each image.
    onnxsim then folds constants and fuses BatchNorm into the convolutions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, tile.example(), dynamo=True, opset_version=OPSET,
                                    input_names=list(tile.inputs()), output_names=list(tile.outputs()),
                                    dynamic_shapes=tile.free_shapes() if dynamic else None,
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


def parity_session(path: str | Path) -> ort.InferenceSession:
    """A CPU session of a tile model without onnxruntime's memory arena: the export checks models one tile at a
    time and keeps several open, and with the arena each holds 3-4 GB for a 256x512 tile."""
    return open_session(Path(path), ["CPUExecutionProvider"], memory_arena=False)


def agreement(reference: ort.InferenceSession | nn.Module, path: str | Path, tiles: list[dict[str, np.ndarray]],
              progress: Callable[[], object] | None = None) -> dict[str, float]:
    """How closely the model at `path` reproduces a reference over the tiles (feeds by input name):
    the largest absolute difference and the PSNR of the outputs (values on [0, 1]), fp32 on the CPU.

    The reference is the torch module the model was exported from, or another onnxruntime session;
    `progress` is called after each tile.
    """
    sess = parity_session(path)
    worst, squared, count = 0.0, 0.0, 0
    for feeds in tiles:
        if isinstance(reference, nn.Module):
            with torch.no_grad():
                expected = reference(*(torch.from_numpy(v) for v in feeds.values())).numpy()
        else:
            expected = reference.run(None, feeds)[0]
        error = sess.run(None, feeds)[0].astype(np.float64) - expected
        worst, squared, count = max(worst, float(np.abs(error).max())), squared + float((error**2).sum()), count + error.size
        if progress is not None:
            progress()
    mse = squared / count
    return {"max_abs": worst, "psnr_db": round(10 * np.log10(1 / mse), 2) if mse > 0 else float("inf")}


def max_abs_difference(reference: ort.InferenceSession | nn.Module, path: str | Path,
                       tiles: list[dict[str, np.ndarray]]) -> float:
    return agreement(reference, path, tiles)["max_abs"]
