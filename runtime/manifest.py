"""Find an exported model through its manifest.json, and refuse one whose bytes are not what was exported."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

SHIPPED_MODELS = Path(__file__).parent / "models"
MANIFEST = "manifest.json"
ROLES = ("int8", "fp32", "mobile")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelChoice:
    path: Path
    role: str
    manifest: dict

    @property
    def max_disparity(self) -> int:
        return int(self.manifest["max_disparity"])


def load_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(folder, f"no {MANIFEST}: not a dualcam-export folder")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(path, f"unreadable manifest ({error.__class__.__name__}: {error})") from None
    missing = [key for key in ("files", "max_disparity", "tile") if not isinstance(manifest, dict) or key not in manifest]
    if missing:
        raise InputError(path, f"not a dualcam manifest (no {', '.join(missing)})")
    return manifest


def choose_model(model: str = "int8", folder: Path = SHIPPED_MODELS) -> ModelChoice:
    """--model int8|fp32|mobile (a role in the manifest of `folder`) or a path to an exported model file.

    A model file must sit next to the manifest that lists it; its sha256 is checked before it is used.
    """
    if model in ROLES:
        manifest = load_manifest(folder)
        if model not in manifest["files"]:
            raise InputError(folder / MANIFEST, f"has no {model!r} model (it has: {', '.join(manifest['files'])})")
        role, entry = model, manifest["files"][model]
    else:
        path = Path(model)
        if not path.is_file():
            raise InputError(path, f"no such model file (or choose one of {', '.join(ROLES)})")
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
    return ModelChoice(path, role, manifest)
