"""Accuracy, confusion matrix, per-class metrics and mistakes: pure functions over arrays."""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 10


def predict_probabilities(model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Probabilities (n, 10) for uint8 (n, 28, 28) or float (n, 28, 28, 1) digits, through the one
    prediction path (inference.predict), `batch_size` digits at a time so the whole set is never
    held as float at once."""
    from digitcore import inference

    outputs = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        if batch.dtype == np.uint8:
            batch = (batch.astype(np.float32) / 255.0)[..., np.newaxis]
        outputs.append(inference.predict(model, batch))
    return np.concatenate(outputs) if outputs else np.zeros((0, NUM_CLASSES), np.float32)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"Labels {y_true.shape} and predictions {y_pred.shape} differ in shape.")
    return float((y_true == y_pred).mean()) if len(y_true) else 0.0


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """counts[true, predicted], an int64 (num_classes, num_classes) array."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total (rows with no examples stay zero)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=np.float64), where=totals > 0)


def per_class_metrics(matrix: np.ndarray) -> list[dict]:
    """Precision, recall, F1 and support for each class, from a confusion matrix."""
    rows = []
    for digit in range(len(matrix)):
        true_positive = matrix[digit, digit]
        predicted, support = matrix[:, digit].sum(), matrix[digit, :].sum()
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "digit": digit,
                "precision": float(precision),
                "recall": float(recall),
                "f1": float(f1),
                "support": int(support),
            }
        )
    return rows


def mistakes(
    y_true: np.ndarray, probabilities: np.ndarray, true_digit: int | None = None, predicted_digit: int | None = None
) -> list[dict]:
    """Misclassified examples, most confident first, optionally for one (true, predicted) pair."""
    y_pred = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    if true_digit is not None:
        wrong = wrong[y_true[wrong] == true_digit]
    if predicted_digit is not None:
        wrong = wrong[y_pred[wrong] == predicted_digit]
    confidence = probabilities[wrong, y_pred[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return [
        {
            "index": int(wrong[i]),
            "true": int(y_true[wrong[i]]),
            "predicted": int(y_pred[wrong[i]]),
            "confidence": float(confidence[i]),
        }
        for i in order
    ]


def summary(y_true: np.ndarray, probabilities: np.ndarray) -> dict:
    """Everything a model card or the Evaluate page needs about one evaluation."""
    y_pred = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred)
    metrics = per_class_metrics(matrix)
    return {
        "accuracy": accuracy(y_true, y_pred),
        "n": int(len(y_true)),
        "per_class_accuracy": [round(row["recall"], 6) for row in metrics],
        "per_class": metrics,
        "confusion_matrix": matrix.tolist(),
    }
