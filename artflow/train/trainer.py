"""The shared training framework for trainers contributed by plugins (`artflow train KIND`).

Needs the ``train`` extra; TensorFlow/Keras are imported inside functions only.

A trainer is a :class:`click.Command`, registered under its kind by a plugin by reference (the
module is imported only when `artflow train KIND` runs)::

    @hookimpl
    def register_trainers(register):
        register("classifier", "artflow_classifier.train:train_classifier")

The easy way to write one is :func:`trainer_command`, which adds the standard options
(``--out/-o DIR``, ``--seed``, ``--quick``, ``--epochs``, ``--batch-size``, ``--name``) and hands
the function a ready :class:`TrainRun` (output folder made, every RNG seeded)::

    @trainer_command("classifier", help="Train an image classifier.")
    @click.option("--images", type=click.Path(exists=True, file_okay=False))
    def train_classifier(run: TrainRun, images: str | None) -> None:
        model = ...                                              # build with keras
        model.fit(x, y, epochs=run.epochs, callbacks=run.keras_callbacks(), verbose=0)
        run.save_model(model)                                    # model.keras
        run.data = f"folder {images}"                            # recorded in the card
        run.metrics["accuracy"] = 0.99                           # recorded in card + metrics.json
        run.export(inference_model, run.card(kind="classifier", labels=[...], inputs=[...]),
                   real_inputs=x_val[:64])                       # NAME.onnx, parity-checked
        run.save_samples(images, captions)                       # samples.png

and when the function returns, the wrapper writes ``loss_curve.png`` and ``metrics.json``.
A custom loop (a GAN) uses ``run.progress(total)``, ``run.log(step, loss=...)``,
``run.checkpoint(model)`` instead of ``keras_callbacks()``, and ``run.export_function(...)``.

The output folder holds: ``NAME.keras``, ``NAME.onnx`` (with its card), ``loss_curve.png``,
``samples.png``, ``metrics.json``, ``checkpoints/last.keras`` (each epoch) and
``checkpoints/best.keras`` (best validation loss, when there is validation data).
"""

from __future__ import annotations

import functools
import json
import math
import os
import random
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from ..errors import ArtflowError
from ..models.card import ModelCard

if TYPE_CHECKING:
    from .exporter import ExportResult


class TrainError(ArtflowError):
    """Training could not start or finish (bad data folder, missing extra, …)."""


def require_train_extra() -> None:
    """Raise a one-line TrainError when TensorFlow/tf2onnx are not installed."""
    import importlib.util

    missing = [m for m in ("tensorflow", "keras", "tf2onnx", "onnx") if importlib.util.find_spec(m) is None]
    if missing:
        raise TrainError(f"training needs {', '.join(missing)}: pip install 'artflow[train]'")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras (``keras.utils.set_random_seed``)."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    import keras

    keras.utils.set_random_seed(seed)


