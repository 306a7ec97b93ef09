import json
import subprocess

import cv2
import numpy as np
import pytest

from dualcam.model import synthetic
from dualcam.model.textures import SOURCES, Source, _copyright_stanzas, _decode, _licence, build, load_index

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: textures/tex_nature/*
 textures/tex_streets/road*.png
Copyright: 2021 Someone Else
 2022 A Third
License: CC-BY-SA-3.0

Files: debian/*
License: Expat
"""


def test_licences_follow_dep5_last_match_wins(tmp_path):
    path = tmp_path / "copyright"
    path.write_text(COPYRIGHT)
    stanzas = _copyright_stanzas(path)
    assert [s[1] for s in stanzas] == ["GPL-2+", "CC-BY-SA-3.0", "Expat"]
    assert stanzas[1][0] == ["textures/tex_nature/*", "textures/tex_streets/road*.png"]
    assert _licence(stanzas, "textures/tex_nature/grass.jpg") == "CC-BY-SA-3.0"
    assert _licence(stanzas, "textures/tex_streets/road1.png") == "CC-BY-SA-3.0"
    assert _licence(stanzas, "textures/tex_streets/wall1.png") == "GPL-2+"  # debian/* never applies
    # Installed paths differ from source paths: a specific glob still matches by its file name.
    assert _licence(stanzas, "usr/share/games/x/road7.png") == "CC-BY-SA-3.0"
    assert "free-form" in _licence([], "anything.png")


def _photo_like(rng, h, w):
    noise = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 3)
    return (255 * (noise - noise.min()) / (noise.max() - noise.min())).astype(np.uint8)


def _encode(image, ext=".png"):
    return cv2.imencode(ext, image)[1].tobytes()


def test_decode_keeps_photos_and_drops_what_a_scene_should_not_wear():
    rng = np.random.default_rng(0)
    photo = _photo_like(rng, 600, 2400)
    kept = _decode(_encode(photo))
    assert kept.shape == (256, 1024, 3)  # long side brought to 1024
    assert _decode(_encode(photo[:100])) is None  # too small
    assert _decode(_encode(photo[..., 0])) is None  # grey
    assert _decode(_encode(np.full((300, 300, 3), 128, np.uint8))) is None  # constant
    cutout = np.dstack([photo[:300, :300], np.zeros((300, 300), np.uint8)])
    assert _decode(_encode(cutout)) is None  # transparent decal
    opaque = np.dstack([photo[:300, :300], np.full((300, 300), 255, np.uint8)])
    assert _decode(_encode(opaque)).shape == (300, 300, 3)
    assert _decode(b"not an image") is None


@pytest.fixture
def texture_set(tmp_path):
    """A real .deb holding a few images and a DEP-5 copyright file, built into a texture set."""
    rng = np.random.default_rng(1)
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        "Package: dualcam-test-walls\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n")
    images = root / "usr/share/backgrounds/test"
    images.mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(images / f"photo{i}.jpg"), _photo_like(rng, 300, 400))
    cv2.imwrite(str(images / "tiny.png"), _photo_like(rng, 20, 20))
    doc = root / "usr/share/doc/dualcam-test-walls"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT.replace("textures/tex_nature/*", "photo1.jpg"))
    debs = tmp_path / "debs"
    debs.mkdir()
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(debs / "dualcam-test-walls_1.0-1_all.deb")],
                   check=True, capture_output=True)
    out = tmp_path / "textures"
    source = Source("dualcam-test-walls", ("usr/share/backgrounds/test/*.jpg", "usr/share/backgrounds/test/*.png"))
    build(out, debs, (source,))
    return out


def test_build_indexes_every_kept_image_with_its_source_and_licence(texture_set):
    entries = load_index(texture_set)
    assert len(entries) == 3  # tiny.png dropped
    assert {e.package for e in entries} == {"dualcam-test-walls"} and {e.version for e in entries} == {"1.0-1"}
    by_member = {e.member.rsplit("/", 1)[-1]: e.licence for e in entries}
    assert by_member == {"photo0.jpg": "GPL-2+", "photo1.jpg": "CC-BY-SA-3.0", "photo2.jpg": "GPL-2+"}
    for e in entries:
        assert (texture_set / e.file).is_file()
    json.loads((texture_set / "index.json").read_text())


def test_scenes_wear_the_texture_set_and_stay_deterministic(texture_set):
    cfg = synthetic.SceneConfig(height=64, width=160, max_disparity=32.0, textures=str(texture_set),
                                photo_texture_fraction=1.0)
    assert synthetic.available_photos(cfg.textures) == tuple(
        str(texture_set / e.file) for e in load_index(texture_set))
    a, b = synthetic.sample(3, 0, cfg), synthetic.sample(3, 0, cfg)
    np.testing.assert_array_equal(a.left, b.left)
    assert a.left.std() > 0.02


def test_a_folder_without_index_is_refused_with_how_to_build(tmp_path):
    with pytest.raises(ValueError, match="build"):
        load_index(tmp_path)


def test_no_source_is_evaluation_data():
    reserved = ("opencv", "mvtb", "pillow", "pil", "middlebury", "stereo")
    assert len(SOURCES) >= 5
    assert not any(word in s.package for s in SOURCES for word in reserved)
