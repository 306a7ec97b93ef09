"""Image files in and out of the runtime, so every way a user's file can be wrong becomes one InputError.

Pillow reads headers without decoding (a decompression bomb or a too small image is refused before a pixel is
allocated) and EXIF. OpenCV decodes PNG, JPEG, TIFF and WebP, as Pillow reduces 16-bit colour to 8 bits; pillow-heif
decodes HEIC/HEIF, an optional extra (`pip install dualcam[heic]`) whose absence is refused with that advice.
A truncated file is refused as such, never returned with its missing part made up: OpenCV fails on a truncated PNG
or WebP, but libjpeg and libtiff fill in what is missing and only say so on stderr, which is read here.

EXIF orientation is applied here, the same way for every format: OpenCV applies a JPEG's, PNG's or WebP's only
without IMREAD_IGNORE_ORIENTATION (used here), and a TIFF's whatever the flags, wrongly for tiled 8-bit files
(OpenCV 5.1), so a TIFF's orientation entry is set to 1 in the bytes handed to it. An input's EXIF block is kept with
its orientation set to 1 and written into PNG, JPEG and WebP outputs; OpenCV cannot write EXIF into TIFF.

Only 8- and 16-bit integer samples are accepted: a float TIFF has no defined white level, and cameras deliver
integers. Alpha is dropped. An RGB file whose three channels are identical comes back as grey, (H, W).
"""
from __future__ import annotations

import errno
import io
import math
import os
import re
import secrets
import stat
import struct
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import ExifTags, JpegImagePlugin, PngImagePlugin, WebPImagePlugin
from PIL import Image as PillowImage

from .color import rgb_to_luma, rgb_to_ycbcr, unit_float
from .errors import InputError

PathLike = str | os.PathLike[str]

MAX_PIXELS = 100_000_000  # declared width x height above this is refused before decoding
# Chroma is the mean of |Cb - 0.5| and |Cr - 0.5| (BT.601, [0, 1]). Measured: grey images JPEG'd as
# RGB 0 - 0.009 (JPEG averages chroma noise away, even at sigma 8 of 255 levels), with a uniform tint
# of 4 levels 0.016, of 5 levels 0.020; colour photographs 0.048 - 0.146.
MONO_MAX_CHROMA = 0.02
# Below this a three-channel image has no colour to transfer; the same photographs desaturated to
# 10 % still measured 0.005 - 0.014.
COLOR_MIN_CHROMA = 0.002
CHROMA_SAMPLES = 1_000_000  # pixels sampled, on a regular grid, to measure chroma

DEFAULT_QUALITY = 95  # JPEG and WebP
QUALITY_PARAMS = {".jpg": cv2.IMWRITE_JPEG_QUALITY, ".jpeg": cv2.IMWRITE_JPEG_QUALITY, ".webp": cv2.IMWRITE_WEBP_QUALITY}
WRITE_TYPES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
EIGHT_BIT_ONLY = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WebP"}
EXIF_TYPES = (".png", ".jpg", ".jpeg", ".webp")
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_DAMAGED = "is truncated or corrupt"
_PILLOW_HEADERS = {"PNG": PngImagePlugin.PngImageFile, "JPEG": JpegImagePlugin.JpegImageFile,
                   "WebP": WebPImagePlugin.WebPImageFile}
_PARSE_ERRORS = (SyntaxError, OSError, ValueError, struct.error)  # what Pillow raises for bytes it cannot parse
_HEIF_ERRORS = (RuntimeError, EOFError, IndexError, *_PARSE_ERRORS)  # what pillow-heif raises for a damaged file
_ORIENTATION = ExifTags.Base.Orientation
_TIFF_WIDTH, _TIFF_HEIGHT = ExifTags.Base.ImageWidth, ExifTags.Base.ImageLength
_TIFF_INTEGER_TYPES = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i"}  # TIFF field type -> struct code
# What a codec says when it made pixels up though OpenCV returns an image: libjpeg fills what it cannot decode with
# grey and warns (extraneous bytes skipped between segments cost no pixel); libtiff errs, OpenCV logs it and goes on.
_MADE_UP = {"JPEG": ("libjpeg", re.compile(r"Premature end of JPEG file|Corrupt JPEG data: (?!\d+ extraneous).*")),
            "TIFF": ("libtiff", re.compile(r"(?<=TIFF_Error ).*"))}


