"""The app under test in AppTest, for the reliability tests (imported by name: a test module must
not import `conftest`, which names a different module depending on what pytest collected first)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app.py"
RUN_TIMEOUT = 120  # seconds per script run: the first run imports TensorFlow and loads MNIST
PAGES = ["explore", "train", "evaluate", "try_it", "inside", "my_digits"]


def open_app(page: str):
    """An AppTest that has run the app and switched to app_pages/<page>.py."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    app.run()
    if page != "explore":  # the default page
        app.switch_page(f"app_pages/{page}.py")
        app.run()
    return app


def visible_text(app) -> str:
    """Every message, caption, markdown and exception text the visitor can read."""
    kinds = ("title", "header", "subheader", "info", "warning", "error", "success", "caption", "markdown",
             "exception", "text", "code")
    return "\n".join(str(getattr(element, "value", "")) + " " + str(getattr(element, "message", ""))
                     for kind in kinds for element in getattr(app, kind))
