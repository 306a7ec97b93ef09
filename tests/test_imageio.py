import os
import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from dualcam.runtime.color import rgb_to_ycbcr, ycbcr_to_rgb
from dualcam.runtime.errors import InputError
from dualcam.runtime.imageio import as_color, as_mono, read_image, write_image

SAMPLES = Path(__file__).parents[1] / "runtime" / "samples"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width, height, bit_depth, color_type, scanlines: bytes, extra: bytes = b"") -> bytes:
    """A PNG by hand: IHDR with any declared size (valid CRC), `extra` chunks, one IDAT, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + extra
        + png_chunk(b"IDAT", zlib.compress(scanlines))
        + png_chunk(b"IEND", b"")
    )


def unfiltered(rows: np.ndarray) -> bytes:
    """Big-endian samples, one (H, W * channels) row per scanline, each behind filter type 0."""
    rows = rows.astype(rows.dtype.newbyteorder(">"))
    return b"".join(b"\x00" + row.tobytes() for row in rows)


def exif_block(orientation: int) -> np.ndarray:
    """EXIF as OpenCV's imencodeWithMetadata takes it: a little-endian TIFF header and IFD0 with the orientation."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 274, 3, 1, orientation, 0) + struct.pack("<I", 0)
    return np.frombuffer(b"II*\x00" + struct.pack("<I", 8) + ifd, np.uint8)


def encode_with_orientation(ext: str, rgb_u8: np.ndarray, orientation: int) -> bytes:
    bgr = rgb_u8[..., ::-1].copy()
    ok, buf = cv2.imencodeWithMetadata(ext, bgr, [cv2.IMAGE_METADATA_EXIF], [exif_block(orientation)])
    assert ok
    return buf.tobytes()


def tiff_bytes(pixels: np.ndarray, orientation: int = 1, declared_size=None) -> bytes:
    """An uncompressed little-endian TIFF in one strip, by hand: OpenCV cannot write the orientation tag."""
    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    bits = pixels.dtype.itemsize * 8
    strip = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    bits_at = 8 + 2 + 12 * 10 + 4  # after the header and a 10-entry IFD
    strip_at = bits_at + 2 * channels
    width, height = declared_size or (w, h)
    fields = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, channels, bits if channels == 1 else bits_at),
        (259, 3, 1, 1),  # no compression
        (262, 3, 1, 2 if channels == 3 else 1),  # RGB or min-is-black
        (273, 4, 1, strip_at),
        (274, 3, 1, orientation),
        (277, 3, 1, channels),
        (278, 4, 1, h),
        (279, 4, 1, len(strip)),
    ]
    ifd = struct.pack("<H", len(fields)) + b"".join(struct.pack("<HHII", *f) for f in fields) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack(f"<{channels}H", *[bits] * channels) + strip


def marked(h=24, w=40) -> np.ndarray:
    """Dark RGB with a bright 8x8 block at the stored top-left corner and a dimmer one top-right."""
    rgb = np.full((h, w, 3), 30, np.uint8)
    rgb[:8, :8] = (250, 60, 60)
    rgb[:8, -8:] = (60, 60, 250)
    return rgb


def color_photo() -> np.ndarray:
    return cv2.imread(str(SAMPLES / "motorcycle_color.png"))[200:296, 300:428, ::-1].copy()


def grey_photo() -> np.ndarray:
    return cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE)[200:296, 300:428].copy()


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def refused(path, problem: str, **kwargs) -> None:
    with pytest.raises(InputError) as info:
        read_image(path, **kwargs)
    assert str(info.value).startswith(f"{path}: ") and problem in str(info.value)


# ---- reading: formats, depths, channels -------------------------------------------------------


