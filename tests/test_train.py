import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from dualcam.model.checkpoint import load_checkpoint, load_model
from dualcam.model.config import preset
from dualcam.model.network import DualCamNet
from dualcam.model.dataset import SceneFlowDataset, SyntheticStereoDataset
from dualcam.model.pairs import write_pfm
from dualcam.model.simulate import CameraModel
from dualcam.model.train import apply_speed_options, load_init, main, parse_args, sample_indices, train

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--preset", "tiny", "--crop", "32x64", "--batch", "2", "--workers", "0", "--ckpt-every", "2"]


def test_dataset_items_are_deterministic_and_shaped_for_the_network():
    data = SyntheticStereoDataset(seed=3, height=32, width=64, max_disparity=16)
    a, b, c = data[5], data[5], data[6]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["target"], c["target"])
    assert a["mono_y"].shape == (1, 32, 64) and a["target"].shape == (2, 32, 64)
    assert a["ref_y"].shape == (1, 32, 80) and a["ref_cbcr"].shape == (2, 32, 80)
    assert all(0 <= v.min() and v.max() <= 1 for v in a.values())


def test_ranks_draw_disjoint_scenes_and_resume_continues_the_stream():
    ranks = [sample_indices(0, 5, 3, rank, 2) for rank in range(2)]
    assert not set(ranks[0]) & set(ranks[1])
    assert sorted(ranks[0] + ranks[1]) == list(range(30))
    assert sample_indices(2, 5, 3, 0, 2) == ranks[0][6:]


def test_training_resumes_where_it_stopped(tmp_path):
    main(TINY + ["--iters", "2", "--out", str(tmp_path)])
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 2
    main(TINY + ["--iters", "4", "--out", str(tmp_path)])
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["step"] == 4 and state["training"]["preset"] == "tiny"
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    assert load_model(tmp_path / "last.pt").config.max_disparity == 16


def test_a_time_limited_run_checkpoints_and_the_same_command_resumes(tmp_path):
    command = TINY + ["--iters", "50", "--ckpt-every", "100", "--minutes", "0", "--out", str(tmp_path)]
    main(command)  # a zero budget: one step, checkpointed though not at a checkpoint interval
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 1
    main(command)
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 2


def test_a_diverged_loss_stops_the_run_before_a_checkpoint_keeps_it(tmp_path):
    with pytest.raises(SystemExit, match=r"the loss is (nan|inf) at step (\d+); stopped") as stop:
        main(TINY + ["--iters", "6", "--ckpt-every", "1", "--lr", "1e30", "--out", str(tmp_path)])
    diverged_at = int(re.search(r"at step (\d+)", str(stop.value)).group(1))
    assert load_checkpoint(tmp_path / "last.pt")["step"] == diverged_at - 1

def test_an_ablation_starts_from_the_full_model_and_the_reverse_is_refused(tmp_path):
    main(TINY + ["--iters", "1", "--out", str(tmp_path / "full")])
    full = load_checkpoint(tmp_path / "full" / "last.pt")["model"]
    main(TINY + ["--iters", "1", "--set", "color_residue=false", "--init", str(tmp_path / "full" / "last.pt"),
                 "--out", str(tmp_path / "ablated")])
    ablated = load_checkpoint(tmp_path / "ablated" / "last.pt")
    assert ablated["config"]["color_residue"] is False and set(ablated["model"]) < set(full)
    with pytest.raises(SystemExit, match="lacks .* tensors this config needs"):
        main(TINY + ["--iters", "1", "--init", str(tmp_path / "ablated" / "last.pt"), "--out", str(tmp_path / "back")])