@dataclass(frozen=True)
class Image:
    """Pixels as read: float32 in [0, 1] (or the decoded samples, `read_image(samples=True)`), (H, W) grey or
    (H, W, 3) RGB, upright; `bit_depth` 8 or 16."""

    pixels: np.ndarray
    bit_depth: int
    path: Path
    exif: bytes | None = None  # the file's EXIF block (TIFF structure), orientation set to 1


def read_image(path: PathLike, min_size: int = 1, max_pixels: int = MAX_PIXELS, samples: bool = False) -> Image:
    """A PNG, JPEG, TIFF, WebP or HEIC/HEIF file -> upright Image; InputError naming the file for anything wrong.
    `samples`: keep the uint8/uint16 samples (a quarter or half of the float32 image's memory).

    Refused before decoding: more than `max_pixels` declared, or a side under `min_size` pixels.
    """
    path = Path(path)
    data = _read_bytes(path)
    kind = _kind(path, data)
    if kind == "HEIC/HEIF":  # libheif applies the file's rotation and mirroring itself
        heif, (width, height) = _open_heif(path, data)
        _check_size(path, width, height, min_size, max_pixels)
        pixels, orientation = _decode_heif(path, heif), 1
        exif = _read_exif(heif.info.get("exif"))[1]
    elif kind == "TIFF":  # the orientation is a tag of the TIFF itself; there is no EXIF block to keep
        width, height, orientation = _tiff_header(path, data)
        _check_size(path, width, height, min_size, max_pixels)
        pixels, exif = _decode(path, data if orientation == 1 else _tiff_stored_orientation(data), kind)[0], None
    else:
        _check_size(path, *_pillow_size(path, data, kind), min_size, max_pixels)
        pixels, block = _decode(path, data, kind)
        orientation, exif = _read_exif(block)

    bit_depth = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(pixels.dtype)
    if bit_depth is None:
        raise InputError(path, f"has {pixels.dtype} samples; only 8- and 16-bit integer images are supported")
    if pixels.ndim == 3 and all(np.array_equal(pixels[..., 0], pixels[..., c]) for c in (1, 2)):
        pixels = pixels[..., 0]
    pixels = _orient(pixels, orientation)
    return Image(np.ascontiguousarray(pixels) if samples else unit_float(pixels), bit_depth, path, exif)


def _kind(path: Path, data: bytes) -> str:
    """The format, from the file's signature: which reader to ask, and what to call the file if it fails."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[:4] in (b"II+\x00", b"MM\x00+"):
        raise InputError(path, "is a BigTIFF, which is not supported")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    ftyp_end = min(int.from_bytes(data[:4], "big"), len(data))  # brands: the major one, then the compatible ones
    if data[4:8] == b"ftyp" and _HEIF_BRANDS & {data[i : i + 4] for i in range(8, ftyp_end - 3, 4)}:
        return "HEIC/HEIF"
    raise InputError(path, "is not a PNG, JPEG, TIFF, WebP or HEIC/HEIF image")


def _check_size(path: Path, width: int, height: int, min_size: int, max_pixels: int) -> None:
    """InputError for a declared size that is empty, a decompression bomb, or too small to use."""
    size = f"{width}x{height} pixels"
    if width == 0 or height == 0:
        raise InputError(path, f"has zero size ({size})")
    if width * height > max_pixels:
        raise InputError(path, f"declares {size}, more than the limit of {max_pixels / 1e6:g} megapixels")
    if min(width, height) < min_size:
        raise InputError(path, f"is {size}; images must be at least {min_size} pixels on each side")


def _unreadable(kind: str, reason: str) -> str:
    return f"{_DAMAGED}, or a {kind} this build cannot read ({reason})"


def _first_line(error: Exception) -> str:
    return next(iter(str(error).splitlines()), "") or type(error).__name__


@contextmanager
def _quiet_warnings() -> Iterator[None]:
    """Pillow warns about damaged headers and EXIF it skips: the file's problem is reported once, as an InputError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _pillow_size(path: Path, data: bytes, kind: str) -> tuple[int, int]:
    """(width, height) from Pillow's reader for the format, which parses the header and decodes nothing."""
    try:
        with _quiet_warnings():
            return _PILLOW_HEADERS[kind](io.BytesIO(data)).size
    except PillowImage.DecompressionBombError as e:  # WebP's: the decoder would allocate the canvas on opening
        raise InputError(path, f"declares more pixels than Pillow opens ({_first_line(e)})") from None
    except _PARSE_ERRORS as e:
        raise InputError(path, _unreadable(kind, f"its header cannot be read: {_first_line(e)}")) from None


