"""make test-arm64: the shipped int8 model on arm64 CPU kernels (a phone's) under emulation, against fp32 on x86.

    python android_demo/tools/arm64_check.py [--deps android_demo/.deps/arm64]

The first tile of the bundled sample pair is cut here with the runtime's own tiler; an arm64 Debian userland
(debootstrap --foreign, unpacked only), the aarch64 onnxruntime and numpy wheels of the versions installed here,
and Debian trixie's qemu-aarch64 10 (bookworm's 7.2 crashes importing onnxruntime) run the int8 .ort model on
it. The result must stay as close to x86 fp32 as int8 is required to be on x86 (tests/test_export.py: PSNR over
45 dB on a real tile); its agreement with int8 on x86 is reported too. Downloads go under --deps (ignored by git);
the emulated tile takes about an hour on a busy 2-core machine (70 min measured with a training run beside it).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ANDROID = Path(__file__).resolve().parents[1]
REPO = ANDROID.parent
INT8_BOUND_DB = 45.0  # what tests/test_export.py holds the shipped int8 model to, against fp32, on a real tile
APT_SOURCES = "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n"


def sh(*cmd: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def qemu(deps: Path) -> Path:
    """Debian trixie's qemu-aarch64 (statically linked there, so it runs on bookworm), unpacked only."""
    binary = deps / "qemu" / "usr" / "bin" / "qemu-aarch64"
    if binary.exists():
        return binary
    apt = (deps / "apt").resolve()
    for folder in ("lists/partial", "cache/archives/partial", "debs"):
        (apt / folder).mkdir(parents=True, exist_ok=True)
    (apt / "sources.list").write_text(APT_SOURCES)
    options = ["-o", f"Dir::Etc::SourceList={apt}/sources.list", "-o", "Dir::Etc::SourceParts=/dev/null",
               "-o", f"Dir::State::Lists={apt}/lists", "-o", f"Dir::Cache={apt}/cache", "-o", "Debug::NoLocking=1",
               "-o", "APT::Sandbox::User=root"]
    sh("apt-get", *options, "update", "-qq")
    sh("apt-get", *options, "download", "-qq", "qemu-user", cwd=apt / "debs")
    for deb in (apt / "debs").glob("qemu-user_*.deb"):
        sh("dpkg-deb", "-x", str(deb), str(deps / "qemu"))
    return binary


def rootfs(deps: Path) -> Path:
    """An arm64 bookworm userland with python3: debootstrap's first stage downloads it (and unpacks only the base),
    the rest of its packages are unpacked here; nothing needs configuring to run python3 under qemu -L."""
    root = deps / "rootfs"
    if (root / "usr" / "bin" / "python3").exists():
        return root
    archives = root / "var" / "cache" / "apt" / "archives"
    if not any(archives.glob("python3.11-minimal_*.deb")):
        if subprocess.run(["which", "debootstrap"], capture_output=True).returncode != 0:
            sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", "debootstrap")
        sh("debootstrap", "--foreign", "--arch=arm64", "--variant=minbase", "--include=python3", "bookworm", str(root),
           "http://deb.debian.org/debian", stdout=subprocess.DEVNULL)
    for deb in sorted(archives.glob("*.deb")):
        sh("dpkg-deb", "-x", str(deb), str(root))
    return root


