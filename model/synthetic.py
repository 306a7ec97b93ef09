"""Procedural stereo pairs for training, in the spirit of FlyingThings3D (Mayer et al. 2016).

A scene is a background plane and a few foreground objects, each a textured layer with a planar
disparity d = a + b u + c v. Layers live in a world frame midway between the two cameras: the left camera
sees world column u at x = u + d/2, the right one at x = u - d/2. So a right pixel x matches the left pixel
x + d with d >= 0, nearer layers have larger d: the paper's arrangement (mono = right camera, colour
reference = left). Both views are rendered by inverse warping with bilinear sampling, so both are resampled
alike, and layers are composited back to front, which gives real occlusions and disocclusions.

Textures are photographs: a texture set built by `textures.py` from Debian packages when one is given,
else the few that scikit-image ships (never its motorcycle pair: that is evaluation data); and
procedural patterns. Views are clean: camera noise and photometric differences are added elsewhere.
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import skimage

from dualcam.runtime.color import LUMA_WEIGHTS

from .textures import load_index

# Photos in skimage.data_dir that ship with the package (no download). Gray ones are colourised.
PHOTO_TEXTURES = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "ihc.png",
    "retina.jpg", "color.png", "logo.png",
    "brick.png", "grass.png", "gravel.png", "camera.png", "moon.png", "coins.png", "page.png", "text.png",
)


@dataclass(frozen=True)
class SceneConfig:
    height: int = 256
    width: int = 512
    max_disparity: float = 64.0  # full-res px; every disparity lies in [0, max_disparity)
    min_objects: int = 3
    max_objects: int = 8
    textures: str | None = None  # texture set folder (textures.py); None: scikit-image's photos
    photo_texture_fraction: float = 0.6  # share of layers textured with a photo, the rest procedural
    background_max_disparity: float = 0.7  # background disparities lie in [0, this * max_disparity)
    slanted_fraction: float = 0.5  # share of layers that are slanted rather than fronto-parallel
    max_slant: float = 0.15  # largest disparity gradient (px of disparity per px) along u and along v
    object_size: tuple[float, float] = (0.2, 1.6)  # object diameter / height, sampled log-uniformly
    photo_scale: tuple[float, float] = (0.5, 2.0)  # photo px per scene px, sampled log-uniformly


@dataclass(frozen=True)
class StereoSample:
    left: np.ndarray  # (H, W, 3) float32 RGB in [0, 1]: the colour reference camera
    right: np.ndarray  # (H, W, 3) float32 RGB in [0, 1]: the view the mono camera sees
    disp_right: np.ndarray  # (H, W) float32: right pixel x shows what left pixel x + d shows
    occluded_right: np.ndarray  # (H, W) bool: left pixel x + d is hidden by a nearer layer or off the image
    disp_left: np.ndarray  # (H, W) float32: left pixel x shows what right pixel x - d shows


@dataclass(frozen=True)
class _Texture:
    image: np.ndarray  # (h, w) or (h, w, 3) float32
    affine: tuple[float, ...] | None  # layer-local (u, v) -> image (x, y), row-major 2x3; None = identity
    color: np.ndarray | None  # 3x2 (gray image) or 3x4 affine colour map applied after sampling


@dataclass(frozen=True)
class _Layer:
    mask: np.ndarray | None  # (h, w) float32 alpha over the layer's box; None = opaque everywhere
    u0: int  # world position of the box's pixel (0, 0)
    v0: int
    shape: tuple[int, int]  # box (h, w)
    plane: tuple[float, float, float]  # (a, b, c): d = a + b u + c v in world coordinates
    texture: _Texture


def sample(seed: int, index: int, cfg: SceneConfig) -> StereoSample:
    """The index-th pair of the dataset named by seed: the same arguments give identical arrays."""
    return render_pair(np.random.default_rng([seed, index]), cfg)


def render_pair(rng: np.random.Generator, cfg: SceneConfig) -> StereoSample:
    layers = _scene(rng, cfg)
    left, disp_left, _, alphas_left = _render_view(layers, cfg, side=1)
    right, disp_right, front_right, _ = _render_view(layers, cfg, side=-1)
    occluded = _occluded_right(disp_right, front_right, alphas_left)
    return StereoSample(left, right, disp_right, occluded, disp_left)


@functools.cache
def available_photos(textures: str | None = None) -> tuple[str, ...]:
    """Paths of the photos scenes are painted with: the texture set's, or scikit-image's."""
    if textures is not None:
        return tuple(str(Path(textures) / e.file) for e in load_index(Path(textures)))
    paths = (os.path.join(skimage.data_dir, n) for n in PHOTO_TEXTURES)
    return tuple(p for p in paths if os.path.exists(p))


@functools.lru_cache(maxsize=48)  # ~15 MB a photo: bounded, though a texture set holds a thousand
def _photo(path: str) -> tuple[np.ndarray, ...]:
    """A photo as float32 RGB (or grey) in [0, 1], with 2x-reduced levels so minifying it does not alias."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"{path}: unreadable texture")
    if img.ndim == 3:
        img = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)
    levels = [img.astype(np.float32) / (65535 if img.dtype == np.uint16 else 255)]
    while min(levels[-1].shape[:2]) >= 256:
        levels.append(cv2.pyrDown(levels[-1]))
    return tuple(levels)


