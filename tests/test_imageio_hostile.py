"""Damaged image files that a codec decodes anyway: each must be one InputError naming the file, never a picture
with parts made up, and nothing a codec prints may reach the terminal."""
from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from dualcam.runtime.cli import main
from dualcam.runtime.errors import InputError
from dualcam.runtime.imageio import read_image

SAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "samples"
CROP = (slice(100, 356), slice(60, 460))  # 256 x 400 of the sample pair: one tile, photo-like
JPEG_END = b"\xff\xd9"


def sample(role: str) -> np.ndarray:
    """The crop of the bundled pair: (H, W) grey for "mono", (H, W, 3) BGR for "color"."""
    if role == "mono":
        return cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE)[CROP]
    return cv2.imread(str(SAMPLES / "motorcycle_color.png"))[CROP]


def jpeg(image: np.ndarray, progressive: bool = False) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])[1].tobytes()


def cut_with_end_marker(data: bytes, keep: float = 0.5) -> bytes:
    """A JPEG cut short with its end marker put back, as a copy that stopped early and was closed properly leaves
    it: libjpeg fills the missing rows with grey and only warns."""
    return data[: int(len(data) * keep)] + JPEG_END


def deflate_tiff(bgr: np.ndarray, keep: float = 1.0) -> bytes:
    """An RGB TIFF in one deflate-compressed strip, the strip cut to `keep` of its length with its byte count cut to
    match: nothing in the file's structure says it is short, and OpenCV returns it with the rest made up."""
    h, w = bgr.shape[:2]
    compressed = zlib.compress(np.ascontiguousarray(bgr[..., ::-1]).tobytes())
    strip = compressed[: int(len(compressed) * keep)]
    fields = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 3, 0), (259, 3, 1, 8), (262, 3, 1, 2), (273, 4, 1, 0),
              (277, 3, 1, 3), (278, 4, 1, h), (279, 4, 1, len(strip))]
    bits_at = 8 + 2 + 12 * len(fields) + 4
    strip_at = bits_at + 6
    fields[2], fields[5] = (258, 3, 3, bits_at), (273, 4, 1, strip_at)
    ifd = struct.pack("<H", len(fields)) + b"".join(struct.pack("<HHII", *f) for f in fields) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<3H", 8, 8, 8) + strip


def refused(path: Path, problem: str) -> str:
    with pytest.raises(InputError) as info:
        read_image(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and problem in message, message
    return message


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("role", ["mono", "color"])
def test_a_jpeg_cut_short_with_its_end_marker_kept_is_refused(tmp_path, capfd, role, progressive):
    whole = jpeg(sample(role), progressive)
    (tmp_path / "whole.jpg").write_bytes(whole)
    assert read_image(tmp_path / "whole.jpg").pixels.shape[:2] == (256, 400)
    path = tmp_path / f"{role}.jpg"
    path.write_bytes(cut_with_end_marker(whole))
    refused(path, "is truncated or corrupt (libjpeg: Corrupt JPEG data: premature end of data segment)")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("role", ["mono", "color"])
def test_dualcam_run_names_the_cut_jpeg_and_writes_nothing(tmp_path, capsys, role):
    inputs = {}
    for each in ("mono", "color"):
        data = jpeg(sample(each))
        inputs[each] = tmp_path / f"{each}.jpg"
        inputs[each].write_bytes(cut_with_end_marker(data) if each == role else data)
    out = tmp_path / "out.png"
    code = main([str(inputs["mono"]), str(inputs["color"]), "-o", str(out), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"dualcam-run: {inputs[role]}: is truncated or corrupt (libjpeg: Corrupt JPEG data: "
                                 "premature end of data segment)"]
    assert not out.exists()


def test_a_jpeg_cut_anywhere_in_its_image_data_is_refused(tmp_path):
    data = jpeg(sample("color"))
    scan = data.find(b"\xff\xda")
    for keep in np.linspace(scan + 200, len(data) - 64, 6).astype(int):
        path = tmp_path / f"cut{keep}.jpg"
        path.write_bytes(data[:keep] + JPEG_END)
        refused(path, "is truncated or corrupt")


def test_bytes_skipped_before_the_end_marker_cost_no_pixel_and_are_accepted(tmp_path):
    data = jpeg(sample("color"))
    (tmp_path / "whole.jpg").write_bytes(data)
    (tmp_path / "padded.jpg").write_bytes(data[:-2] + b"\x00" * 16 + JPEG_END)
    np.testing.assert_array_equal(read_image(tmp_path / "padded.jpg").pixels, read_image(tmp_path / "whole.jpg").pixels)


def test_a_tiff_cut_short_with_its_strip_size_cut_to_match_is_refused(tmp_path, capfd):
    bgr = sample("color")
    (tmp_path / "whole.tif").write_bytes(deflate_tiff(bgr))
    np.testing.assert_array_equal(read_image(tmp_path / "whole.tif").pixels, bgr[..., ::-1] / np.float32(255))
    (tmp_path / "cut.tif").write_bytes(deflate_tiff(bgr, keep=0.5))
    refused(tmp_path / "cut.tif", "is truncated or corrupt (libtiff: ")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".webp"])
