"""Calibration of the shipped classifiers and their out-of-domain gallery sheet.

    python -m artflow_classifier.ship --calibrate shapes digits     # temperature + unknown threshold
    python -m artflow_classifier.ship --ood-sheet gallery/classify_out_of_domain.png
"""

from __future__ import annotations

from pathlib import Path

from artflow import shipping

from . import MODELS_DIR

# the share of correct in-distribution answers that may fall under the `unknown` threshold
UNKNOWN_QUANTILE = 0.02
DOMAINS = {"shapes": "drawn shapes (circle, square, triangle, star, hexagon) on any background, 64x64",
           "digits": "handwritten digits 0-9, 8x8 grey (scikit-learn digits)"}


# models whose inputs are small enough for a principal-subspace domain check: name -> components
DOMAIN_COMPONENTS = {"digits": 12}
# the share of in-domain validation images the domain check may call `unknown`
DOMAIN_QUANTILE = 0.98


def training_inputs(name: str) -> object:
    """The images the shipped model trained on (for the domain check's subspace)."""
    from .data import digits_split

    if name == "digits":
        return digits_split()[0]
    raise SystemExit(f"no training set for '{name}'")


def domain_check(train: object, val: object, card: object, components: int) -> dict[str, object]:
    """The principal subspace of the prepared training inputs and the quantiles of validation
    images' distances to it (see node.domain_outside); threshold at DOMAIN_QUANTILE."""
    import numpy as np

    from .node import prepare, subspace_residual

    x = prepare(np.asarray(train, np.float32), card).reshape(len(train), -1).astype(np.float64)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    basis = vt[:components]
    residual = subspace_residual(prepare(np.asarray(val, np.float32), card), mean, basis)
    quantiles = np.quantile(residual, np.linspace(0.0, 1.0, 101))
    return {"kind": "principal-subspace residual", "components": np.round(basis, 6).tolist(),
            "mean": np.round(mean, 6).tolist(), "quantiles": np.round(quantiles, 6).tolist(),
            "threshold": round(float(np.quantile(residual, DOMAIN_QUANTILE)), 6),
            "fit": f"{len(x)} training images, {components} components; threshold: the "
                   f"{DOMAIN_QUANTILE:.0%} quantile of {len(residual)} validation images' residuals"}


def calibration_set(name: str) -> tuple[object, object]:
    """Validation images and labels the shipped model never trained on: shapes drawn from a seed
    range training never used (over training backgrounds), the digits' held-out 20 %."""
    from .data import digits_split, shapes_dataset

    if name == "shapes":
        return shapes_dataset(1000, split="train", seed=3)
    if name == "digits":
        _, x_te, _, y_te = digits_split()
        return x_te, y_te
    raise SystemExit(f"no calibration set for '{name}' (known: shapes, digits)")


def calibrate(name: str) -> Path:
    """Fit the shipped classifier's temperature (validation NLL, never below 1) and its `unknown`
    threshold (the score under which only UNKNOWN_QUANTILE of correct validation answers fall);
    write both and the model's domain into its card (the weights are not touched)."""
    import numpy as np

    from artflow import models as runtime

    from .node import prepare, softened
    from .train import fit_temperature

    target = MODELS_DIR / f"{name}.onnx"
    card = shipping.carded(target, "classifier")
    x, y = calibration_set(name)
    session = runtime.get_session(target, "cpu")
    probs = session.run_batched({session.input_names[0]: prepare(np.asarray(x, np.float32), card)})["probs"]
    logits = np.log(np.clip(probs, 1e-12, 1.0))
    temperature = fit_temperature(logits, np.asarray(y))
    soft = softened(probs, temperature)
    right = soft.argmax(-1) == np.asarray(y)
    threshold = float(np.quantile(soft.max(-1)[right], UNKNOWN_QUANTILE))
    if name in DOMAIN_COMPONENTS:
        card.extra["domain_check"] = domain_check(training_inputs(name), x, card, DOMAIN_COMPONENTS[name])
    confidence = np.quantile(soft.max(-1)[right], np.linspace(0.0, 1.0, 101))
    card.extra["confidence_quantiles"] = [round(float(q), 6) for q in confidence]
    card.extra.update({"temperature": round(temperature, 4), "unknown_below": round(threshold, 4),
                       "domain": DOMAINS.get(name, card.description),
                       "calibrated": f"python -m artflow_classifier.ship --calibrate {name} "
                                     f"({len(right)} validation images; accuracy {right.mean():.4f})"})
    return shipping.rewrite_card(target, card)


def ood_sheet(path: Path, cell: int = 200) -> Path:
    """gallery: classify.image (shapes, digits) on scikit-image photos and on a drawn shape, each
    captioned with the calibrated answer and, below it, the raw top class (unknown = false)."""
    import tempfile

    import numpy as np
    import skimage.data
    from PIL import Image, ImageDraw

    import artflow as af
    from artflow.imaging import to_pil

    from .data import draw_shape_image

    tmp = Path(tempfile.mkdtemp(prefix="ood-"))
    pictures = {name: getattr(skimage.data, name)() for name in ("astronaut", "coffee", "chelsea", "rocket")}
    pictures["star drawing"] = (draw_shape_image(7, 3, "heldout", 128) * 255).astype(np.uint8)
    g = af.Graph(seed=0)
    nodes = {}
    for name, img in pictures.items():
        to_pil(np.asarray(img, np.float32) / 255.0).save(tmp / f"{name}.png")
        src = g.add("image.load", path=str(tmp / f"{name}.png"))
        nodes[name] = {m: (g.add("classify.image", image=src, model=m, top_k=2),
                           g.add("classify.image", image=src, model=m, top_k=1, unknown=False))
                       for m in ("shapes", "digits")}
    run = g.run(output_dir=tmp / "out")
    text_h = 62
    sheet = Image.new("RGB", (len(pictures) * (cell + 6) + 6, cell + text_h + 12), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    for i, (name, img) in enumerate(pictures.items()):
        tile = Image.fromarray(np.asarray(img)[..., :3] if np.asarray(img).ndim == 3 else np.asarray(img))
        tile = tile.convert("RGB")
        tile.thumbnail((cell, cell))
        x = 6 + i * (cell + 6)
        sheet.paste(tile, (x + (cell - tile.width) // 2, 6 + (cell - tile.height) // 2))
        lines = [name]
        for m, (calibrated, raw) in nodes[name].items():
            best, plain = run[calibrated][0][0], run[raw][0][0]
            lines.append(f"{m}: {best.label} {best.score:.2f} (raw {plain.label} {plain.score:.2f})")
        draw.multiline_text((x + 2, cell + 10), "\n".join(lines), fill=(230, 230, 230), spacing=3)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path
