"""Cover an image of any size with the model's tile, and blend the tiles' chroma back together.

Each mono tile sees a reference tile d columns wider on the search side (the colour camera sits left
of the mono camera in the network's arrangement, so a mono pixel's candidates lie to its right in
the reference). Tiles overlap so every output pixel has context; Cb/Cr are blended with linear ramps
across each overlap, so no seam appears where two tiles meet. Images smaller than a tile, and
reference columns past the right border, are filled by edge replication, which is what the network
saw at image borders during training.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

OVERLAP = 32  # px at the working scale between neighbouring tiles, fewer for tiles under 128 px
DEFAULT_TILE = (256, 512)  # (height, width) dualcam-export fixes unless told otherwise
MIN_TILE = 64  # px a side: a model whose tile follows the image is never given less context than this


def default_overlap(tile_height: int, tile_width: int) -> int:
    """The overlap dualcam-export records for a tile of this shape."""
    return min(OVERLAP, min(tile_height, tile_width) // 4)


def fitted_tile(length: int, tile: int, overlap: int, stride: int) -> int:
    """The smallest tile side (a multiple of `stride`, at least MIN_TILE, at most `tile`) that covers `length` in
    no more tiles than `tile` does: a 300-px side takes two 176-px tiles, not two 256-px ones."""
    count = len(tile_starts(length, tile, overlap))
    need = -(-(length + (count - 1) * overlap) // count)
    return min(tile, max(MIN_TILE, stride * -(-need // stride)))


# (mono Y (h, w), reference Y (h, w + d), reference Cb/Cr (h, w + d, 2)) -> Cb/Cr (h, w, 2)
TileFunction = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread starts covering [0, length) with tiles overlapping by at least `overlap`."""
    if length <= tile:
        return [0]
    count = -(-(length - overlap) // (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def ramp_weights(starts: list[int], tile: int, length: int) -> list[np.ndarray]:
    """Per tile, a 1-D blending weight: 1 inside, rising linearly across the overlap with each neighbour."""
    weights = []
    for i, start in enumerate(starts):
        w = np.ones(tile, np.float32)
        if i > 0:  # overlap with the previous tile, which ends at starts[i-1] + tile
            n = starts[i - 1] + tile - start
            w[:n] = np.minimum(w[:n], (np.arange(n) + 0.5) / n)
        if i + 1 < len(starts):
            n = start + tile - starts[i + 1]
            w[tile - n:] = np.minimum(w[tile - n:], (n - np.arange(n) - 0.5) / n)
        weights.append(w[: max(0, min(tile, length - start))])
    return weights


@dataclass(frozen=True)
class TileGrid:
    """Where the tiles of one image go, all of one size."""

    height: int
    width: int
    tile_height: int
    tile_width: int
    max_disparity: int
    overlap: int

    def __post_init__(self) -> None:
        if min(self.tile_height, self.tile_width) <= 2 * self.overlap:
            raise ValueError(f"overlap {self.overlap} too large for a {self.tile_height}x{self.tile_width} tile")

    @property
    def rows(self) -> list[int]:
        return tile_starts(self.height, self.tile_height, self.overlap)

    @property
    def cols(self) -> list[int]:
        return tile_starts(self.width, self.tile_width, self.overlap)

    def __len__(self) -> int:
        return len(self.rows) * len(self.cols)

    def origins(self) -> Iterator[tuple[int, int]]:
        return ((top, left) for top in self.rows for left in self.cols)

    def tiles(self, mono_y: np.ndarray, ref_ycbcr: np.ndarray, shifts: Sequence[int] | None = None
              ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """(top, left, mono tile, reference Y tile, reference Cb/Cr tile) for every tile, as the model takes them;
        each tile's reference starts `shifts` columns further right (its own candidate window), if given."""
        for n, (top, left) in enumerate(self.origins()):
            mono = window(mono_y, top, left, self.tile_height, self.tile_width)
            start = left if shifts is None else min(left + shifts[n], ref_ycbcr.shape[1] - 1)  # inside the image
            ref = window(ref_ycbcr, top, start, self.tile_height, self.tile_width + self.max_disparity)
            yield top, left, mono, np.ascontiguousarray(ref[..., 0]), np.ascontiguousarray(ref[..., 1:])


def window(image: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """image[top:top+height, left:left+width], edge-replicated where it runs past the image."""
    piece = image[top : top + height, left : left + width]
    pad = ((0, height - piece.shape[0]), (0, width - piece.shape[1])) + ((0, 0),) * (image.ndim - 2)
    return np.pad(piece, pad, mode="edge") if any(p[1] for p in pad) else piece


def run_tiled(infer: TileFunction, grid: TileGrid, mono_y: np.ndarray, ref_ycbcr: np.ndarray,
              progress: Callable[[int, int], None] | None = None, shifts: Sequence[int] | None = None) -> np.ndarray:
    """(H, W) mono Y and (H, W, 3) reference YCbCr, one tile at a time -> (H, W, C) blended outputs of `infer`
    (Cb/Cr, and a confidence channel where the model has one); `shifts`: as `TileGrid.tiles`."""
    th, tw = grid.tile_height, grid.tile_width
    row_w = ramp_weights(grid.rows, th, grid.height)
    col_w = ramp_weights(grid.cols, tw, grid.width)
    total = None
    weight = np.zeros((grid.height, grid.width, 1), np.float32)
    for n, (top, left, mono, ref_y, ref_cbcr) in enumerate(grid.tiles(mono_y, ref_ycbcr, shifts)):
        cbcr = infer(mono, ref_y, ref_cbcr)
        if total is None:
            total = np.zeros((grid.height, grid.width, cbcr.shape[2]), np.float32)
        wy, wx = row_w[grid.rows.index(top)], col_w[grid.cols.index(left)]
        w = (wy[:, None] * wx[None, :])[..., None]
        h, ww = w.shape[:2]
        total[top : top + h, left : left + ww] += cbcr[:h, :ww] * w
        weight[top : top + h, left : left + ww] += w
        if progress is not None:
            progress(n + 1, len(grid))
    total /= weight
    return total
