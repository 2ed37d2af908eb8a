"""`artflow eval detector`, added by the detector plugin's ``register_commands`` hook.

`artflow eval detector --model shapes --scenes 500`: COCO-style mAP@0.5 and mAP@[.5:.95], per
class, of a detector on held-out procedural scenes (photos and seeds training never used), run
through ONNX Runtime exactly as `detect.objects` runs it. No TensorFlow.

Importing this module costs only click (``artflow --help`` lists the verb without loading
anything else); scenes, evaluation and ONNX Runtime are imported when the command runs.
"""

from __future__ import annotations

import json
import time

import click


@click.group("eval", context_settings={"help_option_names": ["-h", "--help"]})
def evaluate() -> None:
    """Evaluate a model on held-out data (ONNX Runtime only)."""


@evaluate.command("detector")
@click.option("--model", "model", default="shapes", show_default=True,
              help="A registered detector name or a path to a detector .onnx with a card.")
@click.option("--scenes", type=click.IntRange(1), default=500, show_default=True,
              help="How many held-out procedural scenes.")
@click.option("--size", type=click.IntRange(32, 4096), default=256, show_default=True,
              help="Side of the rendered scenes in pixels (the node letterboxes them to the model).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Held-out seed block (disjoint from training).")
@click.option("--score-threshold", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Lowest score kept (COCO evaluations keep low-score detections).")
@click.option("--provider", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True)
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Processes rendering scenes.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def evaluate_detector(model: str, scenes: int, size: int, seed: int, score_threshold: float, provider: str,
                      workers: int, as_json: bool) -> None:
    """mAP@0.5 and mAP@[.5:.95] (overall and per class) on held-out shape scenes."""
    import numpy as np

    from artflow import models as runtime
    from artflow.errors import ModelError
    from artflow.plugins import get_plugins
    from artflow.shipping import carded

    from .detect import detections
    from .evaluation import average_precision, format_report
    from .scenes import CLASSES, scene_batch

    entry = get_plugins().models.resolve(model, "detector")
    card = carded(entry.path, "detector")
    session = runtime.get_session(entry, provider)
    labels = card.labels or list(CLASSES)
    if list(labels) != list(CLASSES):
        raise ModelError(f"model '{model}' detects {', '.join(labels)}; the held-out scenes hold "
                         f"{', '.join(CLASSES)}")
    images, boxes, classes = scene_batch(scenes, split="heldout", size=size, seed=seed, workers=workers)
    t0 = time.perf_counter()
    found = []
    for start in range(0, len(images), 64):
        batch = images[start:start + 64].astype(np.float32) / 255.0
        found += detections(session, batch, score_threshold=score_threshold)
    seconds = time.perf_counter() - t0
    result = average_precision(found, list(zip(boxes, classes, strict=True)), len(labels), list(labels))
    result.update({"model": str(entry.path), "sha256": entry.sha256, "provider": session.provider,
                   "scene_size": size, "seed": seed, "ms_per_image": round(seconds / len(images) * 1000, 3)})
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{entry.name} on {scenes} held-out scenes ({size}x{size}, seed block {seed}, "
               f"provider {session.provider}, {result['ms_per_image']:.2f} ms/image)")
    click.echo(format_report(result))


def add_to(cli: click.Group) -> None:
    """Add ``eval detector`` to the CLI: under an ``eval`` group another plugin made, else as
    the ``eval`` group itself."""
    group = cli.commands.get("eval")
    if isinstance(group, click.Group) and group is not evaluate:
        group.add_command(evaluate_detector)
    else:
        cli.add_command(evaluate)
