"""`artflow render SPEC.toml`: render (or resume) a gallery into a folder of images + index.html."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("render")
@click.argument("spec_file", metavar="SPEC.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: build/<spec name> next to the current folder).")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Worker processes / Ray actors (default: one per core; 0 = in this process).")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: a process pool; ray: Ray Data (this machine, or --ray-address).")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="Join this Ray cluster (outputs must be on a shared filesystem).")
@click.option("--dry-run", is_flag=True, help="List the items and what would run; write nothing.")
@click.option("--force", is_flag=True, help="Render every item again, even those already done.")
@click.option("--provider", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True,
              help="ONNX Runtime provider for model nodes.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar with ETA (default: when stderr is a terminal).")
def render(spec_file: Path, output_dir: Path | None, workers: int | None, backend: str,
           ray_address: str | None, dry_run: bool, force: bool, provider: str,
           progress: bool | None) -> None:
    """Render a gallery from a TOML spec: graph × matrix → images, manifest.json, index.html.

    \b
    artflow render gallery/showcase.toml -o build/showcase
    artflow render spec.toml --dry-run
    artflow render spec.toml --backend ray --workers 4
    Finished items are skipped (resume is the default); --force renders everything again.
    """
    from artflow.cli import USER_EXIT, echo_error, one_line
    from artflow.gallery.renderer import render as run_render
    from artflow.gallery.spec import SpecError, load_spec

    try:
        spec = load_spec(spec_file)
    except SpecError as exc:
        for problem in exc.problems:
            echo_error(f"{spec_file}: {problem}")
        sys.exit(USER_EXIT)
    out = output_dir or Path("build") / spec_file.stem
    summary = run_render(spec, out, workers=workers, backend=backend, ray_address=ray_address,
                         force=force, dry_run=dry_run, progress=progress, provider=provider,
                         echo=lambda line: click.echo(line, err=True))
    if dry_run:
        from artflow.gallery.manifest import is_done, load_records

        records = load_records(out) if not force else {}
        for job in summary.jobs:
            state = "done" if is_done(job, records.get(job.key), out) else "todo"
            params = " ".join(f"{k}={v}" for k, v in job.params.items())
            click.echo(one_line(f"{job.index:>5}  {state}  {job.name}  {params}"))
    for name, error in summary.failures:
        echo_error(f"{name}: {error}", "failed: ")
    click.echo(summary.line())
    if summary.exit_code:  # failed items are reported above (2; 1 if one hit a bug); finished ones stay
        sys.exit(summary.exit_code)
