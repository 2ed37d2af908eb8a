"""Ship trained generators as package data: copy each .onnx into models/, record its sha256 in
models/manifest.json (what `register_models` registers), and render its sample grid for the gallery.

    python -m artflow_generator.ship runs/digits/digits.onnx runs/art/art.onnx [--gallery gallery]
    python -m artflow_generator.ship --reexport art [--gallery gallery]
    python -m artflow_generator.ship --remeasure art --remeasure digits

``--reexport NAME`` converts the shipped NAME.keras again with the current exporter (same weights,
same card and metrics; a new parity check and versions), for when the export path improves.

``--remeasure NAME`` adds FID in the pretrained VGG16's features (``fid_vgg*``, see
evaluation.backbone_fids) to the shipped model's card: 1000 samples drawn through ONNX Runtime
(as the trainer draws them: z from seed 1, classes cycling) against the trainer's held-out real
set, with real-vs-real and train-vs-held-out beside it; the weights are not touched.

The gallery grid is drawn through ONNX Runtime (no TensorFlow), from fixed seeds, exactly as
`gan.generate` would draw it: ``gallery/generator_NAME_samples.png``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from artflow.errors import ModelError
from artflow.models import file_sha256
from artflow.models.card import read_card

from . import MANIFEST, MODELS_DIR
from .latents import draw_latent, seeded_rng

GRID_SEED = 2024


def ship(paths: list[Path]) -> dict[str, dict[str, str]]:
    """Copy models in and rewrite the manifest; returns it."""
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    for path in paths:
        card = read_card(path)
        if card is None or card.kind != "generator":
            raise ModelError(f"{path} is not a generator with an artflow card")
        target = MODELS_DIR / f"{card.name}.onnx"
        if path.resolve() != target.resolve():
            shutil.copyfile(path, target)
            twin = path.with_suffix(".keras")
            if twin.is_file():  # the Keras twin, for the ORT-vs-TF benchmarks
                shutil.copyfile(twin, target.with_suffix(".keras"))
        manifest[card.name] = {"file": target.name, "sha256": file_sha256(target),
                               "description": card.description}
    MANIFEST.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    return manifest


def reexport(name: str) -> Path:
    """Export the shipped ``NAME.keras`` (the generator with its [0, 1] output) again into
    ``NAME.onnx`` through :func:`networks.fast_forward`, keeping the card; returns the path."""
    import keras
    import tensorflow as tf

    from artflow.train.exporter import export_function

    from .networks import fast_forward

    target = MODELS_DIR / f"{name}.onnx"
    card = read_card(target)
    if card is None or card.kind != "generator":
        raise ModelError(f"{target} is not a shipped generator with an artflow card")
    model = keras.models.load_model(target.with_suffix(".keras"), compile=False)
    fast = fast_forward(model) or model
    conditional = len(model.inputs) > 1
    sig = [tf.TensorSpec([None, int(model.inputs[0].shape[-1])], tf.float32, name="z")]
    if conditional:
        sig.append(tf.TensorSpec([None, 1], tf.int32, name="label"))

    def wrap(net: Any) -> Any:
        def fn(*args: tf.Tensor) -> dict[str, tf.Tensor]:
            out = net(*args) if net is fast else net(list(args) if conditional else args[0], training=False)
            return {"image": tf.clip_by_value(out, 0.0, 1.0)}
        return fn

    rng = np.random.default_rng(0)
    real = {"z": rng.standard_normal((64, sig[0].shape[-1])).astype(np.float32)}
    if conditional:
        real["label"] = (np.arange(64) % len(card.labels)).astype(np.int32)[:, None]
    card.extra["reexported"] = f"python -m artflow_generator.ship --reexport {name}"
    export_function(wrap(fast), sig, target, card, reference=wrap(model), real_inputs=real)
    return target


def remeasure(name: str) -> Path:
    """Write FID in the pretrained backbone's features into the shipped NAME's card (see module doc)."""
    import onnx

    from artflow import models as runtime
    from artflow.models.card import write_card

    from . import evaluation
    from .train import EVAL_COUNT, _load

    target = MODELS_DIR / f"{name}.onnx"
    card = read_card(target)
    if card is None or card.kind != "generator":
        raise ModelError(f"{target} is not a shipped generator with an artflow card")
    dataset = {"art": "art", "digits": "digits"}.get(name)
    if dataset is None:
        raise ModelError(f"--remeasure knows the data of 'art' and 'digits' only, not '{name}'")
    session = runtime.get_session(target, "cpu")
    size = int(session.input_shapes["z"][-1] or card.latent_size)
    data, held_out = _load(dataset, None, 64 if dataset == "art" else 8, 3 if dataset == "art" else 1,
                           int(card.training.get("seed", 0)), False)
    z = np.random.default_rng(int(card.training.get("seed", 0)) + 1).standard_normal((EVAL_COUNT, size))
    feeds = {"z": z.astype(np.float32)}
    if "label" in session.input_names:
        labels = (np.arange(EVAL_COUNT) % len(card.labels)).astype(np.int32)
        feeds["label"] = labels[:, None] if len(session.input_shapes["label"]) == 2 else labels
    samples = session.run_batched(feeds)["image"]
    card.metrics.update(evaluation.backbone_fids(samples, held_out.images, data.images))
    card.extra["remeasured"] = f"python -m artflow_generator.ship --remeasure {name}"
    proto = onnx.load(str(target))
    write_card(proto, card)
    tmp = target.with_name(f".{target.name}.tmp")
    onnx.save(proto, str(tmp))
    tmp.replace(target)
    runtime.clear_sessions()
    return target


def sample_grid_png(model: Path, out: Path, *, rows: int = 8, cols: int = 8, cell: int = 64) -> Path:
    """A rows×cols grid of samples from fixed seeds (conditional models: one class per column)."""
    from PIL import Image

    from artflow import models as runtime
    from artflow.imaging import to_uint8

    session = runtime.get_session(model, "cpu")
    card = session.card
    latent = int(session.input_shapes["z"][-1] or card.latent_size)
    n = rows * cols
    z = np.stack([draw_latent(seeded_rng(GRID_SEED, k), latent) for k in range(n)])
    feeds = {"z": z}
    if "label" in session.input_names:
        labels = (np.arange(n) % cols).astype(np.int32)
        feeds["label"] = labels[:, None] if len(session.input_shapes["label"]) == 2 else labels
    images = session.run_batched(feeds)["image"]
    h, w, c = images.shape[1:]
    pad = 2
    canvas = Image.new("RGB", (cols * (cell + pad) + pad, rows * (cell + pad) + pad), (20, 20, 24))
    for i, img in enumerate(images):
        arr = to_uint8(img if c == 3 else np.repeat(img, 3, axis=-1))
        tile = Image.fromarray(arr).resize((cell, cell), Image.Resampling.NEAREST if h < cell
                                           else Image.Resampling.BILINEAR)
        canvas.paste(tile, (pad + (i % cols) * (cell + pad), pad + (i // cols) * (cell + pad)))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--reexport", action="append", default=[], metavar="NAME",
                        help="export the shipped NAME.keras again (repeatable)")
    parser.add_argument("--remeasure", action="append", default=[], metavar="NAME",
                        help="add FID in the pretrained backbone's features to NAME's card (repeatable)")
    parser.add_argument("--gallery", type=Path, help="folder for generator_NAME_samples.png grids")
    args = parser.parse_args()
    manifest = ship([*args.models, *(reexport(name) for name in args.reexport),
                     *(remeasure(name) for name in args.remeasure)])
    for name, entry in manifest.items():
        print(f"{name}: {entry['sha256']}")
        if args.gallery:
            cols = 10 if name == "digits" else 8
            grid = sample_grid_png(MODELS_DIR / entry["file"], args.gallery / f"generator_{name}_samples.png",
                                   rows=8, cols=cols, cell=32 if name == "digits" else 64)
            print(f"  grid: {grid}")


if __name__ == "__main__":
    main()
