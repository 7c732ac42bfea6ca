"""The app under test in AppTest, for the reliability tests (imported by name: a test module must
not import `conftest`, which names a different module depending on what pytest collected first)."""

from pathlib import Path

from app_helpers import APP, RUN_TIMEOUT, open_app  # noqa: F401  (re-exported for the tests here)

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["explore", "train", "evaluate", "try_it", "inside", "my_digits"]


def visible_text(app) -> str:
    """Every message, caption, markdown and exception text the visitor can read."""
    kinds = (
        "title",
        "header",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
        "caption",
        "markdown",
        "exception",
        "text",
        "code",
    )
    return "\n".join(
        str(getattr(element, "value", "")) + " " + str(getattr(element, "message", ""))
        for kind in kinds
        for element in getattr(app, kind)
    )
