"""An exported tile model run by onnxruntime: the fixed tile shape is read from the model itself."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from .errors import InputError
from .tiling import TileGrid, default_overlap, run_tiled

INPUTS = ("mono_y", "ref_y", "ref_cbcr")
CONFIDENCE = "confidence"  # optional second output: (1, 1, h, w) on [0, 1], how peaked the weight volume is


class TileModel:
    """Calls one exported model on one tile: (h, w) mono, (h, w + d) reference Y and Cb/Cr -> (h, w, 2)."""

    def __init__(self, path: str | Path, providers: list[str] | None = None, threads: int = 0,
                 memory_arena: bool = True, confidence: bool = False):
        """InputError naming the file if onnxruntime cannot load it or it is not a dualcam tile model.
        With `confidence` and a model that has that output, calls return it as a third channel."""
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # Without the arena and the memory pattern a tile needs about half the memory, 20-35 % slower.
        options.enable_cpu_mem_arena = options.enable_mem_pattern = memory_arena
        self.path = Path(path)
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own Fail/InvalidProtobuf/... for a file it cannot take
            raise InputError(path, f"onnxruntime cannot load it ({str(error).splitlines()[0][:200]})") from None
        shapes = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        if sorted(shapes) != sorted(INPUTS) or "cbcr" not in outputs or not all(
                isinstance(n, int) for shape in shapes.values() for n in shape):
            raise InputError(path, f"is not a dualcam tile model (inputs {', '.join(shapes)}; outputs {', '.join(outputs)}; "
                                   f"expected inputs {', '.join(INPUTS)} of fixed shape and output cbcr)")
        _, _, self.tile_height, self.tile_width = shapes["mono_y"]
        self.max_disparity = shapes["ref_y"][3] - self.tile_width
        self.outputs = ["cbcr"] + ([CONFIDENCE] if confidence and CONFIDENCE in outputs else [])

    def __call__(self, mono_y: np.ndarray, ref_y: np.ndarray, ref_cbcr: np.ndarray) -> np.ndarray:
        feeds = {"mono_y": mono_y[None, None].astype(np.float32, copy=False),
                 "ref_y": ref_y[None, None].astype(np.float32, copy=False),
                 "ref_cbcr": np.ascontiguousarray(ref_cbcr.transpose(2, 0, 1)[None], dtype=np.float32)}
        return np.concatenate([out[0] for out in self.session.run(self.outputs, feeds)]).transpose(1, 2, 0)

    def grid(self, height: int, width: int) -> TileGrid:
        overlap = default_overlap(self.tile_height, self.tile_width)
        return TileGrid(height, width, self.tile_height, self.tile_width, self.max_disparity, overlap)

    def colorize_chroma(self, mono_y: np.ndarray, ref_ycbcr: np.ndarray) -> np.ndarray:
        """Whole image at the working scale, tile by tile -> (H, W, 2) Cb/Cr."""
        return run_tiled(self, self.grid(*mono_y.shape), mono_y, ref_ycbcr)
