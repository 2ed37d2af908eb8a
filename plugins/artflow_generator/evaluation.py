"""Sample-quality measures (numpy and ONNX Runtime only; no TensorFlow).

- :func:`frechet_distance` between two feature sets (the FID formula).
- :func:`random_conv_features`: a fixed feature space for colour images that needs no download:
  a 3-layer conv net (3×3, stride 2, ReLU; 32/64/128 channels) whose weights are drawn from
  ``numpy.random.default_rng(0)`` (He-normal), images resized to 64×64; features are the per-channel
  mean and standard deviation of layers 2 and 3 (384 numbers). Distances in it are comparable only
  with each other, not with Inception-based FID.
- :func:`classifier_outputs`: a classifier ONNX model's probabilities and its features output
  (penultimate layer) where the model exposes one.
- :func:`backbone_features`: the pretrained VGG16's features (the HED ONNX that artflow_vision
  ships, registered as ``hed``: relu4_3 by default), per-channel mean and standard deviation of
  images resized to 64×64 (1024 numbers). FID in these features is what the cards report as
  ``fid_vgg*``; the TensorFlow backbone is never loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

RANDOM_CONV_SEED = 0
RANDOM_CONV_SIZE = 64
_WIDTHS = (32, 64, 128)
BACKBONE_MODEL = ("hed", "edges")
BACKBONE_LAYER = "relu4_3"
BACKBONE_SIZE = 64


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """‖μa − μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) between feature sets a [N, D] and b [M, D].

    Tr((ΣaΣb)^½) is Σ√λ over the eigenvalues of ΣaΣb, which are those of a symmetric PSD matrix of
    size min(D, N, M): exact, stable for singular covariances, and fast when D is in the thousands.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    n, m, d = len(a), len(b), a.shape[1]
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = a - mu_a, b - mu_b
    if d <= min(n, m):
        cov_a, cov_b = ca.T @ ca / (n - 1), cb.T @ cb / (m - 1)
        w, v = np.linalg.eigh(cov_a)
        root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        sym = root_a @ cov_b @ root_a
    else:
        cross = cb @ ca.T  # [M, N]; ΣaΣb shares its non-zero eigenvalues with cross·crossᵀ/((n-1)(m-1))
        sym = (cross @ cross.T if m <= n else cross.T @ cross) / ((n - 1) * (m - 1))
    eig = np.linalg.eigvalsh((sym + sym.T) / 2)
    trace_root = float(np.sqrt(np.clip(eig, 0, None)).sum())
    trace_a, trace_b = float((ca**2).sum() / (n - 1)), float((cb**2).sum() / (m - 1))
    return float(np.sum((mu_a - mu_b) ** 2) + trace_a + trace_b - 2 * trace_root)


def _random_conv_weights() -> list[np.ndarray]:
    rng = np.random.default_rng(RANDOM_CONV_SEED)
    weights, cin = [], 3
    for cout in _WIDTHS:
        weights.append(rng.normal(0, np.sqrt(2.0 / (9 * cin)), (3, 3, cin, cout)).astype(np.float32))
        cin = cout
    return weights


def _conv_s2(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """3×3 convolution, stride 2, 'same' padding, then ReLU (NHWC)."""
    x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    n, h, wd, c = x.shape
    out_h, out_w = (h - 3) // 2 + 1, (wd - 3) // 2 + 1
    patches = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))[:, ::2, ::2]
    patches = patches[:, :out_h, :out_w]  # n, oh, ow, c, 3, 3
    y = np.einsum("nhwcij,ijco->nhwo", patches, w, optimize=True)
    return np.maximum(y, 0.0)