def _tiff_header(path: Path, data: bytes) -> tuple[int, int, int]:
    """Width, height and orientation from the first IFD of a TIFF, read by Pillow's EXIF reader (an EXIF block is
    TIFF-structured): unlike Pillow's TIFF reader it reads any TIFF's, float ones included, so each is refused for its
    own reason."""
    tags = PillowImage.Exif()
    try:
        with _quiet_warnings():  # Pillow decodes each value, and warns about it, when it is first asked for
            tags.load(data)
            width, height, orientation = (tags.get(tag) for tag in (_TIFF_WIDTH, _TIFF_HEIGHT, _ORIENTATION))
    except _PARSE_ERRORS as e:
        raise InputError(path, _unreadable("TIFF", f"its header cannot be read: {_first_line(e)}")) from None
    if not (isinstance(width, int) and isinstance(height, int)):
        raise InputError(path, _unreadable("TIFF", "its header has no image size"))
    return width, height, _valid_orientation(orientation)


def _tiff_stored_orientation(data: bytes) -> bytes:
    """The TIFF with the orientation entry of its first IFD set to 1, so that OpenCV decodes the pixels as stored."""
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, ifd)
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):  # Pillow has read them all up to the orientation
        tag, field_type = struct.unpack_from(order + "HH", data, entry)
        if tag == _ORIENTATION and field_type in _TIFF_INTEGER_TYPES:  # the types libtiff reads it from too
            value = struct.pack(order + _TIFF_INTEGER_TYPES[field_type], 1)
            return data[: entry + 8] + value + data[entry + 8 + len(value) :]
    return data


def _decode(path: Path, data: bytes, kind: str) -> tuple[np.ndarray, bytes | None]:
    """OpenCV's RGB or grey pixels and the EXIF block of a PNG, JPEG, TIFF or WebP file; InputError if it fails, or
    if a codec says it filled in what it could not decode (how a truncated JPEG whose end marker was kept is told
    from a whole one)."""
    flags = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR | cv2.IMREAD_IGNORE_ORIENTATION
    with _codec_messages() as messages:
        try:
            pixels, kinds, blocks = cv2.imdecodeWithMetadata(np.frombuffer(data, np.uint8), flags)
        except cv2.error:
            pixels, kinds, blocks = None, (), ()
    if pixels is None:
        raise InputError(path, _unreadable(kind, "its image data could not be decoded"))
    if kind in _MADE_UP:
        library, pattern = _MADE_UP[kind]
        if damage := pattern.search("\n".join(messages)):
            raise InputError(path, f"{_DAMAGED} ({library}: {damage.group().strip()})")
    exif = next((block.tobytes() for k, block in zip(np.ravel(kinds), blocks) if k == cv2.IMAGE_METADATA_EXIF), None)
    return (pixels[..., ::-1] if pixels.ndim == 3 else pixels), exif  # OpenCV's BGR -> RGB


@contextmanager
def _codec_messages() -> Iterator[list[str]]:
    """The lines codec libraries write to stderr during the block, collected instead of shown (they write to file
    descriptor 2 directly, not through Python); OpenCV logs libtiff's errors there whatever its log level was."""
    messages: list[str] = []
    log_level = cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield messages
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            cv2.utils.logging.setLogLevel(log_level)
            capture.seek(0)
            messages += capture.read().decode(errors="replace").splitlines()


def _open_heif(path: Path, data: bytes) -> tuple[object, tuple[int, int]]:
    """A HEIC/HEIF file opened by pillow-heif, which decodes the pixels on first access, and its size."""
    try:
        import pillow_heif
    except ImportError:
        raise InputError(path, "is a HEIC/HEIF image; reading it needs the heic extra: pip install 'dualcam[heic]'") from None
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
        return heif, heif.size  # IndexError when it holds no image
    except _HEIF_ERRORS as e:
        raise InputError(path, _unreadable("HEIC/HEIF", f"its header cannot be read: {_first_line(e)}")) from None


