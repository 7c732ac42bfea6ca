"""AppTest fixtures: the app opened on a page (models_dir, the small real models, is in tests/conftest.py)."""

import pytest

from app_helpers import open_app


@pytest.fixture
def open_page(models_dir):
    """open_page("evaluate") -> an AppTest that has run the app and switched to app_pages/evaluate.py."""
    return open_app
