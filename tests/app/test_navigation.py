"""The sidebar's page links (app_pages/navigation.py): one per page in the navigation's order, each
carrying the query string its page shows, so arriving on a page writes nothing into the URL (each
write would be a browser-history entry that the Back button stops on)."""

from urllib.parse import parse_qsl

from app_helpers import APP_WORKSPACE

TITLES = ["Explore the data", "Train", "Evaluate", "Try it", "My digits", "Inside the CNN"]


def _links(app) -> dict[str, dict[str, str]]:
    """The sidebar's links: each page's title and the query string its link carries."""
    return {link.proto.label: dict(parse_qsl(link.proto.query_string)) for link in app.sidebar.get("page_link")}


def test_every_page_has_a_link_with_the_visitors_workspace_key(open_page):
    app = open_page("explore")
    links = _links(app)
    assert list(links) == TITLES
    assert all(query["ws"] == APP_WORKSPACE for query in links.values())
    assert links["Try it"] == {  # a first visit: the picker's default model, Draw and One digit
        "ws": APP_WORKSPACE,
        "model": app.sidebar.selectbox(key="model_picker").value,
        "input": "draw",
        "read": "digit",
    }


def test_the_link_to_try_it_carries_what_try_it_writes_into_its_url(open_page):
    app = open_page("try_it")
    app.sidebar.selectbox(key="model_picker").set_value("small_dense").run()
    app.radio(key="try_source").set_value("Upload a photo").run()
    app.radio(key="try_reading").set_value("A number").run()
    written = dict(app.query_params)
    assert written == {"ws": APP_WORKSPACE, "model": "small_dense", "input": "upload", "read": "number"}
    app.switch_page("app_pages/explore.py").run()
    assert not app.exception
    assert _links(app)["Try it"] == written