@pytest.mark.parametrize("ext", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_write_then_read_is_exact_at_8_and_16_bits(tmp_path, ext, bit_depth):
    rgb = np.random.default_rng(bit_depth).random((20, 30, 3)).astype(np.float32)
    rgb[0, 0] = (0.0, 0.5, 1.0)
    max_value = (1 << bit_depth) - 1
    write_image(tmp_path / f"out{ext}", rgb, bit_depth)
    image = read_image(tmp_path / f"out{ext}")
    assert image.bit_depth == bit_depth and image.pixels.dtype == np.float32 and image.pixels.shape == (20, 30, 3)
    assert image.path == tmp_path / f"out{ext}"
    np.testing.assert_array_equal(np.round(image.pixels * max_value), np.round(rgb * max_value))


@pytest.mark.parametrize("ext", [".jpg", ".jpeg"])
def test_jpeg_round_trip_is_close_and_8_bit(tmp_path, ext):
    y, x = np.mgrid[0:32, 0:48] / 48.0
    rgb = np.stack([x, y, 1 - x], axis=-1).astype(np.float32)
    write_image(tmp_path / f"out{ext}", rgb, 8)
    image = read_image(tmp_path / f"out{ext}")
    assert image.bit_depth == 8 and image.pixels.shape == (32, 48, 3)
    assert np.abs(image.pixels - rgb).mean() < 2 / 255


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_grey_files_and_rgb_files_with_equal_channels_read_as_grey(tmp_path, dtype):
    grey = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, (18, 20), dtype=dtype)
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    cv2.imwrite(str(tmp_path / "grey3.tif"), cv2.merge([grey, grey, grey]))
    for name in ("grey.png", "grey3.tif"):
        image = read_image(tmp_path / name)
        assert image.pixels.shape == (18, 20) and image.bit_depth == np.iinfo(dtype).bits
        np.testing.assert_allclose(image.pixels, grey / np.iinfo(dtype).max, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_alpha_is_dropped_from_rgba_and_grey_alpha(tmp_path, dtype):
    max_value = np.iinfo(dtype).max
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, max_value, (16, 17, 4), dtype=dtype)
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba[..., [2, 1, 0, 3]])
    np.testing.assert_allclose(read_image(tmp_path / "rgba.png").pixels, rgba[..., :3] / max_value, atol=1e-7)

    grey_alpha = rng.integers(0, max_value, (16, 17, 2), dtype=dtype)
    bits = np.iinfo(dtype).bits
    write_bytes(tmp_path / "ga.png", png_bytes(17, 16, bits, 4, unfiltered(grey_alpha.reshape(16, -1))))
    image = read_image(tmp_path / "ga.png")
    assert image.bit_depth == bits
    np.testing.assert_allclose(image.pixels, grey_alpha[..., 0] / max_value, atol=1e-7)


def test_palette_png_reads_as_rgb(tmp_path):
    palette = png_chunk(b"PLTE", bytes([255, 0, 0, 0, 0, 255]))
    indices = np.tile(np.array([[0, 1]], np.uint8), (16, 8))
    write_bytes(tmp_path / "pal.png", png_bytes(16, 16, 8, 3, unfiltered(indices), palette))
    pixels = read_image(tmp_path / "pal.png").pixels
    np.testing.assert_array_equal(pixels[0, :2], [[1, 0, 0], [0, 0, 1]])


# ---- orientation -------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_exif_orientation_6_and_3_turn_the_image_upright(tmp_path, ext):
    stored = marked()  # 24 x 40, bright block top-left, dim block top-right
    for orientation, shape, bright_corner in [(6, (40, 24), (0, -1)), (3, (24, 40), (-1, -1))]:
        path = write_bytes(tmp_path / f"o{orientation}{ext}", encode_with_orientation(ext, stored, orientation))
        pixels = read_image(path).pixels
        assert pixels.shape == (*shape, 3)
        r, c = bright_corner
        assert pixels[r, c, 0] > 0.9 and pixels[r, c, 2] < 0.4, orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_opencvs_own(tmp_path, orientation):
    path = write_bytes(tmp_path / "o.png", encode_with_orientation(".png", marked(), orientation))
    upright_by_opencv = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1] / 255.0
    np.testing.assert_allclose(read_image(path).pixels, upright_by_opencv, atol=1e-7)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiff_orientation_is_applied_like_exif(tmp_path, orientation, dtype):
    stored = marked()
    png = write_bytes(tmp_path / "o.png", encode_with_orientation(".png", stored, orientation))
    scaled = stored.astype(dtype) * (257 if dtype == np.uint16 else 1)
    tif = write_bytes(tmp_path / "o.tif", tiff_bytes(scaled, orientation))
    image = read_image(tif)
    assert image.bit_depth == np.iinfo(dtype).bits
    np.testing.assert_allclose(image.pixels, read_image(png).pixels, atol=1e-7)


# ---- reading: what is refused ------------------------------------------------------------------


