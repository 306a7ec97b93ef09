"""dualcam-run and dualcam.runtime.colorize: real runs on a crop of the bundled pair, and bad input."""
from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from dualcam.runtime.cli import main
from dualcam.runtime.color import rgb_to_luma
from dualcam.runtime.colorize import colorize
from dualcam.runtime.errors import InputError
from dualcam.runtime.manifest import SHIPPED_MODELS, choose_model
from dualcam.runtime.planner import estimate_peaks

SAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "samples"
CROP = (slice(100, 356), slice(60, 460))  # 256 x 400 of the 500 x 741 sample pair: one tile at scale 1
CROP_SHAPE = (256, 400)


def write_png(path: Path, image: np.ndarray) -> Path:
    cv2.imwrite(str(path), image[..., ::-1] if image.ndim == 3 else image)
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pair")
    mono = cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE)[CROP]
    color = cv2.imread(str(SAMPLES / "motorcycle_color.png"))[CROP][..., ::-1]
    return write_png(folder / "mono.png", mono), write_png(folder / "color.png", color)


@pytest.fixture(scope="module")
def result(pair, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("out") / "result.png"
    report = run_json([str(pair[0]), str(pair[1]), "-o", str(out)])
    return out, report


def run_json(argv: list[str]) -> dict:
    process = subprocess.run([sys.executable, "-m", "dualcam.runtime.cli", *argv, "--json", "-q"],
                             capture_output=True, text=True)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout)


