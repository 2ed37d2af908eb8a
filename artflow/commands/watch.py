"""`artflow watch GRAPH.json|SKETCH.py`: re-run on save, live page on 127.0.0.1."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click


@click.command("watch")
@click.argument("target", metavar="GRAPH.json|SKETCH.py",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder that relative save paths resolve under, and the only folder the page serves "
                   "files from (default: out/NAME/ beside the watched file).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 for the page (0 picks a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
def watch(target: Path, output_dir: Path | None, port: int, no_browser: bool) -> None:
    """Run a graph file or a sketch, then again on every save; show it live in the browser.

    \b
    artflow watch sketch.json -o out/
    artflow watch sketch.py --port 0 --no-browser
    A sketch is re-run whenever it, or a module it imports from its own folder, is saved. Only
    nodes whose inputs or params changed run again (the cache keeps the rest). A broken edit
    shows its error in the page while the last good images stay. Ctrl-C stops.

    Without -o, pictures are saved in out/NAME/ beside the watched file (out/sketch/ for
    sketch.py), never in the current folder. The page answers only on 127.0.0.1 and only to
    requests addressed to it (127.0.0.1, localhost), and serves files from the output folder only.
    """
    from artflow.errors import ArtflowError
    from artflow.watch import WatchSession

    if target.suffix.lower() not in (".json", ".py"):
        raise ArtflowError(f"cannot watch '{target}': give a graph file (.json) or a sketch (.py)")
    try:
        session = WatchSession(target, output_dir or default_output_dir(target), port=port)
    except OSError as exc:
        raise ArtflowError(f"cannot serve on 127.0.0.1:{port} ({exc.strerror or exc}); "
                           "pass another --port, or --port 0 for a free one") from None
    url = session.start()
    click.echo(f"watching {target} — {url} (Ctrl-C stops)")
    stop = threading.Event()
    try:
        state = session.run_once()
        _report(state)
        if not no_browser:
            webbrowser.open(url)
        session.watch(stop, on_run=_report)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        session.close()
    click.echo("stopped watching")


def default_output_dir(target: Path) -> Path:
    """Where a watch without -o saves: a folder of its own beside the watched file (the page
    serves this folder, so never the current one, which may be a home folder)."""
    return target.resolve().parent / "out" / target.stem


def _report(state: dict) -> None:  # type: ignore[type-arg]
    if state.get("error"):
        click.echo(f"[{state['finished']}] error: {state['error']}", err=True)
    else:
        click.echo(f"[{state['finished']}] {state['ran']} node(s) ran in {state['seconds']:.2f}s")
