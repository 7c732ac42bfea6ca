"""Evaluation: pure functions over arrays."""

import numpy as np
import pytest

from digitcore import evaluation


@pytest.mark.parametrize(
    "y_true, y_pred, expected",
    [
        ([0, 1, 2], [0, 1, 2], 1.0),  # all right
        ([0, 1, 2, 3], [0, 1, 0, 0], 0.5),  # half right
        ([], [], 0.0),  # nothing to score
    ],
)
def test_accuracy(y_true, y_pred, expected):
    assert evaluation.accuracy(np.array(y_true), np.array(y_pred)) == expected


def test_confusion_matrix_and_per_class_metrics():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    matrix = evaluation.confusion_matrix(y_true, y_pred, num_classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert evaluation.normalise_rows(matrix)[1].tolist() == pytest.approx([0, 2 / 3, 1 / 3])
    rows = evaluation.per_class_metrics(matrix)
    assert rows[1]["precision"] == pytest.approx(2 / 3) and rows[1]["recall"] == pytest.approx(2 / 3)
    assert rows[2]["precision"] == pytest.approx(0.5) and rows[2]["f1"] == pytest.approx(2 / 3)
    assert [row["support"] for row in rows] == [2, 3, 1]


def test_mistakes_are_sorted_by_confidence_and_filterable():
    probabilities = np.array(
        [
            [0.9, 0.1, 0.0],  # right
            [0.2, 0.8, 0.0],  # 0 taken for 1, confident
            [0.4, 0.6, 0.0],  # 0 taken for 1, unsure
            [0.0, 0.3, 0.7],  # 1 taken for 2
        ]
    )
    y_true = np.array([0, 0, 0, 1])
    found = evaluation.mistakes(y_true, probabilities)
    assert [m["index"] for m in found] == [1, 3, 2]
    pair = evaluation.mistakes(y_true, probabilities, true_digit=0, predicted_digit=1)
    assert [m["index"] for m in pair] == [1, 2] and pair[0]["confidence"] == pytest.approx(0.8)
