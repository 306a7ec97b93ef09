"""The pairs one dualcam-run colours, and the check of all of them together before the first one starts.

One pair (MONO COLOR), a folder (every <name>_mono.<ext> with its <name>_color.<ext>) or a list file (one pair a
line, "mono color [output]", shell-style quoting for paths with spaces, # starts a comment). Every output is
checked against every input and every other output of the batch before any work is done, so no pair can write
over another pair's input or output.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .imageio import check_output, same_file

INPUT_TYPES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".heic", ".heif")
LIST_MAX_BYTES = 1 << 20  # a list of pairs is text; anything bigger is something else


@dataclass(frozen=True)
class Job:
    mono: Path
    color: Path
    output: Path
    confidence: Path | None = None  # where the confidence map goes, if asked for
    where: str = ""  # where the pair was named, for messages: "line 3 of pairs.txt"

    @property
    def inputs(self) -> tuple[Path, Path]:
        return self.mono, self.color


def single(mono: Path, color: Path, output: Path | None, confidence: Path | None) -> list[Job]:
    """One pair; the output defaults to <mono stem>.color.png in the current folder (never among the inputs)."""
    return [Job(mono, color, output or Path(f"{mono.stem}.color.png"), confidence)]


def from_folder(folder: Path, out: Path, confidence: Path | None) -> tuple[list[Job], list[InputError]]:
    """Every <name>_mono.<ext> of `folder` with its one <name>_color.<ext>; a mono without one is an error of its
    own, and the other pairs go on."""
    jobs, problems = [], []
    for mono in sorted(folder.iterdir()):
        name = mono.stem.removesuffix("_mono")
        if mono.suffix.lower() not in INPUT_TYPES or not mono.stem.endswith("_mono"):
            continue
        colors = [c for c in sorted(folder.glob(f"{name}_color.*")) if c.suffix.lower() in INPUT_TYPES]
        if len(colors) != 1:
            problems.append(InputError(mono, f"needs exactly one {name}_color.<image type> beside it, found {len(colors)}"))
            continue
        jobs.append(Job(mono, colors[0], out / f"{name}.color.png",
                        confidence / f"{name}.confidence.png" if confidence else None, str(mono)))
    return jobs, problems


def from_list(path: Path, out: Path, confidence: Path | None) -> list[Job]:
    """The pairs a list file names, paths relative to it."""
    text = _read_list(path)
    jobs = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number} of {path}"
        try:
            lexer = shlex.shlex(line, posix=True)
            lexer.whitespace_split, lexer.commenters = True, "#"
            fields = list(lexer)
        except ValueError as error:  # an unclosed quote
            raise InputError(path, f"line {number}: {error}") from None
        if not fields:
            continue
        if len(fields) not in (2, 3):
            raise InputError(path, f"line {number}: expected 'mono color [output]', got {len(fields)} fields")
        mono, color = (path.parent / f for f in fields[:2])
        name = mono.stem.removesuffix("_mono")
        jobs.append(Job(mono, color, path.parent / fields[2] if len(fields) == 3 else out / f"{name}.color.png",
                        confidence / f"{name}.confidence.png" if confidence else None, where))
    return jobs


def _read_list(path: Path) -> str:
    try:
        if path.stat().st_size > LIST_MAX_BYTES:
            raise InputError(path, f"is over {LIST_MAX_BYTES >> 20} MB: not a list of pairs")
        data = path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror or error})") from None
    if b"\0" in data:
        raise InputError(path, "is not a text list of pairs (it holds binary data: is it an image? give two images "
                               "as MONO COLOR)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(path, f"line {line} is not UTF-8 text (byte 0x{data[error.start]:02x}); save the list as "
                               "UTF-8") from None


def check_batch(jobs: list[Job]) -> None:
    """Every output and confidence path: a writable image name (before any work), none an input of any pair,
    no two alike. InputError naming the first that is not."""
    inputs = [(source, job.where) for job in jobs for source in job.inputs]
    written: dict[str, str] = {}
    for job in jobs:
        for output in filter(None, (job.output, job.confidence)):
            check_output(output, 8)
            for source, where in inputs:
                if same_file(output, source):
                    raise InputError(output, f"is the input {source}{f' ({where})' if where else ''}; refusing to "
                                             "overwrite it")
            key = os.path.realpath(output)
            if key in written:
                raise InputError(output, f"would be written twice ({written[key] or 'this pair'} and "
                                         f"{job.where or 'this pair'}); give each pair its own output")
            written[key] = job.where
