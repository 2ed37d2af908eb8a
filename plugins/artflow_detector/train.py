"""`artflow train detector`: a CenterNet-style detector trained from scratch in Keras.

    artflow train detector -o runs/shapes                     # procedural scenes (shipped model)
    artflow train detector --annotations mine/coco.json       # your own photos (COCO subset)
    artflow train detector --quick                             # seconds: tiny net, small scenes

Procedural scenes come from :mod:`artflow_detector.scenes` (rendered once, optionally cached
with ``--cache DIR``); metrics (COCO-style mAP@0.5 and mAP@[.5:.95], per class) are measured
through the exported ONNX file and ONNX Runtime, the way `detect.objects` runs it: on held-out
scenes (photos and seeds training never used) or, for ``--annotations``, on a 20 % split.
TensorFlow is imported when the command runs, never when the plugin loads.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from artflow.train.trainer import TrainError, TrainRun, trainer_command

from .scenes import CLASSES, HELDOUT_PHOTOS, SCENES_VERSION, TRAIN_PHOTOS, scene_batch

EVAL_SIZE = 256


def _checked_annotations(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """Validate --annotations while the command line is parsed, before any training starts."""
    if value is None:
        return None
    from .coco import load_annotations

    return (value, load_annotations(value))  # raises AnnotationError: one line per problem


@trainer_command("detector", default_epochs=None, default_batch_size=32,
                 help="Train an object detector on procedural shape scenes or on --annotations "
                      "(a COCO-JSON subset); writes NAME.keras, NAME.onnx (decoding inside, card with "
                      "mAP), loss_curve.png, samples.png and metrics.json.")
@click.option("--annotations", type=click.Path(exists=True, dir_okay=False), callback=_checked_annotations,
              help="COCO-JSON subset (images, categories, bbox annotations) of your own photos; checked "
                   "before TensorFlow loads (one line per problem, nothing trained).")
@click.option("--size", type=click.IntRange(32, 512), default=None,
              help="Model input side, a multiple of 32 (default 128; 64 with --quick).")
@click.option("--scenes", "n_scenes", type=click.IntRange(8), default=None,
              help="Procedural training scenes (default 16000; 160 with --quick).")
@click.option("--heldout-scenes", type=click.IntRange(1), default=None,
              help="Held-out scenes measured at the end (default 500; 24 with --quick).")
@click.option("--lr", type=float, default=2e-3, show_default=True, help="Peak learning rate (cosine decay).")
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True,
              help="Processes rendering scenes.")
@click.option("--init", "init", type=click.Path(exists=True, dir_okay=False),
              help="Start from the weights of this .keras detector (same classes and width; the input "
                   "side may differ: the network is convolutional): fine-tuning.")
@click.option("--cache", type=click.Path(file_okay=False),
              help="Folder keeping rendered training scenes between runs (e.g. /tmp/artflow-scenes).")
def train_detector(run: TrainRun, annotations: tuple[str, Any] | None, size: int | None, n_scenes: int | None,
                   heldout_scenes: int | None, lr: float, workers: int, init: str | None,
                   cache: str | None) -> None:
    """Train an object detector (procedural scenes, or --annotations FILE)."""
    size = size or (64 if run.quick else 128)
    if size % 32:
        raise TrainError(f"--size {size}: use a multiple of 32")
    if annotations:
        source, data = annotations  # already checked by _checked_annotations
        _train_annotated(run, data, source, size, lr, init)
    else:
        _train_scenes(run, size, n_scenes, heldout_scenes, lr, workers, cache, init)


def _rendered(n: int, split: str, size: int, seed: int, workers: int, cache: str | None,
              start: int = 0) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Scenes from the cache folder when there, else rendered (and cached)."""
    path = Path(cache) / f"scenes-v{SCENES_VERSION}-{split}-{size}-s{seed}-{start}-{n}.npz" if cache else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as z:
            counts = z["counts"]
            cuts = np.cumsum(counts)[:-1]
            return z["images"], np.split(z["boxes"], cuts), np.split(z["classes"], cuts)
    images, boxes, classes = scene_batch(n, split=split, size=size, seed=seed, start=start, workers=workers)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=images, counts=np.asarray([len(b) for b in boxes]),
                 boxes=np.concatenate(boxes).reshape(-1, 4), classes=np.concatenate(classes))
        tmp.replace(path)
    return images, boxes, classes


def _network(run: TrainRun, size: int, n_classes: int, width: str, init: str | None) -> Any:
    """A fresh network, or the weights of ``--init`` (checked: same input size and classes)."""
    from .model import build_network

    net = build_network(size, n_classes, width)
    if init:
        import keras

        old = keras.models.load_model(init, compile=False)
        # the network is fully convolutional: weights from another input side fit when every
        # weight has the same shape (same width and classes); only the grid size differs
        shapes, wanted = [w.shape for w in old.get_weights()], [w.shape for w in net.get_weights()]
        if old.output_shape[-1] != net.output_shape[-1] or shapes != wanted:
            raise TrainError(f"--init {init}: takes {old.input_shape[1:]} and gives {old.output_shape[1:]}; "
                             f"this run needs {net.input_shape[1:]} → {net.output_shape[1:]} "
                             f"(same network width and classes; the input side may differ)")
        net.set_weights(old.get_weights())
        run.settings["init"] = str(init)
        if old.input_shape[1] != size:
            run.settings["init_size"] = int(old.input_shape[1])
        meta = Path(init).with_name("metrics.json")
        if meta.is_file():
            import json

            before = json.loads(meta.read_text())
            keys = ("command", "data", "seed", "settings")
            run.settings["init_training"] = {k: before.get(k) for k in keys}
    return net


def _fit(run: TrainRun, net: Any, x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray,
         n_classes: int, lr: float) -> None:
    import keras

    from .model import detection_loss

    inp = keras.Input(x.shape[1:], dtype="uint8", name="image_u8")
    train_model = keras.Model(inp, net(keras.layers.Rescaling(1 / 255.0)(inp)), name="train_model")
    steps = int(np.ceil(len(x) / run.batch_size)) * run.epochs
    warm = min(300, max(1, steps // 20))
    schedule = keras.optimizers.schedules.CosineDecay(lr * 0.1, decay_steps=max(1, steps - warm), alpha=0.01,
                                                      warmup_target=lr, warmup_steps=warm)
    train_model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0),
                        loss=detection_loss(n_classes))
    train_model.fit(x, y, validation_data=(xv, yv), epochs=run.epochs, batch_size=run.batch_size,
                    shuffle=True, callbacks=run.keras_callbacks(), verbose=0)


def _export(run: TrainRun, net: Any, size: int, labels: list[str], description: str,
            real: np.ndarray) -> None:
    import tensorflow as tf

    from artflow.models.card import InputSpec

    from .model import MAX_DETECTIONS, MIN_SCORE, STRIDE, build_network, decode

    # the same weights in the variant whose upsampling exports as ONNX Resize (faster in ORT)
    width = "tiny" if net.name.endswith("tiny") else "full"
    exported = build_network(size, len(labels), width, upsample="resize")
    exported.set_weights(net.get_weights())

    def infer(image: Any) -> dict[str, Any]:
        return decode(exported(image, training=False), len(labels), size)

    run.save_model(net)
    card = run.card(
        labels=labels,
        inputs=[InputSpec("image", "NHWC", [size, size], 3, [0.0, 1.0], color="rgb")],
        outputs={"boxes": "(N, K, 4) xyxy in units of the input side (0..1), best first",
                 "scores": f"(N, K) peak scores, 0 below {MIN_SCORE}",
                 "classes": "(N, K) class index into labels (float)"},
        description=description,
        extra={"architecture": "CenterNet-style: stride-4 heatmap + log size + offset; 3x3 max-pool "
                               "peaks and top-k inside the graph",
               "stride": STRIDE, "max_detections": MAX_DETECTIONS, "min_score": MIN_SCORE,
               "letterbox_pad": 0.5, "upsample": "nearest Resize (trained as UpSampling2D, same numbers)"},
    )
    sig = [tf.TensorSpec([None, size, size, 3], tf.float32, name="image")]
    run.export_function(infer, sig, card, real_inputs=real[:32])


def _measure(run: TrainRun, images: np.ndarray, boxes: list[np.ndarray], classes: list[np.ndarray],
             labels: list[str], prefix: str = "") -> dict[str, Any]:
    """mAP through the exported ONNX file and ONNX Runtime (the node's path)."""
    from artflow import models as runtime

    from .detect import detections
    from .evaluation import average_precision

    session = runtime.get_session(run.onnx_path, "cpu")
    x = images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images
    t0 = time.perf_counter()
    found = []
    for start in range(0, len(x), 64):
        found += detections(session, x[start:start + 64], score_threshold=0.05, max_detections=100)
    seconds = time.perf_counter() - t0
    ap = average_precision(found, list(zip(boxes, classes, strict=True)), len(labels), labels)
    run.metrics[f"{prefix}map50"] = round(ap["map50"], 4)
    run.metrics[f"{prefix}map50_95"] = round(ap["map"], 4)
    run.metrics[f"{prefix}map75"] = round(ap["map75"], 4)
    run.metrics[f"{prefix}per_class"] = {k: {kk: round(vv, 4) if isinstance(vv, float) else vv
                                             for kk, vv in v.items()} for k, v in ap["per_class"].items()}
    run.metrics[f"{prefix}eval_images"] = len(x)
    run.metrics[f"{prefix}eval_ms_per_image"] = round(seconds / max(1, len(x)) * 1000, 3)
    runtime.clear_sessions()
    return {"found": found}


def _record_metrics(run: TrainRun) -> None:
    """Put the metrics measured through ONNX Runtime into the exported file's card too."""
    import hashlib

    import onnx

    from artflow.imaging import atomic_write_bytes
    from artflow.models.card import read_card, write_card

    card = read_card(run.onnx_path)
    if card is None or run.export_result is None:
        return
    card.metrics = {**card.metrics, **{k: v for k, v in run.metrics.items() if k != "render_seconds"}}
    proto = write_card(onnx.load(str(run.onnx_path)), card)
    data = proto.SerializeToString()
    atomic_write_bytes(run.onnx_path, data)
    run.onnx_path.chmod(0o644)
    run.export_result.sha256 = hashlib.sha256(data).hexdigest()
    run.export_result.card = card


def _samples(run: TrainRun, images: np.ndarray, found: list[Any], labels: list[str], n: int = 16) -> None:
    from PIL import Image, ImageDraw

    cells = []
    for im, (b, s, c) in zip(images[:n], found[:n], strict=False):
        pil = Image.fromarray(im if im.dtype == np.uint8 else (np.clip(im, 0, 1) * 255).astype(np.uint8))
        d = ImageDraw.Draw(pil)
        for box, score, cls in zip(b, s, c, strict=True):
            if score < 0.3:
                continue
            d.rectangle([float(v) for v in box], outline=(255, 40, 40), width=2)
            d.text((float(box[0]) + 2, float(box[1]) + 1), f"{labels[cls]} {score:.2f}", fill=(255, 255, 0))
        cells.append(np.asarray(pil.convert("RGB"), dtype=np.float32) / 255.0)
    if cells:
        side = max(max(c.shape[:2]) for c in cells)
        grid = np.stack([np.pad(c, ((0, side - c.shape[0]), (0, side - c.shape[1]), (0, 0))) for c in cells])
        run.save_samples(grid, None, cols=4, cell=min(256, side))


