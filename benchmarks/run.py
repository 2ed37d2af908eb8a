"""artflow benchmarks: `python benchmarks/run.py --json` prints one JSON object.

    {"machine": {...},
     "models": {NAME: {"ort_ms_b1", "tf_ms_b1", "ort_ms_b64", "tf_ms_b64", "node_ms_b1", "raw_ms_b1",
                       "ort_over_tf_b1", "ort_over_tf_b64", "engine_over_raw_b1", ...}},
     "engine": {...},                                   (from benchmarks/engine_bench.py)
     "gallery": {...},                                  (from benchmarks/gallery_bench.py)
     "training": {...}}                                 (with --training: benchmarks/train_bench.py)

Every figure is a median of repeated runs, and both sides of each comparison are measured in the
same process run, on the same inputs, interleaved round-robin (ORT, TF, ORT, TF, …) so that
background load on a shared machine falls on both sides alike:

- ``ort_ms_bN``: artflow.models ``Session.run`` (ONNX Runtime, provider auto) at batch N;
- ``tf_ms_bN``: ``tf.function(lambda x: model(x, training=False))`` on the same weights (the
  ``.keras`` file the ONNX was exported from) and the same inputs;
- ``raw_ms_b1``: a bare ``onnxruntime.InferenceSession.run`` (same options as artflow's session);
- ``node_ms_b1``: the model's node run through ``artflow.engine.Engine`` (cache off): the engine's
  wall time for a graph of a tiny source node and the model node, minus the source node.

Models are pluggable: every registered model (``artflow models``) whose kind has an entry in
:data:`NODE_BENCH` gets a node figure; every model with a ``.keras`` next to its ``.onnx`` (or a
``keras`` path in its registry extras) gets TF figures. Inputs are drawn from each model's card.
To add a kind, add a function ``(model_name, card) -> (graph, source_node_id, model_node_id)``
to NODE_BENCH (or write ``node_bench(name, card)`` in the plugin's bench.py; see ``_node_graph``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPEATS_B1 = 200
REPEATS_B64 = 30


def wall(fn: Callable[[], Any]) -> Callable[[], None]:
    """fn, timed by its wall time in interleaved_ms."""

    def run() -> None:
        fn()

    return run


def card_inputs(session: Any, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A batch of n random inputs: shapes and dtypes from the session (dynamic axes filled from
    the card's size/channels), values in the card's declared range (normal when it has mean/std)."""
    card = session.card
    specs = {s.name: s for s in (card.inputs if card else [])}
    feeds = {}
    for info in session.inputs:
        spec = specs.get(info.name)
        fill: list[int] = []
        if spec is not None and spec.layout == "NHWC":
            fill = [*(spec.size or (64, 64)), spec.channels or 3]
        elif spec is not None and spec.layout == "NCHW":
            fill = [spec.channels or 3, *(spec.size or (64, 64))]
        elif spec is not None:
            fill = [spec.channels or (card.latent_size if card else None) or 1]
        shape = [n] + [d if d is not None else (fill[i] if i < len(fill) else 1)
                       for i, d in enumerate(info.shape[1:])]
        lo, hi = ((spec.range if spec is not None and spec.range else None) or [0.0, 1.0])[:2]
        if np.issubdtype(info.dtype, np.integer):
            feeds[info.name] = rng.integers(int(lo), max(int(lo) + 1, int(hi)), size=shape).astype(info.dtype)
        elif spec is not None and spec.mean is not None:
            feeds[info.name] = rng.normal(size=shape).astype(info.dtype)
        else:
            feeds[info.name] = rng.uniform(lo, hi, size=shape).astype(info.dtype)
    return feeds


# ---------------------------------------------------------------------------------------------
# node graphs per model kind


def _classifier_graph(name: str, card: Any) -> tuple[Any, str, str]:
    """A solid image already at the model's input size → classify.image (no resize cost)."""
    import artflow as af

    h, w = card.inputs[0].size or (64, 64)
    g = af.Graph(seed=1)
    src = g.add("generate.solid", width=int(w), height=int(h), color="#808080")
    g.add("classify.image", image=src, model=name, top_k=3)
    return g, src.id, [n for n in g.to_dict()["nodes"] if n != src.id][0]


NODE_BENCH: dict[str, Callable[[str, Any], tuple[Any, str, str]]] = {
    "classifier": _classifier_graph,
}


def _node_graph(entry: Any, card: Any) -> tuple[Any, str, str] | None:
    builder = NODE_BENCH.get(entry.kind)
    if builder is None:
        try:  # a plugin's benchmark graph: node_bench in its bench.py
            module = importlib.import_module(f"artflow_{entry.plugin}.bench") if entry.plugin else None
        except ImportError:
            module = None
        builder = getattr(module, "node_bench", None)
    return builder(entry.name, card) if builder else None


