"""`artflow train style`: a fast feed-forward style network from one style image.

    artflow train style --style glass.png -o runs/glass               # ~1500 steps
    artflow train style --style glass.png --content photos/ --steps 3000
    artflow train style --style glass.png --vgg-weights vgg19_notop.h5
    artflow train style --style glass.png --quick                     # tiny, seconds (tests)
    artflow train style --style glass.png --init glass.keras --steps 500   # fine-tune a model

Loss: content (features of the loss network) + style (Gram matrices at every scale of the loss
network) + total variation, plus an optional colour term (``--color-weight``): the per-image mean
and 3×3 RGB covariance of the output matched to the style image's, computed on the full-size
output and on 8×8-pooled patches. The random loss network's filters are zero-mean, so they
see structure but not the colour of flat regions; without the colour term large flat areas
drift to arbitrary (often washed-out yellow) colours. An optional structure term
(``--edge-weight``) adds 1 − the Pearson correlation of the Gaussian-smoothed (σ = 3 px) Sobel edge
maps of output and content crop, the same measure as the held-out ``*_edge_corr`` (computed here on
training crops only): styles whose texture is all fine edges (halftone dots) otherwise trade the
photo's edges away for the texture's. A tone term (``--tone-weight``) matches the output's 8×8-pooled
luminance to the content's, as a halftone keeps the local tone: the zero-mean loss network does not
see the level of flat regions, which otherwise come out as flat blotches of an arbitrary colour.

The loss network is VGG19 (ImageNet weights from ``--vgg-weights``
or the Keras cache) when available, else a fixed random multi-scale network (no download; see
lossnet.py). Content: the images under ``--content``, else scikit-image's photos with
``astronaut`` and ``coffee`` held out: the card's metrics are measured on those two only.

Writes NAME.keras, NAME.onnx (card: style image, loss network, metrics), NAME_style.png,
samples.png (the held-out photos, refreshed every ``--sample-every`` steps), loss_curve.png
and metrics.json. TensorFlow is imported when the command runs.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from artflow.train.trainer import TrainRun, trainer_command

FULL = {"widths": (16, 32, 64), "res_blocks": 3, "steps": 1500, "size": 128, "batch": 4, "style_size": 256}
QUICK = {"widths": (8, 16, 16), "res_blocks": 1, "steps": 20, "size": 64, "batch": 2, "style_size": 128}


@trainer_command("style", default_epochs=None, default_batch_size=None,
                 help="Train a fast style-transfer network on one style image; writes NAME.onnx "
                      "(with its card), NAME.keras, the style image, samples.png, loss_curve.png "
                      "and metrics.json.")
@click.option("--style", "style_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The style image.")
@click.option("--content", type=click.Path(exists=True, file_okay=False),
              help="Folder of content images (default: scikit-image photos, astronaut/coffee held out).")
@click.option("--vgg-weights", type=click.Path(dir_okay=False),
              help="VGG19 no-top ImageNet weights (.h5) for the loss; default: Keras cache, else random.")
@click.option("--steps", type=click.IntRange(1), help="Optimizer steps (default 1500; 30 with --quick).")
@click.option("--size", type=click.IntRange(32), help="Training crop size in pixels (default 128).")
@click.option("--style-size", type=click.IntRange(32),
              help="Side the style image is resized to for its Gram targets (default 256).")
@click.option("--style-weight", type=float, default=4.0, show_default=True)
@click.option("--content-weight", type=float, default=1.0, show_default=True)
@click.option("--tv-weight", type=float, default=20.0, show_default=True)
@click.option("--lr", type=float, default=2e-3, show_default=True, help="Adam learning rate.")
@click.option("--sample-every", type=click.IntRange(1), default=250, show_default=True,
              help="Write samples.png every N steps.")
@click.option("--color-weight", type=float, default=0.0, show_default=True,
              help="Weight of the colour term (output RGB mean/covariance vs the style image's).")
@click.option("--edge-weight", type=float, default=0.0, show_default=True,
              help="Weight of the structure term: 1 - correlation of the smoothed Sobel edge maps "
                   "of output and content (as *_edge_corr).")
@click.option("--tone-weight", type=float, default=0.0, show_default=True,
              help="Weight of the tone term: squared error of the 8x8-pooled luminance of output "
                   "and content.")
@click.option("--init", "init_path", type=click.Path(exists=True, dir_okay=False),
              help="Start from this NAME.keras (same widths and residual blocks) instead of random weights.")
@click.option("--time-limit", type=float, help="Stop after this many seconds of training.")
def train_style(run: TrainRun, style_path: str, content: str | None, vgg_weights: str | None,
                steps: int | None, size: int | None, style_size: int | None, style_weight: float,
                content_weight: float, tv_weight: float, lr: float, sample_every: int,
                color_weight: float, edge_weight: float, tone_weight: float, init_path: str | None,
                time_limit: float | None) -> None:
    """Train a style network (see module doc)."""
    import keras
    import tensorflow as tf

    from artflow.imaging import load_image

    from . import data, lossnet
    from .network import build_network

    cfg = dict(QUICK if run.quick else FULL)
    steps = steps or cfg["steps"]
    size = size or cfg["size"]
    style_size = style_size or cfg["style_size"]
    batch = run.batch_size or cfg["batch"]
    if run.name == "style":
        run.name = Path(style_path).stem.replace("_style", "") or "style"

    style_image = load_image(style_path, keep_alpha=False)[..., :3]
    style_small = data.fit_short_side(style_image, style_size)
    photos = data.content_photos(content, limit=4 if run.quick else None)
    held = data.heldout_photos()
    if run.quick:
        held = {k: data.fit_short_side(v, 96) for k, v in held.items()}
        held = {k: v[: v.shape[0] // 4 * 4, : v.shape[1] // 4 * 4] for k, v in held.items()}
    net_loss = lossnet.loss_network(vgg_weights, allow_vgg=not run.quick or bool(vgg_weights))
    targets = lossnet.style_grams(net_loss, style_small)
    target_norms = [tf.reduce_sum(tf.square(t)) for t in targets]

    net = build_network(cfg["widths"], cfg["res_blocks"], name=run.name)
    if init_path:
        start = keras.models.load_model(init_path, compile=False)
        net(tf.zeros([1, 32, 32, 3]))
        net.set_weights(start.get_weights())
    style_colors = [_color_stats(tf.constant(style_small[None]), k) for k in (1, 8)]
    opt = keras.optimizers.Adam(lr)
    run.data = (f"content: {content}" if content else
                "content: scikit-image photos " + ", ".join(data.TRAIN_PHOTOS[: 4 if run.quick else None])
                + f" (held out: {', '.join(data.HELD_OUT)}); style: {Path(style_path).name}")
    run.settings.update(widths=list(cfg["widths"]), res_blocks=cfg["res_blocks"], steps=steps,
                        crop=size, batch=batch, style_size=style_size, style_weight=style_weight,
                        content_weight=content_weight, tv_weight=tv_weight, lr=lr,
                        color_weight=color_weight, edge_weight=edge_weight, tone_weight=tone_weight,
                        loss_network=net_loss.describe)
    if init_path:
        run.settings["init"] = str(init_path)

    @tf.function
    def step(x: Any) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            y = net(x, training=True)
            fy, fx = net_loss(y), net_loss(x)
            c = net_loss.content_layer
            l_content = tf.reduce_mean(tf.square(fy[c] - fx[c])) / (tf.reduce_mean(tf.square(fx[c])) + 1e-6)
            l_style = tf.add_n([tf.reduce_mean(tf.reduce_sum(tf.square(lossnet.gram(f) - t), axis=[1, 2]))
                                / (n + 1e-8) for f, t, n in
                                zip(lossnet.style_layers(net_loss, fy), targets, target_norms, strict=True)])
            l_tv = (tf.reduce_mean(tf.square(y[:, 1:] - y[:, :-1]))
                    + tf.reduce_mean(tf.square(y[:, :, 1:] - y[:, :, :-1])))
            l_color = tf.add_n([tf.reduce_mean(tf.square(m - tm)) + tf.reduce_mean(tf.square(c - tc))
                                for (m, c), (tm, tc) in
                                zip([_color_stats(y, k) for k in (1, 8)], style_colors, strict=True)])
            total = (content_weight * l_content + style_weight * l_style + tv_weight * l_tv
                     + color_weight * l_color)
            terms = {"content": l_content, "style": l_style, "tv": l_tv, "color": l_color}
            if edge_weight:
                terms["edge"] = 1.0 - tf.reduce_mean(_edge_correlation(y, x))
                total += edge_weight * terms["edge"]
            if tone_weight:
                terms["tone"] = tf.reduce_mean(tf.square(_pooled_luma(y) - _pooled_luma(x)))
                total += tone_weight * terms["tone"]
        grads = tape.gradient(total, net.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        opt.apply_gradients(zip(grads, net.trainable_variables, strict=True))
        return {"loss": total, **terms}

    rng = np.random.default_rng(run.seed)
    bar = run.progress(steps, desc=f"style {run.name}")
    sums: dict[str, float] = {}
    log_every = max(1, min(50, steps // 20))
    started = time.time()
    done = 0
    for i in range(steps):
        x = tf.constant(data.random_crops(photos, rng, batch, size))
        values = step(x)
        for k, v in values.items():
            sums[k] = sums.get(k, 0.0) + float(v)
        done = i + 1
        bar.update(1)
        if done % log_every == 0:
            run.log(done, **{k: v / log_every for k, v in sums.items()})
            bar.set_postfix(loss=f"{sums['loss'] / log_every:.3f}", refresh=False)
            sums = {}
        if done % sample_every == 0 and not run.quick:
            _samples(run, net, held, style_small)
            run.checkpoint(net, "last")
        if time_limit and time.time() - started > time_limit:
            break
    bar.close()
    run.settings["steps_done"] = done
    run.settings["train_seconds"] = round(time.time() - started, 1)

    finish_style(run, net, net_loss, style_path, style_small, held, cfg)


def finish_style(run: TrainRun, net: Any, net_loss: Any, style_path: str, style_small: np.ndarray,
                 held: dict[str, np.ndarray], cfg: dict[str, Any]) -> None:
    """Samples, NAME.keras, the style image, held-out metrics, then NAME.onnx with its card."""
    import tensorflow as tf

    from . import data, lossnet
    from .network import inference_function, reference_function

    targets = lossnet.style_grams(net_loss, style_small)
    outputs = _samples(run, net, held, style_small)
    run.save_model(net)
    style_copy = run.out_dir / f"{run.name}_style.png"
    if Path(style_path).resolve() != style_copy.resolve():
        shutil.copyfile(style_path, style_copy)
    run.files["style_image"] = style_copy.name
    run.metrics.update(evaluate(net_loss, targets, held, outputs))

    from artflow.models.card import InputSpec

    fn, signature = inference_function(net)
    probe = next(iter(held.values()))[None]
    _, probe_stats = net.forward(tf.constant(probe))
    card = run.card(
        kind="style",
        description=f"Fast style transfer: {Path(style_path).name} ({net_loss.kind} loss network).",
        inputs=[InputSpec("image", "NHWC", None, 3, [0.0, 1.0], color="rgb"),
                InputSpec("stats", "NC", None, net.stats_size, [0.0, 1.0], color=""),
                InputSpec("shared", "NC", None, 1, [0.0, 1.0], color="")],
        outputs={"stylized": "stylized image, NHWC in [0, 1] (any size, multiple of 4)",
                 "norm_stats": "per-image instance-norm (mean, std) of every norm layer, concatenated"},
        extra={"style_image": style_copy.name, "multiple": 4, "stats_size": net.stats_size,
               "widths": list(cfg["widths"]), "res_blocks": cfg["res_blocks"],
               "loss_network": net_loss.describe, "heldout": list(data.HELD_OUT)},
    )
    real = {"image": probe.astype(np.float32), "stats": probe_stats.numpy().astype(np.float32),
            "shared": np.zeros([1], np.float32)}
    # norm_stats are internal statistics of magnitude up to ~100 (float32 rounding ~1e-4 there);
    # the stylized image itself agrees far tighter (benchmarks record max_abs_diff_b1)
    run.export_function(fn, signature, card, real_inputs=real, random_batches=1, atol=1e-3,
                        reference=reference_function(net))


def _color_stats(images: Any, pool: int) -> tuple[Any, Any]:
    """Per-image RGB mean (N, 3) and covariance (N, 3, 3), after ``pool``×``pool`` average pooling."""
    import tensorflow as tf

    x = tf.nn.avg_pool2d(images, pool, pool, "VALID") if pool > 1 else images
    shape = tf.shape(x)
    flat = tf.reshape(x, [shape[0], shape[1] * shape[2], 3])
    mean = tf.reduce_mean(flat, axis=1)
    centred = flat - mean[:, None]
    cov = tf.matmul(centred, centred, transpose_a=True) / tf.cast(shape[1] * shape[2], x.dtype)
    return mean, cov


def _pooled_luma(images: Any, pool: int = 8) -> Any:
    """Luminance (metrics.LUMA) averaged over ``pool``×``pool`` blocks."""
    import tensorflow as tf

    from .metrics import LUMA

    gray = tf.reduce_sum(images * tf.constant(LUMA), axis=-1, keepdims=True)
    return tf.nn.avg_pool2d(gray, pool, pool, "VALID")


def _edge_correlation(y: Any, x: Any, sigma: float = 3.0) -> Any:
    """Per-image Pearson r of the smoothed Sobel edge maps of two NHWC batches (metrics.edge_map)."""
    import tensorflow as tf

    from .metrics import LUMA

    def edges(images: Any) -> Any:
        gray = tf.reduce_sum(images * tf.constant(LUMA), axis=-1, keepdims=True)
        g = tf.image.sobel_edges(gray)[..., 0, :]
        mag = tf.sqrt(tf.reduce_sum(tf.square(g), axis=-1, keepdims=True) + 1e-8)
        r = int(4 * sigma + 0.5)
        k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma ** 2)).astype(np.float32)
        k /= k.sum()
        mag = tf.pad(mag, [[0, 0], [r, r], [r, r], [0, 0]], "REFLECT")
        mag = tf.nn.conv2d(mag, k.reshape(1, -1, 1, 1), 1, "VALID")
        return tf.nn.conv2d(mag, k.reshape(-1, 1, 1, 1), 1, "VALID")

    a, b = edges(y), edges(x)
    a -= tf.reduce_mean(a, axis=[1, 2, 3], keepdims=True)
    b -= tf.reduce_mean(b, axis=[1, 2, 3], keepdims=True)
    return tf.reduce_sum(a * b, axis=[1, 2, 3]) / tf.sqrt(
        tf.reduce_sum(a * a, axis=[1, 2, 3]) * tf.reduce_sum(b * b, axis=[1, 2, 3]) + 1e-12)


def _samples(run: TrainRun, net: Any, held: dict[str, np.ndarray],
             style: np.ndarray) -> dict[str, np.ndarray]:
    """Stylize the held-out photos; write samples.png (style, then photo/output pairs)."""
    import tensorflow as tf

    from .data import resize

    outputs = {k: net(tf.constant(v[None]), training=False).numpy()[0] for k, v in held.items()}
    cell = 192
    tiles = [resize(style, cell, cell)]
    captions = ["style"]
    for k, v in held.items():
        tiles += [resize(v, cell, cell), resize(outputs[k], cell, cell)]
        captions += [k, f"{k} styled"]
    run.save_samples(np.stack(tiles), captions, cols=len(tiles), cell=cell)
    return outputs


def evaluate(net_loss: Any, targets: list[Any], held: dict[str, np.ndarray],
             outputs: dict[str, np.ndarray]) -> dict[str, float]:
    """Done-when metrics on the held-out photos: Gram style-distance ratio and edge correlation."""
    from .lossnet import style_distance
    from .metrics import edge_correlation

    out: dict[str, float] = {}
    for name, photo in held.items():
        d_out = style_distance(net_loss, outputs[name], targets)
        d_in = style_distance(net_loss, photo, targets)
        out[f"{name}_gram_ratio"] = round(d_out / max(d_in, 1e-12), 4)
        out[f"{name}_gram_output"] = round(d_out, 4)
        out[f"{name}_gram_content"] = round(d_in, 4)
        out[f"{name}_edge_corr"] = round(edge_correlation(outputs[name], photo), 4)
    return out
