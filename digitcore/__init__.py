"""Digit Recognition Studio core: MNIST data, CNN training, preprocessing, evaluation, explanation."""

import os

# TensorFlow is chatty at import; keep CLI and test output readable unless the user asks otherwise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
