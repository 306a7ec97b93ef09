"""The phone-accelerator graph's checks: onnxruntime's mobile usability report, and the Conv ranks it misses.

The graph itself is the "planar" matching implementation (model/planar.py), exported through TileColorizer.
The usability checker judges ops by name only: `conv_weight_ranks` covers the Conv rank it does not check
(NNAPI and CoreML run only 1-D and 2-D convs).
"""
from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import onnx
from onnxruntime.tools.mobile_helpers import usability_checker


def mobile_usability_report(path: str | Path) -> str:
    """The text report of onnxruntime's mobile usability checker on an ONNX file (static shapes expected)."""
    logger = logging.getLogger("dualcam.mobile_usability")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    logger.addHandler(handler)
    try:
        usability_checker.analyze_model(Path(path), skip_optimize=False, logger=logger)
    finally:
        logger.removeHandler(handler)
    return text.getvalue()


EP_SECTION = re.compile(r"^Checking (NNAPI|CoreML NeuralNetwork|CoreML MLProgram)$", re.MULTILINE)
PARTITIONS = re.compile(r"(\d+) partitions with a total of (\d+)/(\d+) nodes can be handled by the .+? EP\.")
UNSUPPORTED = re.compile(r"Unsupported ops: (.+)")


def parse_usability_report(report: str) -> dict[str, dict]:
    """Per EP: nodes supported, total, partitions and the unsupported ops, as the model stands (fixed shapes)."""
    starts = list(EP_SECTION.finditer(report))
    if not starts:
        raise ValueError("not a mobile usability report: no 'Checking <EP>' section")
    result = {}
    for start, end in zip(starts, starts[1:] + [None]):
        section = report[start.end() : end.start() if end else None]
        as_is = section.split("--------")[0]  # what follows is a what-if for dynamic shapes made fixed
        partitions, unsupported = PARTITIONS.search(as_is), UNSUPPORTED.search(as_is)
        result[start.group(1)] = {
            "supported": int(partitions.group(2)),
            "total": int(partitions.group(3)),
            "partitions": int(partitions.group(1)),
            "unsupported_ops": unsupported.group(1).split(",") if unsupported else [],
        }
    return result


def mobile_usability(path: str | Path, report_path: str | Path | None = None) -> dict[str, dict]:
    """Run the usability checker on an ONNX file, optionally save its report, and return its numbers per EP."""
    report = mobile_usability_report(path)
    if report_path is not None:
        Path(report_path).write_text(report)
    return parse_usability_report(report)


def conv_weight_ranks(model: onnx.ModelProto | str | Path) -> dict[str, int]:
    """Rank of each Conv's weight, by node name: the EPs run only rank 3 and 4 (1-D and 2-D convs)."""
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    model = onnx.shape_inference.infer_shapes(model)
    ranks = {init.name: len(init.dims) for init in model.graph.initializer}
    for value in [*model.graph.value_info, *model.graph.input]:
        ranks.setdefault(value.name, len(value.type.tensor_type.shape.dim))
    return {node.name: ranks[node.input[1]] for node in model.graph.node if node.op_type == "Conv"}