def test_output_keeps_the_mono_image_as_luma_and_gets_color(pair, result):
    out, report = result
    mono = cv2.imread(str(pair[0]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    rgb = cv2.imread(str(out))[..., ::-1].astype(np.float32) / 255
    assert rgb.shape[:2] == mono.shape
    assert np.abs(rgb_to_luma(rgb) - mono).mean() < 1 / 255  # only rounding and clipping at the gamut edge
    color = cv2.imread(str(pair[1]))[..., ::-1].astype(np.float32) / 255
    assert np.abs(rgb - rgb[..., 1:2]).mean() > 0.02  # coloured, not grey
    assert report["camera_side"] == "left" and report["bit_depth"] == 8
    assert report["provider"]["used"] == "CPUExecutionProvider" and report["model"]["role"] == "int8"
    assert report["tiles"]["count"] >= 1 and report["output"] == str(out)
    assert {"read", "rectification", "colorize", "merge"} <= set(report["timings_s"])
    assert np.isfinite(color).all()


def test_runtime_never_imports_torch(pair, tmp_path):
    code = ("import sys; from dualcam.runtime.cli import main; "
            f"rc = main([{str(pair[0])!r}, {str(pair[1])!r}, '-o', {str(tmp_path / 'x.png')!r}, '-q']); "
            "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.returncode == 0, process.stderr


def test_version_answers_without_loading_the_pipeline():
    code = ("import sys\nfrom dualcam.runtime.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n"
            "    pass\nassert 'onnxruntime' not in sys.modules and 'cv2' not in sys.modules")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.returncode == 0 and process.stdout.startswith("dualcam "), process.stderr


def test_the_other_camera_arrangement_is_flipped_in_and_out(pair, result, tmp_path):
    mono = cv2.imread(str(pair[0]), cv2.IMREAD_UNCHANGED)[:, ::-1]
    color = cv2.imread(str(pair[1]))[:, ::-1]
    cv2.imwrite(str(tmp_path / "m.png"), mono)
    cv2.imwrite(str(tmp_path / "c.png"), color)
    report = run_json([str(tmp_path / "m.png"), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png")])
    assert report["camera_side"] == "right" and report["flipped"]
    mirrored = cv2.imread(str(tmp_path / "o.png"))[:, ::-1].astype(np.float32)
    original = cv2.imread(str(result[0])).astype(np.float32)
    # The same picture: mirrored SIFT matches give a slightly different disparity range, hence working scale.
    assert report["chroma_scale"] == pytest.approx(result[1]["chroma_scale"], rel=0.03)
    assert np.abs(mirrored - original).mean() < 3.0


def test_sixteen_bit_in_sixteen_bit_out(pair, tmp_path):
    mono = cv2.imread(str(pair[0]), cv2.IMREAD_GRAYSCALE).astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / "m16.png"), mono)
    image, report = colorize(tmp_path / "m16.png", pair[1])
    assert image.dtype == np.uint16 and report.bit_depth == 16
    y = rgb_to_luma(image.astype(np.float32) / 65535)
    assert np.abs(y - mono / 65535).mean() < 1 / 255


def test_a_chroma_scale_cap_predicts_color_smaller(pair):
    mono = cv2.imread(str(pair[0]), cv2.IMREAD_GRAYSCALE)
    color = cv2.imread(str(pair[1]))[..., ::-1]
    full, report_full = colorize(mono, color, model="fp32")
    half, report_half = colorize(mono, color, model="fp32", max_chroma_scale=0.5)
    assert report_half.chroma_scale == 0.5 < report_full.chroma_scale
    assert report_half.tiles["count"] <= report_full.tiles["count"]
    assert half.shape == full.shape and np.abs(half.astype(int) - full.astype(int)).mean() < 4  # same picture
    with pytest.raises(InputError, match="max_chroma_scale"):
        colorize(mono, color, max_chroma_scale=1.5)


def test_the_chroma_filter_smooths_the_colors_and_can_be_turned_off(pair, result, tmp_path):
    from dualcam.runtime.color import rgb_to_ycbcr

    out, report = result
    raw = tmp_path / "unfiltered.png"
    raw_report = run_json([str(pair[0]), str(pair[1]), "-o", str(raw), "--no-chroma-filter"])
    assert report["chroma_filter"] is True and raw_report["chroma_filter"] is False
    filtered, unfiltered = (rgb_to_ycbcr(cv2.imread(str(p))[..., ::-1].astype(np.float32) / 255)[..., 1:]
                            for p in (out, raw))
    mono = cv2.imread(str(pair[0]), cv2.IMREAD_GRAYSCALE).astype(np.float32)
    mono_edges = np.abs(cv2.Laplacian(mono, cv2.CV_32F))
    flat = mono_edges < np.median(mono_edges)  # where colour edges cannot follow a mono edge, they are noise
    roughness = [np.abs(cv2.Laplacian(c, cv2.CV_32F)).mean(-1)[flat].mean() for c in (filtered, unfiltered)]
    assert roughness[0] < 0.8 * roughness[1]  # less pixel-to-pixel colour noise (run 5: 0.67)
    assert np.abs(filtered - unfiltered).mean() < 2 / 255  # the same colours

def test_python_api_takes_arrays(pair):
    mono = cv2.imread(str(pair[0]), cv2.IMREAD_GRAYSCALE)
    color = cv2.imread(str(pair[1]))[..., ::-1]
    image, report = colorize(mono, color, model="fp32")
    assert image.shape == color.shape and image.dtype == np.uint8
    assert report.model["role"] == "fp32" and report.mono == "<mono array>"


def test_rectify_corrects_a_vertical_shift(pair, tmp_path):
    color = cv2.imread(str(pair[1]))
    shifted = cv2.warpAffine(color, np.float32([[1, 0, 0], [0, 1, 6]]), color.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    cv2.imwrite(str(tmp_path / "shifted.png"), shifted)
    report = run_json([str(pair[0]), str(tmp_path / "shifted.png"), "--rectify", "-o", str(tmp_path / "o.png")])
    assert report["rectification"]["before"]["dy_median"] == pytest.approx(6, abs=0.5)
    assert abs(report["rectification"]["after"]["dy_median"]) < 0.5


def test_a_small_budget_runs_leaner_and_stays_under_it(pair, result, tmp_path):
    assert result[1]["tiles"]["memory_arena"]  # the default budget is roomy for this crop
    frame = tuple(int(n) for n in result[1]["tiles"]["frame"].split("x"))
    peaks = estimate_peaks(CROP_SHAPE, frame, "int8", choose_model("int8").spec.fitted(*frame))
    budget = math.ceil(peaks[False])  # fits the lean session, not the arena
    lean = run_json([str(pair[0]), str(pair[1]), "-o", str(tmp_path / "o.png"), "--memory-budget", str(budget)])
    assert not lean["tiles"]["memory_arena"]
    assert lean["tiles"]["estimated_peak_mb"] <= budget and lean["peak_rss_mb"] <= budget
    for report in (result[1], lean):  # the planner's estimate is never below what the process really used
        assert report["peak_rss_mb"] <= report["tiles"]["estimated_peak_mb"]


# --- bad input: one line naming the file or option, exit code 2, nothing written ---------------------

def png_claiming(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def keystone(image: np.ndarray, pixels: int) -> np.ndarray:
    """A perspective tilt no rotation, scale and shift can undo: corners moved `pixels` up or down."""
    h, w = image.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [0, h], [w, h]])
    tilted = np.float32([[0, -pixels], [w, pixels], [0, h + pixels], [w, h - pixels]])
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(corners, tilted), (w, h), borderMode=cv2.BORDER_REPLICATE)


def foreign_model(tmp_path: Path, kind: str) -> Path:
    """A models folder whose manifest is consistent (checksum, size) with a file that is no dualcam model:
    an ONNX graph with other inputs ("foreign"), or bytes that are no ONNX at all ("garbage")."""
    import hashlib

    folder = tmp_path / f"models_{kind}"
    folder.mkdir()
    model = folder / "dualcam_int8.onnx"
    if kind == "foreign":
        onnx = pytest.importorskip("onnx")
        x = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3])
        y = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3])
        graph = onnx.helper.make_graph([onnx.helper.make_node("Identity", ["x"], ["y"])], "foreign", [x], [y])
        onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 18)]), model)
    else:
        model.write_bytes(b"this is not a model\n" * 10)
    manifest = json.loads((SHIPPED_MODELS / "manifest.json").read_text())
    manifest["files"]["int8"].update(sha256=hashlib.sha256(model.read_bytes()).hexdigest(), bytes=model.stat().st_size)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return model