# ---------------------------------------------------------------------------------------------- scene


def _scene(rng: np.random.Generator, cfg: SceneConfig) -> list[_Layer]:
    """Background first, then objects sorted far to near, each nearer than the background behind it."""
    h, w, dmax = cfg.height, cfg.width, cfg.max_disparity
    # The world columns either view can see: u = x -+ d/2 for x in [0, W), d in [0, dmax).
    u0, v0 = math.floor(-dmax / 2) - 1, -1
    bg_shape = (h + 2, math.ceil(w + dmax) + 3)
    bg_box = (u0, v0, u0 + bg_shape[1] - 1, v0 + bg_shape[0] - 1)
    bg_plane = _plane(rng, cfg, bg_box, 0.0, cfg.background_max_disparity * dmax, rng.random())
    layers = [_Layer(None, u0, v0, bg_shape, bg_plane, _texture(rng, cfg, *bg_shape))]

    hi = dmax - 0.01  # keeps d < max_disparity after rounding to float32
    objects = []
    for _ in range(rng.integers(cfg.min_objects, cfg.max_objects + 1)):
        mask, ou, ov = _silhouette(rng, cfg, bg_box)
        box = (ou, ov, ou + mask.shape[1] - 1, ov + mask.shape[0] - 1)
        lo = min(max(_plane_at(bg_plane, u, v) for u in box[::2] for v in box[1::2]) + 1.0, hi)
        plane = _plane(rng, cfg, box, lo, hi, math.sqrt(rng.random()))  # biased near: large d is common
        objects.append(_Layer(mask, ou, ov, mask.shape, plane, _texture(rng, cfg, *mask.shape)))
    objects.sort(key=lambda l: _plane_at(l.plane, l.u0 + l.shape[1] / 2, l.v0 + l.shape[0] / 2))
    return layers + objects


def _plane_at(plane: tuple[float, float, float], u: float, v: float) -> float:
    a, b, c = plane
    return a + b * u + c * v


def _plane(rng: np.random.Generator, cfg: SceneConfig, box: tuple[int, int, int, int],
           lo: float, hi: float, t: float) -> tuple[float, float, float]:
    """A fronto-parallel or slanted disparity plane that stays within [lo, hi] over the box, placed at
    fraction t in [0, 1] of the room left there."""
    b, c = rng.uniform(-cfg.max_slant, cfg.max_slant, 2) * (rng.random() < cfg.slanted_fraction)
    corners = [b * u + c * v for u in box[::2] for v in box[1::2]]
    span = max(corners) - min(corners)
    if span > hi - lo:
        shrink = (hi - lo) / span
        b, c, span, corners = b * shrink, c * shrink, hi - lo, [x * shrink for x in corners]
    a = lo + t * max(hi - lo - span, 0.0) - min(corners)
    return float(a), float(b), float(c)


