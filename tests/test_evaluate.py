import json

import cv2
import numpy as np
import pytest
import skimage.data

from dualcam.model.evaluate import main

SCHEMA_METRICS = {"cpsnr", "rgb_psnr", "ssim", "seconds", "regions"}


@pytest.fixture(scope="module")
def motorcycle_crop(tmp_path_factory):
    """A real pair the project does not train on: Middlebury Motorcycle as installed by scikit-image."""
    left, right, _ = skimage.data.stereo_motorcycle()
    folder = tmp_path_factory.mktemp("pairs") / "motorcycle_crop"
    folder.mkdir()
    for name, image in (("left", left), ("right", right)):
        cv2.imwrite(str(folder / f"{name}.png"), cv2.cvtColor(image[120:376, 100:612], cv2.COLOR_RGB2BGR))
    return folder.parent


def run_json(capsys, *argv) -> dict:
    assert main([*map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_json_schema_and_the_shipped_weights_beat_sgbm_gf(motorcycle_crop, capsys):
    report = run_json(capsys, motorcycle_crop, "--setup", "1")
    assert report["setup"] == 1 and report["layout"] == "paper" and report["runtime"] == "int8"
    assert set(report["methods"]) == {"dualcam", "nowarp", "sgbm", "sgbm_gf"}
    for result in report["methods"].values():
        assert set(result["mean"]) == SCHEMA_METRICS
        assert set(result["pairs"]) == {"motorcycle_crop"}
        assert set(result["pairs"]["motorcycle_crop"]) == SCHEMA_METRICS
    cpsnr = {name: r["mean"]["cpsnr"] for name, r in report["methods"].items()}
    assert cpsnr["dualcam"] > cpsnr["sgbm_gf"] > cpsnr["nowarp"], cpsnr
    regions = report["methods"]["dualcam"]["pairs"]["motorcycle_crop"]["regions"]
    assert set(regions) == {"unseen", "occluded", "edges", "flat"}  # no ground truth here: occluded is empty
    assert regions["occluded"]["cpsnr"] is None and regions["unseen"]["pixels"] > 0.02
    assert sum(r["pixels"] for r in regions.values()) == pytest.approx(1, abs=1e-3)
    assert sum(r["error_share"] for r in regions.values()) == pytest.approx(1, abs=1e-3)


def test_swapped_layout_scores_like_the_paper_layout(motorcycle_crop, capsys):
    paper, swapped = (run_json(capsys, motorcycle_crop, "--layout", layout, "--no-baselines", "--runtime", "torch")
                      for layout in ("paper", "swapped"))
    gap = paper["methods"]["dualcam"]["mean"]["cpsnr"] - swapped["methods"]["dualcam"]["mean"]["cpsnr"]
    assert abs(gap) < 1.5, gap


def test_eval_refuses_a_folder_without_pairs(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "no pairs" in capsys.readouterr().err


def test_the_runtime_and_torch_paths_agree_and_the_consumer_camera_is_harder(motorcycle_crop, capsys):
    runtime = run_json(capsys, motorcycle_crop, "--no-baselines", "--runtime", "fp32")
    torch_ = run_json(capsys, motorcycle_crop, "--no-baselines", "--runtime", "torch")
    consumer = run_json(capsys, motorcycle_crop, "--no-baselines", "--runtime", "fp32", "--camera", "consumer")
    cpsnr = lambda r: r["methods"]["dualcam"]["mean"]["cpsnr"]  # noqa: E731
    assert abs(cpsnr(runtime) - cpsnr(torch_)) < 0.01, (cpsnr(runtime), cpsnr(torch_))  # one pipeline, two tile functions
    assert cpsnr(consumer) < cpsnr(runtime)


def test_a_bad_pair_is_reported_and_the_others_are_kept(motorcycle_crop, tmp_path, capsys):
    root = tmp_path / "pairs"
    root.mkdir()
    (root / "good").symlink_to(motorcycle_crop / "motorcycle_crop", target_is_directory=True)  # followed
    (root / "loop").symlink_to(root, target_is_directory=True)  # visited once
    bad = root / "broken"
    bad.mkdir()
    (bad / "left.png").write_bytes((motorcycle_crop / "motorcycle_crop" / "left.png").read_bytes()[:2000])
    (bad / "right.png").write_bytes((motorcycle_crop / "motorcycle_crop" / "right.png").read_bytes())
    assert main([str(root), "--json", "--runtime", "torch"]) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    for result in report["methods"].values():
        assert set(result["pairs"]) == {"good"} and set(result["failed"]) == {"broken"}
    assert "broken (dualcam) failed" in captured.err


def test_a_file_that_is_not_a_checkpoint_is_refused_in_one_line(tmp_path, motorcycle_crop, capsys):
    fake = tmp_path / "weights.pt"
    fake.write_text("not weights")
    assert main([str(motorcycle_crop), "--runtime", "torch", "--checkpoint", str(fake)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a dualcam checkpoint" in err[0] and str(fake) in err[0]



@pytest.mark.parametrize("args, named", [(["--checkpoint", "x.pt"], "--checkpoint"),
                                         (["--runtime", "torch", "--models", "export"], "--models")])
def test_a_model_option_the_chosen_runtime_would_ignore_is_refused(motorcycle_crop, args, named, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([str(motorcycle_crop), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and err[-1].startswith(f"dualcam-eval: error: {named}")


def test_regions_split_the_view_where_the_error_is():
    """On a pair with ground-truth disparity: the unseen strip on the side away from the colour camera, the
    occlusions of the right view at the left edges of near objects, chroma edges, and the rest."""
    from dualcam.model.metrics import cpsnr_by_region, occluded_in_left, occluded_in_right, region_masks

    disparity = np.full((40, 100), 10.0, np.float32)
    disparity[:, 40:60] = 30.0  # a near box
    hidden_right, hidden_left = occluded_in_right(disparity), occluded_in_left(disparity)
    assert hidden_right[:, 30:50].all() and hidden_right.sum() == 40 * 20  # behind the box's right edge: x 30..49
    assert hidden_left[:, 20:40].all() and hidden_left.sum() == 40 * 20  # background the box covers in the right view
    truth = np.zeros((40, 100, 2), np.float32)
    truth[:, 70:, 0] = 0.5  # a chroma edge at x = 70
    masks = region_masks(truth, "right", 12.0, hidden_right)
    assert masks["unseen"][:, 88:].all() and not masks["unseen"][:, :88].any()
    assert masks["occluded"][:, 30:50].all() and masks["edges"][:, 68:72].all() and masks["flat"][:, 0:20].all()
    assert sum(m.astype(int) for m in masks.values()).max() == 1  # disjoint, and every pixel has one
    pred = truth.copy()
    pred[:, 90:, 1] = 0.1  # wrong only in the unseen strip
    result = cpsnr_by_region(pred, truth, masks)
    assert result["unseen"]["error_share"] == 1.0 and result["flat"]["cpsnr"] == float("inf")


def test_a_pair_with_a_grey_view_is_refused_not_scored(motorcycle_crop, tmp_path, capsys):
    """CPSNR against a grey truth (or from a grey colour view) would be a number about nothing."""
    pair = tmp_path / "pairs" / "grey_right"
    pair.mkdir(parents=True)
    (pair / "left.png").write_bytes((motorcycle_crop / "motorcycle_crop" / "left.png").read_bytes())
    right = cv2.imread(str(motorcycle_crop / "motorcycle_crop" / "right.png"))
    cv2.imwrite(str(pair / "right.png"), cv2.cvtColor(cv2.cvtColor(right, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR))
    assert main([str(tmp_path / "pairs"), "--json", "--no-baselines"]) == 2
    captured = capsys.readouterr()
    why = json.loads(captured.out)["methods"]["dualcam"]["failed"]["grey_right"]
    assert why.endswith("right.png: has no colour; a pair needs two colour views, or its CPSNR measures nothing")
    assert "dualcam-eval: dualcam on grey_right ..." in captured.err
