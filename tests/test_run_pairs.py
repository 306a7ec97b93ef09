"""dualcam-run on what real phones produce: another resolution, portrait shots, batches, confidence, formats,
luma kept exactly, Ctrl-C, and pairs it must refuse unless told otherwise."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from dualcam.runtime.cli import main
from dualcam.runtime.color import rgb_to_luma
from dualcam.runtime.colorize import colorize
from dualcam.runtime.errors import InputError
from dualcam.runtime.imageio import read_image

SAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "samples"
CROP = (slice(100, 356), slice(60, 460))  # 256 x 400 of the sample pair: one tile


@pytest.fixture(scope="module")
def images() -> tuple[np.ndarray, np.ndarray]:
    """(mono, colour as OpenCV BGR) of the crop."""
    mono = cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE)[CROP]
    return mono, cv2.imread(str(SAMPLES / "motorcycle_color.png"))[CROP]


@pytest.fixture(scope="module")
def reference(images, tmp_path_factory) -> tuple[Path, Path, np.ndarray]:
    """The pair on disk and its output as dualcam-run colours it (BGR)."""
    folder = tmp_path_factory.mktemp("reference")
    cv2.imwrite(str(folder / "m.png"), images[0])
    cv2.imwrite(str(folder / "c.png"), images[1])
    assert main([str(folder / "m.png"), str(folder / "c.png"), "-o", str(folder / "o.png"), "-q"]) == 0
    return folder / "m.png", folder / "c.png", cv2.imread(str(folder / "o.png"))


def run_cli(*argv: str) -> tuple[int, dict | None, list[str]]:
    process = subprocess.run([sys.executable, "-m", "dualcam.runtime.cli", *argv, "--json", "-q"],
                             capture_output=True, text=True)
    lines = process.stdout.strip().splitlines()
    return process.returncode, json.loads(lines[-1]) if lines else None, process.stderr.strip().splitlines()


def color_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute Cb/Cr difference of two BGR images, in 8-bit levels."""
    ycrcb = [cv2.cvtColor(x, cv2.COLOR_BGR2YCrCb).astype(np.float32) for x in (a, b)]
    return float(np.abs(ycrcb[0][..., 1:] - ycrcb[1][..., 1:]).mean())


