from pathlib import Path

import cv2
import numpy as np
import pytest

from dualcam.model.predict import main

SAMPLES = Path(__file__).parents[1] / "runtime" / "samples"


def crop_pair(tmp_path, mono_size=(96, 256), color_size=(96, 256)):
    mono = cv2.imread(str(SAMPLES / "motorcycle_mono.png"), cv2.IMREAD_UNCHANGED)
    color = cv2.imread(str(SAMPLES / "motorcycle_color.png"))
    paths = tmp_path / "mono.png", tmp_path / "color.png"
    cv2.imwrite(str(paths[0]), mono[200 : 200 + mono_size[0], 300 : 300 + mono_size[1]])
    cv2.imwrite(str(paths[1]), color[200 : 200 + color_size[0], 300 : 300 + color_size[1]])
    return paths


def test_predict_writes_a_color_image_whose_luma_is_the_mono_image(tmp_path):
    mono, color = crop_pair(tmp_path)
    out = tmp_path / "out.png"
    assert main([str(mono), str(color), "-o", str(out)]) == 0
    rgb = cv2.imread(str(out))[..., ::-1].astype(np.float32)
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    assert np.abs(luma - cv2.imread(str(mono), cv2.IMREAD_UNCHANGED)).mean() < 1.5
    assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 3  # it has colour


@pytest.mark.parametrize("case", ["missing", "swapped", "output is the mono input"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, case):
    """The runtime's checks, as dualcam-run makes them: predict runs its pipeline."""
    mono, color = crop_pair(tmp_path)
    out, named = tmp_path / "out.png", color
    if case == "missing":
        color = named = tmp_path / "nowhere.png"
    if case == "swapped":
        mono, color, named = color, mono, color
    if case == "output is the mono input":
        out, named = mono, mono
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    assert main([str(mono), str(color), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("dualcam.model.predict: ") and str(named) in err, err
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_color_camera_on_the_right_is_measured_and_flipped(tmp_path, capsys):
    mono, color = crop_pair(tmp_path, mono_size=(160, 320), color_size=(160, 320))
    mirrored = []
    for path in (mono, color):
        mirror = tmp_path / f"mirror_{path.name}"
        cv2.imwrite(str(mirror), cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[:, ::-1])
        mirrored.append(mirror)
    out, out_mirrored = tmp_path / "out.png", tmp_path / "out_mirrored.png"
    assert main([str(mono), str(color), "-o", str(out)]) == 0
    assert "colour camera left" in capsys.readouterr().out
    assert main([str(mirrored[0]), str(mirrored[1]), "-o", str(out_mirrored)]) == 0
    assert "colour camera right" in capsys.readouterr().out
    a, b = cv2.imread(str(out)).astype(np.float32), cv2.imread(str(out_mirrored))[:, ::-1].astype(np.float32)
    assert np.abs(a - b).mean() < 1.0  # the mirrored pair gives the mirrored picture
