"""What the numbers were measured on, and this CPU's GEMM peaks measured in the same run.

The CPU changes from session to session and other work may share it, so every benchmark records the
machine and compares against peaks measured alongside, never against a datasheet.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16",
             "asimd", "asimddp", "i8mm", "sve")


def in_fresh_process(argv: list[str]) -> dict:
    """Run `python ARGV` (one measurement) in a new interpreter, so its peak memory and caches are its own,
    and return the JSON object it prints last."""
    out = subprocess.run([sys.executable, *argv], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_info() -> dict:
    """CPU model, cores, SIMD flags of interest, and the load when the run started."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
    except OSError:
        pass
    info = {"cpu": model, "cores": os.cpu_count(), "isa": [f for f in ISA_FLAGS if f in flags],
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
    if hasattr(os, "getloadavg"):
        info["load_average_1min_at_start"] = round(os.getloadavg()[0], 2)
    for package in ("onnxruntime", "torch", "numpy", "opencv-python-headless"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            pass
    return info


def best_rate(run, operations: float, seconds: float = 1.0) -> float:
    """Best operations per second of `run()` over about `seconds` after one warm-up call."""
    run()
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        run()
        best = max(best, operations / (time.perf_counter() - start))
    return best


def fp32_gemm_peak(size: int = 2048) -> float:
    """GFLOP/s of torch's fp32 matrix product (2 size^3 FLOP) on all threads."""
    import torch

    a, b = torch.rand(size, size), torch.rand(size, size)
    return best_rate(lambda: torch.mm(a, b), 2 * size**3) / 1e9


def int8_gemm_peak(size: int = 2048) -> float:
    """GOP/s of onnxruntime's u8 x s8 -> s32 MatMulInteger (the kernel under QLinearConv) on all threads."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.integers(-127, 128, (size, size), dtype=np.int8), "b")
    graph = helper.make_graph([helper.make_node("MatMulInteger", ["a", "b"], ["y"])], "gemm",
                              [helper.make_tensor_value_info("a", TensorProto.UINT8, [size, size])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, [size, size])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"a": rng.integers(0, 256, (size, size), dtype=np.uint8)}
    return best_rate(lambda: session.run(None, feeds), 2 * size**3) / 1e9


def peaks() -> dict:
    return {"fp32_gemm_gflops": round(fp32_gemm_peak(), 1), "int8_gemm_gops": round(int8_gemm_peak(), 1)}