def _silhouette(rng: np.random.Generator, cfg: SceneConfig,
                bounds: tuple[int, int, int, int]) -> tuple[np.ndarray, int, int]:
    """An antialiased object mask (ellipse, polygon, thin bar or noise blob) clipped to the world bounds,
    and the world position of its pixel (0, 0). Centres anywhere in the bounds, so objects leave the frame."""
    r = 0.5 * cfg.height * _log_uniform(rng, *cfg.object_size)
    centre = np.array([rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3])])
    kind = rng.integers(4)
    if kind == 0:  # ellipse
        pts = _ellipse(rng, r)
    elif kind == 1:  # star-shaped polygon, often non-convex
        n = rng.integers(3, 10)
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        pts = r * rng.uniform(0.4, 1.0, (n, 1)) * np.stack([np.cos(t), np.sin(t)], 1)
    elif kind == 2:  # thin bar: poles, wires, edges of frames
        half_len, half_wid = r * rng.uniform(0.5, 3.0), rng.uniform(0.75, max(1.0, 0.1 * r))
        pts = _rotate(np.array([[-half_len, -half_wid], [half_len, -half_wid],
                                [half_len, half_wid], [-half_len, half_wid]]), rng.uniform(0, np.pi))
    else:
        pts = np.array([[-1.25 * r, -1.25 * r], [1.25 * r, 1.25 * r]])  # the blob's extent, see _blob
    reach = np.abs(pts).max() + 2
    u0 = max(math.floor(centre[0] - reach), bounds[0])
    v0 = max(math.floor(centre[1] - reach), bounds[1])
    u1 = min(math.ceil(centre[0] + reach), bounds[2])
    v1 = min(math.ceil(centre[1] + reach), bounds[3])
    shape = (v1 - v0 + 1, u1 - u0 + 1)
    centre -= (u0, v0)
    if kind == 3:
        return _blob(rng, shape, centre, r), u0, v0

    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [_fixed_point(pts + centre)], 255, cv2.LINE_AA, shift=4)
    if kind < 2 and rng.random() < 0.25:  # a hole to see the background through
        hole = _ellipse(rng, 0.4 * r) + centre + rng.uniform(-0.3 * r, 0.3 * r, 2)
        cv2.fillPoly(mask, [_fixed_point(hole)], 0, cv2.LINE_AA, shift=4)
    return mask.astype(np.float32) / 255, u0, v0