def test_a_file_cut_anywhere_is_refused(tmp_path, ext):
    data = cv2.imencode(ext, sample("color"))[1].tobytes()
    for keep in np.linspace(16, len(data) - 1, 7).astype(int):
        path = tmp_path / f"cut{keep}{ext}"
        path.write_bytes(data[:keep])
        refused(path, "is truncated or corrupt")


def test_damaged_files_are_one_input_error_and_silent(tmp_path, capfd):
    """Random cuts, deletions and overwritten bytes in every format: read, or refused with one InputError."""
    pillow_heif = pytest.importorskip("pillow_heif")
    bgr = sample("color")[:96, :128]
    heic = io.BytesIO()
    pillow_heif.from_bytes(mode="RGB", size=(128, 96), data=bgr[..., ::-1].tobytes()).save(heic, quality=80)
    files = {ext: cv2.imencode(ext, bgr)[1].tobytes() for ext in (".png", ".jpg", ".tif", ".webp")}
    files[".heic"] = heic.getvalue()
    rng = np.random.default_rng(0)
    for ext, data in files.items():
        for trial in range(30):
            damaged = bytearray(data)
            at = int(rng.integers(0, len(data)))
            if trial % 3 == 0:
                damaged = damaged[:at]
            elif trial % 3 == 1:
                del damaged[at : at + int(rng.integers(1, 64))]
            else:
                damaged[at] ^= int(rng.integers(1, 256))
            path = tmp_path / f"damaged{ext}"
            path.write_bytes(bytes(damaged))
            try:
                read_image(path)
            except InputError as e:
                assert str(e).startswith(f"{path}: ")
    assert capfd.readouterr().err == ""


def test_an_exif_block_pillow_cannot_write_back_is_dropped_and_its_orientation_still_applied(tmp_path):
    # Make (an ASCII tag) stored as a FLOAT: Pillow reads it, but cannot write the block back
    ifd = struct.pack("<H", 2) + struct.pack("<HHIf", 0x010F, 11, 1, 1.5) + struct.pack("<HHIHH", 274, 3, 1, 6, 0)
    exif = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    ok, data = cv2.imencodeWithMetadata(".jpg", sample("color"), [cv2.IMAGE_METADATA_EXIF], [np.frombuffer(exif, np.uint8)])
    path = tmp_path / "odd_exif.jpg"
    path.write_bytes(data.tobytes())
    image = read_image(path)
    assert image.pixels.shape == (400, 256, 3) and image.exif is None


def animated_webp(width: int, height: int) -> bytes:
    """An animated WebP whose canvas is `width` x `height` around one 16 x 16 frame: a few hundred bytes."""
    frame = cv2.imencode(".webp", np.full((16, 16, 3), 128, np.uint8))[1].tobytes()[12:]  # its "VP8 " chunk

    def chunk(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2)

    def u24(value: int) -> bytes:
        return struct.pack("<I", value)[:3]

    body = (b"WEBP" + chunk(b"VP8X", b"\x02\0\0\0" + u24(width - 1) + u24(height - 1)) + chunk(b"ANIM", bytes(6))
            + chunk(b"ANMF", u24(0) + u24(0) + u24(15) + u24(15) + u24(100) + b"\0" + frame))
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(("side", "problem"), [(12_000, "declares 12000x12000 pixels, more than the limit"),
                                               (16_383, "declares ")])  # Pillow 11.3+ refuses this one itself
def test_a_webp_canvas_too_large_is_refused_before_it_is_allocated(tmp_path, side, problem):
    path = tmp_path / "canvas.webp"
    path.write_bytes(animated_webp(side, side))
    start = time.perf_counter()
    refused(path, problem)
    assert time.perf_counter() - start < 0.5