def test_the_spread_input_starts_switched_off_so_a_finetune_starts_from_what_the_weights_computed(tmp_path):
    main(TINY + ["--iters", "1", "--out", str(tmp_path / "plain")])
    plain = load_model(tmp_path / "plain" / "last.pt").eval()
    widened = DualCamNet(plain.config.with_(residue_sees_spread=True))
    load_init(widened, tmp_path / "plain" / "last.pt")
    inputs = [torch.rand(shape, generator=torch.Generator().manual_seed(1)) for shape in
              ((1, 1, 32, 64), (1, 1, 32, 80), (1, 2, 32, 80))]
    with torch.no_grad():
        torch.testing.assert_close(widened.eval()(*inputs), plain(*inputs))
        widened.chroma_features.layers[0][0].weight[:, 1:] = 1.0  # once trained, the spread reaches the output
        assert not torch.allclose(widened(*inputs), plain(*inputs))


def test_the_residue_gate_is_fitted_on_training_pairs_and_saved_with_the_weights(tmp_path):
    from dualcam.model.gate import GATES, fit, main as fit_gate, network_frame, parts

    synthetic_pair_folder(tmp_path / "pairs" / "scene")
    main(TINY + ["--iters", "1", "--out", str(tmp_path / "plain")])
    fit_gate([str(tmp_path / "plain" / "last.pt"), "--pairs", str(tmp_path / "pairs"), "--out", str(tmp_path / "gated.pt")])
    gated = load_model(tmp_path / "gated.pt").eval()
    plain = load_model(tmp_path / "plain" / "last.pt").eval()
    gate, means = fit(DualCamNet(gated.config), [tmp_path / "pairs" / "scene"])
    assert gated.config.residue_gate and gated.gate.item() in GATES and set(means) == set(GATES)
    assert load_checkpoint(tmp_path / "gated.pt")["training"]["gate"]["value"] == gated.gate.item()
    frame = network_frame(tmp_path / "pairs" / "scene", 1, "plain", plain.config.stride, plain.config.max_disparity)
    p = parts(plain, frame)
    with torch.no_grad():  # gate 0 is the paper's Eq. 2; a gate fades the residue only where the colours spread
        torch.testing.assert_close(plain.refine(p["C0"], frame.mono), p["C0"] + p["residue"])
        gated.gate.fill_(1e6)
        faded = gated.refine(p["C0"], frame.mono, p["spread"]) - p["C0"]
    assert torch.all(faded.abs() <= p["residue"].abs() + 1e-7) and not torch.equal(faded, p["residue"])