def _ellipse(rng: np.random.Generator, r: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    radii = r * rng.uniform(0.5, 1.0, 2)
    return _rotate(np.stack([radii[0] * np.cos(t), radii[1] * np.sin(t)], 1), rng.uniform(0, np.pi))


def _rotate(pts: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return pts @ np.array([[c, s], [-s, c]])


def _fixed_point(pts: np.ndarray) -> np.ndarray:
    """Sub-pixel polygon vertices for OpenCV's drawing with shift=4."""
    return np.round(pts * 16).astype(np.int32)


def _blob(rng: np.random.Generator, shape: tuple[int, int], centre: np.ndarray, r: float) -> np.ndarray:
    """A smooth noise field, pulled towards a disc, thresholded with a 1 px antialiased edge.
    |noise| <= 1, so the blob lies within 1.25 r of the centre."""
    noise = cv2.resize(rng.standard_normal((5, 5), dtype=np.float32), (shape[1], shape[0]),
                       interpolation=cv2.INTER_CUBIC)
    noise /= np.abs(noise).max() + 1e-6
    y = (np.arange(shape[0], dtype=np.float32)[:, None] - centre[1]) / r
    x = (np.arange(shape[1], dtype=np.float32)[None, :] - centre[0]) / r
    f = 1 - x * x - y * y + 0.5 * noise
    gy, gx = np.gradient(f)
    return np.clip(0.5 + f / (np.sqrt(gx * gx + gy * gy) + 1e-6), 0, 1)


# ------------------------------------------------------------------------------------------- textures


def _texture(rng: np.random.Generator, cfg: SceneConfig, h: int, w: int) -> _Texture:
    """A texture for an (h, w) layer box."""
    photos = available_photos(cfg.textures)
    if photos and rng.random() < cfg.photo_texture_fraction:
        return _photo_texture(rng, cfg, photos[rng.integers(len(photos))], h, w)
    return _Texture(_procedural(rng, h, w), None, None)


def _photo_texture(rng: np.random.Generator, cfg: SceneConfig, name: str, h: int, w: int) -> _Texture:
    """A random crop of a photo: scaled, rotated, maybe mirrored, colour-jittered (gray ones colourised)."""
    levels = _photo(name)
    angle = rng.uniform(-np.pi, np.pi)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    unit = rot @ np.diag([rng.choice([-1.0, 1.0]), 1.0])  # layer -> photo at scale 1, maybe mirrored
    # Large layers get a smaller scale, down to photo_scale[0], so the photo still covers them: few
    # mirrored borders. The crop is placed inside the photo where it fits.
    unit_reach = np.abs(unit) @ (w / 2, h / 2)
    fit = float(np.min((levels[0].shape[1], levels[0].shape[0]) / (2 * unit_reach)))
    scale, level = min(_log_uniform(rng, *cfg.photo_scale), max(fit, cfg.photo_scale[0])), 0
    while scale > 1.5 and level + 1 < len(levels):
        scale, level = scale / 2, level + 1
    img = levels[level]
    lin, reach = scale * unit, scale * unit_reach
    size = np.array([img.shape[1], img.shape[0]])
    target = np.where(reach < size / 2, rng.uniform(reach, np.maximum(size - reach, reach)), size / 2)
    shift = target - lin @ (w / 2, h / 2)
    affine = tuple(float(x) for x in (*lin[0], shift[0], *lin[1], shift[1]))
    if img.ndim == 2:
        c0, c1 = _colors(rng, 2)
        return _Texture(img, affine, np.stack([c1 - c0, c0], 1))
    return _Texture(img, affine, _color_jitter(rng))


def _color_jitter(rng: np.random.Generator) -> np.ndarray:
    """A 3x4 affine RGB map: brightness, saturation and, half the time, a hue rotation."""
    wr, wg, wb = (float(x) for x in LUMA_WEIGHTS)
    to_ydiff = np.array([[wr, wg, wb], [-wr, -wg, 1 - wb], [1 - wr, -wg, -wb]])  # RGB -> Y, B-Y, R-Y
    hue = rng.uniform(-np.pi, np.pi) * (rng.random() < 0.5)
    sat, gain = rng.uniform(0.4, 1.4), rng.uniform(0.7, 1.2)
    mix = np.zeros((3, 3))
    mix[0, 0] = gain
    mix[1:, 1:] = sat * np.array([[math.cos(hue), -math.sin(hue)], [math.sin(hue), math.cos(hue)]])
    offset = np.full((3, 1), rng.uniform(-0.1, 0.1))
    return np.hstack([np.linalg.inv(to_ydiff) @ mix @ to_ydiff, offset])


def _procedural(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An (h, w, 3) float32 texture in [0, 1]: gradient, fractal noise, stripes/checkers, flat or cells."""
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]
    kind = rng.integers(6)
    c0, c1 = _colors(rng, 2)
    if kind == 0:  # smooth colour gradient
        angle = rng.uniform(0, 2 * np.pi)
        t = x * math.cos(angle) + y * math.sin(angle)
        t = (t - t.min()) / (t.max() - t.min() + 1e-6)
        return _lerp(t, c0, c1)
    if kind == 1:  # coloured fractal noise
        n = _fractal(rng, h, w, 3, rng.integers(2, 7), rng.uniform(0.3, 0.8))
        return np.clip(c0 + rng.uniform(0.05, 0.3, 3).astype(np.float32) * n, 0, 1)
    if kind == 2:  # fractal noise between two colours
        n = _fractal(rng, h, w, 1, rng.integers(2, 7), rng.uniform(0.3, 0.8))[..., 0]
        return _lerp(np.clip(0.5 + 0.3 * n, 0, 1), c0, c1)
    if kind == 3:  # stripes or checkers
        period, angle = rng.uniform(4, 48), rng.uniform(0, np.pi)
        s = _square_wave(x * math.cos(angle) + y * math.sin(angle), period)
        if rng.random() < 0.5:
            s2 = _square_wave(y * math.cos(angle) - x * math.sin(angle), period * rng.uniform(0.5, 2))
            s = s + s2 - 2 * s * s2
        return _lerp(s, c0, c1)
    if kind == 4:  # nearly flat colour: textureless regions are part of the problem
        n = _fractal(rng, h, w, 3, rng.integers(1, 5), 0.5)
        return np.clip(c0 + rng.uniform(0.003, 0.03) * n, 0, 1)
    # Voronoi cells of random colours
    cells = max(1, round(h * w / rng.uniform(6, 48) ** 2))
    seeds = np.ones((h, w), np.uint8)
    seeds[rng.integers(h, size=cells), rng.integers(w, size=cells)] = 0
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    return _colors(rng, cells + 1)[labels]


def _square_wave(t: np.ndarray, period: float) -> np.ndarray:
    """0/1 bands of the given period along t, with 1 px linear edges instead of aliased steps."""
    tri = np.abs((t / period) % 1 - 0.5)
    return np.clip((tri - 0.25) * period + 0.5, 0, 1).astype(np.float32)


def _fractal(rng: np.random.Generator, h: int, w: int, channels: int, octaves: int,
             persistence: float) -> np.ndarray:
    """Value noise summed over octaves, built coarse to fine; (h, w, channels), zero mean, unit std."""
    step = 2 ** octaves
    n = rng.standard_normal((h // step + 1, w // step + 1, channels), dtype=np.float32)
    amp = 1.0
    for _ in range(octaves):
        amp *= persistence
        size = (2 * n.shape[1], 2 * n.shape[0])
        n = cv2.resize(n, size, interpolation=cv2.INTER_LINEAR).reshape(size[1], size[0], channels)
        n += amp * rng.standard_normal(n.shape, dtype=np.float32)
    n = n[:h, :w]
    return (n - n.mean((0, 1))) / (n.std((0, 1)) + 1e-6)


def _colors(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3) random RGB colours, from gray to fully saturated."""
    c = rng.random((n, 3), dtype=np.float32)
    gray = c.mean(1, keepdims=True)
    return gray + rng.random((n, 1), dtype=np.float32) * (c - gray)


def _lerp(t: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """(h, w) weights -> (h, w, 3) colours c0 + t (c1 - c0)."""
    return cv2.transform(np.ascontiguousarray(t, dtype=np.float32), np.stack([c1 - c0, c0], 1))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


# ------------------------------------------------------------------------------------------ rendering


def _render_view(layers: list[_Layer], cfg: SceneConfig, side: int):
    """Composite the layers back to front as the left (side=1) or right (side=-1) camera sees them.

    Returns the image, the disparity and index of the front layer (alpha >= 0.5) per pixel, and each
    layer's alpha in this view as (rows, cols, alpha), None where the layer is out of view.
    """
    h, w = cfg.height, cfg.width
    image = np.zeros((h, w, 3), np.float32)
    disp = np.zeros((h, w), np.float32)
    front = np.zeros((h, w), np.int32)
    alphas: list[tuple[slice, slice, np.ndarray] | None] = []
    for k, layer in enumerate(layers):
        box = _view_box(layer, side, h, w)
        if box is None:
            alphas.append(None)
            continue
        rows, cols = box
        v = np.arange(rows.start, rows.stop, dtype=np.float32)[:, None]
        x = np.arange(cols.start, cols.stop, dtype=np.float32)[None, :]
        a, b, c = layer.plane
        u = (x - side * (a + c * v) / 2) / (1 + side * b / 2)  # x = u + side * d(u, v) / 2, solved for u
        d = a + b * u + c * v
        mu = u - layer.u0
        mv = np.ascontiguousarray(np.broadcast_to(v - layer.v0, u.shape))
        tex = _sample_texture(layer.texture, mu, mv)
        if layer.mask is None:
            alpha = np.ones(u.shape, np.float32)
            image[rows, cols] = tex
        else:
            alpha = cv2.remap(layer.mask, mu, mv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            region = image[rows, cols]
            region += alpha[..., None] * (tex - region)
        on = alpha >= 0.5
        disp[rows, cols][on] = d[on]
        front[rows, cols][on] = k
        alphas.append((rows, cols, alpha))
    return image, disp, front, alphas


def _view_box(layer: _Layer, side: int, h: int, w: int) -> tuple[slice, slice] | None:
    """The rows and columns of the view that the layer's box can reach."""
    u1, v1 = layer.u0 + layer.shape[1] - 1, layer.v0 + layer.shape[0] - 1
    xs = [u + side * _plane_at(layer.plane, u, v) / 2 for u in (layer.u0, u1) for v in (layer.v0, v1)]
    x0, x1 = max(math.floor(min(xs)) - 1, 0), min(math.ceil(max(xs)) + 2, w)
    y0, y1 = max(layer.v0, 0), min(v1 + 1, h)
    return (slice(y0, y1), slice(x0, x1)) if x0 < x1 and y0 < y1 else None


def _sample_texture(tex: _Texture, mu: np.ndarray, mv: np.ndarray) -> np.ndarray:
    if tex.affine is None:
        mx, my = mu, mv
    else:
        a00, a01, a02, a10, a11, a12 = tex.affine
        mx, my = a00 * mu + a01 * mv + a02, a10 * mu + a11 * mv + a12
    out = cv2.remap(tex.image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    if tex.color is not None:
        out = np.clip(cv2.transform(out, tex.color), 0, 1)
    return out


def _occluded_right(disp: np.ndarray, front: np.ndarray,
                    alphas_left: list[tuple[slice, slice, np.ndarray] | None]) -> np.ndarray:
    """Right pixels whose match x + d in the left view is off the image or mostly covered by a layer in
    front of the one the right pixel shows."""
    h, w = disp.shape
    x_left = np.arange(w, dtype=np.float32) + disp
    occluded = x_left > w - 1
    cover = np.zeros((h, w), np.float32)  # left-view coverage by the layers in front of layer k
    for k in reversed(range(len(alphas_left))):
        ys, xs = np.nonzero((front == k) & ~occluded)
        x = x_left[ys, xs]
        x0 = x.astype(np.int64)
        f = x - x0
        x1 = np.minimum(x0 + 1, w - 1)
        occluded[ys, xs] = cover[ys, x0] * (1 - f) + cover[ys, x1] * f > 0.5
        if alphas_left[k] is not None:
            rows, cols, alpha = alphas_left[k]
            cover[rows, cols] += alpha * (1 - cover[rows, cols])
    return occluded
