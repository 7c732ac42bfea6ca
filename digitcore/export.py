"""A saved model to take away: its .keras file, a TFLite file or an ONNX file, zipped with its model
card and a short script that reads a 28x28 digit with it (no Streamlit; the Evaluate page, the Train
page and `python -m digitcore export` call it).

Every export takes what the Keras model takes: a batch of 28x28x1 float32 images, white ink on black,
pixel / 255 (an MNIST digit as it is), and gives the ten probabilities.
"""

from __future__ import annotations

import contextlib
import enum
import io
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from digitcore import cards, registry


class ExportUnavailable(RuntimeError):
    """This kind of export cannot be made on this installation; str() says what is missing."""


class ExportFormat(enum.StrEnum):
    KERAS = "keras"  # the model file itself, for Keras 3 in Python
    TFLITE = "tflite"  # TensorFlow Lite (LiteRT): phones, microcontrollers, any language with a runtime
    ONNX = "onnx"  # ONNX Runtime: C, C++, C#, Java, JavaScript, Python without TensorFlow

    @property
    def display_name(self) -> str:
        return {"keras": "Keras (.keras)", "tflite": "TensorFlow Lite (.tflite)", "onnx": "ONNX (.onnx)"}[self]


SNIPPET_NAME = "read_digit.py"


@dataclass(frozen=True)
class ExportedModel:
    """One export: the zip's suggested file name and its bytes (model file, card, read_digit.py)."""

    file_name: str
    data: bytes


def onnx_available() -> bool:
    """Whether the ONNX converter (tf2onnx, used by Keras's own model.export) is installed."""
    try:
        import onnx  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError:
        return False
    return True


def model_bytes(model_path: Path, export_format: ExportFormat) -> bytes:
    """The model file in `export_format`, converted from the saved .keras file (checked on load)."""
    if export_format == ExportFormat.KERAS:
        registry.load(model_path)  # the same checks as every other use: a tampered file is refused
        return Path(model_path).read_bytes()
    model = registry.load(model_path)
    if export_format == ExportFormat.TFLITE:
        return _tflite_bytes(model)
    return _onnx_bytes(model)


def _tflite_bytes(model) -> bytes:
    import tensorflow as tf

    # The converter saves a SavedModel first and prints about it; stdout holds only the CLI's JSON.
    # (Converting from a traced tf.function instead gave a file that reads NaN.)
    with contextlib.redirect_stdout(sys.stderr):
        return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


def _onnx_bytes(model) -> bytes:
    if not onnx_available():
        raise ExportUnavailable(
            "An ONNX export needs the packages tf2onnx and onnx (requirements.txt pins them); "
            "install them and try again, or take the TFLite export."
        )
    import numpy as np

    model(np.zeros((1, 28, 28, 1), np.float32))  # Keras exports only a model that has been called
    with (
        tempfile.TemporaryDirectory(prefix="digitcore-onnx-") as folder,
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sys.stderr),  # Keras prints where it saved; stdout is the CLI's JSON
    ):
        warnings.simplefilter("ignore", FutureWarning)  # tf2onnx probes numpy for np.object
        target = Path(folder) / "model.onnx"
        model.export(str(target), format="onnx", verbose=False)
        return target.read_bytes()


def export(model_path: Path | str, export_format: ExportFormat | str) -> ExportedModel:
    """Zip the model at `model_path` in `export_format` with its card and read_digit.py."""
    model_path, export_format = Path(model_path), ExportFormat(export_format)
    name = model_path.stem
    model_file = f"{name}.{export_format.value}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(model_file, model_bytes(model_path, export_format))
        card_file = cards.card_path(model_path)
        if card_file.is_file():
            archive.writestr(f"{name}.json", card_file.read_bytes())
        archive.writestr(SNIPPET_NAME, snippet(export_format, model_file))
    return ExportedModel(file_name=f"{name}-{export_format.value}.zip", data=buffer.getvalue())


_READ_IMAGE = """import sys

import numpy as np
from PIL import Image

# A 28x28 digit as the model was trained on: grayscale, white ink on black, pixel / 255.
# (Dark ink on white paper? Use 255 - pixels. Larger? Crop to the digit, then resize to 28x28.)
pixels = np.asarray(Image.open(sys.argv[1]).convert("L").resize((28, 28)), dtype=np.float32) / 255.0
batch = pixels.reshape(1, 28, 28, 1)
"""
_PRINT = """print("digit:", int(np.argmax(probabilities)), "probability:", round(float(np.max(probabilities)), 4))
"""
_RUN = {
    ExportFormat.KERAS: """import keras  # pip install keras tensorflow

model = keras.saving.load_model("{file}", compile=False)
probabilities = model.predict(batch, verbose=0)[0]
""",
    ExportFormat.TFLITE: """try:  # pip install ai-edge-litert (small), or the interpreter inside tensorflow
    from ai_edge_litert.interpreter import Interpreter
except ImportError:
    import tensorflow as tf

    Interpreter = tf.lite.Interpreter

interpreter = Interpreter(model_path="{file}")
interpreter.allocate_tensors()
interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
interpreter.invoke()
probabilities = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
""",
    ExportFormat.ONNX: """import onnxruntime  # pip install onnxruntime

session = onnxruntime.InferenceSession("{file}")
probabilities = session.run(None, {{session.get_inputs()[0].name: batch}})[0][0]
""",
}


def snippet(export_format: ExportFormat | str, model_file: str) -> str:
    """A script that reads one digit image with the exported model: `python read_digit.py digit.png`."""
    export_format = ExportFormat(export_format)
    header = f'"""Read a handwritten digit with {model_file}: python {SNIPPET_NAME} digit.png"""\n\n'
    return header + _READ_IMAGE + "\n" + _RUN[export_format].format(file=model_file) + _PRINT
