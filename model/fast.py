"""The CPU matching: `DualCamNet.match` laid out for onnxruntime's CPU kernels, the same function.

It is the planar (2-D) rewrite with a different end. Measured on this project's 2-core AMD EPYC with
onnxruntime 1.32 (256x512 tiles of the shipped model; ratios from one run with other work present):

- 2-D QLinearConvs on the candidates-in-batch volume ran the two widest 3x3x3 convs 3-4x faster than
  onnxruntime's 3-D QLinearConv, and the transposed convs become plain convs that int8 quantization
  covers (onnxruntime has no int8 ConvTranspose; in the 3-D graph they were 27 % of an int8 tile);
- the softmax over the d candidates followed by the weighted average took 4-10x longer than
  exp(logits - max) with the weighted sum and the sum of the weights (a 1x1 conv with ones) divided at
  the end: onnxruntime's Softmax on (1, d, H, W) is slow over either axis. Same function: softmax's
  normalisation moves from d weights per pixel to the two chroma values.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .aggregate import weighted_average
from .planar import PlanarMatching


class FastMatching(PlanarMatching):
    """`DualCamNet.match` for onnxruntime on CPUs (batch 1)."""

    def forward(self, mono: Tensor, reference: Tensor, ref_cbcr: Tensor) -> Tensor:
        logits = self.logits(mono, reference)
        if not (self.config.weighted_average and self.config.weight_norm == "softmax"):
            return weighted_average(self.weights(logits), ref_cbcr)
        scores = torch.exp(logits - logits.amax(dim=1, keepdim=True))
        return weighted_average(scores, ref_cbcr) / F.conv2d(scores, self.ones)
