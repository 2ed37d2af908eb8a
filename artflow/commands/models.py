"""Wired by artflow.cli with ``cli.add_command`` lazily (LAZY_COMMANDS: "models" → ``models``).

`artflow models [--json] [--kind KIND]`: every registered model with its name, kind, path,
sha256, status (its file checked against that sha256), the metrics in its card, and whatever
extras its plugin registered. Reads cards with ONNX Runtime only (never TensorFlow).
"""

from __future__ import annotations

import json

import click


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--kind", default=None, help="Only models of this kind (classifier, generator, …).")
@click.option("--verify", is_flag=True, hidden=True, help="Kept for scripts: every file is always checked.")
def models(as_json: bool, kind: str | None, verify: bool) -> None:
    """List registered models: name, kind, sha256, status and the metrics in each model's card.

    Every file is checked against its registered sha256: ``status`` is ``ok``, ``missing`` or
    ``sha256 mismatch`` (such a model is listed, flagged, and refused when a graph uses it).
    """
    from artflow.errors import ArtflowError
    from artflow.plugins import get_plugins

    registry = get_plugins().models
    rows = []
    for entry in registry:
        if kind and entry.kind != kind:
            continue
        problem = registry.check(entry)
        row = {"name": entry.name, "kind": entry.kind, "path": str(entry.path), "sha256": entry.sha256,
               "plugin": entry.plugin, "metrics": {}}
        card = None
        if problem != "missing":
            try:
                row = entry.describe()
                card = entry.card
            except ArtflowError as exc:
                row["error"] = str(exc)
        row["status"] = problem or "ok"
        row["verified"] = not problem
        if problem:
            try:
                registry.verify(entry)
            except ArtflowError as exc:
                row["error"] = str(exc)
        if card is not None:
            row["labels"] = card.labels
            row["inputs"] = [i.to_json() for i in card.inputs]
            row["training"] = card.training
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no models registered")
        return
    for row in rows:
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in row.get("metrics", {}).items()
                            if not k.startswith("parity_atol"))
        flag = "" if row["status"] == "ok" else f"  [{row['status'].upper()}]"
        click.echo(f"{row['kind']:<11} {row['name']:<14} {row['sha256'][:12]}  {row['plugin']:<12} "
                   f"{metrics}{flag}")
        if row.get("error"):
            click.echo(f"    error: {row['error']}")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
