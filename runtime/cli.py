"""dualcam-run: colour the mono camera's image with the colours of the colour camera's image.

Heavy modules load after the arguments are parsed, so --help and --version answer at once.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from importlib.metadata import version
from pathlib import Path

EPILOG = """exit codes:
  0    every output was written
  2    bad input: a file, an option or the pair itself (one line on stderr names it); nothing was written
       for that pair (with --pairs: the others still are, one line each; an output that is another pair's
       input, or two pairs' output, stops the whole batch before it starts)
  1    internal error (a bug: please report it with the traceback)
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM); no partial file is left

The output is the mono image's size and luma: its luma equals the mono image to within the rounding of the
output samples, except on the few pixels whose colour leaves the RGB cube and is clipped. The colour image
gives the chroma; it may have another resolution or field of view, it is brought to the mono image's geometry. A
portrait shot (the cameras one above the other) is detected and handled. A pair whose geometry cannot be
verified (too few feature matches: not the same scene?) or that stays misaligned is refused unless
--accept-unverified. Input: PNG, JPEG, TIFF, WebP; HEIC/HEIF with pip install 'dualcam[heic]'.
The input's EXIF is kept in PNG, JPEG and WebP outputs.

--pairs DIR colours every <name>_mono.<ext> with its <name>_color.<ext>; --pairs LIST.txt reads one pair a
line, "mono color [output]" (paths relative to the list, quoted where they hold spaces; # starts a comment).
The model is loaded once."""

# API parameter names in InputError lines -> the options a user of this command types.
FLAGS = {"threads": "--threads", "memory_budget_mb": "--memory-budget", "provider": "--provider", "model": "--model",
         "camera_side": "--camera-side", "quality": "--quality", "max_chroma_scale": "--max-chroma-scale"}
ADVICE = {"rectify=True": "--rectify", "accept_unverified=True": "--accept-unverified"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="dualcam-run", description=__doc__.splitlines()[0], epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mono", type=Path, nargs="?", help="the mono camera's image (PNG, JPEG, TIFF, WebP, HEIC; 8 or 16 bit)")
    p.add_argument("color", type=Path, nargs="?", help="the colour camera's image (any resolution)")
    p.add_argument("--pairs", type=Path, metavar="DIR|LIST", help="colour many pairs with the model loaded once (see below)")
    p.add_argument("-o", "--output", type=Path, help="output image; .png, .jpg, .tif or .webp (default: <mono stem>."
                                                     "color.png in the current folder); with --pairs, the output folder "
                                                     "(default: the folder of the pairs or of the list)")
    p.add_argument("--quality", type=int, default=95, metavar="1-100", help="JPEG/WebP output quality (default 95)")
    p.add_argument("--camera-side", default="auto", choices=("auto", "left", "right"),
                   help="side of the colour camera, seen from behind the phone (default: measured)")
    p.add_argument("--rectify", action="store_true",
                   help="correct a same-size pair whose rows are not aligned (rotation, scale, vertical shift) "
                        "instead of refusing it; another resolution is always corrected")
    p.add_argument("--accept-unverified", action="store_true",
                   help="colour a pair whose geometry cannot be verified or stays misaligned after correction, "
                        "instead of refusing it (the result may have wrong colours)")
    p.add_argument("--save-confidence", type=Path, metavar="PATH",
                   help="write the per-pixel confidence as 8-bit grey (255 = confident); with --pairs, a folder")
    p.add_argument("--provider", default="auto", help="auto, cpu, xnnpack, nnapi or coreml (default: best available; "
                                                      "one asked for by name must run the model, or it is an error)")
    p.add_argument("--threads", type=int, default=0, help="onnxruntime threads, at most the CPU cores (0: its default)")
    p.add_argument("--model", default=None, help="int8, fp32, mobile, mobile_int8, an export folder (dualcam-export "
                                                 "--out) or a model file beside its manifest.json (default: int8 on "
                                                 "CPUs, mobile_int8 on NNAPI, mobile on CoreML)")
    p.add_argument("--memory-budget", type=int, default=None, metavar="MB",
                   help="peak memory to stay under (default 1024): decides the memory arena and, for the CPU models, "
                        "the tile; a pair that cannot fit is refused before the model runs")
    p.add_argument("--max-chroma-scale", type=float, default=1.0, metavar="S",
                   help="predict colour at most at this fraction of the mono resolution (0.125-1, default 1): lower "
                        "averages more of the colour camera's noise and runs faster; the detail comes from the mono image")
    p.add_argument("--no-chroma-filter", dest="chroma_filter", action="store_false",
                   help="keep the model's colours as predicted, without the 3x3 guided filter that removes the "
                        "colour camera's noise left in flat regions")
    p.add_argument("--json", action="store_true", help="print each report as one JSON object a line")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.add_argument("--version", action="version", version=f"dualcam {version('dualcam')}")
    args = p.parse_args(argv)
    single = args.mono is not None and args.color is not None
    if (args.pairs is None) != single or (args.pairs is not None and args.mono is not None):
        p.error("give MONO COLOR, or --pairs DIR|LIST")
    return args


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so the atomic writes clean up as for Ctrl-C."""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    signal.signal(signal.SIGTERM, terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("dualcam-run: interrupted; no partial output was left", file=sys.stderr)
        return 130
    except Terminated:
        print("dualcam-run: terminated; no partial output was left", file=sys.stderr)
        return 128 + signal.SIGTERM


def error_line(error: Exception, program: str = "dualcam-run") -> str:
    """An InputError as the one line a command prints, with API parameter names as its options."""
    problem = error.problem
    for argument, flag in ADVICE.items():
        problem = problem.replace(argument, flag)
    return f"{program}: {FLAGS.get(error.source, error.source)}: {problem}"


def run(args: argparse.Namespace) -> int:
    from .batch import check_batch
    from .colorize import Colorizer
    from .errors import InputError
    from .session import DEFAULT_BUDGET_MB, OrtModel

    try:
        if not 1 <= args.quality <= 100:
            raise InputError("quality", f"must be 1 to 100, not {args.quality}")
        jobs, problems = list_jobs(args)
        check_batch(jobs)  # every output against every input and every other output, before any work
        budget = DEFAULT_BUDGET_MB if args.memory_budget is None else args.memory_budget
        session = OrtModel.load(args.model, provider=args.provider, threads=args.threads, memory_budget_mb=budget)
        colorizer = Colorizer(session, camera_side=args.camera_side, rectify=args.rectify,
                              accept_unverified=args.accept_unverified, max_chroma_scale=args.max_chroma_scale,
                              chroma_filter=args.chroma_filter)
    except InputError as error:
        print(error_line(error), file=sys.stderr)
        return 2
    for problem in problems:
        print(error_line(problem), file=sys.stderr)
    failed = len(problems) + sum(not colorize_job(colorizer, job, args) for job in jobs)
    return 2 if failed else 0


def colorize_job(colorizer, job, args: argparse.Namespace) -> bool:
    """One pair read, coloured and written, its line printed; False (and its error line) if it failed."""
    from .chroma import upsample_confidence
    from .errors import InputError
    from .imageio import check_output, write_image
    from .pair import load_pair

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            live = sys.stderr.isatty() and done < total  # redraw one line on a terminal, else one line per tile
            print(f"\rdualcam-run: tile {done}/{total}", end="" if live else "\n", file=sys.stderr, flush=True)

    try:
        pair = load_pair(job.mono, job.color)
        check_output(job.output, pair.bit_depth)
        image, report = colorizer(pair, progress)
        if job.confidence:
            write_image(job.confidence, upsample_confidence(report.confidence_map, pair.mono_y.shape), 8, job.inputs)
        write_image(job.output, image, pair.bit_depth, job.inputs, args.quality, pair.exif)
    except InputError as error:
        print(error_line(error), file=sys.stderr)
        return False
    except MemoryError:
        print(f"dualcam-run: {job.mono}: out of memory; lower --memory-budget to what this device really has",
              file=sys.stderr)
        return False
    report.output = str(job.output)
    if job.confidence:
        report.confidence["file"] = str(job.confidence)
    for warning in report.warnings:
        print(f"dualcam-run: warning: {job.output}: {warning}", file=sys.stderr)
    print(json.dumps(report.as_dict()) if args.json else report.summary(), flush=True)
    return True


def list_jobs(args: argparse.Namespace) -> tuple[list, list]:
    """The pairs to colour (batch.Job), and the errors of pairs a folder names but cannot make."""
    from . import batch
    from .errors import InputError

    if args.pairs is None:
        return batch.single(args.mono, args.color, args.output, args.save_confidence), []
    if not args.pairs.exists():
        raise InputError(args.pairs, "does not exist")
    out = args.output or (args.pairs if args.pairs.is_dir() else args.pairs.parent)
    for folder, option in ((out, "-o"), (args.save_confidence, "--save-confidence")):
        if folder is not None and not folder.is_dir():
            raise InputError(folder, f"with --pairs, {option} must be an existing folder")
    if args.pairs.is_dir():
        jobs, problems = batch.from_folder(args.pairs, out, args.save_confidence)
    elif args.pairs.is_file():
        jobs, problems = batch.from_list(args.pairs, out, args.save_confidence), []
    else:
        raise InputError(args.pairs, "is neither a folder nor a list file")
    if not jobs and not problems:
        raise InputError(args.pairs, "has no pairs (files named <name>_mono.<ext> and <name>_color.<ext>)")
    return jobs, problems


if __name__ == "__main__":
    sys.exit(main())
