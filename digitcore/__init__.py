"""Digit Recognition Studio core: MNIST data, CNN training, preprocessing, evaluation, explanation."""

import os

# TensorFlow is chatty at import; keep CLI and test output readable unless the user asks otherwise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"


def import_tensorflow_quietly():
    """Import TensorFlow with its C++ start-up chatter (printed before logging is configured, so
    TF_CPP_MIN_LOG_LEVEL cannot hide it) sent to /dev/null. Errors still raise normally."""
    import sys

    if "tensorflow" in sys.modules or os.environ.get("DIGITCORE_TF_VERBOSE"):
        import tensorflow

        return tensorflow
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices()  # device discovery logs its CUDA probe here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow
