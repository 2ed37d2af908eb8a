"""Wired by artflow.cli lazily (LAZY_COMMANDS: "doctor" → ``doctor``).

`artflow doctor [--json]`: versions, ONNX Runtime providers (and the one that works), plugins
(with anything they had refused), the cache folder, the config file, and every ``ARTFLOW_*``
setting with its value and where it comes from.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def doctor(as_json: bool) -> None:
    """Check the installation: versions, ONNX Runtime providers (and the one that works), plugins,
    cache folder, and every ARTFLOW_* setting with its value and where it comes from."""
    import platform
    from importlib import metadata
    from importlib.util import find_spec

    from artflow import __version__, settings
    from artflow.cache import default_cache_dir
    from artflow.errors import ArtflowError
    from artflow.plugins import get_plugins

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    report: dict[str, Any] = {
        "artflow": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {d: version(d) for d in ("numpy", "pillow", "onnxruntime", "onnxruntime-gpu",
                                             "tensorflow", "tensorflow-cpu", "tf2onnx", "onnx", "ray")},
        "train_extra": find_spec("tensorflow") is not None and find_spec("tf2onnx") is not None,
        "onnxruntime_telemetry": "off" if os.environ.get("ORT_DISABLE_TELEMETRY", "") not in ("", "0")
        else "on (ORT_DISABLE_TELEMETRY is unset or 0)",
    }
    try:
        from artflow.models import describe_providers

        report["providers"] = describe_providers()
    except ArtflowError as exc:
        report["providers"] = {"error": str(exc)}
    ps = get_plugins()
    report["plugins"] = [{"name": p.name, "distribution": p.distribution, "version": p.version,
                          "nodes": len(p.nodes), "refused": p.refused, "error": p.error}
                         for p in ps.plugins.values()]
    report["node_types"] = len(ps.nodes)
    report["models"] = len(list(ps.models))
    cache_dir = default_cache_dir()
    report["cache"] = {"folder": str(cache_dir), "exists": cache_dir.exists()}
    config = settings.config_path()
    report["config_file"] = {"path": str(config), "exists": config.is_file()}
    report["settings"] = settings.describe()
    report["unknown_settings"] = settings.unknown_in_environment()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"artflow {report['artflow']} on Python {report['python']} ({report['platform']})")
    for dist, v in report["versions"].items():
        if v:
            click.echo(f"  {dist} {v}")
    click.echo(f"  training extra installed: {'yes' if report['train_extra'] else 'no'}")
    click.echo(f"  ONNX Runtime telemetry: {report['onnxruntime_telemetry']}")
    prov = report["providers"]
    if "error" in prov:
        click.echo(f"providers: {prov['error']}")
    else:
        click.echo(f"providers available: {', '.join(prov.get('available', []))}")
        click.echo(f"provider that works: {prov.get('working')}")
    click.echo(f"plugins: {len(report['plugins'])}, node types: {report['node_types']}, "
               f"models: {report['models']}")
    for p in report["plugins"]:
        if p["error"]:
            click.echo(f"  {p['error']}")
        for refused in p["refused"]:
            click.echo(f"  plugin '{p['distribution']}': {refused}")
    click.echo(f"cache: {cache_dir}")
    found = "" if report["config_file"]["exists"] else " (none)"
    click.echo(f"config file: {config}{found}")
    changed = [s for s in report["settings"] if s["source"] != "default"]
    click.echo(f"settings: {len(report['settings'])}, {len(changed)} not at their default "
               "(--json lists them all)")
    for s in changed:
        click.echo(f"  {s['name']}={s['value']} ({s['source']})")
    for name in report["unknown_settings"]:
        click.echo(f"  not a setting, ignored: {name}")
