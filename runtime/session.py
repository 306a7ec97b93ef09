"""An exported tile model in onnxruntime: the session, its provider, and the memory it is opened with.

A pair's memory budget decides how the session runs (with onnxruntime's memory arena, fastest, or without it,
about half the memory) and, for a model exported with free tile height and width, on which tile: `prepare` plans
that for each pair (`planner.plan_memory`), and reopens the session when the decision changes.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .errors import InputError
from .manifest import SHIPPED_MODELS, ModelChoice, choose_model
from .planner import MemoryPlan, plan_memory
from .providers import choose_provider, default_model, session_providers

INPUTS = ("mono_y", "ref_y", "ref_cbcr")
CONFIDENCE = "confidence"  # optional second output: (1, 1, h, w) on [0, 1], how peaked the weight volume is
DEFAULT_BUDGET_MB = 1024  # what a mid-range phone gives an app; a 12-megapixel photograph fits with the arena on


def cpu_count() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def open_session(path: Path, providers: list[str], threads: int = 0, memory_arena: bool = True) -> ort.InferenceSession:
    """An onnxruntime session of a dualcam tile model; InputError naming the file if onnxruntime cannot load it or
    it is not one (three inputs of fixed batch and channels, height and width fixed or free, and a cbcr output)."""
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    # Without the arena and the memory pattern a tile needs about half the memory, 20-35 % slower.
    options.enable_cpu_mem_arena = options.enable_mem_pattern = memory_arena
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as error:  # onnxruntime raises its own Fail/InvalidProtobuf/... for a file it cannot take
        raise InputError(path, f"onnxruntime cannot load it ({str(error).splitlines()[0][:200]})") from None
    shapes = {i.name: i.shape for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    if sorted(shapes) != sorted(INPUTS) or "cbcr" not in outputs or not all(
            len(shape) == 4 and all(isinstance(n, int) for n in shape[:2]) for shape in shapes.values()):
        raise InputError(path, f"is not a dualcam tile model (inputs {', '.join(shapes)}; outputs {', '.join(outputs)}; "
                               f"expected inputs {', '.join(INPUTS)} of batch 1 and output cbcr)")
    return session


class OrtModel:
    """One exported model, checked and loaded once, run on any number of pairs (chroma.TileModel)."""

    def __init__(self, choice: ModelChoice, provider: str = "auto", threads: int = 0,
                 memory_budget_mb: int = DEFAULT_BUDGET_MB):
        if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= cpu_count():
            raise InputError("threads", f"must be 0 (onnxruntime's default) or 1 to {cpu_count()}, the CPU cores this "
                                        f"process may use; not {threads!r}")
        if isinstance(memory_budget_mb, bool) or not isinstance(memory_budget_mb, int) or memory_budget_mb <= 0:
            raise InputError("memory_budget_mb", f"must be a positive number of MB, not {memory_budget_mb!r}")
        self.choice, self.spec, self.requested = choice, choice.spec, provider  # spec: the last pair's (`prepare`)
        self.provider, self.threads, self.memory_budget_mb = choose_provider(provider), threads, memory_budget_mb
        self.memory = MemoryPlan(memory_arena=True, estimated_peak_mb=0, budget_mb=memory_budget_mb, spec=choice.spec)
        self._open()

    @classmethod
    def load(cls, model: str | None = None, *, provider: str = "auto", threads: int = 0,
             memory_budget_mb: int = DEFAULT_BUDGET_MB, models_dir: Path = SHIPPED_MODELS) -> OrtModel:
        """int8, fp32, mobile, an export folder or a model file (manifest.choose_model); None: the provider's
        default (int8 on CPUs, mobile on NNAPI and CoreML)."""
        return cls(choose_model(model, models_dir, default_model(choose_provider(provider))), provider, threads,
                   memory_budget_mb)

    def _open(self) -> None:
        self.session = None  # the previous session goes before the next one is made: one in memory at a time
        path, providers = self.choice.path, session_providers(self.provider)
        self.session = open_session(path, providers, self.threads, self.memory.memory_arena)
        used = self.session.get_providers()[0]
        if self.requested != "auto" and used != providers[0]:
            raise InputError("provider", f"{self.requested} could not run {path.name} (onnxruntime chose {used})")
        shapes = {i.name: i.shape for i in self.session.get_inputs()}
        _, _, height, width = shapes["mono_y"]
        spec = self.choice.spec
        fixed = (height, width, shapes["ref_y"][3] - width) if isinstance(height, int) and isinstance(width, int) else None
        if fixed != (None if spec.dynamic else (spec.tile_height, spec.tile_width, spec.max_disparity)):
            raise InputError(path, "its tile or d differs from what its manifest says: export it again")
        outputs = [o.name for o in self.session.get_outputs()]
        self.outputs = ["cbcr"] + ([CONFIDENCE] if CONFIDENCE in outputs else [])

    def prepare(self, shape: tuple[int, ...], color_shape: tuple[int, ...],
                working_shape: tuple[int, int] | None = None) -> MemoryPlan:
        """Plan a pair of these image shapes, whose network frame is `working_shape`, into the memory budget
        (InputError if it cannot fit) and make the session run that way. Without `working_shape` only a budget
        the pair cannot fit at all is refused, and nothing changes."""
        plan = plan_memory(shape, working_shape, self.choice.role, self.choice.spec, self.memory_budget_mb, color_shape)
        if working_shape is None:
            return plan
        # The arena keeps the blocks of the largest tile it served: another tile gets a session of its own.
        reopen = plan.memory_arena != self.memory.memory_arena or (plan.memory_arena and plan.spec != self.memory.spec)
        self.memory, self.spec = plan, plan.spec
        if reopen:
            self._open()
        return plan

    def __call__(self, mono_y: np.ndarray, ref_y: np.ndarray, ref_cbcr: np.ndarray) -> np.ndarray:
        feeds = {"mono_y": mono_y[None, None].astype(np.float32, copy=False),
                 "ref_y": ref_y[None, None].astype(np.float32, copy=False),
                 "ref_cbcr": np.ascontiguousarray(ref_cbcr.transpose(2, 0, 1)[None], dtype=np.float32)}
        return np.concatenate([out[0] for out in self.session.run(self.outputs, feeds)]).transpose(1, 2, 0)

    def describe(self) -> dict:
        """The report's model and provider entries."""
        return {"model": {"role": self.choice.role, "file": self.choice.path.name, "sha256": self.choice.sha256},
                "provider": {"requested": self.requested, "used": self.session.get_providers()[0],
                             "session": self.session.get_providers()}}
