"""Wired by artflow.cli with ``cli.add_command`` lazily (LAZY_COMMANDS: "export" → ``export``).

`artflow export MODEL.keras -o OUT.onnx --kind KIND`: a user's own Keras model → a checked ONNX
file with an artflow card (tf2onnx from_function, opset 17, onnx.checker, ONNX Runtime vs
TensorFlow parity ≤ 1e-4). Needs the ``train`` extra.

    artflow export mynet.keras -o mynet.onnx --kind classifier --labels cat,dog --range 0,1
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("export")
@click.argument("model_path", metavar="MODEL.keras",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .onnx file to write.")
@click.option("--kind", required=True, help="classifier, generator, style, detector, or a plugin's kind.")
@click.option("--name", default=None, help="Model name in the card (default: the file's stem).")
@click.option("--labels", default=None,
              help="Class names: comma-separated, or @FILE with one per line (classifiers).")
@click.option("--range", "value_range", default="0,1", show_default=True,
              help="Input value range the model expects, LO,HI.")
@click.option("--color", type=click.Choice(["rgb", "bgr", "gray"]), default=None,
              help="Input colour order (default: gray for 1 channel, else rgb).")
@click.option("--input-name", default="image", show_default=True, help="Name of the (first) ONNX input.")
@click.option("--output-name", default=None, help="Name of the ONNX output (default: probs for "
              "classifiers, else output).")
@click.option("--data", "data_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A .npy batch of real inputs for the parity check (random inputs are always used).")
@click.option("--description", default="", help="One line for the card.")
@click.option("--atol", type=float, default=1e-4, show_default=True, help="Parity tolerance.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def export(model_path: Path, out: Path, kind: str, name: str | None, labels: str | None, value_range: str,
           color: str | None, input_name: str, output_name: str | None, data_path: Path | None,
           description: str, atol: float, as_json: bool) -> None:
    """Export a Keras model to a parity-checked ONNX file carrying an artflow model card."""
    from artflow.errors import ArtflowError, describe
    from artflow.models.card import InputSpec, ModelCard
    from artflow.train.trainer import require_train_extra

    require_train_extra()
    try:
        lo, hi = (float(v) for v in value_range.split(","))
    except ValueError:
        raise ArtflowError(f"--range {value_range!r}: write it as LO,HI (e.g. 0,1 or -1,1)") from None
    label_list: list[str] = []
    if labels:
        if labels.startswith("@"):
            label_list = [ln.strip() for ln in Path(labels[1:]).read_text().splitlines() if ln.strip()]
        else:
            label_list = [v.strip() for v in labels.split(",") if v.strip()]

    import keras
    import numpy as np

    from artflow.train.exporter import export_keras

    try:
        model = keras.models.load_model(model_path, compile=False)
    except Exception as exc:  # noqa: BLE001 - keras raises many types
        raise ArtflowError(f"cannot load Keras model '{model_path}': "
                           f"{describe(exc, with_type=False)[:200]}") from None
    shape = [int(d) if d is not None else None for d in model.inputs[0].shape[1:]]
    channels = shape[-1] if shape else None
    size = shape[:2] if len(shape) == 3 and None not in shape[:2] else None
    spec = InputSpec(input_name, "NHWC" if len(shape) == 3 else "NC", size, channels, [lo, hi],
                     color=color or ("gray" if channels == 1 else "rgb" if len(shape) == 3 else ""))
    out_name = output_name or ("probs" if kind == "classifier" else "output")
    card = ModelCard(kind=kind, name=name or out.stem, inputs=[spec], outputs={out_name: ""},
                     labels=label_list, description=description,
                     training={"command": f"artflow export {model_path.name}", "data": "", "seed": None,
                               "settings": {"source": str(model_path.name)}})
    real = np.load(data_path) if data_path else None
    result = export_keras(model, out, card, real_inputs=real, atol=atol)
    info = {"path": str(result.path), "sha256": result.sha256, "inputs": result.input_names,
            "outputs": result.output_names, "parity_max_abs_diff": result.parity_max_abs_diff}
    if as_json:
        click.echo(json.dumps(info))
    else:
        click.echo(f"wrote {result.path} (sha256 {result.sha256[:12]}…, parity max abs diff "
                   f"{result.parity_max_abs_diff:.2g})")