def test_missing_file_folder_empty_and_text_are_refused(tmp_path):
    refused(tmp_path / "nope.png", "does not exist")
    refused(tmp_path, "is a folder")
    refused(write_bytes(tmp_path / "empty.png", b""), "is empty")
    refused(write_bytes(tmp_path / "notes.png", b"just some text\n" * 20), "is not a PNG, JPEG, TIFF, WebP or HEIC/HEIF image")
    refused(write_bytes(tmp_path / "big.tif", b"II+\x00" + bytes(64)), "BigTIFF")
    os.symlink(tmp_path / "gone.png", tmp_path / "dangling.png")
    refused(tmp_path / "dangling.png", "which does not exist")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "locked.png"
    cv2.imwrite(str(path), marked())
    path.chmod(0)
    refused(path, "cannot be read")


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif"])
def test_truncated_files_are_refused_as_truncated(tmp_path, ext):
    ok, buf = cv2.imencode(ext, np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    data = buf.tobytes()
    for keep in (len(data) - 2, len(data) - 12, len(data) // 2, 40):
        refused(write_bytes(tmp_path / f"cut{keep}{ext}", data[:keep]), "is truncated or corrupt")


def test_truncated_tiff_strip_is_refused(tmp_path):
    data = tiff_bytes(marked())
    refused(write_bytes(tmp_path / "cut.tif", data[:-100]), "is truncated or corrupt")


def test_complete_file_with_missing_image_data_is_refused(tmp_path):
    refused(write_bytes(tmp_path / "bad.png", png_bytes(16, 16, 8, 0, b"")), "could not be decoded")


@pytest.mark.parametrize("size", [(100_000, 100_000), (20_000, 20_000)])
def test_huge_declared_png_fails_fast_from_its_header(tmp_path, size):
    # 20000 x 20000 is under OpenCV's own limit (2**30 pixels): without the header check it would allocate
    path = write_bytes(tmp_path / "bomb.png", png_bytes(*size, 8, 2, b"\x00" * 100))
    start = time.perf_counter()
    refused(path, f"declares {size[0]}x{size[1]} pixels, more than the limit of 100 megapixels")
    assert time.perf_counter() - start < 0.5


def test_huge_declared_jpeg_and_tiff_are_refused(tmp_path):
    data = bytearray(cv2.imencode(".jpg", marked())[1].tobytes())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 60_000, 60_000)
    refused(write_bytes(tmp_path / "bomb.jpg", bytes(data)), "declares 60000x60000 pixels")
    refused(write_bytes(tmp_path / "bomb.tif", tiff_bytes(marked(), declared_size=(50_000, 50_000))), "declares")


def test_pixel_limit_is_a_parameter(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), marked())
    refused(tmp_path / "a.png", "more than the limit of 0.0005 megapixels", max_pixels=500)
    assert read_image(tmp_path / "a.png", max_pixels=24 * 40).pixels.shape == (24, 40, 3)


def test_zero_size_and_too_small_are_refused(tmp_path):
    # PNG forbids a zero side: Pillow's header reader refuses it as damaged; TIFF's size is checked here
    refused(write_bytes(tmp_path / "zero.png", png_bytes(0, 16, 8, 0, b"")), "is truncated or corrupt, or a PNG")
    refused(write_bytes(tmp_path / "zero.tif", tiff_bytes(marked(), declared_size=(0, 24))), "has zero size (0x24 pixels)")
    cv2.imwrite(str(tmp_path / "small.png"), marked(8, 30))
    refused(tmp_path / "small.png", "is 30x8 pixels; images must be at least 16 pixels on each side", min_size=16)
    assert read_image(tmp_path / "small.png", min_size=8).pixels.shape == (8, 30, 3)


def test_float_tiff_and_12_bit_jpeg_are_refused(tmp_path):
    cv2.imwrite(str(tmp_path / "float.tif"), np.full((16, 16, 3), 0.5, np.float32))
    refused(tmp_path / "float.tif", "has float32 samples; only 8- and 16-bit integer images are supported")
    data = bytearray(cv2.imencode(".jpg", marked())[1].tobytes())
    data[data.find(b"\xff\xc0") + 4] = 12
    with pytest.raises(InputError, match=r"12.jpg: is truncated or corrupt, or a JPEG this build cannot read \(.*12-bit"):
        read_image(write_bytes(tmp_path / "12.jpg", bytes(data)))


# ---- mono and colour roles ---------------------------------------------------------------------


def test_as_mono_takes_grey_and_refuses_a_color_photo(tmp_path):
    cv2.imwrite(str(tmp_path / "mono.png"), grey_photo())
    np.testing.assert_array_equal(as_mono(read_image(tmp_path / "mono.png")), grey_photo() / np.float32(255))
    write_image(tmp_path / "colour.png", color_photo() / 255.0, 8)
    with pytest.raises(InputError, match="colour.png: is a colour image .*swapped"):
        as_mono(read_image(tmp_path / "colour.png"))