def _decode_heif(path: Path, heif: object) -> np.ndarray:
    """RGB or grey pixels of a HEIC/HEIF file: 8-bit, or for 10/12-bit images 16-bit samples (pillow-heif scales
    them to the full 16-bit range)."""
    try:
        pixels = np.asarray(heif)
    except _HEIF_ERRORS:
        raise InputError(path, _unreadable("HEIC/HEIF", "its image data could not be decoded")) from None
    return pixels[..., :3] if pixels.ndim == 3 else pixels


def _read_exif(block: bytes | None) -> tuple[int, bytes | None]:
    """Orientation from an EXIF block, and the block rewritten by Pillow with it set to 1, as the pixels are turned
    upright here; 1 and None where there is none or Pillow cannot read or write it back: EXIF is optional."""
    if not block:
        return 1, None
    exif = PillowImage.Exif()
    with _quiet_warnings():
        try:
            exif.load(block)
            orientation = _valid_orientation(exif.get(_ORIENTATION))
        except Exception:  # whatever Pillow raises for a damaged block
            return 1, None
        try:
            if _ORIENTATION in exif:
                exif[_ORIENTATION] = 1
            return orientation, exif.tobytes().removeprefix(b"Exif\x00\x00")
        except Exception:  # a damaged sub-IFD, or a value of the wrong type for its tag
            return orientation, None


def _valid_orientation(value: object) -> int:
    """EXIF/TIFF orientation 1 - 8; 1 when missing or invalid, as viewers do."""
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def as_mono(image: Image) -> np.ndarray:
    """The mono camera's image as (H, W) float32 on [0, 1]; InputError if it is really a colour image."""
    if image.pixels.ndim == 2:
        return unit_float(image.pixels)
    chroma = _mean_chroma(image.pixels)
    if chroma > MONO_MAX_CHROMA:
        raise InputError(
            image.path,
            f"is a colour image (mean chroma {chroma:.3f}, a grey one has under {MONO_MAX_CHROMA}) where the "
            "mono camera's image is needed; were the mono and colour inputs swapped?",
        )
    return rgb_to_luma(unit_float(image.pixels))


def as_color(image: Image) -> np.ndarray:
    """The colour camera's image as (H, W, 3) RGB, its pixels as they are; InputError if it has no colour."""
    if image.pixels.ndim == 2 or _mean_chroma(image.pixels) < COLOR_MIN_CHROMA:
        raise InputError(image.path, "has no colour; the colour camera's image is needed here")
    return image.pixels


