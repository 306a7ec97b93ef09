"""Loaders for real stereo pairs: the dev pairs (left.png, right.png[, disp_left.npy]) and SceneFlow.

All images come back as float32 RGB in [0, 1]. SceneFlow's right-view disparity is positive with
right x <-> left x + d, the project's convention, so it is used as is.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".webp")


class RealPair(NamedTuple):
    name: str
    left: np.ndarray
    right: np.ndarray
    disp_left: np.ndarray | None  # left x <-> right x - d; 0 or inf = invalid


class SceneFlowFrame(NamedTuple):
    left: np.ndarray
    right: np.ndarray
    disp_right: np.ndarray  # right x <-> left x + d


class SceneFlowEntry(NamedTuple):
    left: Path
    right: Path
    disp_right: Path


def read_rgb(path: str | Path) -> np.ndarray:
    """8- or 16-bit image file -> (H,W,3) float32 RGB in [0, 1]; grey is replicated, alpha dropped."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"missing image file: {path}")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"unreadable image file: {path}")
    if img.dtype == np.uint8:
        scale = 1.0 / 255.0
    elif img.dtype == np.uint16:
        scale = 1.0 / 65535.0
    else:
        raise ValueError(f"unsupported pixel type {img.dtype} in {path}")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    else:
        img = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)
    return img.astype(np.float32) * np.float32(scale)


def load_dev_pair(folder: str | Path) -> RealPair:
    """One dev pair folder; ValueError naming the file if one is missing, unreadable or of another size."""
    folder = Path(folder)
    left = read_rgb(folder / "left.png")
    right = read_rgb(folder / "right.png")
    if left.shape != right.shape:
        raise ValueError(f"{folder / 'right.png'} is {right.shape[:2]}, left.png is {left.shape[:2]}")
    disp = None
    disp_path = folder / "disp_left.npy"
    if disp_path.exists():
        try:
            disp = np.load(disp_path).astype(np.float32)
        except (OSError, ValueError) as e:
            raise ValueError(f"unreadable disparity file: {disp_path} ({e})") from e
        if disp.shape != left.shape[:2]:
            raise ValueError(f"{disp_path} is {disp.shape}, images are {left.shape[:2]}")
    return RealPair(folder.name, left, right, disp)


def list_pairs(root: str | Path, captures: bool = False) -> list[Path]:
    """Folders under `root` (itself included) holding left.png and right.png (with `captures`, also mono.png and
    color.png), sorted. Symlinked folders are followed (a folder reached twice, e.g. through a loop, counts once)."""
    found, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders.clear()
            continue
        seen.add(real)
        if {"left.png", "right.png"} <= set(files) or captures and {"mono.png", "color.png"} <= set(files):
            found.append(Path(folder))
    return sorted(found)


_PFM_HEADER = re.compile(rb"^(P[Ff])\s+(\d+)\s+(\d+)\s+([-+0-9.eE]+)\s")


def read_pfm(path: str | Path) -> np.ndarray:
    """PFM -> float32 (H,W) for 'Pf' (e.g. disparity) or (H,W,3) for 'PF'; rows stored bottom-to-top."""
    data = Path(path).read_bytes()
    m = _PFM_HEADER.match(data)
    if m is None:
        raise ValueError(f"not a PFM file: {path}")
    channels = 3 if m.group(1) == b"PF" else 1
    width, height, scale = int(m.group(2)), int(m.group(3)), float(m.group(4))
    dtype = np.dtype("<f4") if scale < 0 else np.dtype(">f4")
    count = width * height * channels
    if len(data) - m.end() < count * 4:
        raise ValueError(f"truncated PFM file: {path}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=m.end()).astype(np.float32)
    arr = arr.reshape((height, width, channels) if channels == 3 else (height, width))
    return np.ascontiguousarray(arr[::-1])


def write_pfm(path: str | Path, array: np.ndarray) -> None:
    """float (H,W) or (H,W,3) -> little-endian PFM."""
    arr = np.asarray(array, dtype="<f4")
    if arr.ndim == 2:
        kind = b"Pf"
    elif arr.ndim == 3 and arr.shape[2] == 3:
        kind = b"PF"
    else:
        raise ValueError(f"PFM holds (H,W) or (H,W,3), got {arr.shape}")
    header = b"%s\n%d %d\n-1.0\n" % (kind, arr.shape[1], arr.shape[0])
    Path(path).write_bytes(header + np.ascontiguousarray(arr[::-1]).tobytes())


class SceneFlowIndex:
    """(left, right, right-view disparity) files of a SceneFlow download (FlyingThings3D, Monkaa, Driving).

    Finds `<root>/<pass_>/**/left/*.png` (or .webp) and maps each to `.../right/` and to
    `<root>/disparity/**/right/*.pfm`. FlyingThings3D paths hold a TRAIN or TEST folder and are kept if
    it equals `split`; Monkaa and Driving have none and count as TRAIN. Frames lacking the right image or
    the disparity are skipped and counted in `skipped`.
    """

    def __init__(self, root: str | Path, split: str = "TRAIN", pass_: str = "frames_cleanpass") -> None:
        self.root = Path(root)
        pass_dir = self.root / pass_
        if not pass_dir.is_dir():
            raise ValueError(f"no {pass_} folder in {self.root}")
        self.entries: list[SceneFlowEntry] = []
        self.skipped = 0
        for left in sorted(p for p in pass_dir.glob("**/left/*") if p.suffix.lower() in IMAGE_SUFFIXES):
            rel = left.relative_to(pass_dir)
            folder_split = next((part for part in rel.parts if part in ("TRAIN", "TEST")), "TRAIN")
            if folder_split != split:
                continue
            right_rel = rel.parent.parent / "right" / rel.name
            right = pass_dir / right_rel
            disp = (self.root / "disparity" / right_rel).with_suffix(".pfm")
            if right.is_file() and disp.is_file():
                self.entries.append(SceneFlowEntry(left, right, disp))
            else:
                self.skipped += 1

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> SceneFlowFrame:
        e = self.entries[i]
        sample = SceneFlowFrame(read_rgb(e.left), read_rgb(e.right), read_pfm(e.disp_right))
        if not (sample.left.shape == sample.right.shape and sample.disp_right.shape == sample.left.shape[:2]):
            raise ValueError(f"size mismatch between {e.left}, {e.right} and {e.disp_right}")
        return sample