@pytest.mark.parametrize("tint_levels", [0, 4])
def test_as_mono_accepts_a_jpegd_grey_image_saved_as_rgb(tmp_path, tint_levels):
    # JPEG averages random chroma noise away; a tint of a few levels (Cb up, Cr down) survives it
    grey = grey_photo() / np.float32(255)
    ycbcr = np.stack([grey, np.full_like(grey, 0.5), np.full_like(grey, 0.5)], axis=-1)
    ycbcr[..., 1:] += np.random.default_rng(0).normal(0, 2 / 255, grey.shape + (2,))
    ycbcr[..., 1:] += np.array([tint_levels, -tint_levels]) / 255
    write_image(tmp_path / "mono.jpg", ycbcr_to_rgb(ycbcr), 8)
    mono = as_mono(read_image(tmp_path / "mono.jpg"))
    assert mono.shape == grey.shape and np.abs(mono - grey).mean() < 3 / 255


def test_as_color_takes_a_color_photo_and_refuses_grey(tmp_path):
    write_image(tmp_path / "colour.png", color_photo() / 255.0, 8)
    assert as_color(read_image(tmp_path / "colour.png")).shape == (96, 128, 3)
    cv2.imwrite(str(tmp_path / "grey.png"), grey_photo())
    cv2.imwrite(str(tmp_path / "grey.jpg"), cv2.merge([grey_photo()] * 3))
    for name in ("grey.png", "grey.jpg"):
        with pytest.raises(InputError, match=f"{name}: has no colour; the colour camera's image is needed here"):
            as_color(read_image(tmp_path / name))


def test_chroma_of_the_color_sample_is_well_above_the_mono_tolerance():
    chroma = np.abs(rgb_to_ycbcr(color_photo() / np.float32(255))[..., 1:] - 0.5).mean()
    assert chroma > 0.04


# ---- writing -----------------------------------------------------------------------------------


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_write_replaces_an_existing_output_and_leaves_no_temporary(tmp_path):
    write_image(tmp_path / "out.png", np.zeros((16, 16, 3)), 8)
    write_image(tmp_path / "out.png", np.ones((16, 16, 3)), 8)
    assert listing(tmp_path) == ["out.png"]
    assert read_image(tmp_path / "out.png").pixels.min() == 1.0


def test_output_equal_to_an_input_is_refused_and_the_input_kept(tmp_path):
    cv2.imwrite(str(tmp_path / "mono.png"), grey_photo())
    original = (tmp_path / "mono.png").read_bytes()
    os.symlink(tmp_path / "mono.png", tmp_path / "link.png")
    (tmp_path / "sub").mkdir()
    before = listing(tmp_path)
    rgb = np.zeros((96, 128, 3))
    inputs = [tmp_path / "mono.png", tmp_path / "other.png"]
    for output in (tmp_path / "mono.png", tmp_path / "sub" / ".." / "mono.png", tmp_path / "link.png"):
        with pytest.raises(InputError, match="is the input .*refusing to overwrite it"):
            write_image(output, rgb, 8, inputs=inputs)
    with pytest.raises(InputError, match="refusing"):
        write_image(tmp_path / "mono.png", rgb, 8, inputs=[str(tmp_path / "link.png")])
    assert listing(tmp_path) == before and (tmp_path / "mono.png").read_bytes() == original


def test_missing_folder_unknown_type_and_16_bit_jpeg_are_refused_writing_nothing(tmp_path):
    rgb = np.zeros((16, 16, 3))
    cases = [
        (tmp_path / "missing" / "out.png", 8, "folder .*missing does not exist"),
        (tmp_path / "out.bmp", 8, "unknown image type '.bmp'"),
        (tmp_path / "out", 8, "unknown image type '\\(none\\)'"),
        (tmp_path / "out.jpg", 16, "JPEG holds only 8 bits"),
    ]
    for path, bit_depth, problem in cases:
        with pytest.raises(InputError, match=problem):
            write_image(path, rgb, bit_depth)
    assert listing(tmp_path) == []


def test_an_output_that_is_a_folder_is_refused_before_writing(tmp_path):
    (tmp_path / "out.png").mkdir()
    (tmp_path / "out.png" / "keep").write_text("x")
    with pytest.raises(InputError, match="out.png: is a folder"):
        write_image(tmp_path / "out.png", np.zeros((16, 16, 3)), 8)
    assert listing(tmp_path) == ["out.png"] and listing(tmp_path / "out.png") == ["keep"]


