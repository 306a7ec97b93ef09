"""Network configuration: one dataclass, three presets, stored inside every checkpoint."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class DualCamConfig:
    features: int = 32  # n in the paper: filters of every 2-D conv and of the top 3-D level
    res_blocks: int = 8  # residual blocks in each of ResNet1..ResNet4
    hourglass_levels: int = 4  # stride-2 encoder levels of the 3-D regulation
    max_disparity: int = 128  # d: full-resolution candidates x .. x+d-1 in the reference
    weight_norm: str = "softmax"  # how W is normalised over candidates: "softmax" | "none"
    attention: bool = True  # ablation: False feeds the plain concatenated volume to the regulation
    weighted_average: bool = True  # ablation: False copies one candidate chosen by soft-argmax
    color_residue: bool = True  # ablation: False outputs C0, the weighted average, directly
    residue_sees_spread: bool = False  # ResNet2 also gets the W-weighted spread of the reference chroma around C0
    residue_gate: bool = False  # the residue fades where that spread is large: C = C0 + (1 - min(1, g spread)) residue

    def __post_init__(self) -> None:
        if (self.residue_sees_spread or self.residue_gate) and not self.color_residue:
            raise ValueError("residue_sees_spread and residue_gate act on the colour residue: they need color_residue")
        if self.weight_norm not in ("softmax", "none"):
            raise ValueError(f"weight_norm must be 'softmax' or 'none', not {self.weight_norm!r}")
        if self.max_disparity % self.stride:
            raise ValueError(
                f"max_disparity {self.max_disparity} must be a multiple of {self.stride} "
                f"(2 ** (hourglass_levels + 1)) so the half-resolution volume downsamples evenly"
            )

    @property
    def uses_spread(self) -> bool:
        return self.residue_sees_spread or self.residue_gate

    @property
    def stride(self) -> int:
        """Input height and width (and d) must be multiples of this: half resolution, then the levels."""
        return 2 ** (self.hourglass_levels + 1)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "DualCamConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def with_(self, **changes) -> "DualCamConfig":
        return replace(self, **changes)


PRESETS: dict[str, DualCamConfig] = {
    # Table 1 of the paper: n = 32, 8 residual blocks, a 4-level 3-D hourglass.
    "paper": DualCamConfig(features=32, res_blocks=8, hourglass_levels=4, max_disparity=128),
    # Sized for a phone and for training on a 2-core CPU; see the model card for the measurements.
    "mobile": DualCamConfig(features=16, res_blocks=3, hourglass_levels=3, max_disparity=64),
    # Tests only: every part present, seconds to run.
    "tiny": DualCamConfig(features=4, res_blocks=1, hourglass_levels=2, max_disparity=16),
}


def preset(name: str, **overrides) -> DualCamConfig:
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}") from None
    return base.with_(**overrides)
