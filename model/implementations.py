"""The implementations of `DualCamNet.match` (cost volume, attention, regulation, weighted average), chosen
by name at export, as RAFT-Stereo chooses its correlation implementation by a flag.

- "reference": the network's own 3-D modules, what training runs;
- "planar": 2-D convs and rank-4 tensors only, for phone accelerators (NNAPI, CoreML);
- "fast": for onnxruntime on CPUs (sub-pixel transposed convs that int8 can quantize, and the softmax
  folded into the weighted average: exp(logits - max) summed with the colours, divided by its own sum).

All compute the same function (tests/test_implementations.py checks each against the reference in float64).
The rewrites derive their weights from the trained modules; the network and its checkpoint keys are unchanged.
"""
from __future__ import annotations

from .fast import FastMatching
from .network import DualCamNet, Matching
from .planar import PlanarMatching

IMPLEMENTATIONS = ("reference", "planar", "fast")


def matching(net: DualCamNet, implementation: str = "reference") -> Matching:
    """The `matching` argument of `net.forward` for an implementation name; `net` must be in eval mode
    (the rewrites fold its BatchNorms' running statistics)."""
    if implementation == "reference":
        return net.match
    if net.training:
        raise ValueError(f"the {implementation!r} implementation rewrites a trained network: call net.eval() first")
    if implementation == "planar":
        return PlanarMatching(net)
    if implementation == "fast":
        return FastMatching(net)
    raise ValueError(f"unknown implementation {implementation!r}; choose from {', '.join(IMPLEMENTATIONS)}")
