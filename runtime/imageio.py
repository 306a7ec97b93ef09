"""Image files in and out of the runtime, so every way a user's file can be wrong becomes one InputError.

PNG, JPEG, TIFF and WebP are decoded by OpenCV; HEIC/HEIF by pillow-heif (libheif), an optional extra
(`pip install dualcam[heic]`): a phone's HEIC file without it is refused with that advice. The EXIF block
of an input is kept and written into PNG, JPEG and WebP outputs, with its orientation set to 1 (the pixels
are upright by then); OpenCV cannot write EXIF into TIFF.

Reading checks the file's own header before OpenCV decodes anything: a truncated file is named as
such instead of coming back half grey, and a decompression bomb is refused before a pixel is
allocated. EXIF orientation is applied here, the same way for PNG, JPEG and TIFF, because OpenCV's
own handling depends on flags and format: it applies a JPEG's or PNG's EXIF orientation under
IMREAD_COLOR but not under IMREAD_UNCHANGED or IMREAD_IGNORE_ORIENTATION (used here), and whatever
the flags it applies a TIFF's orientations 2-4 itself and fails to decode 5-8 (OpenCV 5.0), so a
TIFF's orientation tag is reset to 1 in the bytes handed to OpenCV.

Only 8- and 16-bit integer samples are accepted: a float TIFF has no defined white level, and
cameras deliver integers. Alpha is dropped. An RGB file whose three channels are identical comes
back as grey, (H, W).
"""
from __future__ import annotations

import errno
import io
import math
import os
import secrets
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from .color import rgb_to_luma, rgb_to_ycbcr
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
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TRUNCATED = "is truncated (the file ends before its image data does)"
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_TIFF_INT_CODES = {1: "B", 3: "H", 4: "I"}  # TIFF field types BYTE, SHORT, LONG
_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_TIFF_WIDTH, _TIFF_HEIGHT, _TIFF_ORIENTATION = 256, 257, 274
_TIFF_DATA_EXTENTS = ((273, 279), (324, 325))  # (offsets, byte counts) of strips, of tiles


@dataclass(frozen=True)
class Image:
    """Pixels as read: float32 in [0, 1], (H, W) grey or (H, W, 3) RGB, upright; `bit_depth` 8 or 16."""

    pixels: np.ndarray
    bit_depth: int
    path: Path
    exif: bytes | None = None  # the file's EXIF block (TIFF structure), orientation set to 1


class _Malformed(Exception):
    """A file's structure is broken; the message is the problem to report."""


class _Header(NamedTuple):
    width: int
    height: int
    orientation: int  # EXIF/TIFF orientation, 1 - 8
    data: bytes | bytearray  # what to decode: the file, or for a TIFF a copy with its orientation reset to 1
    exif: bytes | None = None
    heif: object = None  # a HEIC/HEIF file opened by pillow-heif: its pixels are decoded on first access


def read_image(path: PathLike, min_size: int = 1, max_pixels: int = MAX_PIXELS) -> Image:
    """A PNG, JPEG, TIFF, WebP or HEIC/HEIF file -> upright Image; InputError naming the file for anything wrong.

    Refused before decoding: more than `max_pixels` declared, or a side under `min_size` pixels.
    """
    path = Path(path)
    data = _read_bytes(path)
    try:
        header = _read_header(data)
    except _Malformed as e:
        raise InputError(path, str(e)) from None
    size = f"{header.width}x{header.height} pixels"
    if header.width == 0 or header.height == 0:
        raise InputError(path, f"has zero size ({size})")
    if header.width * header.height > max_pixels:
        raise InputError(path, f"declares {size}, more than the limit of {max_pixels / 1e6:g} megapixels")
    if min(header.width, header.height) < min_size:
        raise InputError(path, f"is {size}; images must be at least {min_size} pixels on each side")

    pixels = _decode(header) if header.heif is None else _decode_heif(header.heif)
    if pixels is None:
        raise InputError(path, "could not be decoded (damaged, or a kind of image file this build cannot read)")
    bit_depth = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(pixels.dtype)
    if bit_depth is None:
        raise InputError(path, f"has {pixels.dtype} samples; only 8- and 16-bit integer images are supported")
    if pixels.ndim == 3:
        pixels = pixels[..., ::-1]  # OpenCV's BGR -> RGB
        if np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2]):
            pixels = pixels[..., 0]
    pixels = _orient(pixels, header.orientation).astype(np.float32, order="C")
    pixels /= np.float32((1 << bit_depth) - 1)
    return Image(pixels, bit_depth, path, _upright_exif(header.exif))


