"""COCO-style AP on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
from artflow_detector.evaluation import average_precision, format_report, iou_matrix

B = np.array([[0, 0, 10, 10], [20, 20, 40, 40]], np.float64)


def dets(boxes, scores, classes):
    return (np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64), np.asarray(classes))


def test_iou_of_known_boxes():
    m = iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    assert np.allclose(m, [[1.0, 50 / 150, 0.0]])


def test_perfect_detections_score_one_everywhere():
    ap = average_precision([dets(B, [0.9, 0.8], [0, 1])], [(B, np.array([0, 1]))], 2)
    assert ap["map50"] == pytest.approx(1.0) and ap["map"] == pytest.approx(1.0)


def test_a_loose_box_counts_only_at_low_iou_thresholds():
    loose = [[0, 0, 10, 12.5]]  # IoU 0.8 with the truth
    ap = average_precision([dets(loose, [0.9], [0])], [(B[:1], np.array([0]))], 1)
    assert ap["map50"] == pytest.approx(1.0)
    assert ap["map"] == pytest.approx(7 / 10)  # thresholds .50 … .80 hit, .85 … .95 miss


def test_a_confident_false_positive_and_a_duplicate_lower_precision():
    truth = [(B[:1], np.array([0]))]
    ap = average_precision([dets([[50, 50, 60, 60], [0, 0, 10, 10]], [0.95, 0.9], [0, 0])], truth, 1)
    # recall 1 is reached at precision 1/2: the 101-point AP is 0.5
    assert ap["map50"] == pytest.approx(0.5)
    dup = average_precision([dets([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 0])], truth, 1)
    assert dup["map50"] == pytest.approx(1.0)  # the duplicate comes after full recall


def test_wrong_class_misses_and_classes_without_truth_are_left_out():
    ap = average_precision([dets(B[:1], [0.9], [1])], [(B[:1], np.array([0]))], 3, ["a", "b", "c"])
    assert ap["map50"] == 0.0 and set(ap["per_class"]) == {"a"}
    assert "a" in format_report(ap)


def test_half_the_objects_found_gives_about_half_the_ap():
    truths = [(B, np.array([0, 0]))]
    ap = average_precision([dets(B[:1], [0.9], [0])], truths, 1)
    assert ap["map50"] == pytest.approx(51 / 101)
