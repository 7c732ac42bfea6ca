"""Shared by every page: the only st.cache_* wrappers, the visitor's workspace, the sidebar model picker,
the training-job manager, and the guard that turns any error into a friendly message (details to the
server log)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from digitcore import data, ensemble, errors, jobs, registry, workspaces
from digitcore.reading import preprocess

log = logging.getLogger("digit_studio")
if not log.handlers:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _keep_keras_state_between_runs() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit does it for TF1-era apps that built a graph per run. Here models are loaded once and
    shared by every visitor (st.cache_resource) with a compiled call per model, so the clear only
    costs: a full gc.collect() over TensorFlow's heap plus a dropped kernel cache, measured at about
    two thirds of the server's CPU per stroke on Try it. Nothing else in that hook applies to this
    app (it also closes matplotlib figures; the app draws with Plotly).
    """
    from streamlit.runtime.scriptrunner import script_runner

    if getattr(script_runner, "_clean_problem_modules", None) is not None:
        script_runner._clean_problem_modules = lambda: None


_keep_keras_state_between_runs()

MODEL_KEY = "chosen_model"  # survives page switches (widget keys are cleared with their page)
MODELS_LISTED_AT = "models_listed_at"  # when this run's picker read the models folders (models_listed_before)
DIGIT_KEY = "current_digit"  # the last digit drawn or uploaded on Try it: {"image", "source"}


# --- the visitor's workspace -------------------------------------------------------------------------

WORKSPACE_PARAMETER = "ws"  # ?ws=<key> in the URL: bookmark it to come back to your digits and models
WORKSPACE_KEY = "workspace_key"  # the same key for this session, should a page switch drop the URL's


def workspace() -> workspaces.Workspace:
    """This visitor's workspace, from the URL's key (kept there, so a reload or a bookmark returns to
    it); a new one on a first visit or for a key that is not one (never another folder).

    The sidebar's links carry the key to every page (app_pages/navigation.py), so it is written here
    only on a first visit or to a URL that lost it: each write is a browser-history entry."""
    key = st.query_params.get(WORKSPACE_PARAMETER) or st.session_state.get(WORKSPACE_KEY)
    try:
        chosen = workspaces.parse(key) if key else workspaces.new()
    except workspaces.InvalidWorkspace:
        chosen = workspaces.new()
    st.session_state[WORKSPACE_KEY] = chosen.key
    if st.query_params.get(WORKSPACE_PARAMETER) != chosen.key:
        st.query_params[WORKSPACE_PARAMETER] = chosen.key
    return chosen


# --- errors -------------------------------------------------------------------------------------


@contextlib.contextmanager
def friendly_errors(doing: str):
    """Show a short message instead of a traceback; the traceback goes to the server log.

    Streamlit's rerun and stop signals derive from BaseException, so they pass through untouched.
    """
    try:
        yield
    except Exception as error:
        sentence = errors.sentence_for(error, errors.Audience.PAGE)
        if sentence is None:
            log.exception("Unexpected error while %s", doing)
            st.error(
                f"Sorry, something went wrong while {doing}. The details are in the server log; "
                "try another choice or reload the page."
            )
        else:  # a failure people can act on: its sentence, and only its message in the log
            log.error("%s while %s: %s", type(error).__name__, doing, error)
            st.error(sentence)


def run_page(render: Callable[[], None], doing: str) -> None:
    """Run a page's body inside the error guard."""
    with friendly_errors(doing):
        render()


# --- data ---------------------------------------------------------------------------------------


# A failed fetch of the digits is answered again from memory for this long, unless the cache has
# become valid meanwhile (fetch-data was run): each page view would otherwise try every source
# again, about 5 s of the visitor's wait and of the server's CPU, to show the same sentence.
FETCH_RETRY_SECONDS = 60.0
_failed_fetches: dict[Path, tuple[float, data.DataUnavailable]] = {}


