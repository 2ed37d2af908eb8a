"""A person's own photos for `artflow train detector --annotations FILE`: a COCO-JSON subset.

    {"images":      [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}, …],
     "categories":  [{"id": 1, "name": "cup"}, …],
     "annotations": [{"image_id": 1, "category_id": 1, "bbox": [x, y, width, height]}, …]}

``file_name`` is relative to the JSON file's folder; ``width``/``height`` are optional (checked
against the file when given); ``bbox`` is COCO's [x, y, width, height] in pixels. Everything is
checked before anything trains: :func:`load_annotations` raises one :class:`AnnotationError`
whose message has one line per problem (missing image file, box outside the image, unknown
category or image id, malformed box, …). No TensorFlow here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artflow.train.trainer import TrainError

EDGE_TOLERANCE = 1.0  # pixels a box may poke past the image edge (rounding in annotation tools)


class AnnotationError(TrainError):
    """The annotation file has problems; ``problems`` holds each one. Nothing was trained.

    The message is one line (as every error artflow prints): the count, then the first
    ``SHOWN`` problems separated by ``; ``.
    """

    SHOWN = 5

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        head = f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing trained"
        more = len(problems) - self.SHOWN
        listed = "; ".join(problems[:self.SHOWN]) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"{head}: {listed}")


@dataclass
class Annotated:
    """Validated annotations: image paths, their boxes (xyxy pixels) and class ids, class names."""

    paths: list[Path]
    boxes: list[np.ndarray]
    classes: list[np.ndarray]
    labels: list[str]


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_annotations(path: str | Path) -> Annotated:
    """Read and check a COCO-subset file; raise AnnotationError listing every problem."""
    from PIL import Image

    path = Path(path)
    problems: list[str] = []
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise AnnotationError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except ValueError as exc:
        raise AnnotationError(path, [f"not valid JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise AnnotationError(path, ["the top level must be an object with images, categories, annotations"])
    for key in ("images", "categories", "annotations"):
        if not isinstance(data.get(key), list):
            problems.append(f"'{key}' is missing or not a list")
    if problems:
        raise AnnotationError(path, problems)

    categories: dict[Any, str] = {}
    for k, cat in enumerate(data["categories"]):
        if not isinstance(cat, dict) or "id" not in cat or not isinstance(cat.get("name"), str):
            problems.append(f"category #{k}: needs an 'id' and a 'name'")
        elif cat["id"] in categories:
            problems.append(f"category id {cat['id']!r} is used twice")
        else:
            categories[cat["id"]] = cat["name"]

    images: dict[Any, tuple[Path, int, int] | None] = {}
    for k, img in enumerate(data["images"]):
        if not isinstance(img, dict) or "id" not in img or not isinstance(img.get("file_name"), str):
            problems.append(f"image #{k}: needs an 'id' and a 'file_name'")
            continue
        if img["id"] in images:
            problems.append(f"image id {img['id']!r} is used twice")
            continue
        file = path.parent / img["file_name"]
        if not file.is_file():
            problems.append(f"image {img['id']!r}: file '{img['file_name']}' not found "
                            f"(looked in {path.parent})")
            images[img["id"]] = None
            continue
        try:
            with Image.open(file) as im:
                width, height = im.size
        except Exception as exc:  # noqa: BLE001 - Pillow raises many types
            problems.append(f"image {img['id']!r}: '{img['file_name']}' is not a readable image ({exc})")
            images[img["id"]] = None
            continue
        if ("width" in img and img["width"] != width) or ("height" in img and img["height"] != height):
            problems.append(f"image {img['id']!r}: declared {img.get('width')}x{img.get('height')} but "
                            f"'{img['file_name']}' is {width}x{height}")
        images[img["id"]] = (file, width, height)

    per_image: dict[Any, list[tuple[list[float], Any]]] = {i: [] for i in images}
    for k, ann in enumerate(data["annotations"]):
        where = f"annotation #{k}" + (f" (id {ann['id']!r})" if isinstance(ann, dict) and "id" in ann else "")
        if not isinstance(ann, dict):
            problems.append(f"{where}: not an object")
            continue
        image_id, cat_id, bbox = ann.get("image_id"), ann.get("category_id"), ann.get("bbox")
        if image_id not in images:
            problems.append(f"{where}: unknown image id {image_id!r}")
        if cat_id not in categories:
            problems.append(f"{where}: unknown category id {cat_id!r} (known: "
                            f"{', '.join(repr(c) for c in categories) or 'none'})")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_num(v) for v in bbox)):
            problems.append(f"{where}: bbox must be [x, y, width, height] numbers, got {bbox!r}")
            continue
        x, y, w, h = (float(v) for v in bbox)
        if w <= 0 or h <= 0:
            problems.append(f"{where}: bbox {bbox} has no area (width and height must be > 0)")
            continue
        info = images.get(image_id)
        if info is not None:
            _, width, height = info
            t = EDGE_TOLERANCE
            if x < -t or y < -t or x + w > width + t or y + h > height + t:
                problems.append(f"{where}: bbox {bbox} lies outside image {image_id!r} ({width}x{height})")
                continue
        if image_id in per_image and cat_id in categories:
            per_image[image_id].append(([x, y, x + w, y + h], cat_id))

    usable = [i for i, v in images.items() if v is not None]
    if not problems and not any(per_image[i] for i in usable):
        problems.append("no annotations: nothing to learn from")
    if problems:
        raise AnnotationError(path, problems)

    order = list(categories)
    labels = [categories[c] for c in order]
    index = {c: j for j, c in enumerate(order)}
    paths, boxes, classes = [], [], []
    for image_id in usable:
        file, width, height = images[image_id]  # type: ignore[misc]
        anns = per_image[image_id]
        b = np.asarray([a[0] for a in anns], np.float32).reshape(-1, 4)
        b[:, 0::2] = np.clip(b[:, 0::2], 0, width)
        b[:, 1::2] = np.clip(b[:, 1::2], 0, height)
        paths.append(file)
        boxes.append(b)
        classes.append(np.asarray([index[a[1]] for a in anns], np.int64))
    return Annotated(paths, boxes, classes, labels)
