"""One watch: the target file, the live state, the server, and the file watcher that re-runs on save."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .runner import Target, snapshot
from .server import make_server
from .state import LiveState


class WatchSession:
    """Serve the page, run the target once, then re-run it whenever a watched file is saved."""

    def __init__(self, path: str | Path, output_dir: str | Path, *, port: int = 0, engine: Any = None):
        self.target = Target(Path(path), Path(output_dir), engine)
        self.target.output_dir.mkdir(parents=True, exist_ok=True)
        self.state = LiveState()
        self.server = make_server(self.state, self.target.output_dir, port)
        self._thread: threading.Thread | None = None
        self.watched: set[Path] = {self.target.path}
        self._last_good: list[dict[str, Any]] = []
        self._last_good_files: set[Path] = set()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> str:
        """Start serving in a thread; return the page's address."""
        self._thread = threading.Thread(target=self.server.serve_forever, name="artflow-watch-http",
                                        daemon=True)
        self._thread.start()
        return self.url

    def run_once(self, changed: set[str] | None = None) -> dict[str, Any]:
        """Run the target and publish the outcome; the last good outputs stay when it breaks."""
        started = time.time()
        self.state.update(phase="running", changed=sorted(Path(c).name for c in changed or ()),
                          file=self.target.path.name, changed_at=started)
        record = self.target.run()
        self.watched = record.watched or {self.target.path}
        view = snapshot(record, self.target.output_dir)
        shown = self._serve_written(view["outputs"])
        ran = sum(1 for n in view["nodes"] if n["status"] == "ran")
        common = {"file": self.target.path.name, "seconds": round(record.seconds, 3), "ran": ran,
                  "finished": time.strftime("%H:%M:%S"), "done_at": time.time()}
        if record.error:
            nodes = view["nodes"] or self.state.snapshot()["nodes"]
            self.state.keep_files(self._last_good_files)  # the page shows the last good files
            published = self.state.update(phase="error", error=record.error, nodes=nodes,
                                          outputs=self._last_good, **common)
        else:
            self._last_good, self._last_good_files = view["outputs"], shown
            self.state.keep_files(shown)
            published = self.state.update(record.results, phase="done", error=None, nodes=view["nodes"],
                                          outputs=view["outputs"], **common)
        del record
        gc.collect()  # results hold reference cycles: free the replaced run's arrays now, not later
        return published

    def _serve_written(self, outputs: list[dict[str, Any]]) -> set[Path]:
        """Give the files a sketch wrote outside the output folder their /written/ URLs."""
        paths = set()
        for entry in outputs:
            if "path" in entry:
                path = Path(entry.pop("path"))
                key = self.state.allow_file(path)
                entry["url"] = f"/written/{key}/{quote(entry['name'])}?v={entry.pop('stamp')}"
                paths.add(path)
        return paths

    def watch(self, stop: threading.Event | None = None, *, on_run: Any = None) -> None:
        """Block, re-running on every save of a watched file, until ``stop`` is set (or Ctrl-C)."""
        import watchfiles

        stop = stop or threading.Event()
        while not stop.is_set():
            watched = set(self.watched)
            folders = sorted({str(p.parent) for p in watched})

            def relevant(change: Any, path: str, watched: set[Path] = watched) -> bool:
                return Path(path).resolve() in watched

            for changes in watchfiles.watch(*folders, watch_filter=relevant, debounce=400, step=20,
                                            stop_event=stop, recursive=False, rust_timeout=500,
                                            yield_on_timeout=False):
                if not any(Path(p).exists() for _, p in changes):
                    continue  # an editor's delete-then-write: the write comes next
                state = self.run_once({p for _, p in changes})
                if on_run is not None:
                    on_run(state)
                if self.watched != watched:
                    break  # the sketch imports a new module of its folder: watch it too

    def close(self) -> None:
        """Stop the event streams and the server."""
        self.state.close()
        if self._thread is not None:  # shutdown() waits for a serve_forever that must be running
            self.server.shutdown()
        self.server.server_close()
