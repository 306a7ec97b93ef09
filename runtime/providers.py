"""onnxruntime execution providers by short name: the best available one, or exactly the one asked for.

The pip wheel on desktop Linux has only the CPU provider; onnxruntime-android adds NNAPI and XNNPACK,
macOS wheels CoreML. Asked for a provider it lacks, onnxruntime only warns and runs on the CPU, so an
explicit request is checked here, and again against what the session really uses.
"""
from __future__ import annotations

import onnxruntime as ort

from .errors import InputError

PROVIDERS = {
    "nnapi": "NnapiExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "xnnpack": "XnnpackExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
# The accelerators take the 2-D mobile graph whole; NNAPI also its int8 QDQ form, CoreML's provider does not (its
# int8 path is the coremltools package).
ACCELERATOR_MODELS = {"nnapi": "mobile_int8", "coreml": "mobile"}
NAMES = ("auto", *PROVIDERS)


def available() -> list[str]:
    present = set(ort.get_available_providers())
    return [name for name, full in PROVIDERS.items() if full in present]


def choose_provider(name: str = "auto") -> str:
    """'auto' -> the first available of nnapi, coreml, xnnpack, cpu; anything else must be available."""
    if name not in NAMES:
        raise InputError("provider", f"unknown provider {name!r}; choose from {', '.join(NAMES)}")
    present = available()
    if name == "auto":
        return present[0]
    if name not in present:
        raise InputError("provider", f"{name} is not in this onnxruntime build (it has: {', '.join(present)})")
    return name


def default_model(provider: str) -> str:
    return ACCELERATOR_MODELS.get(provider, "int8")


def session_providers(name: str) -> list[str]:
    """The provider, with the CPU for the nodes it does not take (the mobile graph has none)."""
    return [PROVIDERS[name]] + ([] if name == "cpu" else [PROVIDERS["cpu"]])
