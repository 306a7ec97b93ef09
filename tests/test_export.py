"""dualcam-export: the pipeline on the tiny preset, and the exported shipped models committed as package data."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from dualcam.export.cli import MANIFEST, main, sample_tiles, sha256
from dualcam.export.onnx_export import max_abs_difference
from dualcam.export.quantize import fused_op_counts, quantize_int8, synthetic_tiles
from dualcam.export.wrapper import TileColorizer, TileShape
from dualcam.model.checkpoint import SHIPPED_WEIGHTS, load_model
from dualcam.model.config import preset
from dualcam.model.network import DualCamNet

SHIPPED_MODELS = Path(__file__).resolve().parent.parent / "runtime" / "models"
TINY = ["--preset", "tiny", "--tile", "32x64", "--seed", "3"]


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "models"
    assert main([*TINY, "--int8", "--ort", "--calibration-scenes", "2", "--out", str(out)]) == 0
    return out


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def test_tile_shape_is_checked_against_the_network_stride():
    assert TileShape.parse("256x512", 64, 16) == TileShape(256, 512, 64)
    for bad in ("250x512", "256", "axb", "0x512"):
        with pytest.raises(ValueError):
            TileShape.parse(bad, 64, 16)


def test_manifest_lists_every_file_with_its_checksum(tiny_export):
    manifest = read_manifest(tiny_export)
    assert {"fp32", "int8", "mobile", "mobile_int8", "int8_ort", "mobile_ort", "mobile_int8_ort", "usability_report",
            "int8_usability_report"} <= set(manifest["files"])
    listed = {entry["file"] for entry in manifest["files"].values()}
    assert listed == {p.name for p in tiny_export.iterdir()} - {MANIFEST}
    for entry in manifest["files"].values():
        assert sha256(tiny_export / entry["file"]) == entry["sha256"]
    assert manifest["tile"]["height"] == 32 and manifest["max_disparity"] == 16
    session = ort.InferenceSession(str(tiny_export / manifest["files"]["mobile"]["file"]))  # the tile, fixed
    assert {i.name: i.shape for i in session.get_inputs()} == manifest["inputs"]
    assert {o.name: o.shape for o in session.get_outputs()} == manifest["outputs"]
    for role in ("fp32", "int8", "int8_ort"):  # the CPU models: any multiple of the stride
        assert manifest["files"][role]["dynamic_tile"] is True
    session = ort.InferenceSession(str(tiny_export / manifest["files"]["fp32"]["file"]))
    assert all(shape[:2] == manifest["inputs"][name][:2] and all(isinstance(n, str) for n in shape[2:])
               for name, shape in ((i.name, i.shape) for i in session.get_inputs()))


def test_onnx_is_self_contained_and_matches_torch(tiny_export):
    manifest = read_manifest(tiny_export)
    path = tiny_export / manifest["files"]["fp32"]["file"]
    model = onnx.load(str(path), load_external_data=False)
    assert all(t.data_location == onnx.TensorProto.DEFAULT for t in model.graph.initializer)
    torch.manual_seed(3)  # the same untrained network the export built
    tile = TileShape(32, 64, 16)
    wrapper = TileColorizer(DualCamNet(preset("tiny")), tile)
    assert max_abs_difference(wrapper, path, [tile.feeds(seed) for seed in (5, 6)]) <= 1e-4
    assert manifest["measured"]["fp32_vs_torch"]["max_abs"] <= 1e-4


def test_ort_files_load_and_match_their_onnx_models(tiny_export):
    manifest = read_manifest(tiny_export)
    tile = TileShape(32, 64, 16)
    # The .ort file replays onnxruntime's fusions at load time, so float sums may be ordered differently: 1.4e-5 for
    # the int8 model on an AVX-512 CPU, 1.2e-4 on an AVX2 one, where a reordered sum can cross a rounding boundary of
    # a quantized activation. Both are far below an output level (1/255 = 3.9e-3): the 8-bit image is the same.
    for role, bound in (("int8", 1e-3), ("mobile", 1e-4), ("mobile_int8", 1e-3)):
        onnx_session = ort.InferenceSession(str(tiny_export / manifest["files"][role]["file"]))
        converted = tiny_export / manifest["files"][f"{role}_ort"]["file"]
        assert converted.suffix == ".ort"
        assert max_abs_difference(onnx_session, converted, [tile.feeds(9)]) <= bound


def test_int8_convs_fuse_and_the_keep_float_policy_holds(tiny_export, tmp_path):
    manifest = read_manifest(tiny_export)
    kept = fused_op_counts(tiny_export / manifest["files"]["int8"]["file"])
    # the weight volume's convs are int8; the colour-residue ResNets (float Conv) and the softmax (Exp) are not
    assert kept.get("QLinearConv", 0) > 0 and kept.get("Conv", 0) > 0 and "Exp" in kept
    tile = TileShape(32, 64, 16)
    everything = quantize_int8(tiny_export / manifest["files"]["fp32"]["file"], tmp_path / "all.onnx",
                               list(synthetic_tiles(tile, 2, seed=1)), keep="none")
    assert "Conv" not in fused_op_counts(everything)


def test_nnapi_takes_the_mobile_int8_graph_whole(tiny_export):
    manifest = read_manifest(tiny_export)
    nnapi = manifest["mobile"]["int8_usability"]["NNAPI"]
    assert nnapi["partitions"] == 1 and nnapi["supported"] == nnapi["total"] > manifest["mobile"]["usability"]["NNAPI"]["total"]
    assert "QLinearConv" in fused_op_counts(tiny_export / manifest["files"]["mobile_int8"]["file"])
    assert manifest["measured"]["mobile_int8_vs_mobile"]["psnr_db"] > 60


def test_the_lean_calibration_gives_the_model_of_onnxruntimes_own(tiny_export, tmp_path):
    """The export collects the ranges itself, in a session that frees each activation once reduced."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from dualcam.export.quantize import TileReader

    fp32 = tiny_export / read_manifest(tiny_export)["files"]["fp32"]["file"]
    tiles = list(synthetic_tiles(TileShape(32, 64, 16), 3, seed=2))
    lean = quantize_int8(fp32, tmp_path / "lean.onnx", tiles, keep="none")
    quantize_static(str(fp32), str(tmp_path / "own.onnx"), TileReader(tiles), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)

    def scales(path: Path) -> dict[str, np.ndarray]:
        return {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer
                if t.name.endswith("_scale")}
    own, ours = scales(tmp_path / "own.onnx"), scales(lean)
    assert len(own) > 10 and own.keys() == ours.keys()
    assert all(np.array_equal(own[k], ours[k]) for k in own)


