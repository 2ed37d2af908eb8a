"""`artflow nodes` and `artflow plugins`: what the loaded plugins contribute (wired by artflow.cli
lazily: LAZY_COMMANDS). A model param's choices are listed from the model registry, so the help
of a node such as style.transfer names every registered style."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print every node's full description as JSON.")
def nodes(name: str | None, as_json: bool) -> None:
    """List node types (or describe one) without loading any model."""
    from ..plugins import get_plugins

    registry, models = get_plugins().nodes, get_plugins().models
    specs = [registry.get(name)] if name else list(registry)
    if as_json:
        data = [s.describe() for s in specs]
        for spec, described in zip(specs, data, strict=True):  # model choices: what is registered now
            for pname, param in spec.params.items():
                if param.kind == "model":
                    described["params"][pname]["registered"] = models.names(param.model_kind or "")
        click.echo(json.dumps(data[0] if name else data, indent=2))
        return
    if name:
        spec = specs[0]
        click.echo(f"{spec.name}  [{spec.category}]  v{spec.version}  ({spec.plugin})")
        click.echo(f"  {spec.doc}")
        for s in spec.inputs:
            click.echo(f"  in   {s.name}: {s.type}{' (optional)' if s.optional else ''}  {s.doc}")
        for s in spec.outputs:
            click.echo(f"  out  {s.name}: {s.type}  {s.doc}")
        for pname, p in spec.params.items():
            default = "" if p.required else f" = {p.default!r}"
            allowed = p.allowed()
            if p.kind == "model":  # built from the registry, so it lists every shipped model
                names = ", ".join(models.names(p.model_kind or "")) or "none registered"
                allowed = f"a registered {p.model_kind} model ({names}) or a path to an .onnx file"
            click.echo(f"  param {pname}: {allowed}{default}  {p.doc}")
        return
    category = None
    for spec in specs:
        if spec.category != category:
            category = spec.category
            click.echo(f"{category}:")
        click.echo(f"  {spec.name:<24} {spec.doc}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins(as_json: bool) -> None:
    """List loaded plugins: name, version, and the nodes, models and trainers each contributes."""
    from ..plugins import get_plugins

    infos = list(get_plugins().plugins.values())
    if as_json:
        click.echo(json.dumps([p.describe() for p in infos], indent=2))
        return
    for p in infos:
        origin = "built-in" if p.builtin else p.distribution
        state = f"  SKIPPED: {p.error}" if p.error else ""
        click.echo(f"{p.name} {p.version} ({origin}): {len(p.nodes)} nodes, {len(p.models)} models, "
                   f"{len(p.trainers)} trainers{state}")
        for label, names in (("nodes", p.nodes), ("models", p.models), ("trainers", p.trainers)):
            if names:
                click.echo(f"  {label}: {', '.join(names)}")
        for refused in p.refused:
            click.echo(f"  refused {refused}")