def tampered_models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(SHIPPED_MODELS, folder)
    model = folder / "dualcam_int8.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    return model


def bad_cases(pair: tuple[Path, Path], tmp: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (arguments, text the error line must contain)."""
    mono, color = map(str, pair)
    mono_img = cv2.imread(mono, cv2.IMREAD_GRAYSCALE)
    color_img = cv2.imread(color)
    files = {
        "text.png": b"hello, I am not an image\n",
        "empty.png": b"",
        "truncated.png": Path(mono).read_bytes()[:2000],
        "huge.png": png_claiming(100_000, 100_000),
    }
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    ok, jpeg = cv2.imencode(".jpg", color_img)
    (tmp / "truncated.jpg").write_bytes(jpeg.tobytes()[:3000])
    cv2.imwrite(str(tmp / "one.png"), mono_img[:1, :1])
    cv2.imwrite(str(tmp / "small.png"), mono_img[:40, :40])
    cv2.imwrite(str(tmp / "small_color.png"), color_img[:40, :40])
    noise = np.random.default_rng(0).integers(0, 256, color_img.shape, dtype=np.uint8)
    cv2.imwrite(str(tmp / "unrelated.png"), cv2.GaussianBlur(noise, (0, 0), 2))
    cv2.imwrite(str(tmp / "upside_down.png"), color_img[::-1, ::-1])
    cv2.imwrite(str(tmp / "keystone.png"), keystone(color_img, 25))
    (tmp / "out_folder.png").mkdir()
    (tmp / "loop.png").symlink_to(tmp / "loop.png")
    (tmp / "dangling.png").symlink_to(tmp / "gone.png")
    cv2.imwrite(str(tmp / "grey_as_color.png"), cv2.cvtColor(mono_img, cv2.COLOR_GRAY2BGR))
    cv2.imwrite(str(tmp / "flat_mono.png"), np.full_like(mono_img, 128))
    cv2.imwrite(str(tmp / "flat_color.png"), np.full_like(color_img, (40, 90, 200)))
    cv2.imwrite(str(tmp / "shifted.png"), np.roll(color_img, 8, axis=0))
    cv2.imwrite(str(tmp / "float.tif"), mono_img.astype(np.float32) / 255)
    (tmp / "folder.png").mkdir()
    (tmp / "link.png").symlink_to(color)
    (tmp / "bare").mkdir()
    shutil.copy(SHIPPED_MODELS / "dualcam_int8.onnx", tmp / "bare" / "model.onnx")
    out = str(tmp / "out.png")
    return {
        "missing mono": ([str(tmp / "nope.png"), color, "-o", out], "nope.png"),
        "missing colour": ([mono, str(tmp / "nope.jpg"), "-o", out], "nope.jpg"),
        "mono is a folder": ([str(tmp / "folder.png"), color, "-o", out], "folder.png"),
        "not an image": ([str(tmp / "text.png"), color, "-o", out], "text.png"),
        "empty file": ([mono, str(tmp / "empty.png"), "-o", out], "empty.png"),
        "truncated png": ([str(tmp / "truncated.png"), color, "-o", out], "truncated"),
        "truncated jpeg": ([mono, str(tmp / "truncated.jpg"), "-o", out], "truncated"),
        "absurd header": ([str(tmp / "huge.png"), color, "-o", out], "huge.png"),
        "1x1 image": ([str(tmp / "one.png"), color, "-o", out], "one.png"),
        "too small": ([str(tmp / "small.png"), str(tmp / "small_color.png"), "-o", out], "small.png"),
        "unrelated scenes": ([mono, str(tmp / "unrelated.png"), "-o", out], "cannot be verified"),
        # Checks that need no computation come first: each of these pairs would also fail verification.
        "budget, before matching": ([mono, str(tmp / "unrelated.png"), "--memory-budget", "100", "-o", out],
                                    "--memory-budget"),
        "16-bit into jpeg, before matching": ([str(tmp / "m16.png"), str(tmp / "unrelated.png"), "-o",
                                              str(tmp / "out.jpg")], "JPEG"),
        "foreign model, before matching": ([mono, str(tmp / "unrelated.png"), "--model",
                                            str(tmp / "models_foreign" / "dualcam_int8.onnx"), "-o", out],
                                           "not a dualcam tile model"),
        "upside down": ([mono, str(tmp / "upside_down.png"), "-o", out], "upside down"),
        "upside down with --rectify": ([mono, str(tmp / "upside_down.png"), "--rectify", "-o", out], "rotated"),
        "still misaligned after --rectify": ([mono, str(tmp / "keystone.png"), "--rectify", "-o", out],
                                             "stays misaligned"),
        "symlink loop": ([str(tmp / "loop.png"), color, "-o", out], "link loop"),
        "dangling link": ([str(tmp / "dangling.png"), color, "-o", out], "which does not exist"),
        "output is a folder": ([mono, color, "-o", str(tmp / "out_folder.png")], "is a folder"),
        "16-bit into webp": ([str(tmp / "m16.png"), color, "-o", str(tmp / "out.webp")], "WebP"),
        "quality out of range": ([mono, color, "--quality", "0", "-o", out], "--quality"),
        "too many threads": ([mono, color, "--threads", "1000", "-o", out], "--threads"),
        "foreign onnx model": ([mono, color, "--model", str(foreign_model(tmp, "foreign")), "-o", out],
                               "not a dualcam tile model"),
        "not an onnx file": ([mono, color, "--model", str(foreign_model(tmp, "garbage")), "-o", out],
                             "onnxruntime cannot load it"),
        "colour given as mono": ([color, color, "-o", out], "color.png"),
        "swapped inputs": ([color, mono, "-o", out], "swapped"),
        "grey given as colour": ([mono, str(tmp / "grey_as_color.png"), "-o", out], "grey_as_color.png"),
        "constant mono": ([str(tmp / "flat_mono.png"), color, "-o", out], "constant"),
        "constant colour": ([mono, str(tmp / "flat_color.png"), "-o", out], "constant"),
        "float tiff": ([str(tmp / "float.tif"), color, "-o", out], "float.tif"),
        "not rectified": ([mono, str(tmp / "shifted.png"), "-o", out], "not rectified"),
        "output folder missing": ([mono, color, "-o", str(tmp / "no" / "out.png")], "does not exist"),
        "output is the mono input": ([mono, color, "-o", mono], "refusing to overwrite"),
        "output is the colour input via a link": ([mono, color, "-o", str(tmp / "link.png")], "refusing to overwrite"),
        "output type unknown": ([mono, color, "-o", str(tmp / "out.bmp")], "out.bmp"),
        "16-bit into jpeg": ([str(tmp / "m16.png"), color, "-o", str(tmp / "out.jpg")], "JPEG"),
        "tampered model": ([mono, color, "--model", str(tampered_models(tmp)), "-o", out], "checksum"),
        "model without manifest": ([mono, color, "--model", str(tmp / "bare" / "model.onnx"), "-o", out], "manifest"),
        "unknown model": ([mono, color, "--model", "int4", "-o", out], "int4"),
        "unknown provider": ([mono, color, "--provider", "tpu", "-o", out], "tpu"),
        "provider not in this build": ([mono, color, "--provider", "nnapi", "-o", out], "nnapi"),
        "memory budget too small": ([mono, color, "--memory-budget", "100", "-o", out], "--memory-budget"),
        "negative threads": ([mono, color, "--threads", "-1", "-o", out], "--threads"),
        "chroma scale zero": ([mono, color, "--max-chroma-scale", "0", "-o", out], "--max-chroma-scale"),
    }


def test_bad_input_gets_one_line_exit_2_and_no_output(pair, tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "m16.png"), cv2.imread(str(pair[0]), cv2.IMREAD_GRAYSCALE).astype(np.uint16) * 257)
    cases = bad_cases(pair, tmp_path)
    assert len(cases) >= 25
    inputs_before = {p: p.read_bytes() for p in pair}
    for name, (argv, expected) in cases.items():
        listing = sorted(p.name for p in tmp_path.iterdir())
        code = main([*argv, "-q"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2, f"{name}: exit {code}, {err}"
        assert len(err) == 1 and err[0].startswith("dualcam-run: ") and expected in err[0], f"{name}: {err}"
        assert sorted(p.name for p in tmp_path.iterdir()) == listing, f"{name} left a file behind"
    assert {p: p.read_bytes() for p in pair} == inputs_before


def test_the_base_install_does_not_pull_torch():
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("torch")]
