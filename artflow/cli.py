"""The `artflow` command line: one verb per job. Errors print one line (exit 2); --debug adds
the traceback. Heavy modules are imported by the verbs that need them, never by --help."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import click

from .errors import ArtflowError, one_line

# verb -> (module, attribute, one-line help); loaded only when the verb runs
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "models": ("artflow.commands.models", "models", "List registered models with their cards."),
    "doctor": ("artflow.commands.doctor", "doctor", "Check the installation, plugins and settings."),
    "train": ("artflow.commands.train", "train", "Train a model with a plugin's trainer."),
    "export": ("artflow.commands.export", "export", "Export a Keras model to ONNX with a card."),
    "render": ("artflow.commands.render", "render", "Render a gallery from a TOML spec."),
    "graph": ("artflow.commands.graph", "graph", "Draw a graph as an SVG diagram."),
    "watch": ("artflow.commands.watch", "watch", "Re-run a graph or sketch on save; live page."),
    "import": ("artflow.commands.import_", "import_", "Import a pretrained Keras or TF.js model as ONNX."),
    "install": ("artflow.commands.install", "install", "Install a plugin into this environment with pip."),
    "uninstall": ("artflow.commands.install", "uninstall", "Uninstall a plugin distribution with pip."),
    "plugin": ("artflow.commands.plugin_new", "plugin", "Make a new plugin package: plugin new NAME."),
    "nodes": ("artflow.commands.listing", "nodes", "List node types (or describe one)."),
    "plugins": ("artflow.commands.listing", "plugins", "List loaded plugins and what each contributes."),
}


class ArtflowGroup(click.Group):
    """Built-in verbs, lazily imported verbs, then verbs contributed by plugins (listed from the
    cached table of :mod:`artflow.command_table`, imported only when one runs)."""

    _plugin_commands_loaded = False
    _table: dict[str, str] | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | {n for n in LAZY_COMMANDS if _available(n)}
        from . import settings

        if not settings.get("ARTFLOW_HELP_FAST"):
            names |= set(self.plugin_table())
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is not None:
            return cmd
        if name in LAZY_COMMANDS and _available(name):
            module, attr, _ = LAZY_COMMANDS[name]
            return _LazyCommand(name, module, attr)
        if not self._plugin_commands_loaded:
            from .command_table import read_table

            table = self._table if self._table is not None else read_table()
            if table is not None and name in table:
                return _PluginCommand(self, name, table[name])
        self._load_plugin_commands()
        return super().get_command(ctx, name)

    def plugin_table(self) -> dict[str, str]:
        """Plugin command name → one-line help, without importing the plugins when the cached
        table is current (else they are loaded once and the table written)."""
        if self._table is None:
            from .command_table import read_table

            self._table = read_table()
        if self._table is None:
            self._load_plugin_commands()
        return self._table or {}

    def _load_plugin_commands(self) -> None:
        if self._plugin_commands_loaded:
            return
        self._plugin_commands_loaded = True
        from .command_table import write_table
        from .plugins import get_plugins

        before = dict(self.commands)
        plugins = get_plugins()
        plugins.add_commands(self)
        added = {n: c for n, c in self.commands.items() if before.get(n) is not c}
        self._table = write_table(added, [m for m in plugins.manager.get_plugins() if m is not None])


class _PluginCommand(click.Command):
    """A plugin's command known from the table: its help line without importing the plugin;
    running it (or its --help) loads the plugins and hands over to the real command."""

    def __init__(self, group: ArtflowGroup, name: str, help_line: str):
        super().__init__(name, help=help_line, short_help=help_line)
        self._group = group

    def real(self, ctx: click.Context | None = None) -> click.Command:
        self._group._load_plugin_commands()
        cmd = click.Group.get_command(self._group, ctx or click.Context(self._group), self.name or "")
        if cmd is None:
            raise ArtflowError(f"the plugin command '{self.name}' is gone; run `artflow plugins` to "
                               "see what loaded")
        return cmd

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        return self.real(parent).make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.real(ctx).invoke(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.real(ctx).get_help(ctx)


def _available(name: str) -> bool:
    module = LAZY_COMMANDS[name][0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class _LazyCommand(click.Command):
    """Shows its one-line help without importing; imports the real command when invoked."""

    def __init__(self, name: str, module: str, attr: str):
        super().__init__(name, help=LAZY_COMMANDS[name][2], short_help=LAZY_COMMANDS[name][2])
        self._target = (module, attr)
        self._real: click.Command | None = None

    def real(self) -> click.Command:
        if self._real is None:
            self._real = getattr(importlib.import_module(self._target[0]), self._target[1])
        return self._real

    def main(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - click internals
        return self.real().main(*args, **kwargs)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        return self.real().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.real().invoke(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.real().get_help(ctx)


@click.group(cls=ArtflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="artflow", prog_name="artflow")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("--no-plugins", is_flag=True, help="Load only the built-in plugins.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_plugins: bool) -> None:
    """artflow: script-first creative coding with typed image-node graphs.

    Compose graphs in Python or JSON, run them with `artflow run`, render galleries with
    `artflow render`, train and export models, and extend everything with plugins
    (`artflow plugins`, `artflow install`). ARTFLOW_LOAD_PLUGINS=a,b loads only those plugins.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if no_plugins:
        os.environ["ARTFLOW_NO_PLUGINS"] = "1"
        from .plugins import reset_plugins

        reset_plugins()


