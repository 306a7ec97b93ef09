"""dualcam-run: colour the mono camera's image with the colours of the colour camera's image.

Heavy modules load after the arguments are parsed, so --help and --version answer at once.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

EPILOG = """exit codes:
  0  the colour image was written
  2  bad input: a file, an option or the pair itself (one line on stderr names it); nothing was written
  1  internal error (a bug: please report it with the traceback)

The mono image gives the luma, pixel for pixel; the colour image gives Cb/Cr. Both must come from the
same capture, rectified (rows aligned); --rectify corrects a small rotation or vertical shift."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="dualcam-run", description=__doc__.splitlines()[0], epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mono", type=Path, help="the mono camera's image (PNG, JPEG or TIFF; 8 or 16 bit)")
    p.add_argument("color", type=Path, help="the colour camera's image, same size")
    p.add_argument("-o", "--output", type=Path, help="output image (default: <mono stem>.color.png beside it)")
    p.add_argument("--baseline", default="auto", choices=("auto", "left", "right"),
                   help="side of the colour camera, seen from behind the phone (default: measured)")
    p.add_argument("--rectify", action="store_true", help="correct a pair that is not rectified instead of stopping")
    p.add_argument("--provider", default="auto", help="auto, cpu, xnnpack, nnapi or coreml (default: best available)")
    p.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: its default)")
    p.add_argument("--model", default=None, help="int8, fp32, mobile or a path to an exported model "
                                                 "(default: int8 on CPUs, mobile on NNAPI/CoreML)")
    p.add_argument("--memory-budget", type=int, default=None, metavar="MB", help="peak memory to stay under (default 2048)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.add_argument("--version", action="version", version=f"dualcam {version('dualcam')}")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from .colorize import DEFAULT_BUDGET_MB, colorize
    from .errors import InputError
    from .imageio import check_output, write_image

    output = args.output or args.mono.with_name(f"{args.mono.stem}.color.png")

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            live = sys.stderr.isatty() and done < total  # redraw one line on a terminal, else one line per tile
            print(f"\rdualcam-run: tile {done}/{total}", end="" if live else "\n", file=sys.stderr, flush=True)

    try:
        if args.threads < 0:
            raise InputError("--threads", "must be 0 or more")
        if args.memory_budget is not None and args.memory_budget <= 0:
            raise InputError("--memory-budget", "must be a positive number of MB")
        check_output(output, 8, (args.mono, args.color))  # before the work; 16-bit limits are checked on writing
        image, report = colorize(args.mono, args.color, baseline=args.baseline, rectify=args.rectify,
                                 provider=args.provider, model=args.model, threads=args.threads,
                                 memory_budget_mb=args.memory_budget or DEFAULT_BUDGET_MB, progress=progress)
        write_image(output, image, report["bit_depth"], inputs=(args.mono, args.color))
    except InputError as error:
        print(f"dualcam-run: {error}", file=sys.stderr)
        return 2
    except MemoryError:
        print("dualcam-run: out of memory; lower --memory-budget to what this device really has", file=sys.stderr)
        return 2
    report["output"] = str(output)
    for warning in report["warnings"]:
        print(f"dualcam-run: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    else:
        t = report["timings_s"]
        print(f"{output}: {report['size']['width']}x{report['size']['height']}, colour camera {report['camera_side']}, "
              f"chroma scale {report['chroma_scale']:g}, {report['tiles']['count']} tiles, "
              f"{report['model']['role']} on {report['provider']['used']}, {sum(t.values()):.1f} s, "
              f"peak {report['peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
