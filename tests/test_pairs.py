import struct

import cv2
import numpy as np
import pytest

from dualcam.model.pairs import SceneFlowIndex, list_pairs, load_dev_pair, read_pfm, write_pfm


def _write_png(path, rgb_u8):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb_u8[..., ::-1]))


def _rgb(h=6, w=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_load_dev_pair_rgb_order_and_disparity(tmp_path):
    left, right = _rgb(seed=0), _rgb(seed=1)
    _write_png(tmp_path / "p" / "left.png", left)
    _write_png(tmp_path / "p" / "right.png", right)
    disp = np.full((6, 8), 3.5, np.float32)
    np.save(tmp_path / "p" / "disp_left.npy", disp)
    pair = load_dev_pair(tmp_path / "p")
    assert pair.name == "p" and pair.left.dtype == np.float32
    np.testing.assert_allclose(pair.left, left / 255.0, atol=1e-6)
    np.testing.assert_allclose(pair.right, right / 255.0, atol=1e-6)
    np.testing.assert_array_equal(pair.disp_left, disp)


def test_load_dev_pair_without_disparity_and_16_bit(tmp_path):
    img16 = (np.arange(6 * 8 * 3).reshape(6, 8, 3) * 1000).astype(np.uint16)
    for name in ("left.png", "right.png"):
        cv2.imwrite(str(tmp_path / name), img16[..., ::-1])
    pair = load_dev_pair(tmp_path)
    assert pair.disp_left is None
    np.testing.assert_allclose(pair.left, img16 / 65535.0, atol=1e-6)


def test_load_dev_pair_errors_name_the_file(tmp_path):
    _write_png(tmp_path / "left.png", _rgb())
    with pytest.raises(ValueError, match="right.png"):
        load_dev_pair(tmp_path)
    (tmp_path / "right.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="right.png"):
        load_dev_pair(tmp_path)
    _write_png(tmp_path / "right.png", _rgb(h=7))
    with pytest.raises(ValueError, match="right.png"):
        load_dev_pair(tmp_path)
    _write_png(tmp_path / "right.png", _rgb())
    np.save(tmp_path / "disp_left.npy", np.zeros((5, 8), np.float32))
    with pytest.raises(ValueError, match="disp_left.npy"):
        load_dev_pair(tmp_path)


def test_list_pairs_sorted_and_complete_only(tmp_path):
    for name in ("b", "a", "c"):
        _write_png(tmp_path / name / "left.png", _rgb())
        if name != "c":
            _write_png(tmp_path / name / "right.png", _rgb())
    assert list_pairs(tmp_path) == [tmp_path / "a", tmp_path / "b"]


def test_read_pfm_hand_written_bottom_to_top(tmp_path):
    # 2 wide, 3 high; rows stored bottom first, so the file's first row is the image's last.
    expected = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    little = b"Pf\n2 3\n-1.0\n" + struct.pack("<6f", 5, 6, 3, 4, 1, 2)
    big = b"Pf\n2 3\n1.0\n" + struct.pack(">6f", 5, 6, 3, 4, 1, 2)
    for i, data in enumerate((little, big)):
        (tmp_path / f"{i}.pfm").write_bytes(data)
        np.testing.assert_array_equal(read_pfm(tmp_path / f"{i}.pfm"), expected)


def test_pfm_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    for arr in (rng.random((5, 7)).astype(np.float32) * 100, rng.random((4, 3, 3)).astype(np.float32)):
        write_pfm(tmp_path / "x.pfm", arr)
        back = read_pfm(tmp_path / "x.pfm")
        assert back.dtype == np.float32
        np.testing.assert_array_equal(back, arr)
    write_pfm(tmp_path / "y.pfm", np.array([[1, 2], [3, 4], [5, 6]], np.float32))
    assert (tmp_path / "y.pfm").read_bytes() == b"Pf\n2 3\n-1.0\n" + struct.pack("<6f", 5, 6, 3, 4, 1, 2)


def test_read_pfm_rejects_garbage(tmp_path):
    (tmp_path / "bad.pfm").write_bytes(b"P6\n2 2\n255\n")
    with pytest.raises(ValueError):
        read_pfm(tmp_path / "bad.pfm")
    (tmp_path / "short.pfm").write_bytes(b"Pf\n2 3\n-1.0\n" + b"\0" * 8)
    with pytest.raises(ValueError):
        read_pfm(tmp_path / "short.pfm")


def _frame(root, pass_, rel_dir, name, disparity=True, seed=0):
    _write_png(root / pass_ / rel_dir / "left" / f"{name}.png", _rgb(seed=seed))
    _write_png(root / pass_ / rel_dir / "right" / f"{name}.png", _rgb(seed=seed + 1))
    if disparity:
        (root / "disparity" / rel_dir / "right").mkdir(parents=True, exist_ok=True)
        write_pfm(root / "disparity" / rel_dir / "right" / f"{name}.pfm", np.full((6, 8), seed + 0.25, np.float32))


def test_sceneflow_index_layouts(tmp_path):
    _frame(tmp_path, "frames_cleanpass", "TRAIN/A/0000", "0006", seed=1)
    _frame(tmp_path, "frames_cleanpass", "TRAIN/A/0000", "0007", seed=2)
    _frame(tmp_path, "frames_cleanpass", "TRAIN/B/0001", "0006", disparity=False)
    _frame(tmp_path, "frames_cleanpass", "TEST/A/0000", "0006", seed=3)
    _frame(tmp_path, "frames_cleanpass", "a_rain_of_stones_x2", "0000", seed=4)  # Monkaa
    _frame(tmp_path, "frames_finalpass", "35mm_focallength/scene_forwards/fast", "0001", seed=5)  # Driving

    train = SceneFlowIndex(tmp_path)
    assert len(train) == 3 and train.skipped == 1
    assert [e.left.parts[-3] for e in train.entries] == ["0000", "0000", "a_rain_of_stones_x2"]
    sample = train[0]
    assert sample.left.shape == (6, 8, 3) and sample.disp_right.shape == (6, 8)
    np.testing.assert_allclose(sample.right, _rgb(seed=2) / 255.0, atol=1e-6)
    np.testing.assert_array_equal(sample.disp_right, 1.25)

    test = SceneFlowIndex(tmp_path, split="TEST")
    assert len(test) == 1 and test[0].disp_right[0, 0] == 3.25
    final = SceneFlowIndex(tmp_path, pass_="frames_finalpass")
    assert len(final) == 1 and final.entries[0].disp_right.name == "0001.pfm"
    with pytest.raises(ValueError, match="frames_cleanpass"):
        SceneFlowIndex(tmp_path / "nowhere")
