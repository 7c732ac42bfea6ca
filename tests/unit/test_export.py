"""Taking a model away: each export (Keras, TFLite, ONNX) loads in its own runtime and reads the same
digits as the Keras model on 100 MNIST test digits; the zip holds the card and a script that works."""

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from digitcore import cli, export, inference, registry

DIGITS = 100
# TensorFlow's own interpreter still reads TFLite files; it only announces the separate LiteRT package.
pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")


def _unzip(exported: export.ExportedModel, folder) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        archive.extractall(folder)
        return {name: archive.read(name) for name in archive.namelist()}


def _probabilities(export_format: export.ExportFormat, model_file, batch: np.ndarray) -> np.ndarray:
    """The exported file's probabilities, read by that format's own runtime (not by our Keras model)."""
    if export_format == export.ExportFormat.KERAS:
        import keras

        return keras.saving.load_model(model_file, compile=False).predict(batch, verbose=0)
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


@pytest.mark.parametrize("export_format", list(export.ExportFormat))
def test_each_export_reads_the_same_digits_as_the_keras_model(trained_models, mnist, tmp_path, export_format):
    model_path = trained_models / "small_cnn.keras"
    batch = (mnist.x_test[:DIGITS].astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)
    expected = inference.predict(registry.load(model_path), batch)

    exported = export.export(model_path, export_format)
    files = _unzip(exported, tmp_path)

    assert exported.file_name == f"small_cnn-{export_format.value}.zip"
    assert set(files) == {f"small_cnn.{export_format.value}", "small_cnn.json", export.SNIPPET_NAME}
    assert json.loads(files["small_cnn.json"])["sha256"] == registry.sha256_of(model_path)  # its own card
    read = _probabilities(export_format, tmp_path / f"small_cnn.{export_format.value}", batch)
    assert read.shape == (DIGITS, 10)
    assert np.array_equal(read.argmax(axis=1), expected.argmax(axis=1))  # the same 100 digits
    assert np.abs(read - expected).max() < 1e-4  # and the same probabilities, up to float rounding


@pytest.mark.parametrize("export_format", list(export.ExportFormat))
def test_the_script_in_the_zip_reads_a_digit_png(trained_models, mnist, tmp_path, export_format):
    model_path = trained_models / "small_cnn.keras"
    _unzip(export.export(model_path, export_format), tmp_path)
    Image.fromarray(mnist.x_test[0]).save(tmp_path / "digit.png")
    expected = int(inference.predict(registry.load(model_path), mnist.x_test[:1].astype(np.float32) / 255.0).argmax())

    run = subprocess.run(
        [sys.executable, export.SNIPPET_NAME, "digit.png"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[-1].startswith(f"digit: {expected} probability: ")


def test_the_cli_writes_the_export_zip_and_prints_only_its_json(trained_models, tmp_path, capsys):
    arguments = ["--models-dir", str(trained_models), "--out", str(tmp_path)]
    assert cli.main(["export", "small_cnn", "--format", "tflite", *arguments]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()  # the converter's chatter never reaches stdout
    assert json.loads(line) == {
        "model": "small_cnn",
        "format": "tflite",
        "file": str(tmp_path / "small_cnn-tflite.zip"),
    }
    with zipfile.ZipFile(tmp_path / "small_cnn-tflite.zip") as archive:
        assert archive.read("small_cnn.tflite")[4:8] == b"TFL3"  # the FlatBuffer identifier of a TFLite file
    assert cli.main(["export", "small_cnn", "--format", "keras", *arguments]) == 0
    with zipfile.ZipFile(tmp_path / "small_cnn-keras.zip") as archive:
        assert archive.read("small_cnn.keras") == (trained_models / "small_cnn.keras").read_bytes()


def test_a_tampered_model_is_not_exported(trained_models, tmp_path):
    copy = tmp_path / "small_cnn.keras"
    copy.write_bytes((trained_models / "small_cnn.keras").read_bytes() + b"tampered")
    (tmp_path / "small_cnn.json").write_bytes((trained_models / "small_cnn.json").read_bytes())
    with pytest.raises(registry.ModelFileError, match="does not match the checksum"):
        export.export(copy, export.ExportFormat.KERAS)