def _train_scenes(run: TrainRun, size: int, n_scenes: int | None, heldout: int | None, lr: float,
                  workers: int, cache: str | None, init: str | None) -> None:
    from .model import make_targets

    run.name = run.name if run.name != run.kind else "shapes"
    n_scenes = n_scenes or (160 if run.quick else 16000)
    n_val = 32 if run.quick else 400
    heldout = heldout or (24 if run.quick else 500)
    eval_size = size if run.quick else EVAL_SIZE
    run.epochs = run.epochs or (2 if run.quick else 12)
    width = "tiny" if run.quick else "full"
    t0 = time.perf_counter()
    x, b, c = _rendered(n_scenes, "train", size, run.seed, workers, cache)
    xv, bv, cv = _rendered(n_val, "train", size, run.seed, workers, cache, start=n_scenes)
    xh, bh, ch = _rendered(heldout, "heldout", eval_size, 0, workers, None)
    run.metrics["render_seconds"] = round(time.perf_counter() - t0, 1)
    y = make_targets(b, c, size, len(CLASSES)).astype(np.float16)
    yv = make_targets(bv, cv, size, len(CLASSES)).astype(np.float16)
    run.data = (f"procedural scenes (artflow_detector.scenes, 1-8 shapes of {', '.join(CLASSES)} at 8-40% "
                f"of the side, occlusion up to 35%): {n_scenes} training scenes {size}x{size} (seeds "
                f"{run.seed}*10^7 + 0..{n_scenes - 1}, scenes v{SCENES_VERSION}; "
                f"backgrounds: noise, gradients, Voronoi, solid, photos "
                f"{', '.join(TRAIN_PHOTOS)}), {n_val} validation scenes; metrics on {heldout} held-out "
                f"scenes {eval_size}x{eval_size} over photos never used in training "
                f"({', '.join(HELDOUT_PHOTOS)}) "
                f"from a disjoint seed range")
    run.settings.update({"network": width, "size": size, "train_scenes": n_scenes, "val_scenes": n_val,
                         "heldout_scenes": heldout, "eval_size": eval_size, "lr": lr,
                         "classes": list(CLASSES)})
    net = _network(run, size, len(CLASSES), width, init)
    run.settings["parameters"] = int(net.count_params())
    _fit(run, net, x, y, xv, yv, len(CLASSES), lr)
    _export(run, net, size, list(CLASSES),
            "Shape detector: circle, square, triangle, star, hexagon on any background "
            "(boxes, labels, scores).",
            xv.astype(np.float32) / 255.0)
    _measure(run, xv, bv, cv, list(CLASSES), prefix="val_")  # for choosing between runs
    measured = _measure(run, xh, bh, ch, list(CLASSES))
    _record_metrics(run)
    _samples(run, xh, measured["found"], list(CLASSES))


def _train_annotated(run: TrainRun, data: Any, source: str, size: int, lr: float, init: str | None) -> None:
    from artflow.imaging import load_image

    from .detect import letterbox
    from .model import make_targets

    run.name = run.name if run.name != run.kind else "detector"
    run.epochs = run.epochs or (2 if run.quick else 60)
    images, boxes = [], []
    for path, bx in zip(data.paths, data.boxes, strict=True):
        img = load_image(path, keep_alpha=False)[None]
        x, geo = letterbox(img, size)
        images.append((x[0] * 255 + 0.5).astype(np.uint8))
        boxes.append((geo.to_input(bx) * size).astype(np.float32))
    x_all = np.stack(images)
    rng = np.random.default_rng(run.seed)
    order = rng.permutation(len(x_all))
    n_val = max(1, int(round(len(order) * 0.2))) if len(order) >= 2 else 0
    val, tr = order[:n_val], order[n_val:] if n_val else order
    if not n_val:
        val = order
    n_classes = len(data.labels)
    y_all = make_targets(boxes, data.classes, size, n_classes).astype(np.float16)
    run.data = (f"COCO-subset annotations {source}: {len(x_all)} images, {sum(len(b) for b in boxes)} boxes, "
                f"{n_classes} categories ({', '.join(data.labels)}); mAP on a 20% split ({len(val)} images, "
                f"seed {run.seed})")
    width = "tiny" if run.quick else "full"
    run.settings.update({"network": width, "size": size, "classes": data.labels, "lr": lr})
    net = _network(run, size, n_classes, width, init)
    _fit(run, net, x_all[tr], y_all[tr], x_all[val], y_all[val], n_classes, lr)
    _export(run, net, size, list(data.labels), f"Detector trained on {source}.",
            x_all[val].astype(np.float32) / 255)
    # measure on the original images (letterboxed again by the node path): boxes in their pixels
    originals = [load_image(data.paths[i], keep_alpha=False) for i in val]
    found = []
    from artflow import models as runtime

    from .detect import detections
    from .evaluation import average_precision

    session = runtime.get_session(run.onnx_path, "cpu")
    for im in originals:
        found += detections(session, im[None], 0.05, 100)
    ap = average_precision(found, [(data.boxes[i], data.classes[i]) for i in val], n_classes, data.labels)
    run.metrics.update({"map50": round(ap["map50"], 4), "map50_95": round(ap["map"], 4),
                        "per_class": ap["per_class"], "eval_images": len(val)})
    runtime.clear_sessions()
    _record_metrics(run)