def _decode(header: _Header) -> np.ndarray | None:
    """OpenCV's decoding, with what its codecs print to stderr (libpng's and libjpeg's complaints) silenced:
    a damaged file becomes one InputError line, not a leaked codec message."""
    flags = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR | cv2.IMREAD_IGNORE_ORIENTATION
    with _quiet_stderr():
        try:
            return cv2.imdecode(np.frombuffer(header.data, np.uint8), flags)
        except cv2.error:
            return None


class _quiet_stderr:
    """Send file descriptor 2 to /dev/null for a block (codec libraries write there directly, not through Python)."""

    def __enter__(self) -> None:
        self.saved = os.dup(2)
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self.saved, 2)
        os.close(self.saved)


def _decode_heif(heif: object) -> np.ndarray | None:
    """Pixels of a HEIC/HEIF file opened by pillow-heif, in OpenCV's BGR order: 8-bit, or for 10/12-bit images
    16-bit samples (pillow-heif scales them to the full 16-bit range)."""
    try:
        pixels = np.asarray(heif)
    except (RuntimeError, ValueError, OSError):
        return None
    return pixels[..., 2::-1] if pixels.ndim == 3 else pixels


def as_mono(image: Image) -> np.ndarray:
    """The mono camera's image as (H, W) float32; InputError if it is really a colour image."""
    if image.pixels.ndim == 2:
        return image.pixels
    chroma = _mean_chroma(image.pixels)
    if chroma > MONO_MAX_CHROMA:
        raise InputError(
            image.path,
            f"is a colour image (mean chroma {chroma:.3f}, a grey one has under {MONO_MAX_CHROMA}) where the "
            "mono camera's image is needed; were the mono and colour inputs swapped?",
        )
    return rgb_to_luma(image.pixels)


def as_color(image: Image) -> np.ndarray:
    """The colour camera's image as (H, W, 3) float32 RGB; InputError if it has no colour."""
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
    if not (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] == 3)):
        raise ValueError(f"expected an (H, W, 3) or (H, W) image, got {rgb.shape}")
    if not 1 <= quality <= 100:
        raise InputError("quality", f"must be 1 to 100, not {quality}")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit depth must be 8 or 16, got {bit_depth}")
    sample_type = np.uint8 if bit_depth == 8 else np.uint16
    if rgb.dtype.kind == "u" and rgb.dtype != sample_type:
        raise ValueError(f"{rgb.dtype} samples cannot be written at {bit_depth} bits")
    if rgb.dtype.kind == "f" and not np.isfinite(rgb).all():
        raise ValueError("image has NaN or infinite values")
    path = check_output(path, bit_depth, inputs)
    suffix, folder = path.suffix.lower(), path.parent
    if rgb.dtype == sample_type:
        samples = rgb
    else:
        samples = np.round(np.clip(rgb, 0.0, 1.0) * ((1 << bit_depth) - 1)).astype(sample_type)
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