def random_conv_features(images: np.ndarray, batch: int = 200) -> np.ndarray:
    """Features [N, 384] of RGB images (NHWC, [0, 1]) in the fixed random-conv space."""
    from PIL import Image

    weights = _random_conv_weights()
    feats = []
    for i in range(0, len(images), batch):
        x = np.asarray(images[i : i + batch], np.float32)
        if x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        x = x[..., :3]
        if x.shape[1:3] != (RANDOM_CONV_SIZE, RANDOM_CONV_SIZE):
            x = np.stack([np.asarray(Image.fromarray(im, "RGB").resize(
                (RANDOM_CONV_SIZE, RANDOM_CONV_SIZE), Image.Resampling.BILINEAR), np.float32) / 255.0
                for im in (x * 255).astype(np.uint8)])
        x = x * 2.0 - 1.0
        parts = []
        for depth, w in enumerate(weights):
            x = _conv_s2(x, w)
            if depth >= 1:
                parts += [x.mean(axis=(1, 2)), x.std(axis=(1, 2))]
        feats.append(np.concatenate(parts, axis=1))
    return np.concatenate(feats)


def backbone_model() -> Any:
    """The registered pretrained backbone (``hed``, kind ``edges``), or None when not installed."""
    from artflow.plugins import get_plugins

    try:
        return get_plugins().models.resolve(*BACKBONE_MODEL)
    except Exception:  # noqa: BLE001 - the vision plugin is not installed: no pretrained features
        return None


def backbone_features(images: np.ndarray, *, layer: str = BACKBONE_LAYER, size: int = BACKBONE_SIZE,
                      model: Any = None, batch: int = 32) -> np.ndarray:
    """Features [N, 2C] of images (NHWC, [0, 1], grey or RGB): the per-channel mean and standard
    deviation of the pretrained VGG16's ``layer``, through ONNX Runtime, images resized to size²."""
    from artflow import models as runtime
    from artflow.errors import ModelError
    from artflow.imaging import resize

    model = model if model is not None else backbone_model()
    if model is None:
        raise ModelError("the pretrained backbone 'hed' is not registered: install artflow's vision plugin")
    session = runtime.get_session(model, "cpu")
    feats = []
    for i in range(0, len(images), batch):
        x = np.asarray(images[i:i + batch], np.float32)
        if x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        x = x[..., :3]
        if x.shape[1:3] != (size, size):
            x = resize(x, size, size, enlarge="bilinear")
        f = session.run_batched({session.input_names[0]: np.ascontiguousarray(x)}, outputs=[layer])[layer]
        f = np.asarray(f, np.float64)
        feats.append(np.concatenate([f.mean(axis=(1, 2)), f.std(axis=(1, 2))], axis=1))
    return np.concatenate(feats).astype(np.float32)


def backbone_fids(samples: np.ndarray, held_out: np.ndarray, train: np.ndarray | None = None,
                  model: Any = None) -> dict[str, Any]:
    """FID in the pretrained backbone's features: samples vs held-out real images, with the two
    references beside it (held-out half vs half, and training images vs held-out)."""
    real = backbone_features(held_out, model=model)
    gen = backbone_features(samples, model=model)
    half = len(real) // 2
    out: dict[str, Any] = {
        "fid_vgg": round(frechet_distance(gen, real), 3),
        "fid_vgg_real_vs_real": round(frechet_distance(real[:half], real[half:]), 3),
    }
    if train is not None:
        tr = backbone_features(train[: len(real)], model=model)
        out["fid_vgg_train_vs_held_out"] = round(frechet_distance(tr, real), 3)
    out["fid_vgg_space"] = (f"pretrained VGG16 (registered '{BACKBONE_MODEL[0]}' ONNX) {BACKBONE_LAYER} "
                            f"channel mean+std at {BACKBONE_SIZE}x{BACKBONE_SIZE}; {len(gen)} samples vs "
                            f"{len(real)} held-out real")
    return out


def classifier_outputs(model: str | Path | Any, images: np.ndarray) -> dict[str, np.ndarray]:
    """Run a classifier ONNX model (path or registry entry) on images: every output by name."""
    from artflow import models as runtime

    session = runtime.get_session(model, "cpu")
    spec = session.card.input() if session.card else None
    name = spec.name if spec else session.input_names[0]
    x = np.asarray(images, np.float32)
    want = spec.channels if spec and spec.channels else x.shape[-1]
    if want == 1 and x.shape[-1] == 3:
        x = x.mean(axis=-1, keepdims=True)
    elif want == 3 and x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    if spec and spec.range and list(spec.range[:2]) != [0.0, 1.0]:
        lo, hi = spec.range[:2]
        x = x * (hi - lo) + lo
    return session.run_batched({name: x})


