"""Per-pixel confidence in the colours: where the colour camera's view of a mono pixel was found.

The best measure is the network's own: how peaked its weight volume W over the d candidates is. A model
whose export has the `confidence` output (max over candidates of W) gives that, and the runtime uses it.
The shipped models output Cb/Cr only, so the runtime falls back to a measure it can compute itself at the
working scale, from the same two images and the same d candidates on the same row: block matching from the
mono image to the colour image and back must agree (a left-right consistency check), and the match must
stay inside the colour image. Occlusions (what the colour camera cannot see), matches that leave the image,
and ambiguous regions fail it. It says where a correspondence is doubtful, not how the network decided;
the report names which measure was used.
"""
from __future__ import annotations

import cv2
import numpy as np

NETWORK = "network: peakedness of the weight volume (max over candidates)"
STEREO_CHECK = "runtime fallback: block-matching left-right consistency (the model has no confidence output)"
LOW = 0.5  # below this a pixel counts as low-confidence in the report's share
BLOCK = 9  # px, StereoBM window at the working scale
CONSISTENT_PX = 1.0  # the two directions may disagree by this much
SMOOTHING = 7  # px box filter at the working scale: the share of consistent pixels around each pixel
VALUE_RANGE = 255


def stereo_consistency(mono_y: np.ndarray, ref_y: np.ndarray, max_disparity: int) -> np.ndarray:
    """(h, w) confidence on [0, 1] for a pair at the working scale, in the network's arrangement
    (the colour camera on the left: mono pixel x is seen at x .. x + max_disparity - 1 in the reference)."""
    count = 16 * max(1, -(-max_disparity // 16))
    height, width = mono_y.shape
    # Edge-replicated margins, so block matching's own invalid borders fall outside the image.
    margin = ((BLOCK // 2, BLOCK // 2), (count, count))
    mono, ref = (np.pad(np.clip(np.rint(image * VALUE_RANGE), 0, 255).astype(np.uint8), margin, mode="edge")
                 for image in (mono_y, ref_y))
    matcher = cv2.StereoBM_create(numDisparities=count, blockSize=BLOCK)
    matcher.setUniquenessRatio(5)
    matcher.setTextureThreshold(0)
    crop = slice(BLOCK // 2, BLOCK // 2 + height), slice(count, count + width)
    # Reference = left camera, mono = right: StereoBM gives the left image's disparity, so mirror both for the mono's.
    mono_disparity = matcher.compute(np.ascontiguousarray(mono[:, ::-1]), np.ascontiguousarray(ref[:, ::-1]))[:, ::-1][crop]
    ref_disparity = matcher.compute(ref, mono)[crop]
    del mono, ref
    # In place where it can be: at a working scale of 1 this runs on 12-megapixel planes.
    mono_disparity = mono_disparity.astype(np.float32)
    mono_disparity /= 16
    ref_disparity = ref_disparity.astype(np.float32)
    ref_disparity /= 16
    columns = np.maximum(mono_disparity, 0)
    np.rint(columns, out=columns)
    columns = columns.astype(np.int32)
    columns += np.arange(width, dtype=np.int32)
    inside = (mono_disparity >= 0) & (columns < width)  # the match stays inside the colour image
    np.minimum(columns, width - 1, out=columns)
    back = np.take_along_axis(ref_disparity, columns, axis=1)
    del columns, ref_disparity
    inside &= back >= 0
    back -= mono_disparity
    inside &= np.abs(back, out=back) <= CONSISTENT_PX
    return cv2.blur(inside.astype(np.float32), (SMOOTHING, SMOOTHING), borderType=cv2.BORDER_REPLICATE)
