"""The README's before/after picture: mono input | colour camera | dualcam output, side by side.

    python benchmarks/demo_figure.py MONO COLOR OUTPUT [--out benchmarks/results/demo_motorcycle.jpg]
"""
from __future__ import annotations

import argparse

import cv2
import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mono")
    p.add_argument("color")
    p.add_argument("output")
    p.add_argument("--out", default="benchmarks/results/demo_motorcycle.jpg")
    p.add_argument("--width", type=int, default=1500, help="width of the whole figure in pixels")
    args = p.parse_args()
    mono = cv2.cvtColor(cv2.imread(args.mono, cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
    panels = [mono, cv2.imread(args.color), cv2.imread(args.output)]
    gap = np.full((mono.shape[0], 8, 3), 255, np.uint8)
    figure = np.hstack([panels[0], gap, panels[1], gap, panels[2]])
    scale = args.width / figure.shape[1]
    figure = cv2.resize(figure, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cv2.imwrite(args.out, figure, [cv2.IMWRITE_JPEG_QUALITY, 88])


if __name__ == "__main__":
    main()
