"""The pair in the network's frame and back: one object owns every step of that mapping.

The network sees one arrangement only: rows of a landscape pair, the colour camera on the left (a mono
pixel's candidates lie to its right in the reference), both images on the mono image's pixel grid, at the
chroma working scale, the reference moved so the d candidates start where the pair's disparities start. A pair
reaches it by up to five steps, always in this order:

1. transpose: a portrait shot (the cameras one above the other) turned into rows;
2. warp: a colour camera of another resolution, field of view or a small misalignment brought onto the mono
   image's grid by the similarity the rectification check fitted (full resolution);
3. scale: both images area-averaged to the working scale that fits the disparities into the d candidates;
4. flip: the colour camera on the right mirrored to the left;
5. offset: the reference moved left by the candidate offset (right for a negative one), its edge column
   repeated into the columns it leaves, so a mono pixel's candidates are x + offset .. x + offset + d - 1; a tile
   whose own matches need it starts its candidates further still (`tile_windows`).

`restore` undoes the flip and the transposition of anything the pipeline computes in that frame (chroma,
confidence); the scale is undone by the guided upsampling, which needs the full-resolution mono image.
`seen` says which pixels of the frame the colour camera's own image covers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .color import each_channel, rgb_to_ycbcr
from .scale import RANGE_MARGIN, tile_window
from .tiling import TileGrid


@dataclass(frozen=True)
class Arrangement:
    """How one pair maps into the network's frame; built by `geometry.measure` (or by hand for a known rig)."""

    mono_shape: tuple[int, int]  # (H, W) of the mono image as given
    transposed: bool = False
    flipped: bool = False
    scale: float = 1.0
    # 2x3 affine of colour px into mono px (after the transposition); None: the colour image is on the mono grid
    color_to_mono: np.ndarray | None = None
    color_shape: tuple[int, int] | None = None  # (h, w) of the colour image after the transposition
    offset: int = 0  # the first candidate's disparity, working-scale px (`scale.candidate_window`)
    # (N, 3) x, y, dx of the pair's matches in the frame at full resolution (transposed, flipped): tile windows
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def full_shape(self) -> tuple[int, int]:
        """(H, W) of the mono image transposed into rows, at full resolution."""
        return self.mono_shape[::-1] if self.transposed else self.mono_shape

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w) of the network's frame: the full shape at the working scale."""
        if self.scale == 1.0:
            return self.full_shape
        height, width = self.full_shape
        return max(1, round(height * self.scale)), max(1, round(width * self.scale))

    def _scaled_flipped(self, image: np.ndarray) -> np.ndarray:
        """Steps 3 and 4 for an image already in rows on the mono grid (the flip is a view)."""
        if self.scale != 1.0:
            image = cv2.resize(np.ascontiguousarray(image), self.shape[::-1], interpolation=cv2.INTER_AREA)
        return image[:, ::-1] if self.flipped else image

    def mono(self, mono_y: np.ndarray) -> np.ndarray:
        """(H, W) mono luma as given -> (h, w) in the network's frame."""
        return np.ascontiguousarray(self._scaled_flipped(mono_y.T if self.transposed else mono_y))

    def reference(self, color_rgb: np.ndarray) -> np.ndarray:
        """(h', w', 3) colour RGB as given (samples or [0, 1] floats) -> (h, w, 3) reference YCbCr in the network's
        frame. Warped, scaled, flipped and moved one channel at a time: the full-resolution float planes are one
        channel's."""
        if self.transposed:
            color_rgb = color_rgb.swapaxes(0, 1)
        if self.color_to_mono is None and color_rgb.shape[:2] != self.full_shape:
            raise ValueError(f"a colour image of {color_rgb.shape[:2]} needs a warp onto the mono grid {self.full_shape}")

        def into_frame(plane: np.ndarray) -> np.ndarray:
            if self.color_to_mono is not None:
                height, width = self.full_shape
                plane = cv2.warpAffine(np.ascontiguousarray(plane), self.color_to_mono, (width, height),
                                       flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            return moved(self._scaled_flipped(plane), self.offset)

        return rgb_to_ycbcr(each_channel(color_rgb, into_frame))

    def seen(self) -> np.ndarray | None:
        """(h, w) bool in the network's frame: True where the colour camera's image covers the pixel, False where the
        warped reference holds only its border replicated past the edge of its view. None: it covers everything."""
        if self.color_to_mono is None:
            return None
        to_color = cv2.invertAffineTransform(self.color_to_mono)
        # pixel centres at full resolution, one row and one column (the planes of the frame are formed one at a time)
        ys, xs = ((np.arange(n, dtype=np.float32) + 0.5) / self.scale - 0.5 for n in self.shape)
        ys, xs = ys[:, None], xs[None, :]
        height, width = self.color_shape
        x = to_color[0, 0] * xs + to_color[0, 1] * ys + to_color[0, 2]
        inside = (x >= -0.5) & (x <= width - 0.5)
        del x
        y = to_color[1, 0] * xs + to_color[1, 1] * ys + to_color[1, 2]
        inside &= (y >= -0.5) & (y <= height - 0.5)
        if inside.all():
            return None
        return inside[:, ::-1] if self.flipped else inside

    def tile_windows(self, grid: TileGrid, range_margin: float = RANGE_MARGIN) -> list[tuple[int, bool]]:
        """`scale.tile_window` of each tile of `grid` (in its `origins` order) from the matches inside it: how much
        further than the pair's window its candidates start, and whether its disparities fit them. Without samples:
        the pair's window everywhere."""
        if self.samples is None:
            return [(0, True)] * len(grid)
        x, y = ((self.samples[:, i] + 0.5) * self.scale - 0.5 for i in (0, 1))
        dx = self.samples[:, 2] * self.scale - self.offset
        return [tile_window(dx[(x >= left - 0.5) & (x < left + grid.tile_width - 0.5) & (y >= top - 0.5)
                               & (y < top + grid.tile_height - 0.5)], grid.max_disparity, range_margin)
                for top, left in grid.origins()]

    def restore(self, image: np.ndarray) -> np.ndarray:
        """(h, w[, C]) in the network's frame -> the mono image's own orientation, still at the working scale."""
        if self.flipped:
            image = image[:, ::-1]
        return np.ascontiguousarray(image.swapaxes(0, 1) if self.transposed else image)


def moved(image: np.ndarray, offset: int) -> np.ndarray:
    """image[:, x + offset] at every column x, the edge column repeated past either side (a view for offset 0)."""
    if offset == 0:
        return image
    columns = np.clip(np.arange(image.shape[1]) + offset, 0, image.shape[1] - 1)
    return image[:, columns]