def check_output(path: PathLike, bit_depth: int, inputs: Iterable[PathLike] = ()) -> Path:
    """InputError naming `path` if an image of `bit_depth` cannot go there: checked before any work is done."""
    path = Path(path)
    suffix = path.suffix.lower()
    longest = os.pathconf(path.parent, "PC_NAME_MAX") if path.parent.is_dir() else 255
    if len(os.fsencode(path.name)) > longest:
        raise InputError(path, f"its name is {len(os.fsencode(path.name))} bytes; this file system allows {longest}")
    if path.is_dir():
        raise InputError(path, "is a folder; the output must be an image file name, such as out.png")
    if suffix not in WRITE_TYPES:
        raise InputError(path, f"unknown image type {suffix or '(none)'!r}; use {', '.join(WRITE_TYPES)}")
    if bit_depth == 16 and suffix in EIGHT_BIT_ONLY:
        raise InputError(path, f"{EIGHT_BIT_ONLY[suffix]} holds only 8 bits per channel; write .png or .tif for 16 bits")
    if not path.parent.is_dir():
        raise InputError(path, f"folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise InputError(path, f"folder {path.parent} is not writable")
    for source in inputs:
        if same_file(path, Path(source)):
            raise InputError(path, f"is the input {source}; refusing to overwrite it")
    return path


def write_image(path: PathLike, rgb: np.ndarray, bit_depth: int, inputs: Iterable[PathLike] = (),
                quality: int = DEFAULT_QUALITY, exif: bytes | None = None) -> None:
    """Write (H, W, 3) RGB or (H, W) grey, in [0, 1] or already as uint8/uint16 samples, at 8 or 16 bits,
    atomically, in the format of the extension; `quality` (1-100) for JPEG and WebP; `exif` (an EXIF block,
    as `Image.exif`) into PNG, JPEG and WebP.

    InputError naming `path` if the extension is unknown, its folder is missing, it is one of `inputs`
    or it cannot be written; nothing is left at or beside `path` then.
    """
    if not 1 <= quality <= 100:
        raise InputError("quality", f"must be 1 to 100, not {quality}")
    samples = _samples(rgb, bit_depth)
    path = check_output(path, bit_depth, inputs)
    suffix, folder = path.suffix.lower(), path.parent
    bgr = np.ascontiguousarray(samples[..., ::-1] if samples.ndim == 3 else samples)
    params = [QUALITY_PARAMS[suffix], quality] if suffix in QUALITY_PARAMS else []
    if exif and suffix in EXIF_TYPES:
        ok, encoded = cv2.imencodeWithMetadata(suffix, bgr, [cv2.IMAGE_METADATA_EXIF],
                                               [np.frombuffer(exif, np.uint8)], params)
    else:
        ok, encoded = cv2.imencode(suffix, bgr, params)
    if not ok:
        raise InputError(path, "could not be encoded")

    temporary = folder / f".dualcam-{secrets.token_hex(4)}.tmp"  # short: any name the file system allows still fits
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(encoded.tobytes())
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as e:
        raise InputError(path, f"could not be written ({e.strerror or e})") from None


def _samples(rgb: np.ndarray, bit_depth: int) -> np.ndarray:
    """(H, W, 3) or (H, W), [0, 1] floats or samples of the bit depth -> uint8/uint16 samples; ValueError for
    anything else (a caller's bug, not a user's input)."""
    if not (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] == 3)):
        raise ValueError(f"expected an (H, W, 3) or (H, W) image, got {rgb.shape}")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit depth must be 8 or 16, got {bit_depth}")
    sample_type = np.uint8 if bit_depth == 8 else np.uint16
    if rgb.dtype.kind == "u" and rgb.dtype != sample_type:
        raise ValueError(f"{rgb.dtype} samples cannot be written at {bit_depth} bits")
    if rgb.dtype.kind == "f" and not np.isfinite(rgb).all():
        raise ValueError("image has NaN or infinite values")
    if rgb.dtype == sample_type:
        return rgb
    return np.round(np.clip(rgb, 0.0, 1.0) * ((1 << bit_depth) - 1)).astype(sample_type)


def _read_bytes(path: Path) -> bytes:
    """The whole file; InputError if it is missing, not a regular file, unreadable or empty."""
    try:
        try:
            mode = os.stat(path).st_mode
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise InputError(path, "is a symbolic link loop (it points back to itself)") from None
            if e.errno == errno.ENOENT and path.is_symlink():
                raise InputError(path, f"is a link to {os.readlink(path)}, which does not exist") from None
            if e.errno == errno.ENOENT:
                raise InputError(path, "does not exist") from None
            raise
        if stat.S_ISDIR(mode):
            raise InputError(path, "is a folder, not an image file")
        if not stat.S_ISREG(mode):
            raise InputError(path, "is not a regular file")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot be read ({e.strerror or e})") from None
    if not data:
        raise InputError(path, "is empty (0 bytes)")
    return data


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Stored pixels -> upright, for EXIF orientation 1 - 8 (as OpenCV's own ApplyExifOrientation)."""
    if orientation >= 5:
        pixels = pixels.swapaxes(0, 1)
    row_step = -1 if orientation in (3, 4, 7, 8) else 1
    column_step = -1 if orientation in (2, 3, 6, 7) else 1
    return pixels[::row_step, ::column_step]


def _mean_chroma(rgb: np.ndarray) -> float:
    """Mean |Cb - 0.5| and |Cr - 0.5| over a regular grid of about CHROMA_SAMPLES pixels."""
    step = max(1, int(math.sqrt(rgb.shape[0] * rgb.shape[1] / CHROMA_SAMPLES)))
    chroma = rgb_to_ycbcr(unit_float(rgb[::step, ::step]))[..., 1:] - 0.5
    return float(np.abs(chroma).mean())


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: through links and other spellings when both exist."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