def node_runner(entry: Any, card: Any) -> Callable[[], float] | None:
    """A function running source → model node through the engine (cache off) and returning the
    engine's wall time minus the source node's own seconds: the model node plus everything the
    engine adds around it (validation, planning, keys, context, thread hand-off, output checks)."""
    built = _node_graph(entry, card)
    if built is None:
        return None
    from artflow.engine import Engine

    graph, src, _ = built
    engine = Engine(workers=1)

    def run() -> float:
        t0 = time.perf_counter()
        result = engine.run(graph, use_cache=False, progress=False)
        return time.perf_counter() - t0 - result.seconds.get(src, 0.0)

    return run


# ---------------------------------------------------------------------------------------------
# one model


def interleaved_ms(fns: dict[str, Callable[[], float | None]], repeats: int,
                   warmup: int = 5) -> dict[str, float]:
    """Median milliseconds per function, measured round-robin (a, b, c, a, b, c, …) so that every
    side sees the same background load. A function may return its own duration in seconds
    (e.g. wall time minus a part it does not own); otherwise its wall time counts."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            own = fn()
            times[key].append(own if own is not None else time.perf_counter() - t0)
    return {k: round(statistics.median(v) * 1000.0, 4) for k, v in times.items()}


def bench_model(entry: Any, *, tf_side: bool = True, quick: bool = False) -> dict[str, Any]:
    """All figures for one model; batch-1 figures interleaved together, batch-64 ones together."""
    import onnxruntime as ort

    from artflow import models as runtime

    rb1, rb64 = (20, 5) if quick else (REPEATS_B1, REPEATS_B64)
    session = runtime.get_session(entry)
    card = session.card
    rng = np.random.default_rng(0)
    b1 = card_inputs(session, 1, rng)
    b64 = card_inputs(session, 64, rng)
    out: dict[str, Any] = {"provider": session.provider, "threads": session.threads, "spin": session.spin,
                           "size_kb": round(Path(entry.path).stat().st_size / 1024, 1)}

    options = runtime.providers.session_options(session.threads)  # same settings as artflow's sessions
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if session.provider == "cuda" \
        else ["CPUExecutionProvider"]
    raw = ort.InferenceSession(str(entry.path), options, providers=providers)
    names = [o.name for o in raw.get_outputs()]
    side_b1: dict[str, Callable[[], float | None]] = {
        "ort_ms_b1": wall(lambda: session.run(b1)),
        "raw_ms_b1": wall(lambda: raw.run(names, b1)),
    }
    side_b64: dict[str, Callable[[], float | None]] = {"ort_ms_b64": wall(lambda: session.run(b64))}
    node = node_runner(entry, card)
    if node is not None:
        side_b1["node_ms_b1"] = node

    keras_path = Path(entry.extra.get("keras") or Path(entry.path).with_suffix(".keras"))
    infer = None
    if tf_side and keras_path.is_file():
        import keras
        import tensorflow as tf

        model = keras.models.load_model(keras_path, compile=False)
        names_in = session.input_names
        signature = [tf.TensorSpec([None, *b1[n].shape[1:]], tf.as_dtype(b1[n].dtype), name=n)
                     for n in names_in]

        @tf.function(input_signature=signature)
        def infer(*args: Any) -> Any:
            return model(list(args) if len(args) > 1 else args[0], training=False)

        t1 = [tf.constant(b1[n]) for n in names_in]
        t64 = [tf.constant(b64[n]) for n in names_in]
        side_b1["tf_ms_b1"] = wall(lambda: np.asarray(infer(*t1)))
        side_b64["tf_ms_b64"] = wall(lambda: np.asarray(infer(*t64)))

    out.update(interleaved_ms(side_b1, rb1))
    out.update(interleaved_ms(side_b64, rb64))
    if "node_ms_b1" in out and out["raw_ms_b1"]:
        out["engine_over_raw_b1"] = round(out["node_ms_b1"] / out["raw_ms_b1"], 3)
    if infer is not None:
        out["ort_over_tf_b1"] = round(out["ort_ms_b1"] / out["tf_ms_b1"], 3)
        out["ort_over_tf_b64"] = round(out["ort_ms_b64"] / out["tf_ms_b64"], 3)
        ref = np.asarray(infer(*t64))
        got = next(iter(session.run(b64).values()))
        out["max_abs_diff_b64"] = float(np.max(np.abs(ref - got)))
    return {k: out[k] for k in sorted(out, key=_order)}


_ORDER = ["provider", "threads", "spin", "size_kb", "ort_ms_b1", "tf_ms_b1", "ort_ms_b64", "tf_ms_b64",
          "node_ms_b1", "raw_ms_b1"]


def _order(key: str) -> tuple[int, str]:
    return (_ORDER.index(key) if key in _ORDER else len(_ORDER), key)


def bench_models(only: list[str] | None = None, *, tf_side: bool = True,
                 quick: bool = False) -> dict[str, Any]:
    from artflow.plugins import get_plugins

    results: dict[str, Any] = {}
    for entry in get_plugins().models:
        if entry.kind in OWN_BENCH:
            continue
        key = entry.name if entry.kind == "classifier" else f"{entry.kind}:{entry.name}"
        if only and entry.name not in only and key not in only:
            continue
        try:
            results[key] = bench_model(entry, tf_side=tf_side, quick=quick)
        except Exception as exc:  # noqa: BLE001 - one model's failure is reported, not fatal
            results[key] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    return results


# kinds whose models have their own harness (several inputs, sizes, tiling): see SECTIONS
OWN_BENCH = ("style", "detector", "edges", "pose", "matte", "upscale", "style_predictor", "style_transformer")


def _style(quick: bool) -> dict[str, Any]:
    from style_bench import run_style_benchmarks

    return {f"style:{k}": v for k, v in run_style_benchmarks(quick=quick).items()}


def _arbitrary(quick: bool) -> dict[str, Any]:
    """Magenta's arbitrary style pair: ms per 512² image, the rewrite vs the package's file at 384²,
    the node, tiling (arbitrary_style_bench.py; no TensorFlow source exists, so no TF side)."""
    from arbitrary_style_bench import run_arbitrary_benchmarks

    return {"style:arbitrary": run_arbitrary_benchmarks(quick=quick)}


def _detector(quick: bool) -> dict[str, Any]:
    from detector_bench import run_detector_benchmarks

    reps = {"repeats_b1": 10, "repeats_b64": 2} if quick else {}
    return {"detector:shapes": run_detector_benchmarks(**reps)}


def _vision(quick: bool) -> dict[str, Any]:
    """The imported pretrained models (vision_bench.py; TF.js ones need $ARTFLOW_HUMAN_MODELS)."""
    from vision_bench import run_vision_benchmarks

    return {f"vision:{k}": v for k, v in run_vision_benchmarks(repeats=3 if quick else 20).items()}


def _upscale(quick: bool) -> dict[str, Any]:
    """ESRGAN-thick: ORT vs TF/Keras per 512² image, the node's time and memory (upscale_bench.py;
    the TF side needs $ARTFLOW_UPSCALERJS_THICK)."""
    from upscale_bench import run_upscale_benchmarks

    return {f"upscale:{k}": v for k, v in run_upscale_benchmarks(side=128 if quick else 512).items()}


def machine() -> dict[str, Any]:
    from artflow import models as runtime

    info = runtime.describe_providers()
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "onnxruntime": info["onnxruntime"], "providers_working": info["working"],
            "threads": info["threads"], "load_average": list(os.getloadavg())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--models", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--no-tf", action="store_true", help="skip the TensorFlow side")
    parser.add_argument("--no-engine", action="store_true", help="skip the engine benchmarks")
    parser.add_argument("--quick", action="store_true", help="few repeats (smoke test)")
    parser.add_argument("--no-style", action="store_true", help="skip the style models")
    parser.add_argument("--no-detector", action="store_true", help="skip the detector")
    parser.add_argument("--no-gallery", action="store_true", help="skip the gallery benchmarks")
    parser.add_argument("--no-vision", action="store_true", help="skip the imported pretrained models")
    parser.add_argument("--no-upscale", action="store_true", help="skip the upscaler (minutes at 512²)")
    parser.add_argument("--training", action="store_true",
                        help="also time the --quick trainings (train_bench.py; minutes)")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": machine()}
    only = [m for m in args.models.split(",") if m] or None
    result["models"] = bench_models(only, tf_side=not args.no_tf, quick=args.quick)
    for skip, section in ((args.no_style, _style), (args.no_style, _arbitrary), (args.no_detector, _detector),
                          (args.no_vision, _vision),
                          (args.no_upscale, _upscale)):
        if skip or only:
            continue
        try:
            result["models"].update(section(args.quick))
        except Exception as exc:  # noqa: BLE001 - one section's failure is reported, not fatal
            result["models"][section.__name__.strip("_")] = {"error": f"{type(exc).__name__}: {exc}"}
    if not args.no_engine:
        from engine_bench import run_engine_benchmarks

        result["engine"] = run_engine_benchmarks()
    if not args.no_gallery:
        from gallery_bench import run_gallery_benchmarks

        result["gallery"] = run_gallery_benchmarks()
    if args.training:
        from train_bench import run_training_benchmarks

        result["training"] = run_training_benchmarks()
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
