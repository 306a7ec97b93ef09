"""Checkpoints carry their config, so a model is rebuilt from the file alone."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .config import DualCamConfig
from .network import DualCamNet

SHIPPED_WEIGHTS = Path(__file__).parent / "weights" / "mobile.pt"


def save_checkpoint(path: str | Path, model: DualCamNet, **extra) -> None:
    """Atomic write: a crash while saving never leaves a truncated checkpoint behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"config": model.config.to_dict(), "model": model.state_dict(), **extra}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    """The raw checkpoint dict; only tensors and plain containers are accepted (weights_only).
    ValueError naming the file if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises pickle, zip and runtime errors for a file that is not a checkpoint
        raise ValueError(f"{path}: not a dualcam checkpoint ({str(error).splitlines()[0][:120]})") from None
    if not isinstance(state, dict) or not {"config", "model"} <= state.keys():
        raise ValueError(f"{path}: not a dualcam checkpoint (no config and model weights in it)")
    return state


def load_model(path: str | Path | None = None) -> DualCamNet:
    """Rebuild the network from a checkpoint (the shipped mobile weights by default), in eval mode."""
    state = load_checkpoint(path or SHIPPED_WEIGHTS)
    model = DualCamNet(DualCamConfig.from_dict(state["config"]))
    model.load_state_dict(state["model"])
    return model.eval()


def release_checkpoint(src: str | Path, dst: str | Path) -> None:
    """A training checkpoint without its optimizer state: what ships as package data."""
    state = load_checkpoint(src)
    model = DualCamNet(DualCamConfig.from_dict(state["config"]))
    model.load_state_dict(state["model"])
    save_checkpoint(dst, model, **{k: state[k] for k in ("step", "elapsed", "training") if k in state})


if __name__ == "__main__":
    import sys

    release_checkpoint(*sys.argv[1:3])