class TrainRun:
    """One training run: its output folder, seed, settings, history, metrics and files."""

    def __init__(self, out_dir: str | Path, *, kind: str, name: str | None = None, seed: int = 0,
                 quick: bool = False, epochs: int | None = None, batch_size: int | None = None,
                 command: str = "", seed_now: bool = True):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.kind = kind
        self.name = name or kind
        self.seed = seed
        self.quick = quick
        self.epochs = epochs
        self.batch_size = batch_size
        self.command = command
        self.data = ""
        self.settings: dict[str, Any] = {"quick": quick}
        self.metrics: dict[str, Any] = {}
        self.history: dict[str, list[float]] = {}
        self.files: dict[str, str] = {}
        self.started = time.time()
        self.export_result: ExportResult | None = None
        if seed_now:
            seed_everything(seed)

    # paths ---------------------------------------------------------------------------------

    @property
    def keras_path(self) -> Path:
        return self.out_dir / f"{self.name}.keras"

    @property
    def onnx_path(self) -> Path:
        return self.out_dir / f"{self.name}.onnx"

    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / "checkpoints"

    # progress, history, checkpoints ----------------------------------------------------------

    def progress(self, total: int, desc: str = "train", unit: str = "step") -> Any:
        """A tqdm bar on stderr showing steps done / total and the ETA (off when stderr is not a
        terminal). A loop stopped early (``--time-limit``) says so and how to ``--resume``."""
        import shutil

        from tqdm.auto import tqdm

        size = shutil.get_terminal_size()  # 80x24 where a terminal reports 0x0 (tqdm then hides the bar)
        return tqdm(total=total, desc=desc, unit=unit, ncols=size.columns, nrows=size.lines, leave=False,
                    mininterval=0.5, disable=None)

    def log(self, step: int | None = None, **values: float) -> None:
        """Record values (losses, metrics) for the loss curve; one point per call per name."""
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))

    def checkpoint(self, model: Any, tag: str = "last") -> Path:
        """Save ``checkpoints/TAG.keras`` (atomically, so a crash never leaves half a file)."""
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = self.checkpoint_dir / f"{tag}.keras"
        tmp = path.with_name(f".{tag}.tmp.keras")
        model.save(tmp)
        os.replace(tmp, path)
        return path

    def keras_callbacks(self, *, steps_per_epoch: int | None = None) -> list[Any]:
        """Callbacks for ``model.fit(..., verbose=0)``: tqdm progress, history, checkpoints."""
        return [_KerasProgress(self, steps_per_epoch)]

    # outputs ---------------------------------------------------------------------------------

    def save_model(self, model: Any) -> Path:
        """Save the trained Keras model as ``NAME.keras``."""
        tmp = self.keras_path.with_name(f".{self.name}.tmp.keras")
        model.save(tmp)
        os.replace(tmp, self.keras_path)
        self.files["keras"] = self.keras_path.name
        return self.keras_path

    def card(self, **fields: Any) -> ModelCard:
        """A model card with this run's name, kind, training record and metrics filled in."""
        fields.setdefault("kind", self.kind)
        fields.setdefault("name", self.name)
        card = ModelCard(**fields)
        settings = {"epochs": self.epochs, "batch_size": self.batch_size, **self.settings}
        card.training = {"command": self.command, "data": self.data, "seed": self.seed,
                         "settings": {k: v for k, v in settings.items() if v is not None},
                         **card.training}
        card.metrics = {**_plain(self.metrics), **card.metrics}
        return card

    def export(self, model: Any, card: ModelCard, *, real_inputs: Any = None, **kwargs: Any) -> ExportResult:
        """Export a Keras inference model to ``NAME.onnx`` (parity-checked; see artflow.train.exporter)."""
        from .exporter import export_keras

        result = export_keras(model, self.onnx_path, card, real_inputs=real_inputs, **kwargs)
        return self._exported(result)

    def export_function(self, fn: Callable[..., Any], input_signature: Sequence[Any], card: ModelCard,
                        **kwargs: Any) -> ExportResult:
        """Export a tf function with an explicit signature to ``NAME.onnx`` (see exporter)."""
        from .exporter import export_function

        return self._exported(export_function(fn, input_signature, self.onnx_path, card, **kwargs))

    def _exported(self, result: ExportResult) -> ExportResult:
        self.export_result = result
        self.metrics["parity_max_abs_diff"] = result.parity_max_abs_diff
        self.files["onnx"] = self.onnx_path.name
        return result

    def save_samples(self, images: np.ndarray, captions: Sequence[str] | None = None, *,
                     cols: int | None = None, cell: int = 96, name: str = "samples.png") -> Path:
        """A grid of images (NHWC float in [0, 1], 1/3/4 channels) with optional captions."""
        path = self.out_dir / name
        image_grid(images, captions, cols=cols, cell=cell).save(path)
        self.files.setdefault("samples", name)
        return path

    def finish(self) -> dict[str, Any]:
        """Write ``loss_curve.png`` and ``metrics.json``; return what metrics.json holds."""
        if self.history:
            draw_loss_curve(self.history, self.out_dir / "loss_curve.png", title=f"{self.kind}: {self.name}")
            self.files["loss_curve"] = "loss_curve.png"
        summary = {
            "kind": self.kind,
            "name": self.name,
            "seed": self.seed,
            "quick": self.quick,
            "command": self.command,
            "data": self.data,
            "settings": _plain(self.settings),
            "metrics": _plain(self.metrics),
            "seconds": round(time.time() - self.started, 2),
            "files": self.files,
            "history": {k: [round(v, 6) for v in vs] for k, vs in self.history.items()},
        }
        if self.export_result is not None:
            summary["sha256"] = self.export_result.sha256
        (self.out_dir / "metrics.json").write_text(json.dumps(summary, indent=2, default=_default) + "\n")
        return summary


