"""Find an exported model through its manifest.json, and refuse one whose bytes are not what was exported.

The manifest is the one home of what the exporter decided for its models (`ModelSpec`): the tile (fixed, or for the
models exported with free height and width the largest the runtime runs), the d candidates, the tiles' overlap and
the chroma working-scale rule. Both runtimes (this one and android_demo's Kotlin core) read them from there. A
manifest is data from disk, so every field is checked before use.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InputError
from .scale import MIN_SCALE, RANGE_MARGIN, candidate_window
from .tiling import TileGrid, default_overlap, fitted_tile

SHIPPED_MODELS = Path(__file__).parent / "models"
MANIFEST = "manifest.json"
ROLES = ("int8", "fp32", "mobile", "mobile_int8")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelSpec:
    """The contract of one exported tile model and the runtime rules fitted to it."""

    tile_height: int
    tile_width: int
    max_disparity: int  # d: candidates x .. x + d - 1 of the reference row
    overlap: int  # px at the working scale between neighbouring tiles
    range_margin: float = RANGE_MARGIN  # the largest disparity is kept inside range_margin * d
    min_scale: float = MIN_SCALE  # the chroma working scale never goes below this
    dynamic: bool = False  # the model takes any tile of multiples of `stride` up to this one (CPU exports)
    stride: int = 1

    @classmethod
    def for_tile(cls, tile_height: int, tile_width: int, max_disparity: int, dynamic: bool = False,
                 stride: int = 1) -> ModelSpec:
        """What dualcam-export records for a model of this tile."""
        return cls(tile_height, tile_width, max_disparity, default_overlap(tile_height, tile_width), dynamic=dynamic,
                   stride=stride)

    def fitted(self, height: int, width: int, fraction: float = 1.0) -> ModelSpec:
        """The spec one image of (height, width) at the working scale runs with. A fixed tile is what it is. A dynamic
        model's tile is `fraction` of this one (the memory planner's, when the budget is short), then shrunk to the
        image: as few tiles as before, each just large enough, so a small pair pays for the pixels it has."""
        if not self.dynamic:
            return self
        cap_h, cap_w = (max(self.stride, round(side * fraction / self.stride) * self.stride)
                        for side in (self.tile_height, self.tile_width))
        overlap = min(self.overlap, default_overlap(cap_h, cap_w))
        tile_h, tile_w = fitted_tile(height, cap_h, overlap, self.stride), fitted_tile(width, cap_w, overlap, self.stride)
        return replace(self, tile_height=tile_h, tile_width=tile_w, overlap=min(overlap, default_overlap(tile_h, tile_w)))

    def grid(self, height: int, width: int) -> TileGrid:
        """The tiles covering an image of (height, width) at the working scale."""
        return TileGrid(height, width, self.tile_height, self.tile_width, self.max_disparity, self.overlap)

    def window(self, disparities: tuple[float, float] | None, max_scale: float = 1.0) -> tuple[float, int]:
        """(working scale, candidate offset) for a pair's disparity range in the network's frame
        (`scale.candidate_window`)."""
        return candidate_window(disparities, self.max_disparity, self.range_margin, self.min_scale, max_scale)

    @property
    def reference_pixels(self) -> int:
        """Pixels of one tile's reference window, tile height x (tile width + d): what a session's memory follows."""
        return self.tile_height * (self.tile_width + self.max_disparity)


@dataclass(frozen=True)
class ModelChoice:
    path: Path
    role: str
    sha256: str
    spec: ModelSpec


def _field(path: Path, data: dict, key: str, kind: type, low: float = 0, high: float = float("inf")):
    """data[key] of the type `kind`, within [low, high]; InputError naming the manifest and the field otherwise."""
    value = data.get(key) if isinstance(data, dict) else None
    if kind is str:
        if not isinstance(value, str) or not value:
            raise InputError(path, f"{key!r} must be a non-empty string, not {value!r}")
        return value
    number_types = (int,) if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, number_types) or not low <= value <= high:
        raise InputError(path, f"{key!r} must be a {kind.__name__} from {low:g} to {high:g}, not {value!r}")
    return value


def load_manifest(folder: Path) -> dict:
    """The manifest of an export folder, its structure checked (`spec` and `files` read fields from it)."""
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(folder, f"no {MANIFEST}: not a dualcam-export folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(path, f"unreadable manifest ({error.__class__.__name__}: {error})") from None
    missing = [key for key in ("files", "max_disparity", "tile") if not isinstance(manifest, dict) or key not in manifest]
    if missing:
        raise InputError(path, f"not a dualcam manifest (no {', '.join(missing)})")
    if not isinstance(manifest["files"], dict) or not all(isinstance(e, dict) for e in manifest["files"].values()):
        raise InputError(path, "'files' must map each role to an entry with 'file' and 'sha256'")
    for role, entry in manifest["files"].items():
        _field(path, entry, "file", str)
        _field(path, entry, "sha256", str)
    manifest_spec(manifest, path)  # every field the runtime reads, checked at once
    return manifest


def manifest_spec(manifest: dict, path: Path = Path(MANIFEST), role: str | None = None) -> ModelSpec:
    """The spec of the manifest's `role` (None: its tile as fixed, the contract of every model in it)."""
    tile, rule = manifest.get("tile"), manifest.get("chroma_working_scale")
    for name, section in (("tile", tile), ("chroma_working_scale", rule)):
        if not isinstance(section, dict):
            raise InputError(path, f"{name!r} must be an object, not {section!r}")
    height, width = _field(path, tile, "height", int, 1), _field(path, tile, "width", int, 1)
    overlap = _field(path, tile, "overlap", int, 0, (min(height, width) - 1) // 2)
    dynamic = role is not None and manifest["files"][role].get("dynamic_tile") is True
    stride = _field(path, tile, "stride", int, 1, min(height, width)) if "stride" in tile else 1
    if height % stride or width % stride:
        raise InputError(path, f"tile {height}x{width} is not a multiple of its stride {stride}")
    return ModelSpec(height, width, _field(path, manifest, "max_disparity", int, 1), overlap,
                     _field(path, rule, "range_margin", float, 0.01, 1), _field(path, rule, "min_scale", float, 0.01, 1),
                     dynamic, stride)


def choose_model(model: str | None = None, folder: Path = SHIPPED_MODELS, default_role: str = "int8") -> ModelChoice:
    """--model int8|fp32|mobile|mobile_int8 (a role in the manifest of `folder`), an export folder (its
    `default_role` model), a path to an exported model file, or None (`default_role` in `folder`).

    A model file must sit next to the manifest that lists it; its sha256 is checked before it is used.
    """
    if model == "":
        raise InputError("model", f"is empty: give {', '.join(ROLES)}, an export folder or a model file")
    path = Path(model or default_role)
    if model is None or (model not in ROLES and path.is_dir()):
        folder, model = (folder, default_role) if model is None else (path, default_role)
    if model in ROLES:
        manifest = load_manifest(folder)
        if model not in manifest["files"]:
            raise InputError(folder / MANIFEST, f"has no {model!r} model (it has: {', '.join(manifest['files'])})")
        role, entry = model, manifest["files"][model]
    else:
        if not path.is_file():
            raise InputError(path, f"no such model file or export folder (or choose one of {', '.join(ROLES)})")
        manifest = load_manifest(path.parent)
        listed = {e["file"]: (r, e) for r, e in manifest["files"].items()}
        if path.name not in listed:
            raise InputError(path, f"not listed in {path.parent / MANIFEST}")
        role, entry = listed[path.name]
        folder = path.parent
    path = folder / entry["file"]
    if not path.is_file():
        raise InputError(path, "listed in the manifest but missing")
    if sha256(path) != entry["sha256"]:
        raise InputError(path, "checksum differs from the manifest: the file was changed or corrupted; export it again")
    return ModelChoice(path, role, entry["sha256"], manifest_spec(manifest, folder / MANIFEST, role))