def test_a_color_camera_of_lower_resolution_is_brought_to_the_mono_geometry(images, reference, tmp_path):
    small = cv2.resize(images[1], (300, 192), interpolation=cv2.INTER_AREA)  # a 0.75x colour camera
    cv2.imwrite(str(tmp_path / "c.png"), small)
    code, report, err = run_cli(str(reference[0]), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png"))
    assert code == 0, err
    assert report["size"] == {"width": 400, "height": 256} and report["color_size"] == {"width": 300, "height": 192}
    assert report["rectification"]["before"]["scale"] == pytest.approx(0.75, abs=0.01)
    assert report["rectification"]["after"]["rectified"]
    assert report["peak_rss_mb"] <= report["tiles"]["estimated_peak_mb"]
    out = cv2.imread(str(tmp_path / "o.png"))
    assert out.shape == reference[2].shape
    assert color_difference(out, reference[2]) < 2.0  # the same colours as from the full-resolution colour image


def test_a_narrower_color_view_is_named_and_counts_as_low_confidence(images, reference, tmp_path):
    h, w = images[1].shape[:2]
    narrow = cv2.resize(images[1][h // 10 : h - h // 10, w // 10 : w - w // 10], None, fx=1.1, fy=1.1,
                        interpolation=cv2.INTER_AREA)  # the middle 80 % of the view, at 1.1x the resolution
    cv2.imwrite(str(tmp_path / "c.png"), narrow)
    code, report, err = run_cli(str(reference[0]), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png"),
                                "--save-confidence", str(tmp_path / "conf.png"))
    assert code == 0, err
    assert any("36% of the mono image lies outside the colour camera's view" in line for line in err)
    confidence = cv2.imread(str(tmp_path / "conf.png"), cv2.IMREAD_UNCHANGED)
    assert confidence[:, :30].max() == 0 and confidence[:20].max() == 0  # outside the colour camera's view
    assert report["confidence"]["low_share"] >= 0.36


def test_a_portrait_shot_is_turned_into_the_network_arrangement_and_back(images, reference, tmp_path):
    cv2.imwrite(str(tmp_path / "m.png"), np.rot90(images[0]).copy())
    cv2.imwrite(str(tmp_path / "c.png"), np.rot90(images[1]).copy())
    code, report, err = run_cli(str(tmp_path / "m.png"), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png"))
    assert code == 0, err
    assert report["transposed"] and report["size"] == {"width": 256, "height": 400}
    out = np.rot90(cv2.imread(str(tmp_path / "o.png")), -1)
    assert color_difference(out, reference[2]) < 2.0


def test_the_limit_follows_the_working_scale(images):
    """A pair 4x upscaled has 4x the vertical error and 4x the disparities; the network works at a quarter
    scale, so it is accepted just as the original is."""
    from dualcam.runtime.manifest import ModelSpec
    from dualcam.runtime.rectify import check_rectification

    spec = ModelSpec.for_tile(256, 512, 64)
    mono = images[0].astype(np.float32) / 255
    shifted = np.roll(images[1], 1, axis=0)[..., ::-1].astype(np.float32) / 255  # 1 px vertical error
    big_mono = cv2.resize(mono, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    big_color = cv2.resize(shifted, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    assert check_rectification(mono, shifted, spec=spec).rectified
    assert not check_rectification(big_mono, big_color).rectified  # 1.5 px at full resolution: refused
    upscaled = check_rectification(big_mono, big_color, spec=spec)
    assert upscaled.rectified and upscaled.limit_px > 4 * 1.5 * 0.8


def test_an_unverifiable_pair_goes_on_only_when_asked(images, reference, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, images[1].shape, dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "c.png"), cv2.GaussianBlur(noise, (0, 0), 2))
    argv = [str(reference[0]), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png")]
    code, _, err = run_cli(*argv)
    assert code == 2 and len(err) == 1 and "cannot be verified" in err[0] and "--accept-unverified" in err[0]
    code, report, err = run_cli(*argv, "--accept-unverified")
    assert code == 0 and (tmp_path / "o.png").exists()
    assert any("unverified pair" in line for line in err) and report["rectification"]["before"]["too_few_matches"]


def test_confidence_map_and_low_confidence_warning(reference, tmp_path):
    code, report, err = run_cli(str(reference[0]), str(reference[1]), "-o", str(tmp_path / "o.png"),
                                "--save-confidence", str(tmp_path / "conf.png"))
    assert code == 0, err
    confidence = cv2.imread(str(tmp_path / "conf.png"), cv2.IMREAD_UNCHANGED)
    assert confidence.shape == (256, 400) and confidence.dtype == np.uint8
    assert report["confidence"]["source"].startswith("runtime fallback")
    assert 0.0 < report["confidence"]["low_share"] < 0.5
    # The colour camera is on the left: mono pixels at the right edge have no match inside the colour image.
    assert confidence[:, -8:].mean() < 64 < confidence[:, 100:300].mean()
    assert ("low-confidence" in " ".join(err)) == (report["confidence"]["low_share"] > 0.10)


def test_batch_colors_every_pair_keeps_going_past_a_bad_one_and_exits_2(images, tmp_path):
    pairs, out = tmp_path / "pairs", tmp_path / "out"
    pairs.mkdir(), out.mkdir()
    for name, shift in (("a", 0), ("b", 16)):
        cv2.imwrite(str(pairs / f"{name}_mono.png"), np.roll(images[0], shift, axis=1))
        cv2.imwrite(str(pairs / f"{name}_color.png"), np.roll(images[1], shift, axis=1))
    cv2.imwrite(str(pairs / "bad_mono.png"), images[0])
    (pairs / "bad_color.png").write_bytes(b"not an image")
    process = subprocess.run([sys.executable, "-m", "dualcam.runtime.cli", "--pairs", str(pairs), "-o", str(out), "-q"],
                             capture_output=True, text=True)
    assert process.returncode == 2
    errors = [line for line in process.stderr.strip().splitlines() if not line.startswith("dualcam-run: warning: ")]
    assert errors == [f"dualcam-run: {pairs / 'bad_color.png'}: is not a PNG, JPEG, TIFF, WebP or HEIC/HEIF image"]
    assert sorted(line.split(":")[0] for line in process.stdout.strip().splitlines()) == [
        str(out / "a.color.png"), str(out / "b.color.png")]
    assert sorted(p.name for p in out.iterdir()) == ["a.color.png", "b.color.png"]
    listing = tmp_path / "list.txt"
    listing.write_text("# mono colour output\npairs/a_mono.png pairs/a_color.png out/listed.webp\n")
    assert main(["--pairs", str(listing), "-q", "--quality", "80"]) == 0
    assert cv2.imread(str(out / "listed.webp")).shape == (256, 400, 3)


def test_output_luma_is_the_mono_image_except_where_colors_are_clipped(reference):
    rgb = reference[2][..., ::-1].astype(np.float32) / 255
    mono = cv2.imread(str(reference[0]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    clipped = ((reference[2] == 0) | (reference[2] == 255)).any(axis=2)
    error = np.abs(rgb_to_luma(rgb) - mono)
    # each sample is rounded by at most half a level, and the luma weights sum to 1
    assert error[~clipped].max() <= 0.5 / 255 + 1e-6
    assert (error > 0.5 / 255 + 1e-6).mean() < 0.05  # the README's "a few per cent" (3.4 % measured on this crop)


def test_api_options_are_checked_by_their_own_names(reference):
    for kwargs, name in (({"threads": -3}, "threads"), ({"threads": 10_000}, "threads"),
                         ({"memory_budget_mb": 0}, "memory_budget_mb"), ({"camera_side": "up"}, "camera_side"),
                         ({"model": ""}, "model")):
        with pytest.raises(InputError, match=f"^{name}: "):
            colorize(reference[0], reference[1], **kwargs)
    with pytest.raises(InputError, match="rectify=True"):
        colorize(reference[0], np.roll(cv2.imread(str(reference[1]))[..., ::-1], 8, axis=0))


def test_input_exif_is_kept_upright_in_the_output(images, tmp_path):
    ifd = (b"\x02\x00" + np.array([274, 3], "<u2").tobytes() + np.array([1], "<u4").tobytes() + np.array([6, 0], "<u2").tobytes()
           + np.array([271, 2], "<u2").tobytes() + np.array([4], "<u4").tobytes() + b"ACME" + b"\x00\x00\x00\x00")
    exif = np.frombuffer(b"II*\x00\x08\x00\x00\x00" + ifd, np.uint8)
    ok, data = cv2.imencodeWithMetadata(".jpg", np.rot90(images[0], 1).copy(), [cv2.IMAGE_METADATA_EXIF], [exif])
    (tmp_path / "m.jpg").write_bytes(data.tobytes())  # stored turned, EXIF orientation 6 turns it upright
    cv2.imwrite(str(tmp_path / "c.png"), images[1])
    assert main([str(tmp_path / "m.jpg"), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.jpg"), "-q"]) == 0
    written = (tmp_path / "o.jpg").read_bytes()
    assert b"ACME" in written and b"\x12\x01\x03\x00\x01\x00\x00\x00\x01\x00" in written  # orientation now 1
    assert read_image(tmp_path / "o.jpg").pixels.shape[:2] == (256, 400)  # so upright, not turned again


@pytest.mark.parametrize("sent, code, message", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_and_sigterm_exit_with_one_line_and_no_file(tmp_path, sent, code, message):
    process = subprocess.Popen([sys.executable, "-m", "dualcam.runtime.cli", str(SAMPLES / "motorcycle_mono.png"),
                                str(SAMPLES / "motorcycle_color.png"), "-o", str(tmp_path / "o.png"), "--model", "fp32"],
                               stderr=subprocess.PIPE, text=True,
                               # a shell's background job inherits SIGINT ignored: give the child the default
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while "tile" not in (line := process.stderr.readline()):  # wait until the network is running
        assert line, "dualcam-run ended before its first tile"
    process.send_signal(sent)
    rest = [out for out in process.stderr.read().strip().splitlines() if not out.startswith("dualcam-run: tile ")]
    assert process.wait() == code
    assert rest == [f"dualcam-run: {message}; no partial output was left"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