def test_a_bad_request_leaves_no_output(tmp_path, capsys):
    out = tmp_path / "models"
    assert main([*TINY[:2], "--tile", "30x64", "--out", str(out)]) == 2
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert "30x64" in capsys.readouterr().err
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"not ours")
    assert main([*TINY, "--out", str(foreign)]) == 2
    assert (foreign / "holiday.jpg").read_bytes() == b"not ours"


def test_a_new_export_replaces_an_old_one(tiny_export, tmp_path):
    out = tmp_path / "models"
    assert main([*TINY, "--no-mobile", "--out", str(out)]) == 0
    (out / "stale.onnx").write_bytes(b"old")
    assert main([*TINY, "--no-mobile", "--out", str(out)]) == 0
    assert not (out / "stale.onnx").exists() and set(read_manifest(out)["files"]) == {"fp32"}


def test_shipped_models_are_the_shipped_weights_exported():
    manifest = read_manifest(SHIPPED_MODELS)
    assert manifest["source"]["sha256"] == sha256(SHIPPED_WEIGHTS), "re-run dualcam-export for runtime/models"
    for entry in manifest["files"].values():
        assert sha256(SHIPPED_MODELS / entry["file"]) == entry["sha256"]
    net = load_model()
    tile = TileShape(manifest["tile"]["height"], manifest["tile"]["width"], manifest["max_disparity"])
    real = sample_tiles(tile)[:1]
    assert max_abs_difference(TileColorizer(net, tile), SHIPPED_MODELS / manifest["files"]["fp32"]["file"], real) <= 1e-4


def test_shipped_int8_stays_close_to_fp32_on_a_real_tile():
    manifest = read_manifest(SHIPPED_MODELS)
    tile = TileShape(manifest["tile"]["height"], manifest["tile"]["width"], manifest["max_disparity"])
    feeds = sample_tiles(tile)[1]
    fp32, int8 = (ort.InferenceSession(str(SHIPPED_MODELS / manifest["files"][r]["file"])).run(None, feeds)[0]
                  for r in ("fp32", "int8"))
    psnr = 10 * np.log10(1 / np.mean((fp32 - int8) ** 2))
    assert psnr > 45, f"int8 chroma only {psnr:.1f} dB from fp32"
    loss = manifest["measured"]["tiled_cpsnr"]
    assert loss["setup1"]["int8_loss_db"] <= 0.3 and loss["setup2"]["int8_loss_db"] <= 0.3