@st.cache_resource(show_spinner="Loading the 70,000 MNIST digits...")
def mnist() -> data.Mnist:
    """The dataset, loaded once per process and shared read-only by every visitor."""
    directory = data.data_dir()
    failed = _failed_fetches.get(directory)
    if failed is not None and time.monotonic() - failed[0] < FETCH_RETRY_SECONDS:
        if not data.cache_is_valid(directory)[0]:
            raise failed[1]
        return data.read_cache(directory)  # mended meanwhile: already verified, read it once
    try:
        return data.load_mnist(directory)
    except data.DataUnavailable as error:
        _failed_fetches[directory] = (time.monotonic(), error)
        raise


@st.cache_data(show_spinner=False)
def dataset_statistics() -> dict:
    """Class counts, mean digits and the pixel histogram (seconds of work, done once)."""
    digits = mnist()
    return {
        "train_counts": data.class_counts(digits.y_train).tolist(),
        "test_counts": data.class_counts(digits.y_test).tolist(),
        "mean_images": data.mean_images(digits.x_train, digits.y_train),
        "histogram": np.bincount(digits.x_train.ravel(), minlength=256),
        "source": data.cached_source_name(data.data_dir()),
    }


# --- models -------------------------------------------------------------------------------------


def _fingerprint(directory: Path) -> tuple:
    """Names, sizes and times of the files in models/: a new or retrained model changes it."""
    if not directory.is_dir():
        return ()
    return tuple(
        (path.name, stat.st_size, stat.st_mtime_ns)
        for path in sorted(directory.glob("*.*"))
        if not path.name.startswith(".tmp-")
        for stat in [path.stat()]
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _list_models(directory: str, fingerprint: tuple) -> list[registry.ModelEntry]:
    del fingerprint  # part of the cache key only
    return registry.list_models(Path(directory))


@st.cache_resource(show_spinner=False)
def _tidy_models_folder(directory: str) -> bool:
    """Once per server start: finish or undo saves a killed server interrupted, remove its temporaries.
    (One server per models folder: nothing else can be saving into it while this server starts.)"""
    if Path(directory).is_dir():
        registry.remove_stale_temporaries(Path(directory), older_than=0)
    return True


def _entries_in(directory: Path) -> list[registry.ModelEntry]:
    _tidy_models_folder(str(directory))
    return _list_models(str(directory), _fingerprint(directory))


def model_entries() -> list[registry.ModelEntry]:
    """The shipped models (shared, read-only) and this visitor's own, with their cards (problems
    included), re-read when a folder changes. Another workspace's models are never listed."""
    return _entries_in(registry.models_dir()) + _entries_in(my_models_dir())


def models_listed_before(moment: float) -> bool:
    """Whether this run's picker listed the models before `moment`: a job that saved its model after the sidebar's
    picker was drawn (but before the page looked at the job) is not in the picker yet."""
    listed_at = st.session_state.get(MODELS_LISTED_AT)
    return listed_at is not None and listed_at < moment


def my_models_dir() -> Path:
    """Where this visitor's trained and fine-tuned models are saved."""
    return workspace().models_dir


@st.cache_resource(show_spinner="Loading the model...", max_entries=8)
def _load_model(path: str, modified_ns: int):
    del modified_ns  # part of the cache key: a retrained file is loaded again
    return registry.load(Path(path))


def load_model(entry: registry.ModelEntry):
    """The Keras model of an entry, loaded once per file version and shared by every visitor."""
    return _load_model(str(entry.path), entry.path.stat().st_mtime_ns)


def _label(entry: registry.ModelEntry) -> str:
    """The picker's text for a model: its name and accuracy only, short enough for the sidebar's box
    (which cuts what does not fit); what else there is to say goes under it (_details)."""
    accuracy = entry.card.test_accuracy if entry.card else None
    return entry.name + (f" · {100 * accuracy:.2f} %" if accuracy is not None else "")


def _details(entry: registry.ModelEntry) -> str:
    """A line under the picker on the chosen model: the default, an ensemble's members, and what the
    accuracy in the box is measured on."""
    parts = []
    if entry.card and entry.card.default:
        parts.append("The default model.")
    members = ensemble.members_of(entry.card)
    if members:
        parts.append(f"An ensemble of {len(members)}: {', '.join(members)}.")
    if entry.card and entry.card.test_accuracy is not None:
        parts.append("The accuracy is on the 10,000 MNIST test digits.")
    return " ".join(parts)


def _remember_model() -> None:
    st.session_state[MODEL_KEY] = st.session_state["model_picker"]


def _default_name(entries: dict[str, registry.ModelEntry]) -> str:
    """The picker's preselection: the model whose card says it is the default, else the first."""
    return next((name for name, entry in entries.items() if entry.card and entry.card.default), next(iter(entries)))


def chosen_model_name() -> str | None:
    """The model the sidebar's picker shows on this visitor's next page (None when there is none):
    their choice while it is usable, else the default. For links that must name it before the picker runs."""
    usable = {entry.name: entry for entry in model_entries() if entry.problem is None}
    if not usable:
        return None
    chosen = st.session_state.get(MODEL_KEY)
    return chosen if chosen in usable else _default_name(usable)


def model_picker() -> registry.ModelEntry | None:
    """The sidebar's model choice (the default model preselected), or None when there is none."""
    st.session_state[MODELS_LISTED_AT] = time.time()
    listed = model_entries()
    entries = {entry.name: entry for entry in listed if entry.problem is None}
    if not entries:
        st.sidebar.warning("No trained model yet. Train one on the Train page.")
        return None
    unusable = [entry for entry in listed if entry.problem is not None]
    chosen = st.session_state.get(MODEL_KEY)
    if chosen not in entries:
        default = _default_name(entries)
        st.session_state[MODEL_KEY] = default
        broken = next((entry for entry in unusable if entry.name == chosen), None)
        if broken is not None:  # the visitor's model went bad on disk while the app ran
            st.sidebar.warning(
                f"The model **{chosen}** you chose cannot be used any more ({broken.problem}); "
                f"using **{default}** instead."
            )
    names = list(entries)
    st.sidebar.selectbox(
        "Model",
        names,
        index=names.index(st.session_state[MODEL_KEY]),
        key="model_picker",
        format_func=lambda name: _label(entries[name]),
        on_change=_remember_model,
        help="Used by Evaluate, Try it and Inside the CNN.",
    )
    details = _details(entries[st.session_state[MODEL_KEY]])
    if details:
        st.sidebar.caption(details)
    if unusable:
        with st.sidebar.expander(f"Unusable model files ({len(unusable)})", icon=":material/warning:"):
            for entry in unusable:
                st.caption(f"**{entry.path.name}**: {entry.problem}")
    return entries[st.session_state[MODEL_KEY]]


@st.cache_data(show_spinner="Classifying the 10,000 test digits...", max_entries=8)
def test_probabilities(path: str, modified_ns: int) -> np.ndarray:
    """(10000, 10) probabilities of one model on the test set, computed once per file version."""
    from digitcore import inference

    model = _load_model(path, modified_ns)
    return inference.predict(model, data.to_float(mnist().x_test))


# --- the digit on Try it: work a rerun can reuse, keyed by content -----------------------------------

STATIC_CHART = {"displayModeBar": False}  # small charts: no toolbar to cover their titles (phones too)


def content_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@st.cache_data(show_spinner=False, max_entries=64)
def _digit_reading(path: str, modified_ns: int, digest: str, _content: bytes, kind: str):
    from digitcore.reading import digit

    del digest  # the cache key; the bytes themselves are not hashed again
    return digit.read_digit(preprocess.decode(_content), _load_model(path, modified_ns), kind=kind)


def digit_reading(entry: registry.ModelEntry, content: bytes, kind: str):
    """The DigitReading of a drawing or photo of one digit, read once per content, kind and model version.
    A rerun that does not change the input (a saliency choice, a label pick) costs nothing here."""
    return _digit_reading(str(entry.path), entry.path.stat().st_mtime_ns, content_digest(content), content, kind)


@st.cache_data(show_spinner="Reading the number...", max_entries=8)
def _number_reading(path: str, modified_ns: int, digest: str, _content: bytes):
    from digitcore.reading import number

    del digest  # the cache key; the bytes themselves are not hashed again
    picture = preprocess.decode(_content)
    return number.read_number(picture, _load_model(path, modified_ns)), picture


def number_reading(entry: registry.ModelEntry, content: bytes):
    """(NumberReading, the decoded picture) of a drawing or photo, read once per content and model version."""
    return _number_reading(str(entry.path), entry.path.stat().st_mtime_ns, content_digest(content), content)


@st.cache_data(show_spinner=False, max_entries=64)
def _saliency(path: str, modified_ns: int, image: bytes, method: str, digit: int) -> np.ndarray:
    from digitcore import explain

    pixels = np.frombuffer(image, dtype=np.float32).reshape(28, 28)
    return explain.saliency(_load_model(path, modified_ns), pixels, method=method, digit=digit)


def saliency_figure(entry: registry.ModelEntry, image: np.ndarray, method: str, digit: int):
    """The saliency overlay for one model, digit image and method, the map computed once per input."""
    from digitcore import plots

    image = np.ascontiguousarray(image, dtype=np.float32)
    importance = _saliency(str(entry.path), entry.path.stat().st_mtime_ns, image.tobytes(), method, digit)
    return plots.saliency_overlay(image, importance)


# --- training jobs --------------------------------------------------------------------------------


@st.cache_resource
def job_manager() -> jobs.JobManager:
    """The one training-job manager of this server process, shared by every session."""
    return jobs.JobManager()


def my_job() -> jobs.JobSnapshot | None:
    """This visitor's current or last job (never another workspace's)."""
    return job_manager().snapshot(workspace())


def my_job_view() -> jobs.JobView:
    """This visitor's job with its place in the queue, and the queue's size."""
    return job_manager().view(workspace())


@st.cache_data(show_spinner="Building the network to list its layers...")
def preset_layers(preset: str) -> list[dict]:
    """The layer table of a preset's freshly built network."""
    from digitcore import explain
    from digitcore.architectures import get_preset

    return explain.layer_summary(get_preset(preset).build())


@st.cache_data(show_spinner=False, max_entries=8)
def layers_of(path: str, modified_ns: int) -> list[dict]:
    """The layer table of a saved model."""
    from digitcore import explain

    return explain.layer_summary(_load_model(path, modified_ns))


# --- the visitor's own digits and robustness probes ------------------------------------------------


@st.cache_resource(max_entries=4)
def _sample_store(path: str):
    from digitcore import samples

    return samples.SampleStore(path)


def sample_store():
    """This visitor's SQLite store of labelled digits (one file in their workspace), opened once per
    path; the store opens a connection per call, so every session of the workspace may share it."""
    return _sample_store(str(workspace().samples_path))


PROBE_LIMIT = 1000  # test digits per probe: enough for a stable accuracy, a few seconds per model


@st.cache_data(show_spinner="Running the robustness probes...", max_entries=8)
def probe_results(path: str, modified_ns: int) -> list[dict]:
    """The model's accuracy on every probe set, computed once per file version."""
    from digitcore import probes

    digits = mnist()
    return probes.run_probes(_load_model(path, modified_ns), digits.x_test, digits.y_test, limit=PROBE_LIMIT)


@st.cache_data(show_spinner=False)
def probe_examples(name: str, count: int = 8) -> np.ndarray:
    """A few digits of one probe set, uint8 (count, 28, 28)."""
    from digitcore import probes

    digits = mnist()
    return probes.probe_set(name, digits.x_test, digits.y_test, limit=count)[0]