def _parse_set(values: tuple[str, ...]) -> list[tuple[str, str, Any]]:
    out = []
    for item in values:
        target, eq, raw = item.partition("=")
        node_id, dot, param = target.partition(".")
        if not eq or not dot or not node_id or not param:
            raise ArtflowError(f"--set {item!r}: write it as node.param=value")
        from .graph import MAX_DEPTH, nested_deeper_than

        too_deep = False
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        except RecursionError:
            value, too_deep = None, True
        if too_deep or nested_deeper_than(value, MAX_DEPTH):
            raise ArtflowError(f"--set {node_id}.{param}: the value is nested more than {MAX_DEPTH} levels "
                               "deep; no node takes params like that")
        out.append((node_id, param, value))
    return out


@cli.command()
@click.argument("graph_file", metavar="GRAPH|PNG", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder that relative save paths resolve under (default: current folder).")
@click.option("--set", "sets", multiple=True, metavar="NODE.PARAM=VALUE",
              help="Override a param; VALUE is JSON where it parses (5, true, [1,2]) else a string.")
@click.option("--json", "as_json", is_flag=True, help="Print node statuses and outputs as JSON.")
@click.option("--no-cache", is_flag=True, help="Run every node; neither read nor write the cache.")
@click.option("--provider", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True,
              help="ONNX Runtime provider for model nodes.")
@click.option("--allow-path", "allow", multiple=True, metavar="DIR",
              help="A folder the graph a PNG carries may read besides the PNG's own (repeatable).")
@click.option("--frames", type=click.IntRange(min=1), default=None,
              help="Run over N frames (schedules move).")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True, max=1000), default=None,
              help="Frame rate of a run over frames (default: the graph's, else 24).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Frames rendered at once in a run over frames.")
