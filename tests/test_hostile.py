"""Hostile input, round two: batches that would lose files, names at the file system's limits, list files that are
not lists, model folders whose manifest is wrong, signals. Each case: its exit code, one stderr line naming the
problem, no file left behind and the inputs unchanged."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import pytest

from dualcam.runtime.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "samples"
CROP = (slice(100, 356), slice(60, 460))  # one tile of the sample pair


@pytest.fixture()
def folder(tmp_path) -> Path:
    """a_mono.png, a_color.png, c_mono.png, c_color.png: the sample crop twice."""
    mono = cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_GRAYSCALE)[CROP]
    color = cv2.imread(str(SAMPLES / "motorcycle_color.png"))[CROP]
    for name in ("a", "c"):
        cv2.imwrite(str(tmp_path / f"{name}_mono.png"), mono)
        cv2.imwrite(str(tmp_path / f"{name}_color.png"), color)
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(capsys, argv: list[str], expected: str, folder: Path) -> None:
    """Exit 2, one line containing `expected`, the folder exactly as before."""
    before = snapshot(folder)
    code = main([*argv, "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("dualcam-run: ") and expected in err[0], (code, err)
    assert snapshot(folder) == before


def write_list(folder: Path, text: str, name: str = "pairs.txt", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_batch_output_that_is_another_pairs_input_stops_the_batch(folder, capsys):
    pairs = write_list(folder, "a_mono.png a_color.png c_mono.png\nc_mono.png c_color.png c.out.png\n")
    refused(capsys, ["--pairs", str(pairs)], "c_mono.png: is the input", folder)


def test_two_pairs_with_one_output_stop_the_batch(folder, capsys):
    for sub in ("dup1", "dup2"):
        (folder / sub).mkdir()
        shutil.copy(folder / "a_mono.png", folder / sub / "x_mono.png")
        shutil.copy(folder / "a_color.png", folder / sub / "x_color.png")
    (folder / "out").mkdir()
    pairs = write_list(folder, "dup1/x_mono.png dup1/x_color.png\ndup2/x_mono.png dup2/x_color.png\n")
    refused(capsys, ["--pairs", str(pairs), "-o", str(folder / "out")], "would be written twice", folder)


def test_names_at_the_file_systems_limit(folder, capsys):
    mono, color = str(folder / "a_mono.png"), str(folder / "a_color.png")
    refused(capsys, [mono, color, "-o", str(folder / ("x" * 300 + ".png"))], "this file system allows 255", folder)
    longest = folder / ("y" * 251 + ".png")  # 255 bytes: legal, and the temporary file beside it must be too
    assert main([mono, color, "-o", str(longest), "-q"]) == 0 and longest.is_file()


@pytest.mark.parametrize("case", ["image", "latin-1", "unclosed quote"])
def test_a_list_file_that_is_not_a_list_is_one_line(folder, capsys, case):
    if case == "image":
        pairs, expected = folder / "a_color.png", "binary data"
    elif case == "latin-1":
        pairs, expected = write_list(folder, "a_mono.png a_color.png caf\xe9.png\n", encoding="latin-1"), "not UTF-8"
    else:
        pairs, expected = write_list(folder, '"a_mono.png a_color.png\n'), "line 1: No closing quotation"
    refused(capsys, ["--pairs", str(pairs)], expected, folder)


def test_list_files_take_quoted_paths_with_spaces(folder, capsys):
    (folder / "my pair").mkdir()
    for name in ("a_mono.png", "a_color.png"):
        shutil.copy(folder / name, folder / "my pair" / name)
    pairs = write_list(folder, '"my pair/a_mono.png" "my pair/a_color.png" "out put.png"  # spaces\n')
    assert main(["--pairs", str(pairs), "-q"]) == 0
    assert (folder / "out put.png").is_file()


def test_a_mono_without_partner_fails_alone_and_the_others_go_on(folder, capsys):
    (folder / "c_color.png").unlink()
    assert main(["--pairs", str(folder), "-q"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if ": warning: " not in line]
    assert len(errors) == 1 and "c_mono.png: needs exactly one c_color" in errors[0]
    assert (folder / "a.color.png").is_file() and not (folder / "c.color.png").exists()


@pytest.mark.parametrize("change, expected", [
    (lambda m: m.update(max_disparity="sixty-four"), "'max_disparity' must be a int"),
    (lambda m: m["files"]["int8"].pop("sha256"), "'sha256' must be a non-empty string"),
    (lambda m: m.update(files=list(m["files"].values())), "'files' must map each role"),
    (lambda m: m["tile"].update(overlap=500), "'overlap' must be a int from 0 to"),
])
def test_a_model_folder_whose_manifest_is_wrong_is_one_line(folder, capsys, change, expected):
    models = folder / "models"
    shutil.copytree(SAMPLES.parent / "models", models)
    manifest = json.loads((models / "manifest.json").read_text())
    change(manifest)
    (models / "manifest.json").write_text(json.dumps(manifest))
    refused(capsys, [str(folder / "a_mono.png"), str(folder / "a_color.png"), "--model", str(models),
                     "-o", str(folder / "o.png")], "manifest.json: ", folder)
    main([str(folder / "a_mono.png"), str(folder / "a_color.png"), "--model", str(models), "-o", str(folder / "o.png")])
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [(["--memory-budget", "0"], "--memory-budget: must be a positive"),
                                            (["--model", ""], "--model: is empty")])
def test_options_that_used_to_mean_the_default_are_refused(folder, capsys, argv, expected):
    refused(capsys, [str(folder / "a_mono.png"), str(folder / "a_color.png"), *argv, "-o", str(folder / "o.png")],
            expected, folder)


def test_an_export_folder_is_a_model(folder, capsys):
    assert main([str(folder / "a_mono.png"), str(folder / "a_color.png"), "--model", str(SAMPLES.parent / "models"),
                 "-o", str(folder / "o.png"), "-q", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["role"] == "int8"


def test_the_default_output_goes_to_the_current_folder_not_beside_the_input(folder, tmp_path_factory, monkeypatch):
    here = tmp_path_factory.mktemp("here")
    monkeypatch.chdir(here)
    before = snapshot(folder)
    assert main([str(folder / "a_mono.png"), str(folder / "a_color.png"), "-q"]) == 0
    assert (here / "a_mono.color.png").is_file() and snapshot(folder) == before


def test_the_readmes_python_example_runs_as_written(folder, monkeypatch):
    """Newcomers copy it first: it must run on files named as it names them, and keep the EXIF."""
    import re

    readme = (SAMPLES.parent.parent / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    for stem in ("mono", "color", "b_mono", "b_color"):
        shutil.copy(folder / f"a_{stem.removeprefix('b_')}.png", folder / f"{stem}.png")
    monkeypatch.chdir(folder)
    exec(compile(example, "README.md", "exec"), {})
    assert (folder / "a.color.png").is_file() and (folder / "b.color.png").is_file()