def _read_header(data: bytes) -> _Header:
    """Size and orientation from the file's own header, after checking the file is complete."""
    if data.startswith(_PNG_SIGNATURE):
        return _png_header(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_header(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_header(data)
    if data[:4] in (b"II+\x00", b"MM\x00+"):
        raise _Malformed("is a BigTIFF, which is not supported")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_header(data)
    if data[4:8] == b"ftyp" and (data[8:12] in _HEIF_BRANDS or _HEIF_BRANDS & set(_ftyp_brands(data))):
        return _heif_header(data)
    raise _Malformed("is not a PNG, JPEG, TIFF, WebP or HEIC/HEIF image")


def _webp_header(data: bytes) -> _Header:
    """Size from the VP8 (lossy), VP8L (lossless) or VP8X (extended) chunk; EXIF from an EXIF chunk."""
    (riff_size,) = _unpack("<I", data, 4)
    if riff_size + 8 > len(data):
        raise _Malformed(_TRUNCATED)
    pos, size, exif = 12, None, None
    while pos + 8 <= riff_size + 8:
        kind, length = _unpack("<4sI", data, pos)
        body = pos + 8
        if body + length > len(data):
            raise _Malformed(_TRUNCATED)
        if kind == b"VP8X" and size is None:
            w, h = _unpack("<I", data[body + 4 : body + 7] + b"\0", 0)[0], _unpack("<I", data[body + 7 : body + 10] + b"\0", 0)[0]
            size = w + 1, h + 1
        elif kind == b"VP8 " and size is None:
            if data[body + 3 : body + 6] != b"\x9d\x01\x2a":
                raise _Malformed("is damaged (bad WebP frame header)")
            w, h = _unpack("<HH", data, body + 6)
            size = w & 0x3FFF, h & 0x3FFF
        elif kind == b"VP8L" and size is None:
            (bits,) = _unpack("<I", data, body + 1)
            size = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"EXIF" and exif is None:
            exif = data[body : body + length]
        pos = body + length + (length & 1)  # chunks are padded to an even size
    if size is None:
        raise _Malformed("is damaged (no WebP image chunk)")
    return _Header(*size, _exif_orientation(exif), data, exif)


def _ftyp_brands(data: bytes) -> list[bytes]:
    """The compatible brands of an ISO media file's ftyp box."""
    (length,) = _unpack(">I", data, 0)
    return [data[i : i + 4] for i in range(16, min(length, len(data)) - 3, 4)]


def _heif_header(data: bytes) -> _Header:
    """Size and EXIF of a HEIC/HEIF file through pillow-heif, which reads the headers without decoding pixels."""
    try:
        import pillow_heif
    except ImportError:
        raise _Malformed("is a HEIC/HEIF image; reading it needs the heic extra: pip install 'dualcam[heic]'") from None
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    except (RuntimeError, ValueError, OSError, SyntaxError) as e:
        detail = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        raise _Malformed(f"is a damaged or truncated HEIC/HEIF file ({detail})") from None
    width, height = heif.size
    return _Header(width, height, 1, data, heif.info.get("exif"), heif)


def _png_header(data: bytes) -> _Header:
    pos = len(_PNG_SIGNATURE)
    length, kind, width, height = _unpack(">I4sII", data, pos)
    if kind != b"IHDR" or length != 13:
        raise _Malformed("is damaged (its PNG header chunk is missing)")
    exif = None
    while True:
        length, kind = _unpack(">I4s", data, pos)
        end = pos + 12 + length  # length, type, data, CRC
        if end > len(data):
            raise _Malformed(_TRUNCATED)
        if kind == b"eXIf" and exif is None:
            exif = data[pos + 8 : end - 4]
        if kind == b"IEND":
            return _Header(width, height, _exif_orientation(exif), data, exif)
        pos = end


def _jpeg_header(data: bytes) -> _Header:
    pos, size, exif = 2, None, None
    while True:
        if _unpack("B", data, pos)[0] != 0xFF:
            raise _Malformed("is damaged (bad JPEG marker)")
        marker = _unpack("B", data, pos + 1)[0]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            raise _Malformed("is damaged (the JPEG ends before any image data)")
        (length,) = _unpack(">H", data, pos + 2)
        if pos + 2 + length > len(data):
            raise _Malformed(_TRUNCATED)
        segment = data[pos + 4 : pos + 2 + length]
        if marker in _JPEG_SOF and size is None:
            precision, height, width = _unpack(">BHH", segment, 0)
            if precision != 8:
                raise _Malformed(f"is a {precision}-bit JPEG; only 8-bit JPEGs are supported")
            size = width, height
        elif marker == 0xE1 and exif is None and segment.startswith(b"Exif\x00\x00"):
            exif = segment[6:]
        elif marker == 0xDA:  # start of scan: entropy-coded data follows, where 0xFF 0xD9 cannot occur
            break
        pos += 2 + length
    if size is None:
        raise _Malformed("is damaged (no JPEG frame header before its image data)")
    if data.find(b"\xff\xd9", pos) < 0:
        raise _Malformed(_TRUNCATED)
    return _Header(*size, _exif_orientation(exif), data, exif)


def _tiff_header(data: bytes) -> _Header:
    order, tags = _tiff_tags(data)
    if _TIFF_WIDTH not in tags or _TIFF_HEIGHT not in tags:
        raise _Malformed("is damaged (its TIFF header has no image size)")
    width = _tiff_ints(data, order, tags[_TIFF_WIDTH])[0]
    height = _tiff_ints(data, order, tags[_TIFF_HEIGHT])[0]
    for kind, count, field in tags.values():
        size = _TIFF_TYPE_SIZES.get(kind, 0) * count
        if size > 4 and _unpack(order + "I", data, field)[0] + size > len(data):
            raise _Malformed(_TRUNCATED)
    for offsets_tag, counts_tag in _TIFF_DATA_EXTENTS:
        if offsets_tag in tags and counts_tag in tags:
            offsets = _tiff_ints(data, order, tags[offsets_tag])
            counts = _tiff_ints(data, order, tags[counts_tag])
            if max(o + c for o, c in zip(offsets, counts)) > len(data):
                raise _Malformed(_TRUNCATED)
    orientation = 1
    if _TIFF_ORIENTATION in tags:
        orientation = _valid_orientation(_tiff_ints(data, order, tags[_TIFF_ORIENTATION])[0])
    if orientation == 1:
        return _Header(width, height, orientation, data)
    kind, _, field = tags[_TIFF_ORIENTATION]
    patched = bytearray(data)
    struct.pack_into(order + _TIFF_INT_CODES[kind], patched, field, 1)
    return _Header(width, height, orientation, patched)


def _tiff_tags(data: bytes) -> tuple[str, dict[int, tuple[int, int, int]]]:
    """TIFF-structured bytes (a TIFF file, an EXIF block) -> byte order, {tag: (type, count, field offset)} of IFD0."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(data[:2]))
    if order is None or _unpack(order + "H", data, 2)[0] != 42:
        raise _Malformed("is damaged (bad TIFF header)")
    (ifd,) = _unpack(order + "I", data, 4)
    (count,) = _unpack(order + "H", data, ifd)
    tags = {}
    for pos in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, kind, values = _unpack(order + "HHI", data, pos)
        tags[tag] = (kind, values, pos + 8)
    return order, tags


def _tiff_ints(data: bytes, order: str, entry: tuple[int, int, int]) -> tuple[int, ...]:
    """The values of an integer TIFF field, stored in the entry itself when they fit in 4 bytes."""
    kind, count, field = entry
    code = _TIFF_INT_CODES.get(kind)
    if code is None or count == 0:
        raise _Malformed("is damaged (a TIFF field has an unexpected type)")
    fmt = f"{order}{count}{code}"
    pos = field if struct.calcsize(fmt) <= 4 else _unpack(order + "I", data, field)[0]
    return _unpack(fmt, data, pos)


def _exif_orientation(exif: bytes | None) -> int:
    """Orientation from an EXIF block; 1 when there is none or it is unreadable, as viewers do."""
    if exif is None:
        return 1
    exif = exif.removeprefix(b"Exif\x00\x00")
    try:
        order, tags = _tiff_tags(exif)
        if _TIFF_ORIENTATION not in tags:
            return 1
        return _valid_orientation(_tiff_ints(exif, order, tags[_TIFF_ORIENTATION])[0])
    except _Malformed:
        return 1


def _upright_exif(exif: bytes | None) -> bytes | None:
    """The EXIF block with its orientation set to 1, for a file whose pixels were turned upright; None if unreadable."""
    if not exif:
        return None
    exif = bytearray(exif.removeprefix(b"Exif\x00\x00"))
    try:
        order, tags = _tiff_tags(exif)
        if _TIFF_ORIENTATION in tags:
            kind, _, field = tags[_TIFF_ORIENTATION]
            if kind in _TIFF_INT_CODES:
                struct.pack_into(order + _TIFF_INT_CODES[kind], exif, field, 1)
    except (_Malformed, struct.error):
        return None
    return bytes(exif)


def _valid_orientation(value: int) -> int:
    return value if 1 <= value <= 8 else 1


def _unpack(fmt: str, data: bytes, pos: int) -> tuple:
    try:
        return struct.unpack_from(fmt, data, pos)
    except struct.error:
        raise _Malformed(_TRUNCATED) from None


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
    chroma = rgb_to_ycbcr(rgb[::step, ::step])[..., 1:] - 0.5
    return float(np.abs(chroma).mean())


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: through links and other spellings when both exist."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