def _KerasProgress(run: TrainRun, steps_per_epoch: int | None) -> Any:  # noqa: N802 - a class factory
    import keras

    class KerasProgress(keras.callbacks.Callback):
        """One bar over the whole fit (steps done / total, ETA; an epoch line each when stderr is
        not a terminal), history into the run, last/best checkpoints."""

        def __init__(self) -> None:
            super().__init__()
            self.bar: Any = None
            self.best = math.inf

        def on_train_begin(self, logs: Any = None) -> None:
            per_epoch = steps_per_epoch or self.params.get("steps") or 0
            self.bar = run.progress(per_epoch * int(self.params.get("epochs") or 1), unit="batch")

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.bar.set_description(f"epoch {epoch + 1}/{self.params.get('epochs', '?')}", refresh=False)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.bar.update(1)
            if logs and "loss" in logs and batch % 10 == 0:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.4f}", refresh=False)

        def on_train_end(self, logs: Any = None) -> None:
            self.bar.close()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = dict(logs or {})
            if self.bar.disable:
                text = " ".join(f"{k}={float(v):.4f}" for k, v in sorted(logs.items())
                                if isinstance(v, (int, float, np.floating)))
                click.echo(f"epoch {epoch + 1}/{self.params.get('epochs', '?')} {text}", err=True)
            numbers = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float, np.floating))}
            run.log(epoch, **numbers)
            if run.quick:
                return
            run.checkpoint(self.model, "last")
            val = logs.get("val_loss")
            if val is not None and float(val) < self.best:
                self.best = float(val)
                run.checkpoint(self.model, "best")

    return KerasProgress()


# ---------------------------------------------------------------------------------------------
# the click wrapper


def trainer_command(kind: str, *, help: str | None = None, default_epochs: int | None = 10,  # noqa: A002
                    default_batch_size: int | None = 64) -> Callable[[Callable[..., Any]], click.Command]:
    """Make a trainer ``click.Command`` from ``fn(run: TrainRun, **its own options)``.

    Adds ``--out/-o``, ``--seed``, ``--quick``, ``--epochs``, ``--batch-size``, ``--name``; seeds
    everything; calls ``fn``; then writes ``loss_curve.png`` and ``metrics.json`` and prints a
    one-line summary (or ``--json``: metrics.json on stdout).
    """

    def wrap(fn: Callable[..., Any]) -> click.Command:
        @functools.wraps(fn)
        def callback(out: str | None, seed: int, quick: bool, epochs: int | None, batch_size: int | None,
                     name: str | None, as_json: bool, **options: Any) -> None:
            require_train_extra()
            ctx = click.get_current_context()
            run = TrainRun(out or f"artflow-train/{name or kind}", kind=kind, name=name, seed=seed,
                           quick=quick, epochs=epochs or default_epochs,
                           batch_size=batch_size or default_batch_size, command=_command_line(ctx))
            fn(run, **options)
            summary = run.finish()
            if as_json:
                click.echo(json.dumps(summary, default=_default))
            else:
                shown = ", ".join(f"{k}={_fmt(v)}" for k, v in summary["metrics"].items())
                click.echo(f"trained {kind} '{run.name}' in {summary['seconds']:.1f} s → {run.out_dir}"
                           + (f" ({shown})" if shown else ""))

        params = getattr(fn, "__click_params__", [])
        if hasattr(fn, "__click_params__"):
            del fn.__click_params__  # type: ignore[attr-defined]
        command = click.Command(
            kind,
            callback=callback,
            params=[
                click.Option(["--out", "-o"], type=click.Path(file_okay=False),
                             help=f"Output folder (default: artflow-train/{kind})."),
                click.Option(["--seed"], type=int, default=0, show_default=True, help="Random seed."),
                click.Option(["--quick"], is_flag=True,
                             help="Tiny model and data: finishes in seconds (tests)."),
                click.Option(["--epochs"], type=click.IntRange(1),
                             help=f"Epochs (default {default_epochs or 'chosen by the trainer'})."),
                click.Option(["--batch-size"], type=click.IntRange(1),
                             help=f"Batch size (default {default_batch_size or 'chosen by the trainer'})."),
                click.Option(["--name"], help=f"Model name (default: {kind}, or the dataset's name)."),
                click.Option(["--json", "as_json"], is_flag=True, help="Print metrics.json on stdout."),
                *reversed(params),
            ],
            help=help or (fn.__doc__ or "").strip(),
        )
        return command

    return wrap


