"""How closely each export (TFLite, ONNX) reads the 10,000 MNIST test digits as its Keras model; prints JSON.

For each model: the export's size and conversion time, the share of test digits whose digit agrees
with the Keras model's, and the largest difference of a probability.

    .venv/bin/python bench/export_agreement.py [--models digitnet digitnet_ensemble] [--digits 10000]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also when run as `python -m digitcore bench ...`
from digitcore import data, export, inference, registry  # noqa: E402


def _read(export_format: export.ExportFormat, model_file: Path, batch: np.ndarray) -> np.ndarray:
    if export_format == export.ExportFormat.TFLITE:
        import tensorflow as tf

        interpreter = tf.lite.Interpreter(model_path=str(model_file))
        source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        interpreter.resize_tensor_input(source["index"], batch.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(source["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(target["index"])
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model_file))
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["digitnet", "digitnet_ensemble"])
    parser.add_argument("--digits", type=int, default=10_000)
    args = parser.parse_args()
    mnist = data.load_mnist()
    batch = (mnist.x_test[: args.digits].astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)
    results = []
    for name in args.models:
        path = registry.resolve(name)
        expected = inference.predict(registry.load(path), batch)
        for export_format in (export.ExportFormat.TFLITE, export.ExportFormat.ONNX):
            started = time.perf_counter()
            exported = export.export(path, export_format)
            seconds = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
                archive.extractall(folder)
                model_file = Path(folder) / f"{path.stem}.{export_format.value}"
                read = _read(export_format, model_file, batch)
                size = model_file.stat().st_size
            results.append(
                {
                    "model": name,
                    "format": export_format.value,
                    "digits": len(batch),
                    "same_digit_share": float(np.mean(read.argmax(1) == expected.argmax(1))),
                    "max_probability_difference": float(np.abs(read - expected).max()),
                    "file_megabytes": round(size / 1e6, 2),
                    "conversion_seconds": round(seconds, 1),
                }
            )
    print(json.dumps({"exports": results}, indent=1))


if __name__ == "__main__":
    main()
