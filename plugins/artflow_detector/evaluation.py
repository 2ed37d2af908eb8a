"""COCO-style average precision: AP per class at IoU 0.50 and averaged over IoU 0.50:0.05:0.95.

Follows the COCO protocol's main lines: detections sorted by score (across images) are matched
greedily, per image and class, to the unmatched ground truth box of highest IoU at or above the
threshold; precision is made monotone and sampled at 101 recall points; a class with no ground
truth is left out of the mean. No crowd or area ranges.

    ap = average_precision(detections, truths, n_classes)
    ap["map50"], ap["map"], ap["per_class"][c]["ap50"]
"""

from __future__ import annotations

from typing import Any

import numpy as np

IOU_THRESHOLDS = np.round(np.arange(0.5, 0.951, 0.05), 2)

Detections = list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # per image: boxes (k,4), scores, classes
Truths = list[tuple[np.ndarray, np.ndarray]]  # per image: boxes (m,4), classes


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4) with every box in ``b`` (m, 4), xyxy."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _ap_from_pr(tp: np.ndarray, n_truth: int) -> float:
    """101-point interpolated AP from a score-sorted true-positive vector."""
    if n_truth == 0:
        return float("nan")
    if len(tp) == 0:
        return 0.0
    ctp = np.cumsum(tp)
    cfp = np.cumsum(1 - tp)
    recall = ctp / n_truth
    precision = ctp / np.maximum(ctp + cfp, 1e-12)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # monotone envelope
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    sampled = np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)
    return float(sampled.mean())


def average_precision(detections: Detections, truths: Truths, n_classes: int,
                      labels: list[str] | None = None) -> dict[str, Any]:
    """AP per class and IoU threshold; ``map50`` and ``map`` (0.50:0.95) over classes with truth."""
    if len(detections) != len(truths):
        raise ValueError(f"{len(detections)} detection lists for {len(truths)} images")
    aps = np.full((n_classes, len(IOU_THRESHOLDS)), np.nan)
    counts = np.zeros(n_classes, dtype=np.int64)
    for c in range(n_classes):
        entries: list[tuple[float, int, int]] = []  # (score, image, detection index)
        n_truth = 0
        ious: list[np.ndarray] = []
        for i, ((db, ds, dc), (tb, tc)) in enumerate(zip(detections, truths, strict=True)):
            dmask = np.asarray(dc) == c
            tmask = np.asarray(tc) == c
            n_truth += int(tmask.sum())
            ious.append(iou_matrix(np.asarray(db)[dmask], np.asarray(tb)[tmask]))
            for j, s in enumerate(np.asarray(ds)[dmask]):
                entries.append((float(s), i, j))
        counts[c] = n_truth
        entries.sort(key=lambda e: -e[0])
        for t, thr in enumerate(IOU_THRESHOLDS):
            used = [np.zeros(m.shape[1], dtype=bool) for m in ious]
            tp = np.zeros(len(entries))
            for k, (_, i, j) in enumerate(entries):
                row = ious[i][j] if ious[i].shape[1] else np.zeros(0)
                cand = np.where(~used[i] & (row >= thr - 1e-12), row, -1.0)
                if cand.size and cand.max() >= 0:
                    best = int(cand.argmax())
                    used[i][best] = True
                    tp[k] = 1.0
            aps[c, t] = _ap_from_pr(tp, n_truth)
    names = labels or [str(c) for c in range(n_classes)]
    valid = counts > 0
    per_class = {names[c]: {"ap50": float(aps[c, 0]), "ap": float(np.mean(aps[c])), "objects": int(counts[c])}
                 for c in range(n_classes) if valid[c]}
    return {
        "map50": float(np.mean(aps[valid, 0])) if valid.any() else 0.0,
        "map75": float(np.mean(aps[valid, 5])) if valid.any() else 0.0,
        "map": float(np.mean(aps[valid])) if valid.any() else 0.0,
        "per_class": per_class,
        "images": len(truths),
        "objects": int(counts.sum()),
    }


def format_report(result: dict[str, Any]) -> str:
    """A short table: overall mAP figures, then one line per class."""
    lines = [f"mAP@0.5 {result['map50']:.4f}  mAP@[.5:.95] {result['map']:.4f}  mAP@0.75 "
             f"{result['map75']:.4f}  ({result['images']} images, {result['objects']} objects)"]
    for name, v in result["per_class"].items():
        lines.append(f"  {name:<10} AP50 {v['ap50']:.4f}  AP {v['ap']:.4f}  ({v['objects']} objects)")
    return "\n".join(lines)
