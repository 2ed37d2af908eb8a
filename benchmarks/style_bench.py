"""Style-transfer benchmarks: `run_style_benchmarks() -> dict`, called by benchmarks/run.py.

    python benchmarks/style_bench.py [--quick] [--rss-4k]      # prints the JSON

Per shipped style model (``artflow models``, kind ``style``):

- ``ort_ms_b1`` / ``tf_ms_b1``: one 512² image through artflow.models ``Session.run`` (ONNX
  Runtime) and through ``tf.function`` on the same weights (the ``.keras`` the ONNX was exported
  from), timed interleaved (ORT, TF, ORT, TF, …) so machine load hits both alike; median ms;
- ``ort_ms_b64`` / ``tf_ms_b64``: a batch of 64 at **128²** (``b64_size``; 64 × 512² would need
  ~1 GB per activation in TF), same method;
- ``raw_ms_b1``: a bare ``onnxruntime.InferenceSession.run`` at 512² (artflow's session options);
- ``node_ms_b1``: ``style.transfer`` through the engine at 512² (cache off), minus the source node,
  timed alternately with a bare session run (``raw_ms_b1_paired``) for ``engine_over_raw_b1``;
- ``style_sizes``: the same engine figure at 256², 512² and 1024² (1024² is stylized whole: ≤ the
  1 Mpx tiling limit);
- ``tiled_vs_whole_mad``: mean |whole − tiled| of a 768² photo stylized whole and in forced
  256² tiles (overlap 64, shared instance-norm statistics);
- with ``--rss-4k`` (or ``rss_4k=True``): ``rss_4k_mb``, the peak RSS of a subprocess that
  stylizes a 4096² image through the engine (tiled), and its seconds.

``johnson_reference`` (with the ``train`` extra): Johnson et al.'s reference transform network
(32/64/128 channels, 5 residual blocks, instance norm; random weights), built by the same
``TransformNet`` and exported the same way (``inference_function``, artflow's exporter), timed at
512² interleaved with each shipped style's ONNX: ``ort_ms_b1``, and per style
``over_johnson_b1`` = style ms / reference ms (the Done-when bar is ≤ 0.8).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 512
B64_SIZE = 128


def _interleaved(fns: dict[str, Callable[[], Any]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median ms of each function, run alternately so that background load affects all alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: round(statistics.median(v) * 1000.0, 2) for k, v in times.items()}


def _photo(size: int) -> np.ndarray:
    import skimage.data
    from PIL import Image

    img = Image.fromarray(skimage.data.astronaut()).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(img, np.float32) / 255.0


def _engine_ms(style: str, size: int, repeats: int) -> float:
    import artflow as af
    from artflow.engine import Engine

    g = af.Graph(seed=0)
    src = g.add("generate.gradient", width=size, height=size)
    g.add("style.transfer", image=src, style=style)
    engine = Engine(workers=1)
    times = []
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        result = engine.run(g, use_cache=False, progress=False)
        if i:
            times.append(time.perf_counter() - t0 - result.seconds.get(src.id, 0.0))
    return round(statistics.median(times) * 1000.0, 2)


def _node_vs_raw(style: str, raw: Any, feeds: dict[str, np.ndarray], repeats: int) -> tuple[float, float]:
    """Median ms of ``style.transfer`` through the engine at 512² (its wall time minus the source
    node's) and of a bare ``session.run`` on the same size, taken alternately in one loop."""
    import artflow as af
    from artflow.engine import Engine

    g = af.Graph(seed=0)
    src = g.add("generate.gradient", width=SIZE, height=SIZE)
    g.add("style.transfer", image=src, style=style)
    engine = Engine(workers=1)
    node_times, raw_times = [], []
    for i in range(repeats + 2):
        t0 = time.perf_counter()
        result = engine.run(g, use_cache=False, progress=False)
        node = time.perf_counter() - t0 - result.seconds.get(src.id, 0.0)
        t0 = time.perf_counter()
        raw.run(None, feeds)
        if i >= 2:  # warm-up
            node_times.append(node)
            raw_times.append(time.perf_counter() - t0)
    return (round(statistics.median(node_times) * 1000.0, 2), round(statistics.median(raw_times) * 1000.0, 2))


def tiled_vs_whole_mad(session: Any, size: int = 768, tile: int = 256) -> float:
    """Mean abs difference of a photo stylized whole and in forced tiles (shared statistics)."""
    from artflow_style.transfer import stylize

    image = _photo(size)
    whole = stylize(session, image, max_whole=1 << 30)
    tiled = stylize(session, image, max_whole=0, tile=tile, overlap=64)
    return round(float(np.mean(np.abs(whole - tiled))), 6)


def rss_4k(style: str, size: int = 4096) -> dict[str, float]:
    """Peak RSS (MB) and seconds of a subprocess stylizing a size² image through the engine."""
    code = f"""
import resource, time, json, artflow as af
from artflow.engine import Engine
from artflow.cache import Cache
g = af.Graph(seed=0)
src = g.add("generate.gradient", width={size}, height={size})
out = g.add("style.transfer", image=src, style={style!r})
t = time.perf_counter()
r = Engine(Cache(disk=False)).run(g, use_cache=False)
shape = list(r[out].shape)
print(json.dumps({{"seconds": time.perf_counter() - t, "shape": shape,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"rss_4k_mb": round(data["rss_mb"], 1), "rss_4k_seconds": round(data["seconds"], 1),
            "rss_4k_shape": data["shape"]}


def bench_style(entry: Any, *, quick: bool = False, with_rss: bool = False) -> dict[str, Any]:
    """Every figure for one style model (see module doc)."""
    import onnxruntime as ort

    from artflow import models as runtime

    reps = 3 if quick else 9
    session = runtime.get_session(entry)
    stats_size = int(session.input_shapes["stats"][1])
    rng = np.random.default_rng(0)

    def feeds(n: int, size: int) -> dict[str, np.ndarray]:
        return {"image": rng.uniform(0, 1, (n, size, size, 3)).astype(np.float32),
                "stats": np.zeros((n, stats_size), np.float32), "shared": np.zeros([1], np.float32)}

    b1, b64 = feeds(1, SIZE), feeds(64, B64_SIZE)
    out: dict[str, Any] = {"provider": session.provider, "threads": session.threads, "spin": session.spin,
                           "size": SIZE, "b64_size": B64_SIZE,
                           "size_kb": round(Path(entry.path).stat().st_size / 1024, 1)}
    raw = ort.InferenceSession(str(entry.path), runtime.providers.session_options(session.threads),
                               providers=["CPUExecutionProvider"])
    keras_path = Path(entry.extra.get("keras") or Path(entry.path).with_suffix(".keras"))
    fns_b1: dict[str, Callable[[], Any]] = {"ort": lambda: session.run(b1),
                                            "raw": lambda: raw.run(None, b1)}
    fns_b64: dict[str, Callable[[], Any]] = {"ort": lambda: session.run(b64)}
    if keras_path.is_file():
        import artflow_style.network  # noqa: F401 - registers TransformNet for loading
        import keras
        import tensorflow as tf

        model = keras.models.load_model(keras_path, compile=False)
        infer = tf.function(lambda x: model(x, training=False),
                            input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        t1, t64 = tf.constant(b1["image"]), tf.constant(b64["image"])
        fns_b1["tf"] = lambda: np.asarray(infer(t1))
        fns_b64["tf"] = lambda: np.asarray(infer(t64))
        diff = np.abs(np.asarray(infer(t1)) - session.run(b1)["stylized"])
        out["max_abs_diff_b1"] = float(diff.max())
    m1 = _interleaved(fns_b1, reps)
    m64 = _interleaved(fns_b64, max(2, reps // 3), warmup=1)
    out.update(ort_ms_b1=m1["ort"], raw_ms_b1=m1["raw"], ort_ms_b64=m64["ort"])
    if "tf" in m1:
        out.update(tf_ms_b1=m1["tf"], tf_ms_b64=m64["tf"],
                   ort_over_tf_b1=round(m1["ort"] / m1["tf"], 3),
                   ort_over_tf_b64=round(m64["ort"] / m64["tf"], 3))
    out["style_sizes"] = {str(s): _engine_ms(entry.name, s, reps if s < 1024 else max(2, reps // 3))
                          for s in (256, 512, 1024)}
    node_ms, raw_ms = _node_vs_raw(entry.name, raw, b1, reps)
    out.update(node_ms_b1=node_ms, raw_ms_b1_paired=raw_ms,
               engine_over_raw_b1=round(node_ms / raw_ms, 3))
    out["tiled_vs_whole_mad"] = tiled_vs_whole_mad(session)
    if with_rss:
        out.update(rss_4k(entry.name))
    return out


def johnson_reference(entries: list[Any], *, quick: bool = False) -> dict[str, Any]:
    """Johnson et al.'s reference architecture exported like the styles, timed against each one."""
    import tempfile

    import onnxruntime as ort
    from artflow_style.network import build_network, inference_function

    from artflow import models as runtime
    from artflow.models.card import InputSpec, ModelCard
    from artflow.train.exporter import export_function

    net = build_network((32, 64, 128), 5, name="johnson_reference")
    fn, signature = inference_function(net)
    path = Path(tempfile.mkdtemp(prefix="johnson-ref-")) / "johnson_reference.onnx"
    card = ModelCard(kind="style", name="johnson_reference",
                     inputs=[InputSpec("image", "NHWC", None, 3, [0.0, 1.0], color="rgb")],
                     outputs={"stylized": "", "norm_stats": ""})
    export_function(fn, signature, path, card, random_batches=1, atol=1e-3)
    options = runtime.providers.session_options(runtime.providers.usable_cores())
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (1, SIZE, SIZE, 3)).astype(np.float32)

    def feeds(session: Any) -> dict[str, np.ndarray]:
        stats = int(session.get_inputs()[1].shape[1])
        return {"image": image, "stats": np.zeros((1, stats), np.float32),
                "shared": np.zeros([1], np.float32)}

    ref = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    fns: dict[str, Callable[[], Any]] = {"johnson_reference": lambda: ref.run(None, feeds(ref))}
    for entry in entries:
        sess = ort.InferenceSession(str(entry.path), options, providers=["CPUExecutionProvider"])
        fns[entry.name] = (lambda s=sess: s.run(None, feeds(s)))
    ms = _interleaved(fns, 3 if quick else 7)
    out: dict[str, Any] = {"size": SIZE, "widths": [32, 64, 128], "res_blocks": 5,
                           "ort_ms_b1": ms["johnson_reference"],
                           "size_kb": round(path.stat().st_size / 1024, 1)}
    for entry in entries:
        out[entry.name] = {"ort_ms_b1": ms[entry.name],
                           "over_johnson_b1": round(ms[entry.name] / ms["johnson_reference"], 3)}
    return out


def run_style_benchmarks(only: list[str] | None = None, *, quick: bool = False,
                         rss_4k: bool = False) -> dict[str, Any]:
    """{model name: figures} for every registered style model (or those in ``only``), and
    ``johnson_reference`` when TensorFlow is installed."""
    import importlib.util

    from artflow.plugins import get_plugins

    results: dict[str, Any] = {}
    entries = [e for e in get_plugins().models if e.kind == "style" and not (only and e.name not in only)]
    for entry in entries:
        results[entry.name] = bench_style(entry, quick=quick, with_rss=rss_4k and not results)
    if importlib.util.find_spec("tensorflow") is not None and entries:
        results["johnson_reference"] = johnson_reference(entries, quick=quick)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--rss-4k", action="store_true", help="also measure a 4096² run's peak RSS")
    parser.add_argument("--only", nargs="*", help="style names")
    args = parser.parse_args(argv)
    print(json.dumps(run_style_benchmarks(args.only, quick=args.quick, rss_4k=args.rss_4k), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
