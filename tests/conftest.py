"""Shared fixtures: the real MNIST cache (fetched by the test command's set-up)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

from digitcore import data


@pytest.fixture(scope="session")
def mnist() -> data.Mnist:
    """The real 70,000 digits as uint8 arrays."""
    return data.load_mnist()
