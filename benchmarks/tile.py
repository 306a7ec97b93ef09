"""One tile, one configuration, in this process: load, warm up, time the repeats, read the peak RSS.

Run by `dualcam-bench` in a fresh process per configuration, so that each peak RSS is the configuration's
own and nothing one configuration loaded (torch, a session's arena) slows or bloats the next.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dualcam.runtime.report import peak_memory_mb

SAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "samples"


def timed(run: Callable[[], object], warmup: int, repeats: int) -> dict:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "repeats": repeats}


def sample_tile(height: int, width: int, max_disparity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top-left tile of the bundled sample pair: (h, w) mono, (h, w + d) reference Y and (h, w + d, 2) Cb/Cr."""
    from dualcam.runtime.color import rgb_to_ycbcr
    from dualcam.runtime.imageio import as_color, as_mono, read_image
    from dualcam.runtime.tiling import TileGrid

    mono = as_mono(read_image(SAMPLES / "motorcycle_mono.png"))
    ref = rgb_to_ycbcr(as_color(read_image(SAMPLES / "motorcycle_color.png")))
    grid = TileGrid(*mono.shape, height, width, max_disparity, overlap=0)
    return next(grid.tiles(mono, ref))[2:]


def measure_onnx(path: Path, warmup: int, repeats: int, threads: int) -> dict:
    """An exported model (a file beside its manifest) through the runtime's own session (torch is never imported)."""
    from dualcam.runtime.session import OrtModel

    imports_mb = peak_memory_mb()
    start = time.perf_counter()
    model = OrtModel.load(str(path), provider="cpu", threads=threads)
    load = time.perf_counter() - start
    spec = model.spec
    tile = sample_tile(spec.tile_height, spec.tile_width, spec.max_disparity)
    return {**timed(lambda: model(*tile), warmup, repeats), "load_s": load, "peak_rss_mb": peak_memory_mb(),
            "imports_rss_mb": imports_mb, "tile": f"{spec.tile_height}x{spec.tile_width}"}


def op_profile(path: Path, repeats: int, threads: int) -> dict:
    """Share of a tile model's kernel time per operator type, from onnxruntime's profiler: which ops the time goes
    to after onnxruntime's fusions (the graph it really runs)."""
    import collections
    import json
    import tempfile

    import onnxruntime as ort

    from dualcam.runtime.manifest import choose_model

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.enable_profiling, options.profile_file_prefix = True, str(Path(tmp) / "profile")
        if threads:
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        spec = choose_model(str(path)).spec  # the exported tile: a CPU model's inputs leave it free
        mono, ref_y, ref_cbcr = sample_tile(spec.tile_height, spec.tile_width, spec.max_disparity)
        feeds = {"mono_y": mono[None, None], "ref_y": ref_y[None, None],
                 "ref_cbcr": np.ascontiguousarray(ref_cbcr.transpose(2, 0, 1))[None]}
        for _ in range(repeats):
            session.run(None, feeds)
        events = json.loads(Path(session.end_profiling()).read_text())
    kernel_us = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            kernel_us[event["args"]["op_name"]] += event["dur"]
    total = sum(kernel_us.values())
    return {"repeats": repeats, "op_share_percent": {op: round(100 * us / total, 1) for op, us in kernel_us.most_common()}}


def measure_torch(config: dict, height: int, width: int, warmup: int, repeats: int) -> dict:
    """Torch eager fp32, the reference network (random weights: the time does not depend on them)."""
    import torch

    from dualcam.model.config import DualCamConfig
    from dualcam.model.network import DualCamNet

    net = DualCamNet(DualCamConfig.from_dict(config)).eval()
    mono, ref_y, ref_cbcr = sample_tile(height, width, net.config.max_disparity)
    inputs = (torch.from_numpy(mono)[None, None], torch.from_numpy(ref_y)[None, None],
              torch.from_numpy(np.ascontiguousarray(ref_cbcr.transpose(2, 0, 1)))[None])
    with torch.no_grad():
        result = timed(lambda: net(*inputs), warmup, repeats)
    return {**result, "threads": torch.get_num_threads(), "peak_rss_mb": peak_memory_mb()}


def tile_gflop(config: dict, height: int, width: int) -> float:
    """FLOP of one tile (2 per multiply-add) of the reference network, as torch's counter sees it."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from dualcam.model.config import DualCamConfig
    from dualcam.model.network import DualCamNet

    net = DualCamNet(DualCamConfig.from_dict(config)).eval()
    d = net.config.max_disparity
    inputs = (torch.rand(1, 1, height, width), torch.rand(1, 1, height, width + d), torch.rand(1, 2, height, width + d))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(*inputs)
    return counter.get_total_flops() / 1e9