def test_profile_reports_where_a_step_spends_its_time(tmp_path, capsys):
    main(TINY + ["--iters", "10", "--profile", "2", "--out", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    shares = [float(line.split("%")[0]) for line in lines if re.match(r"\s*[\d.]+ %  ", line)]
    assert 3 <= len(shares) <= 15 and 0 < sum(shares) <= 100.01
    assert any("conv" in line.lower() for line in lines)
    result = json.loads((tmp_path / "profile.json").read_text())
    assert result["step_seconds"] > 0 and 0 < result["batchnorm_share"] < 1 and result["device"] == "cpu"
    assert f"{result['step_seconds']:.3f} s per step" in "\n".join(lines)
    assert not (tmp_path / "last.pt").exists()  # profiling trains nothing worth keeping


def test_speed_options_change_kernels_not_results():
    torch.manual_seed(0)
    plain, fast = DualCamNet(preset("tiny")), DualCamNet(preset("tiny"))
    fast.load_state_dict(plain.state_dict())
    apply_speed_options(fast, channels_last=True, fp32_batchnorm=True)
    assert set(fast.state_dict()) == set(plain.state_dict())
    assert all(p.is_contiguous(memory_format=torch.channels_last_3d) for p in fast.parameters() if p.dim() == 5)
    x = (torch.rand(2, 1, 32, 64), torch.rand(2, 1, 32, 80), torch.rand(2, 2, 32, 80))
    outputs = [net(*x) for net in (plain, fast)]
    for y in outputs:
        y.pow(2).mean().backward()
    torch.testing.assert_close(outputs[1], outputs[0], atol=1e-5, rtol=1e-4)
    for p, q in zip(plain.parameters(), fast.parameters()):
        torch.testing.assert_close(q.grad, p.grad, atol=1e-5, rtol=1e-3)
    norm_dtypes = {net: [] for net in (plain, fast)}
    for net, dtypes in norm_dtypes.items():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                m.register_forward_hook(lambda _, __, out, dtypes=dtypes: dtypes.append(out.dtype))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            net(*x)
    assert set(norm_dtypes[plain]) == {torch.bfloat16} and set(norm_dtypes[fast]) == {torch.float32}


def test_realistic_cameras_reach_the_training_data():
    ideal = SyntheticStereoDataset(seed=3, height=32, width=64, max_disparity=16, camera=CameraModel.ideal())
    real = SyntheticStereoDataset(seed=3, height=32, width=64, max_disparity=16)
    a, b = ideal[0], real[0]
    assert torch.equal(a["target"], b["target"])  # the same scene and mono view
    assert not torch.equal(a["ref_cbcr"], b["ref_cbcr"])  # seen by another camera


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    model = train(parse_args(TINY + ["--iters", "3", "--out", out]))
    torch.save(dict(model.named_parameters()), f"{out}/rank{rank}.pt")


def test_ddp_ranks_stay_in_sync(tmp_path):
    """Two CPU processes with gloo: after training on different scenes, their parameters are identical.

    (BN statistics are rank 0's, broadcast by DDP before each forward; rank 0 writes the checkpoint.)
    """
    mp.spawn(ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    states = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    saved = load_checkpoint(tmp_path / "last.pt")
    assert saved["training"]["world"] == 2 and saved["step"] == 3
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key
    torch.manual_seed(0)  # the run's --seed: the weights both ranks started from
    initial = DualCamNet(preset("tiny")).state_dict()
    assert not torch.equal(states[0]["features.layers.0.0.weight"], initial["features.layers.0.0.weight"])


def test_training_on_a_sceneflow_tree(tmp_path):
    """The paper's training set layout: frames_cleanpass/TRAIN/A/<seq>/{left,right}, disparity/....pfm."""
    rng = np.random.default_rng(0)
    for seq in ("0000", "0001"):
        for side in ("left", "right"):
            folder = tmp_path / "sf" / "frames_cleanpass" / "TRAIN" / "A" / seq / side
            folder.mkdir(parents=True)
            cv2.imwrite(str(folder / "0006.png"), rng.integers(0, 256, (40, 100, 3), dtype=np.uint8))
            disp = tmp_path / "sf" / "disparity" / "TRAIN" / "A" / seq / side
            disp.mkdir(parents=True)
            write_pfm(disp / "0006.pfm", np.full((40, 100), 5.0, np.float32))
    data = SceneFlowDataset(tmp_path / "sf", seed=0, height=32, width=64, max_disparity=16)
    assert data[0]["ref_y"].shape == (1, 32, 80) and not torch.equal(data[0]["mono_y"], data[1]["mono_y"])
    main(TINY + ["--iters", "2", "--sceneflow", str(tmp_path / "sf"), "--out", str(tmp_path / "run")])
    assert load_checkpoint(tmp_path / "run" / "last.pt")["training"]["data"] == str(tmp_path / "sf")


def test_make_gpu_train_measures_plans_trains_and_resumes(tmp_path):
    """The lent GPU's one command, run here on the CPU with the tiny preset and two speed variants."""
    run = tmp_path / "gpu"
    command = ["make", "-s", "gpu-train", f"GPU_PY={sys.executable}", f"GPU_RUN={run}", "GPU_MINUTES=0.05",
               "GPU_TOTAL_MINUTES=0.5", "GPU_SHAPE=--preset tiny --batch 2 --crop 32x64", "GPU_WORKERS=0",
               "GPU_SPEED=--steps 1 --variants bf16 fp32", "GPU_TRAIN=--seed 3 --ckpt-every 100"]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    measured = json.loads((run / "train_speed.json").read_text())
    assert set(measured["rows"]) == {"bf16", "fp32"}
    plan = (run / "plan.txt").read_text().split()
    assert plan[0] == "--iters" and int(plan[1]) > 1
    first = load_checkpoint(run / "last.pt")["step"]
    assert 1 <= first < int(plan[1])  # stopped by the call's minutes, checkpointed
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    assert (run / "plan.txt").read_text().split() == plan  # measured once: the schedule stays
    assert load_checkpoint(run / "last.pt")["step"] > first


def synthetic_pair_folder(folder: Path, shift: int = 0) -> tuple[Path, np.ndarray]:
    """A procedural stereo scene written as a real pair would be (left.png, right.png), its right view's disparity;
    `shift` moves the left view's content left, as a converging 3-D camera makes disparities negative."""
    from dualcam.model.synthetic import SceneConfig, sample

    scene = sample(7, 0, SceneConfig(height=240, width=480, max_disparity=40.0))
    folder.mkdir(parents=True)
    left = np.roll(scene.left, -shift, axis=1)
    for name, view in (("left", left), ("right", scene.right)):
        cv2.imwrite(str(folder / f"{name}.png"), np.rint(view[..., ::-1] * 255).astype(np.uint8))
    return folder, scene.disp_right - shift


@pytest.mark.parametrize("shift", [0, 30])
def test_real_pairs_give_windows_whose_disparities_fit_the_candidates(tmp_path, shift):
    """A pair's measured range (negative for a converging camera) sets the window's scale and shift, so the mono
    window's true matches lie within the d candidates of its reference window."""
    from dualcam.model.dataset import RealStereoDataset, disparity_percentiles
    from dualcam.model.pairs import load_dev_pair

    folder, disparity = synthetic_pair_folder(tmp_path / "pair", shift)
    pair = load_dev_pair(folder)
    low, high = disparity_percentiles(pair.left, pair.right)
    assert disparity.min() - 2 <= low < high <= disparity.max() + 2  # within the scene's range, and spanning
    assert high >= np.percentile(disparity, 90) - 2 and low <= np.percentile(disparity, 25)  # most of it
    data = RealStereoDataset([folder], seed=0, height=64, width=128, max_disparity=32)
    for index in range(8):
        rng = np.random.default_rng((0, index, 1))
        left, right = data.views(index, rng)
        assert left.shape == right.shape == (64, 160, 3)
        # each right pixel's colour is found within its 32 candidates: the best-matching shift of the window
        errors = [np.abs(left[:, k : k + 128] - right[:, :128]).mean() for k in range(0, 32)]
        assert min(errors) < 0.6 * np.abs(left[:, :128] - right[:, :128][:, ::-1]).mean()
    item = data[0]
    assert item["mono_y"].shape == (1, 64, 128) and item["ref_cbcr"].shape == (2, 64, 160)


def test_training_mixes_real_pairs_and_validates_on_real_pairs(tmp_path):
    folder, _ = synthetic_pair_folder(tmp_path / "pairs" / "scene")
    main(TINY + ["--iters", "2", "--real-pairs", str(tmp_path / "pairs"), "--real-fraction", "0.5",
                 "--val-dir", str(tmp_path / "pairs"), "--val-every", "2", "--out", str(tmp_path / "run")])
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    validation = records[-1]["val_cpsnr"]
    assert {"mean_s1", "mean_s2", "mean_consumer_s1", "mean_consumer_s2", "scene"} <= set(validation)
    assert all(np.isfinite(v) for v in validation.values())
    assert load_checkpoint(tmp_path / "run" / "last.pt")["training"]["real_pairs"] == ["scene"]
    main(TINY + ["--iters", "3", "--real-pairs", str(tmp_path / "pairs"), "--val-dir", str(tmp_path / "pairs"),
                 "--val-every", "10", "--out", str(tmp_path / "run")])  # the next session of a long schedule
    resumed = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()][len(records):]
    assert [r["step"] for r in resumed] == [2, 3] and resumed[0]["resumed"] and "val_cpsnr" in resumed[0]
    assert "val_cpsnr" in resumed[-1]  # and at the schedule's end


@pytest.mark.parametrize("argv, message", [(["--preset", "nosuch"], "invalid choice: 'nosuch'"),
                                           (["--val-dir", "/nonexistent"], "--val-dir /nonexistent: no pairs"),
                                           (["--real-fraction", "0"], "--real-fraction"),
                                           (["--finetune-pairs", "/nonexistent", "--luma-weight", "1"],
                                            "--finetune-pairs /nonexistent: no pairs"),
                                           (["--finetune-pairs", str(ROOT / "runtime")], "needs --luma-weight > 0")])
def test_bad_training_options_are_refused_before_training(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--out", str(tmp_path)] + argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_the_luma_loss_is_zero_for_the_true_match_whatever_the_gain_and_not_for_another():
    from dualcam.model.losses import luma_reconstruction_loss

    reference = torch.rand(2, 1, 8, 48, generator=torch.Generator().manual_seed(0))
    mono = 0.8 * reference[..., 5:37] + 0.1  # the mono camera's own gain and offset
    seen = torch.ones_like(mono)
    assert luma_reconstruction_loss(reference[..., 5:37], mono, seen).item() < 1e-5
    assert luma_reconstruction_loss(reference[..., 9:41], mono, seen).item() > 0.5
    seen[..., :16] = 0  # occluded: left out (wrong there, with the crop's statistics kept)
    wrong_there = torch.cat([reference[..., 5:21].flip(-1), reference[..., 21:37]], dim=-1)
    assert luma_reconstruction_loss(wrong_there, mono, seen).item() < 1e-5


def test_finetuning_on_unlabelled_captures_trains_the_matching_with_batchnorm_frozen(tmp_path):
    """Folders of mono+colour captures and of colour stereo pairs, no colour label used: the luma loss alone moves
    the matching's weights, and the BatchNorms keep the statistics they had."""
    stereo, _ = synthetic_pair_folder(tmp_path / "pairs" / "stereo")
    capture = tmp_path / "pairs" / "capture"
    capture.mkdir()
    cv2.imwrite(str(capture / "color.png"), cv2.imread(str(stereo / "left.png")))
    cv2.imwrite(str(capture / "mono.png"), cv2.imread(str(stereo / "right.png"), cv2.IMREAD_GRAYSCALE))
    main(TINY + ["--iters", "2", "--out", str(tmp_path / "init")])
    main(TINY + ["--iters", "2", "--init", str(tmp_path / "init" / "last.pt"), "--finetune-pairs",
                 str(tmp_path / "pairs"), "--luma-weight", "1", "--out", str(tmp_path / "run")])
    before, after = (load_checkpoint(tmp_path / run / "last.pt") for run in ("init", "run"))
    assert after["training"]["finetune_pairs"] == ["capture", "stereo"] and after["training"]["luma_weight"] == 1
    changed = {k for k in before["model"] if not torch.equal(before["model"][k], after["model"][k])}
    assert any(k.startswith("features.") and k.endswith("weight") for k in changed)
    assert not any(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in changed)
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss"]) and r["loss"] > 0 for r in records)


def test_unlabelled_items_carry_no_label_and_mark_what_both_cameras_see(tmp_path):
    from dualcam.model.dataset import UnlabelledPairs

    stereo, _ = synthetic_pair_folder(tmp_path / "stereo")
    item = UnlabelledPairs([stereo], seed=0, height=64, width=128, max_disparity=32)[0]
    assert item["labelled"] == 0 and not item["target"].any()
    assert item["seen"].shape == (1, 64, 128) and 0.1 < item["seen"].mean() < 1
    assert SyntheticStereoDataset(seed=3, height=32, width=64, max_disparity=16)[0]["labelled"] == 1


def test_bf16_is_the_default_only_where_the_device_computes_it_natively(tmp_path):
    from dualcam.model.train import native_bf16

    out = ["--out", str(tmp_path)]
    assert parse_args(out).bf16 is native_bf16()
    assert parse_args(out + ["--bf16"]).bf16 is True and parse_args(out + ["--no-bf16"]).bf16 is False
