"""`artflow render SPEC.toml`: render (or resume) a gallery into a folder of images + index.html."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("render")
@click.argument("spec_file", metavar="SPEC.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: build/<spec name> inside the current folder).")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Worker processes / Ray actors (default: one per core; 0 = in this process).")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: a process pool; ray: Ray actors (this machine, or --ray-address).")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="Join this Ray cluster (its token as for any Ray driver: RAY_AUTH_TOKEN_PATH etc.).")
@click.option("--shared-output", is_flag=True,
              help="Ray: -o is on storage every node shares, so actors write files there themselves "
                   "(default: files travel back to this machine and are written here).")
@click.option("--dry-run", is_flag=True, help="List the items and what would run; write nothing.")
@click.option("--force", is_flag=True, help="Render every item again, even those already done.")
@click.option("--provider", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True,
              help="ONNX Runtime provider for model nodes.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar with ETA (default: when stderr is a terminal).")
def render(spec_file: Path, output_dir: Path | None, workers: int | None, backend: str,
           ray_address: str | None, shared_output: bool, dry_run: bool, force: bool, provider: str,
           progress: bool | None) -> None:
    """Render a gallery from a TOML spec: graph × matrix → images, manifest.jsonl, index.html.

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
    if dry_run:
        from artflow.gallery.backends import make_backend
        from artflow.gallery.renderer import RenderSummary

        make_backend(backend, workers, address=ray_address)  # the same checks as a render
        summary = RenderSummary(out, 0, dry_run=True)
    else:
        summary = run_render(spec, out, workers=workers, backend=backend, ray_address=ray_address,
                             force=force, progress=progress, provider=provider, shared_output=shared_output,
                             echo=lambda line: click.echo(line, err=True))
    if dry_run:
        from artflow.gallery.renderer import plan_items

        lines = []
        for job, done in plan_items(spec, out, force=force, provider=provider):
            summary.total += 1
            summary.skipped += done
            params = " ".join(f"{k}={v}" for k, v in job.params.items())
            lines.append(one_line(f"{job.index:>5}  {'done' if done else 'todo'}  {job.name}  {params}"))
            if len(lines) >= 1000:
                click.echo("\n".join(lines))
                lines.clear()
        if lines:
            click.echo("\n".join(lines))
    for name, error in summary.failures:
        echo_error(f"{name}: {error}", "failed: ")
    click.echo(summary.line())
    if summary.exit_code:  # failed items are reported above (2; 1 if one hit a bug); finished ones stay
        sys.exit(summary.exit_code)