def run(graph_file: Path, output_dir: Path | None, sets: tuple[str, ...], as_json: bool, no_cache: bool,
        provider: str, allow: tuple[str, ...], frames: int | None, fps: float | None, workers: int) -> None:
    """Run a graph file, or re-render the graph a PNG written by artflow carries.

    \b
    artflow run sketch.json -o out/
    artflow run sketch.json --set blur.radius=8 --json
    artflow run out/picture.png -o again/
    artflow run loop.json --frames 96 --fps 24 -o out/
    """
    from .engine import default_engine
    from .errors import GraphError, NodeError
    from .graph_files import check_reads, load_graph

    graph = load_graph(graph_file, allow)
    for node_id, param, value in _parse_set(sets):
        if node_id not in graph.nodes:
            raise GraphError(f"--set {node_id}.{param}: no node '{node_id}' in {graph_file}")
        graph.set(node_id, **{param: value})
    if sets:
        check_reads(graph)  # a PNG's graph reads only where allowed, whatever --set changed
    out_dir = output_dir or Path.cwd()
    if sum(inst.type == "video.load" for inst in graph) == 1:  # a clip streams through in chunks
        _run_clip(graph, out_dir, as_json, no_cache)
        return
    try:
        # --json reports the outputs of every node that ran (cached ones are not read back)
        result = default_engine().run(graph, outputs=graph.sinks(), output_dir=out_dir,
                                      use_cache=not no_cache, provider=provider, keep_computed=as_json,
                                      frames=frames, fps=fps, frame_workers=workers)
    except NodeError as exc:
        partial = getattr(exc, "result", None)
        if as_json and partial is not None:
            click.echo(json.dumps(partial.to_json(), indent=2))
        raise
    timeline = getattr(result, "timeline", None)
    if as_json:
        click.echo(json.dumps({**result.to_json(), **({"timeline": timeline.to_json()} if timeline else {})},
                              indent=2))
        return
    if timeline is not None:
        click.echo(timeline.summary())
        return
    counts: dict[str, int] = {}
    for s in result.status.values():
        counts[s] = counts.get(s, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    per_item = f", once per image for {len(result.items)} images of mixed sizes" if result.items else ""
    click.echo(f"{len(result.status)} nodes: {summary}{per_item} in {result.wall_seconds:.2f}s")
    for node_id in result.validated.order:
        spec = result.validated.specs[node_id]
        if spec.files_output and node_id in result.values:
            for path in result.values[node_id][spec.files_output]:
                click.echo(f"  {node_id}: {path}")


def _run_clip(graph: Any, out_dir: Path, as_json: bool, no_cache: bool) -> None:
    """`artflow run` on a graph with one video.load: chunks of frames, memory flat in clip length."""
    from .video import run_clip

    clip = run_clip(graph, output_dir=out_dir, use_cache=not no_cache)
    files = [str(f) for f in clip.files]
    if as_json:
        click.echo(json.dumps({"clip": {"frames": clip.frames, "chunks": clip.chunks, "files": files,
                                        "seconds": round(clip.seconds, 3)}}, indent=2))
        return
    click.echo(f"{clip.frames} frames in {clip.chunks} chunks in {clip.seconds:.2f}s")
    for path in files:
        click.echo(f"  {path}")


@cli.group()
def cache() -> None:
    """Inspect or clear the node-output cache (ARTFLOW_CACHE)."""


@cache.command("info")
def cache_info() -> None:
    """Show where the cache is and how big it is."""
    from .cache import Cache

    c = Cache()
    size = c.disk.size_bytes() if c.disk and c.disk.root.exists() else 0
    click.echo(f"{c.root}: {size / 1e6:.1f} MB")


@cache.command("clear")
def cache_clear() -> None:
    """Delete every cached node output."""
    from .cache import Cache

    c = Cache()
    n = c.disk.clear() if c.disk and c.disk.root.exists() else 0
    click.echo(f"removed {n} cache entries from {c.root}")


#: exit codes: a user mistake or an environment fault (bad input, full disk) is USER_EXIT with one
#: line naming the culprit; BUG_EXIT means artflow itself failed (an uncaught exception)
USER_EXIT = 2
BUG_EXIT = 1


def echo_error(text: Any, prefix: str = "error: ") -> None:
    """Print one error line to stderr (sanitized: a message never spans two lines)."""
    click.echo(prefix + one_line(text), err=True)


def _showwarning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                 line: Any = None) -> None:
    echo_error(message, "warning: ")


def _environment_fault(exc: BaseException) -> str | None:
    """One line for a fault of the machine rather than of artflow (disk full, permissions, out of
    memory); None for anything else."""
    from .errors import DiskFullError, is_disk_full

    if is_disk_full(exc):
        return str(DiskFullError(os.path.dirname(exc.filename) if getattr(exc, "filename", None)
                                 else "the output folder"))
    if isinstance(exc, OSError) and exc.errno is not None:
        where = f" ('{exc.filename}')" if exc.filename else ""
        return f"{exc.strerror or type(exc).__name__}{where}; check the path, its permissions and the disk"
    if isinstance(exc, MemoryError):
        return ("out of memory; lower image sizes or batch counts, or raise ARTFLOW_MAX_MEMORY_MB "
                "if the machine has more to give")
    return None


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 on success; USER_EXIT (2) with one line for a user mistake or an
    environment fault; BUG_EXIT (1) only for an uncaught exception, which is artflow's bug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    warnings.showwarning = _showwarning
    start = time.perf_counter()
    from . import settings

    try:
        timed = settings.get("ARTFLOW_TIME_CLI")
    except ArtflowError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    try:
        cli.main(args=args, prog_name="artflow", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.message = one_line(exc.message)
        exc.show()
        sys.exit(USER_EXIT if exc.exit_code not in (0, 1) else exc.exit_code or USER_EXIT)
    except ArtflowError as exc:
        if debug:
            traceback.print_exc()
        from .errors import is_bug

        if is_bug(exc):  # a node failed with an exception its code did not mean to raise
            _bug(exc)
        echo_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except (OSError, MemoryError) as exc:
        if debug:
            traceback.print_exc()
        fault = _environment_fault(exc)
        if fault is None:
            _bug(exc)
        echo_error(fault)
        sys.exit(USER_EXIT)
    except Exception as exc:  # noqa: BLE001 - one line unless --debug
        if debug:
            traceback.print_exc()
        _bug(exc)
    finally:
        if timed:
            click.echo(f"[{time.perf_counter() - start:.3f}s]", err=True)


def _bug(exc: BaseException) -> None:
    """An exception artflow did not expect: one line, and BUG_EXIT."""
    from .errors import describe

    echo_error(f"{describe(exc)} (this is a bug in artflow or a plugin; run with --debug for the "
               "traceback and report it)")
    sys.exit(BUG_EXIT)


if __name__ == "__main__":
    main()