def wheels(deps: Path) -> Path:
    """The aarch64 wheels of the onnxruntime and numpy versions installed here, unpacked as a site folder."""
    import numpy
    import onnxruntime

    site = deps / f"site-ort{onnxruntime.__version__}-np{numpy.__version__}"
    if site.exists():
        return site
    download = deps / "wheels"
    sh(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", "3.11",
       "--platform", "manylinux_2_28_aarch64", "--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_17_aarch64",
       "-d", str(download), f"onnxruntime=={onnxruntime.__version__}", f"numpy=={numpy.__version__}")
    partial = site.with_suffix(".partial")
    for wheel in download.glob("*aarch64*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(partial)
    partial.rename(site)
    return site


def sample_tile(path: Path) -> dict:
    """The top-left model tile of the bundled sample pair, cut by the runtime's tiler, saved for the arm64 side."""
    import numpy as np

    from dualcam.runtime.color import rgb_to_ycbcr
    from dualcam.runtime.imageio import as_color, as_mono, read_image
    from dualcam.runtime.manifest import SHIPPED_MODELS, load_manifest
    from dualcam.runtime.tiling import TileGrid

    samples = REPO / "runtime" / "samples"
    manifest = load_manifest(SHIPPED_MODELS)
    mono = as_mono(read_image(samples / "motorcycle_mono.png"))
    ref = rgb_to_ycbcr(as_color(read_image(samples / "motorcycle_color.png")))
    tile = manifest["tile"]
    grid = TileGrid(*mono.shape, tile["height"], tile["width"], manifest["max_disparity"], overlap=0)
    _, _, mono_tile, ref_y, ref_cbcr = next(grid.tiles(mono, ref))
    feeds = {"mono_y": mono_tile[None, None], "ref_y": ref_y[None, None],
             "ref_cbcr": np.ascontiguousarray(ref_cbcr.transpose(2, 0, 1)[None])}
    np.savez(path, **feeds)
    return feeds


def run_tile(model: Path, feeds: Path, out: Path) -> None:
    """The emulated side: only numpy and onnxruntime, the CPU provider with default options, as on the phone's CPU."""
    import platform

    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    inputs = dict(np.load(feeds))
    start = time.perf_counter()
    np.save(out, session.run(None, inputs)[0])
    print(json.dumps({"machine": platform.machine(), "onnxruntime": ort.__version__, "seconds": round(time.perf_counter() - start, 1)}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deps", type=Path, default=ANDROID / ".deps" / "arm64")
    p.add_argument("--run-tile", nargs=3, type=Path, metavar=("MODEL", "FEEDS", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run_tile:
        run_tile(*args.run_tile)
        return 0

    import numpy as np
    import onnxruntime as ort

    from dualcam.runtime.manifest import SHIPPED_MODELS, load_manifest

    deps = args.deps.resolve()
    deps.mkdir(parents=True, exist_ok=True)
    emulator, root, site = qemu(deps), rootfs(deps), wheels(deps)
    manifest = load_manifest(SHIPPED_MODELS)
    feeds = sample_tile(deps / "tile.npz")
    int8_model = SHIPPED_MODELS / manifest["files"]["int8_ort"]["file"]
    arm_out = deps / "int8_arm64.npy"
    done = sh(str(emulator), "-L", str(root), str(root / "usr" / "bin" / "python3"), __file__, "--run-tile",
              str(int8_model), str(deps / "tile.npz"), str(arm_out),
              env={"PYTHONPATH": str(site), "PYTHONNOUSERSITE": "1", "HOME": str(deps)}, capture_output=True, text=True)
    arm = json.loads(done.stdout.strip().splitlines()[-1])
    arm64_int8 = np.load(arm_out)
    x86 = {role: ort.InferenceSession(str(SHIPPED_MODELS / manifest["files"][role]["file"]),
                                      providers=["CPUExecutionProvider"]).run(None, feeds)[0] for role in ("fp32", "int8_ort")}
    psnr = 10 * np.log10(1 / np.mean((x86["fp32"] - arm64_int8) ** 2))
    agreement = np.abs(x86["int8_ort"] - arm64_int8)
    print(f"arm64 ({arm['machine']}, onnxruntime {arm['onnxruntime']}, emulated {arm['seconds']} s) int8 tile "
          f"{'x'.join(map(str, arm64_int8.shape[2:]))}: {psnr:.1f} dB from x86 fp32 (bound {INT8_BOUND_DB} dB); "
          f"against x86 int8: max {agreement.max():.4f}, mean {agreement.mean():.1e}")
    if arm["machine"] != "aarch64" or not psnr > INT8_BOUND_DB:
        print("test-arm64: FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