def _command_line(ctx: click.Context) -> str:
    words = ctx.command_path.split()
    parts = ["artflow", *words[1:]] if len(words) > 1 else words  # the same whatever the prog name
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if not isinstance(param, click.Option) or value is None:
            continue
        flag = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        if param.is_flag:
            if value is True and param.default is not True:
                parts.append(flag)
        elif value != param.default:
            parts += [flag, shlex.quote(str(value))]
    return " ".join(parts)


def as_command(kind: str, trainer: Any) -> click.Command:
    """A registered trainer (the ``"module:command"`` reference resolved) as a click command."""
    if not isinstance(trainer, click.Command):
        raise TrainError(f"the trainer registered for '{kind}' is not a click command: make it with "
                         "artflow.train.trainer.trainer_command")
    return trainer


# ---------------------------------------------------------------------------------------------
# pictures (Pillow only)


def image_grid(images: np.ndarray, captions: Sequence[str] | None = None, *, cols: int | None = None,
               cell: int = 96, pad: int = 4) -> Any:
    """Images (NHWC float [0, 1]) in a grid of ``cell``-pixel squares, captions under each."""
    from PIL import Image, ImageDraw

    from ..imaging import to_pil, with_channels

    n = len(images)
    cols = cols or max(1, min(n, int(math.ceil(math.sqrt(n)))))
    rows = max(1, int(math.ceil(n / cols)))
    text_h = 14 if captions else 0
    grid = Image.new("RGB", (cols * (cell + pad) + pad, rows * (cell + pad + text_h) + pad), (24, 24, 28))
    draw = ImageDraw.Draw(grid)
    for i in range(n):
        img = with_channels(np.asarray(images[i], dtype=np.float32), 3)[..., :3]
        tile = to_pil(img).resize((cell, cell), Image.Resampling.NEAREST if img.shape[0] < cell // 2
                                  else Image.Resampling.BILINEAR)
        x = pad + (i % cols) * (cell + pad)
        y = pad + (i // cols) * (cell + pad + text_h)
        grid.paste(tile, (x, y))
        if captions:
            draw.text((x + 2, y + cell + 1), str(captions[i])[: cell // 6], fill=(230, 230, 230))
    return grid


def draw_loss_curve(history: dict[str, Sequence[float]], path: str | Path, *, title: str = "",
                    size: tuple[int, int] = (640, 400)) -> Path:
    """Plot every series (losses, metrics) against its step, one colour each, with a legend."""
    from PIL import Image, ImageDraw

    width, height = size
    left, right, top, bottom = 60, 16, 28, 40
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    series = {k: [float(v) for v in vs if math.isfinite(float(v))] for k, vs in history.items()}
    series = {k: v for k, v in series.items() if v}
    palette = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
               (140, 86, 75), (227, 119, 194), (127, 127, 127)]
    draw.text((left, 8), title, fill=(0, 0, 0))
    draw.rectangle([left, top, width - right, height - bottom], outline=(0, 0, 0))
    if series:
        lo = min(min(v) for v in series.values())
        hi = max(max(v) for v in series.values())
        if hi - lo < 1e-12:
            hi = lo + 1.0
        steps = max(len(v) for v in series.values())
        pw, ph = width - left - right, height - top - bottom
        for t in range(5):
            value = lo + (hi - lo) * t / 4
            y = height - bottom - ph * t / 4
            draw.line([left - 4, y, left, y], fill=(0, 0, 0))
            draw.text((4, y - 6), f"{value:.3g}", fill=(0, 0, 0))
        draw.text((left + pw // 2 - 15, height - bottom + 8), f"step (0..{steps - 1})", fill=(0, 0, 0))
        for i, (name, values) in enumerate(sorted(series.items())):
            colour = palette[i % len(palette)]
            denom = max(1, len(values) - 1)
            points = [(left + pw * j / denom, height - bottom - ph * (v - lo) / (hi - lo))
                      for j, v in enumerate(values)]
            if len(points) == 1:
                x, y = points[0]
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
            else:
                draw.line(points, fill=colour, width=2)
            ly = top + 6 + 14 * i
            draw.line([width - right - 120, ly + 6, width - right - 100, ly + 6], fill=colour, width=2)
            draw.text((width - right - 96, ly), name[:16], fill=(0, 0, 0))
    path = Path(path)
    img.save(path)
    return path


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=_default))


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