def _penultimate_model(path: Path, output: str = "probs") -> bytes | None:
    """The classifier's ONNX graph with one more output, ``features``: the input of the final dense
    layer (walking back from ``output`` through Softmax/Add/Identity to the MatMul or Gemm).
    Built in memory with the ``onnx`` package; the model file is not changed. None if not found."""
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.load(str(path))
    producers = {o: n for n in model.graph.node for o in n.output}
    name = output
    for _ in range(8):
        node_ = producers.get(name)
        if node_ is None:
            return None
        if node_.op_type in ("MatMul", "Gemm"):
            feature = node_.input[0]
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(feature))
            model.graph.output[-1].name = feature
            return model.SerializeToString()
        if node_.op_type not in ("Softmax", "Add", "Identity", "BiasAdd"):
            return None
        name = node_.input[0]
    return None


def classifier_features(entry: Any, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(probs, penultimate features or None) of a classifier on IMAGE batches, preprocessed as the
    `classify.image` node does (its card's input spec, minmax and foreground rules)."""
    import onnxruntime as ort

    from artflow import models as runtime

    session = runtime.get_session(entry, "cpu")
    try:
        from artflow_classifier.node import prepare

        x = prepare(np.asarray(images, np.float32), session.card)
    except ImportError:
        spec = session.card.input() if session.card else None
        x = runtime.prepare_images(np.asarray(images, np.float32), spec)
    name = session.input_names[0]
    data = _penultimate_model(Path(entry.path if hasattr(entry, "path") else entry))
    if data is None:
        return session.run_batched({name: x})["probs"], None
    options = ort.SessionOptions()
    options.log_severity_level = 3
    raw = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    outs = raw.run(None, {name: x})
    names = [o.name for o in raw.get_outputs()]
    probs = outs[names.index("probs")]
    feats = outs[-1].reshape(len(x), -1)
    return probs, feats


def digits_metrics(samples: np.ndarray, labels: np.ndarray, held_out: Any, train: Any = None,
                   classifier: Any = None) -> dict[str, Any]:
    """Classifiability and Fréchet distances of digit samples, judged by the shipped ``digits``
    classifier (``classifier``: a registry entry or .onnx path; default: the registered one)."""
    if classifier is None:
        from artflow.plugins import get_plugins

        try:
            classifier = get_plugins().models.resolve("digits", "classifier")
        except Exception:  # noqa: BLE001 - no classifier installed: nothing to judge with
            return {}
    probs, feats = classifier_features(classifier, samples)
    from artflow.models import file_sha256

    judge_path = Path(getattr(classifier, "path", classifier))
    p_true = probs[np.arange(len(labels)), labels]
    out: dict[str, Any] = {
        "classifiable_p90": round(float((p_true >= 0.9).mean()), 4),
        "class_accuracy": round(float((probs.argmax(-1) == labels).mean()), 4),
        "classifier_samples": int(len(labels)),
        "classifier_sha256": file_sha256(judge_path),
    }
    real_probs, real_feats = classifier_features(classifier, held_out.images)
    out["fid_classifier_probs"] = round(frechet_distance(probs, real_probs), 5)
    if feats is not None and real_feats is not None:
        out["fid_classifier_features"] = round(frechet_distance(feats, real_feats), 4)
        out["fid_classifier_features_dims"] = int(feats.shape[1])
    if train is not None:
        tr_probs, tr_feats = classifier_features(classifier, train.images)
        out["fid_classifier_probs_train_vs_held_out"] = round(frechet_distance(tr_probs, real_probs), 5)
        if tr_feats is not None and real_feats is not None:
            fid = frechet_distance(tr_feats, real_feats)
            out["fid_classifier_features_train_vs_held_out"] = round(fid, 4)
    out["fid_reference"] = (f"{len(labels)} samples ({len(labels) // 10} per class) vs the "
                            f"{len(held_out.images)} held-out real digits, in the digits classifier's "
                            "penultimate features (input of its final dense layer) and its probabilities")
    return out