def test_failure_after_the_temporary_is_written_removes_it(tmp_path, monkeypatch):
    def cross_device(source, target):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(InputError, match="out.png: could not be written \\(Invalid cross-device link\\)"):
        write_image(tmp_path / "out.png", np.zeros((16, 16, 3)), 8)
    assert listing(tmp_path) == []


def test_16_bit_write_keeps_16_bit_precision(tmp_path):
    ramp = np.linspace(0, 1, 16 * 64 * 3, dtype=np.float32).reshape(16, 64, 3)
    write_image(tmp_path / "ramp.png", ramp, 16)
    assert np.abs(read_image(tmp_path / "ramp.png").pixels - ramp).max() <= 0.5 / 65535 + 1e-7


# ---- WebP, HEIC/HEIF, quality, EXIF, links, codec noise -----------------------------------------


def test_webp_round_trip_quality_and_truncation(tmp_path):
    rgb = color_photo() / np.float32(255)
    write_image(tmp_path / "high.webp", rgb, 8, quality=95)
    write_image(tmp_path / "low.webp", rgb, 8, quality=20)
    assert (tmp_path / "low.webp").stat().st_size < (tmp_path / "high.webp").stat().st_size
    image = read_image(tmp_path / "high.webp")
    assert image.bit_depth == 8 and image.pixels.shape == rgb.shape
    assert np.abs(image.pixels - rgb).mean() < 3 / 255
    data = (tmp_path / "high.webp").read_bytes()
    refused(write_bytes(tmp_path / "cut.webp", data[: len(data) // 2]), "is truncated or corrupt")
    with pytest.raises(InputError, match="WebP holds only 8 bits"):
        write_image(tmp_path / "deep.webp", rgb, 16)
    with pytest.raises(InputError, match="^quality: must be 1 to 100"):
        write_image(tmp_path / "q.jpg", rgb, 8, quality=0)


@pytest.mark.parametrize("bits", [8, 10])
def test_heic_reads_through_pillow_heif(tmp_path, bits):
    pillow_heif = pytest.importorskip("pillow_heif")
    rgb = color_photo()
    samples, mode = (rgb, "RGB") if bits == 8 else (rgb.astype(np.uint16) * 257, "RGB;16")
    heif = pillow_heif.from_bytes(mode=mode, size=(rgb.shape[1], rgb.shape[0]), data=samples.tobytes())
    heif.save(tmp_path / "photo.heic", quality=95)
    image = read_image(tmp_path / "photo.heic")
    assert image.bit_depth == (8 if bits == 8 else 16) and image.pixels.shape == rgb.shape
    assert np.abs(image.pixels - rgb / np.float32(255)).mean() < 4 / 255
    data = (tmp_path / "photo.heic").read_bytes()
    refused(write_bytes(tmp_path / "cut.heic", data[: len(data) // 2]), "could not be decoded")


def test_exif_is_kept_with_orientation_reset(tmp_path):
    stored = marked()
    path = write_bytes(tmp_path / "o6.jpg", encode_with_orientation(".jpg", stored, 6))
    image = read_image(path)
    assert image.pixels.shape[:2] == (40, 24) and image.exif is not None
    for ext in (".png", ".jpg", ".webp"):
        write_image(tmp_path / f"out{ext}", image.pixels, 8, exif=image.exif)
        again = read_image(tmp_path / f"out{ext}")
        assert again.pixels.shape[:2] == (40, 24)  # orientation 1: not turned a second time
        assert again.exif is not None and again.exif[:4] in (b"II*\x00", b"MM\x00*")


def test_links_that_lead_nowhere_are_named_as_such(tmp_path):
    os.symlink(tmp_path / "loop.png", tmp_path / "loop.png")
    refused(tmp_path / "loop.png", "symbolic link loop")
    os.symlink(tmp_path / "gone.png", tmp_path / "dangling.png")
    refused(tmp_path / "dangling.png", "which does not exist")


def test_a_damaged_png_is_one_error_and_nothing_from_libpng(tmp_path, capfd):
    cv2.imwrite(str(tmp_path / "a.png"), color_photo())
    data = bytearray((tmp_path / "a.png").read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the image data: the chunk's CRC no longer matches
    refused(write_bytes(tmp_path / "bad.png", bytes(data)), "could not be decoded")
    assert capfd.readouterr().err == ""
