import pytest
import torch

from dualcam.model.aggregate import normalise, soft_argmax_weights, weighted_average
from dualcam.model.checkpoint import load_checkpoint, load_model, release_checkpoint, save_checkpoint
from dualcam.model.config import PRESETS, DualCamConfig, preset
from dualcam.model.cost_volume import concat_volume
from dualcam.model.network import DualCamNet


def inputs(cfg: DualCamConfig, height: int, width: int, batch: int = 1, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    wide = width + cfg.max_disparity
    return (torch.rand(batch, 1, height, width, generator=g), torch.rand(batch, 1, height, wide, generator=g),
            torch.rand(batch, 2, height, wide, generator=g))


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_keeps_the_mono_shape(name):
    cfg = PRESETS[name]
    net = DualCamNet(cfg).eval()
    height, width = cfg.stride, 2 * cfg.stride
    with torch.no_grad():
        assert net(*inputs(cfg, height, width)).shape == (1, 2, height, width)
        assert net.weight_volume(*inputs(cfg, height, width)[:2]).shape == (1, cfg.max_disparity, height, width)


def test_paper_preset_is_table_1():
    cfg = PRESETS["paper"]
    assert (cfg.features, cfg.res_blocks, cfg.hourglass_levels) == (32, 8, 4)


def test_sizes_off_the_stride_are_refused():
    cfg = PRESETS["tiny"]
    with pytest.raises(ValueError, match="multiple of"):
        DualCamNet(cfg)(*inputs(cfg, cfg.stride + 2, cfg.stride))
    with pytest.raises(ValueError, match="max_disparity"):
        preset("tiny", max_disparity=12)


@pytest.mark.parametrize("shift", [0, 3, 7])
def test_one_hot_weights_reproduce_the_shifted_chroma(shift):
    """Candidate k of mono pixel x is reference pixel x + k: the reference sees objects further right."""
    d, height, width = 8, 5, 20
    chroma = torch.rand(1, 2, height, width)
    reference = torch.zeros(1, 2, height, width + d)
    reference[..., shift : shift + width] = chroma
    weights = torch.zeros(1, d, height, width)
    weights[:, shift] = 1
    assert torch.equal(weighted_average(weights, reference), chroma)


def test_cost_volume_pairs_each_pixel_with_the_reference_to_its_right():
    features, d = torch.rand(1, 3, 4, 10), 5
    reference = torch.rand(1, 3, 4, 10 + d)
    reference[..., 2:12] = features
    volume = concat_volume(features, reference, d)
    assert volume.shape == (1, 6, d, 4, 10)
    mono, ref = volume.chunk(2, dim=1)
    assert torch.equal(ref[:, :, 2], features) and torch.equal(mono[:, :, 0], features)
    assert not torch.equal(ref[:, :, 1], features)


def test_weight_normalisation():
    logits = torch.randn(2, 6, 3, 4) * 5
    assert torch.allclose(normalise(logits, "softmax").sum(dim=1), torch.ones(2, 3, 4))
    assert torch.equal(normalise(logits, "none"), logits)


def test_soft_argmax_copies_one_interpolated_candidate():
    logits = torch.full((1, 8, 1, 1), -50.0)
    logits[0, 3], logits[0, 4] = 10.0, 10.0  # soft-argmax lands half way between candidates 3 and 4
    weights = soft_argmax_weights(logits)
    assert torch.allclose(weights[0, :, 0, 0], torch.tensor([0, 0, 0, 0.5, 0.5, 0, 0, 0]), atol=1e-5)


def test_ablation_switches_change_the_graph():
    full = DualCamNet(PRESETS["tiny"])
    kinds = lambda net: {type(m).__name__ for m in net.modules()}  # noqa: E731
    assert "CandidateAttention" in kinds(full)
    assert "CandidateAttention" not in kinds(DualCamNet(preset("tiny", attention=False)))
    no_residue = DualCamNet(preset("tiny", color_residue=False)).eval()
    assert not hasattr(no_residue, "residue") and full.num_params() > no_residue.num_params()
    cfg = preset("tiny", weighted_average=False)
    net = DualCamNet(cfg).eval()
    mono, ref_y, _ = inputs(cfg, 16, 32)
    with torch.no_grad():
        weights = net.weight_volume(mono, ref_y)
    assert torch.allclose(weights.sum(dim=1), torch.ones(1, 16, 32), atol=1e-5)
    assert ((weights > 0).sum(dim=1) <= 2).all()


def test_without_residue_the_output_is_a_blend_of_reference_colors():
    cfg = preset("tiny", color_residue=False)
    mono, ref_y, _ = inputs(cfg, 16, 32)
    ref_cbcr = torch.full((1, 2, 16, 32 + cfg.max_disparity), 0.25)
    ref_cbcr[:, 1] = 0.75
    with torch.no_grad():
        out = DualCamNet(cfg).eval()(mono, ref_y, ref_cbcr)
    assert torch.allclose(out[:, 0], torch.full_like(out[:, 0], 0.25), atol=1e-5)
    assert torch.allclose(out[:, 1], torch.full_like(out[:, 1], 0.75), atol=1e-5)


def test_a_short_reference_is_extended_like_its_edge():
    cfg = PRESETS["tiny"]
    net = DualCamNet(cfg).eval()
    mono, ref_y, ref_cbcr = inputs(cfg, 16, 32)
    ref_y, ref_cbcr = ref_y[..., :32], ref_cbcr[..., :32]
    padded = lambda t: torch.cat([t, t[..., -1:].expand(*t.shape[:-1], cfg.max_disparity)], dim=-1)  # noqa: E731
    with torch.no_grad():
        assert torch.allclose(net(mono, ref_y, ref_cbcr), net(mono, padded(ref_y), padded(ref_cbcr)))


def test_checkpoint_round_trip_rebuilds_the_model_from_the_file(tmp_path):
    cfg = preset("tiny", weight_norm="none", attention=False)
    net = DualCamNet(cfg).eval()
    save_checkpoint(tmp_path / "train.pt", net, step=7, optimizer={"state": {}})
    release_checkpoint(tmp_path / "train.pt", tmp_path / "m.pt")
    assert "optimizer" not in load_checkpoint(tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.config == cfg and not loaded.training
    assert load_checkpoint(tmp_path / "m.pt")["step"] == 7
    x = inputs(cfg, 16, 32)
    with torch.no_grad():
        assert torch.equal(net(*x), loaded(*x))


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    cfg = PRESETS["tiny"]
    net = DualCamNet(cfg)
    mono, ref_y, ref_cbcr = inputs(cfg, 16, 32, batch=2)
    target = ref_cbcr[..., 3:35]  # every pixel's colour sits 3 candidates to the right
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.mse_loss(net(mono, ref_y, ref_cbcr), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
