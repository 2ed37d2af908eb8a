"""image.load, image.save, image.save_animation: globs, sizes, cache keys, safe and collision-free writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artflow.errors import ArtflowError, ImageError
from artflow.imaging import read_png_text, save_image
from artflow.nodes import NodeContext
from tests.nodes.conftest import call_node, ramp, specs


def _write(path: Path, w: int = 24, h: int = 16, seed: int = 0) -> np.ndarray:
    img = ramp(1, h, w, seed=seed)[0]
    save_image(img, path)
    return img


def test_load_single_file_gives_batch_of_one_and_its_stem(run, tmp_path: Path) -> None:
    img = _write(tmp_path / "cat.png")
    out = run("image.load", path="cat.png")
    assert out["image"].shape == (1, 16, 24, 3) and out["image"].dtype == np.float32
    assert out["names"] == ["cat"]
    assert np.abs(out["image"][0] - img).max() <= 1 / 255 + 1e-6


def test_load_glob_is_sorted_into_one_batch(run, tmp_path: Path) -> None:
    for name in ("b", "a", "c"):
        _write(tmp_path / "in" / f"{name}.png")
    out = run("image.load", path="in/*.png")
    assert out["names"] == ["a", "b", "c"]
    assert out["image"].shape[0] == 3


def test_load_glob_of_mixed_sizes_names_both_files(run, tmp_path: Path) -> None:
    _write(tmp_path / "a.png", 24, 16)
    _write(tmp_path / "b.png", 20, 20)
    with pytest.raises(ImageError) as err:
        run("image.load", path="*.png")
    msg = str(err.value)
    assert "a.png" in msg and "b.png" in msg and "24x16" in msg and "20x20" in msg and "fit" in msg


def test_load_fit_first_resizes_all_to_the_first(run, tmp_path: Path) -> None:
    _write(tmp_path / "a.png", 24, 16)
    _write(tmp_path / "b.png", 20, 20)
    out = run("image.load", path="*.png", fit="first")
    assert out["image"].shape == (2, 16, 24, 3)


def test_load_empty_glob_and_missing_file_are_clear_errors(run) -> None:
    with pytest.raises(ImageError, match="no files match 'nothing/\\*.png'"):
        run("image.load", path="nothing/*.png")
    with pytest.raises(ImageError, match="not found"):
        run("image.load", path="missing.png")


def test_load_relative_paths_resolve_against_the_input_folder(tmp_path: Path) -> None:
    graph_dir = tmp_path / "project"
    _write(graph_dir / "img" / "x.png")
    out = call_node("image.load", tmp=tmp_path, input_dir=graph_dir, path="img/x.png")
    assert out["names"] == ["x"]


def test_load_cache_key_changes_when_a_matched_file_changes(tmp_path: Path) -> None:
    spec = specs()["image.load"]
    ctx = NodeContext(node_id="n", node_type="image.load", seed=1, output_dir=tmp_path, input_dir=tmp_path)
    _write(tmp_path / "a.png")
    params = {"path": "*.png", "fit": "error", "alpha": True}
    k1 = spec.key_extra(params, ctx)
    assert spec.key_extra(params, ctx) == k1
    _write(tmp_path / "a.png", seed=3)
    st = (tmp_path / "a.png").stat()
    os.utime(tmp_path / "a.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    k2 = spec.key_extra(params, ctx)
    assert k2 != k1
    _write(tmp_path / "b.png")
    assert spec.key_extra(params, ctx) != k2


def test_load_keeps_alpha_unless_told_not_to(run, tmp_path: Path) -> None:
    save_image(ramp(1, channels=4)[0], tmp_path / "a.png")
    assert run("image.load", path="a.png")["image"].shape[-1] == 4
    assert run("image.load", path="a.png", alpha=False)["image"].shape[-1] == 3


def test_save_roundtrips_pixels_and_returns_written_paths(run, tmp_path: Path) -> None:
    img = ramp(1)
    paths = run("image.save", image=img, path="sub/out.png")
    assert paths == [str((tmp_path / "out" / "sub" / "out.png").resolve())]
    back = np.asarray(Image.open(paths[0]), dtype=np.float32) / 255
    assert np.abs(back - img[0]).max() <= 1 / 255 + 1e-6
    assert not list((tmp_path / "out" / "sub").glob("*.part"))


def test_save_batch_names_do_not_collide(run, tmp_path: Path) -> None:
    paths = run("image.save", image=ramp(3), path="out.png")
    assert len(set(paths)) == 3
    assert [Path(p).name for p in paths] == ["out_0000.png", "out_0001.png", "out_0002.png"]
    assert all(Path(p).is_file() for p in paths)


def test_save_name_placeholder_uses_names_and_duplicates_stay_distinct(run) -> None:
    paths = run("image.save", image=ramp(3), names=["cat", "dog", "cat"], path="{name}.jpg")
    assert len(set(paths)) == 3
    assert Path(paths[1]).name == "dog.jpg"
    assert all(Path(p).is_file() for p in paths)


def test_save_index_and_seed_placeholders(run, tmp_path: Path) -> None:
    paths = call_node("image.save", tmp=tmp_path, seed=42, image=ramp(2), path="s{seed}/img_{index:03d}.png")
    assert [Path(p).relative_to((tmp_path / "out").resolve()).as_posix() for p in paths] == [
        "s42/img_000.png",
        "s42/img_001.png",
    ]


def test_save_names_cannot_escape_the_output_folder(run, tmp_path: Path) -> None:
    paths = run("image.save", image=ramp(1), names=["../../evil"], path="{name}.png")
    assert Path(paths[0]).parent == (tmp_path / "out").resolve()


@pytest.mark.parametrize("bad", ["../outside.png", "/tmp/abs.png", "a/../../b.png"])
def test_save_refuses_path_outside_output_folder(run, bad: str) -> None:
    with pytest.raises(ArtflowError, match="output"):
        run("image.save", image=ramp(1), path=bad)


def test_save_png_carries_provenance(tmp_path: Path) -> None:
    paths = call_node(
        "image.save",
        tmp=tmp_path,
        image=ramp(1),
        path="p.png",
        provenance=lambda: {"artflow": '{"graph": 1}'},
    )
    assert read_png_text(paths[0])["artflow"] == '{"graph": 1}'


def test_save_explicit_format_sets_the_extension(run) -> None:
    paths = run("image.save", image=ramp(1), path="pic.png", format="jpeg")
    assert paths[0].endswith("pic.jpg")
    with Image.open(paths[0]) as im:
        assert im.format == "JPEG"


def test_save_unknown_extension_is_a_clear_error(run) -> None:
    with pytest.raises(ImageError, match=".png, .jpg or .webp"):
        run("image.save", image=ramp(1), path="pic.bmp")


@pytest.mark.parametrize("name, fmt", [("a.gif", "GIF"), ("a.png", "PNG"), ("a.webp", "WEBP")])
def test_save_animation_writes_every_frame(run, name: str, fmt: str) -> None:
    frames = np.stack([np.full((16, 16, 3), v, np.float32) for v in (0.0, 0.5, 1.0)])
    paths = run("image.save_animation", image=frames, path=name, fps=10)
    with Image.open(paths[0]) as im:
        assert im.format == fmt
        assert getattr(im, "n_frames", 1) == 3


def test_save_animation_bounce_plays_back(run) -> None:
    frames = np.stack([np.full((8, 8, 3), v, np.float32) for v in (0.0, 0.3, 0.6, 1.0)])
    paths = run("image.save_animation", image=frames, path="b.gif", bounce=True)
    with Image.open(paths[0]) as im:
        assert im.n_frames == 6
