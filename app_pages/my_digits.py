"""My digits: the digits you saved on Try it, their export and import, how a model does on them, and
fine-tuning a model on them in the background."""

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common, job_panel
from digitcore import ensemble, errors, evaluation, jobs, limits, plots, registry, samples
from digitcore.events import FinetuneDone, Outcome
from digitcore.jobs import JobKind

GALLERY_COLUMNS = 6
GALLERY_MAX = 60  # the most recent ones; the export holds them all


def _delete(sample_id: int) -> None:
    common.sample_store().delete(sample_id)
    st.session_state["own_message"] = f"Deleted example #{sample_id}."


def _caption(sample: samples.Sample) -> str:
    reading = (
        "not predicted"
        if sample.predicted is None
        else f"read as {sample.predicted} ({100 * (sample.confidence or 0):.0f} %)"
    )
    return f"**{sample.label}** · {sample.source} · {reading} · {sample.created_at[:16].replace('T', ' ')}"


def gallery(saved: list[samples.Sample]) -> None:
    st.subheader("Your examples")
    labels = ["all"] + sorted({sample.label for sample in saved})
    shown_label = st.selectbox(
        "Show", labels, key="own_filter", format_func=lambda label: f"digit {label}" if label != "all" else "all digits"
    )
    shown = [sample for sample in saved if shown_label == "all" or sample.label == shown_label][::-1][:GALLERY_MAX]
    if len(shown) == GALLERY_MAX:
        st.caption(f"The {GALLERY_MAX} most recent are shown; the export holds them all.")
    columns = st.columns(GALLERY_COLUMNS)
    for index, sample in enumerate(shown):
        with columns[index % GALLERY_COLUMNS]:
            st.image(sample.input, width=84)
            st.caption(_caption(sample))
            st.button(
                "Delete", key=f"delete_{sample.id}", on_click=_delete, args=(sample.id,), icon=":material/delete:"
            )


def exchange(store: samples.SampleStore) -> None:
    st.subheader("Export and import")
    left, right = st.columns(2, gap="large")
    left.download_button(
        "Export as zip",
        data=store.export_zip(),
        file_name="my_digits.zip",
        mime="application/zip",
        icon=":material/download:",
        key="own_export",
        disabled=store.count() == 0,
        help="A zip of PNG files plus samples.csv, to keep or to pool with a class.",
    )
    with right:
        # a new uploader after each import: the imported zip does not linger, ready to be added again
        round_number = st.session_state.setdefault("own_import_round", 0)
        upload = st.file_uploader(
            "A zip exported from this app",
            type=["zip"],
            key=f"own_import_file_{round_number}",
            max_upload_size=limits.MAX_UPLOAD_MB,
        )
        if upload is not None and st.button("Import", icon=":material/upload:", key="own_import"):
            try:
                report = store.import_report(upload.getvalue())
            except samples.SampleImportError as error:
                st.error(f"Nothing was imported: {error}")
            else:
                st.session_state["own_message"] = _import_message(report)
                st.session_state["own_import_round"] = round_number + 1
                st.rerun()  # redraw the gallery and the evaluation with them


def _import_message(report: samples.ImportReport) -> str:
    """What the import did, in the zip's own terms: added, already in your digits, repeated in the zip."""
    skipped = []
    if report.already_stored:
        skipped.append(f"{report.already_stored} already in your digits")
    if report.repeated_in_zip:
        skipped.append(f"{report.repeated_in_zip} repeating another example of the same zip (kept once)")
    if report.added == 0:
        if not report.repeated_in_zip:
            return (
                f"Nothing new: all {report.already_stored} example(s) in this zip are already in your digits, "
                "so none was added again."
            )
        return f"Nothing new was imported: {' and '.join(skipped)}."
    return f"Imported {report.added} example(s)." + (f" Skipped {' and '.join(skipped)}." if skipped else "")


def evaluate_section(entry: registry.ModelEntry, x: np.ndarray, y: np.ndarray) -> None:
    st.subheader("Evaluate on my digits")
    probabilities = evaluation.predict_probabilities(common.load_model(entry), x)
    summary = evaluation.summary(y, probabilities)
    first, second, third = st.columns(3)
    first.metric("Accuracy on your digits", f"{100 * summary['accuracy']:.1f} %", help=f"{len(y)} digit(s)")
    mnist_accuracy = entry.card.test_accuracy if entry.card else None
    second.metric(
        "MNIST test accuracy",
        "?" if mnist_accuracy is None else f"{100 * mnist_accuracy:.2f} %",
        help="From the model card: the 10,000 MNIST test digits.",
    )
    third.metric("Your digits", f"{len(y)}")
    st.plotly_chart(
        plots.confusion_matrix(np.asarray(summary["confusion_matrix"]), normalised=False), key="own_confusion"
    )


def _taken_names() -> set[str]:
    return {entry.name for entry in common.model_entries()}


def _free_name(parent: str) -> str:
    # the one naming rule for fine-tuned models (parent_mine, parent_mine_2, ...), as the CLI uses
    return registry.finetuned_name(parent, common.my_models_dir())


def show_finetune(snapshot: jobs.JobSnapshot) -> None:
    """Progress of the fine-tune job, then its before and after on MNIST and on your digits."""
    st.markdown(f"**{snapshot.name}** (from {snapshot.preset}) · {snapshot.state.text} · {snapshot.elapsed:.0f} s")
    job_panel.show_queue(common.my_job_view(), stop_key="own_stop_queued")
    job_panel.show_progress(snapshot, stop_key="own_stop", detailed=False)
    job_panel.show_ending(snapshot, failed="Fine-tuning failed.", saved=lambda result: _show_saved(result, snapshot))


def percent(share: float | None) -> str:
    """A share of 1 as every page writes accuracies: 0.9967 -> "99.67 %"."""
    return "—" if share is None else f"{100 * share:.2f} %"


def _show_saved(result: Outcome, snapshot: jobs.JobSnapshot) -> None:
    if not isinstance(result, FinetuneDone):
        return
    finished = len(snapshot.history)
    stopped = (
        f" (stopped early: {finished} of {snapshot.epochs} epoch(s) finished and kept)"
        if finished < snapshot.epochs
        else ""
    )
    before, after = result.before, result.after
    # A static table: two rows need no sorting or search, and a data grid's toolbar, shown on hover
    # above its top edge, covered the job's line over it.
    st.table(
        pd.DataFrame(
            [
                {"before": percent(before.mnist_test_accuracy), "after": percent(after.mnist_test_accuracy)},
                {"before": percent(before.own_accuracy), "after": percent(after.own_accuracy)},
            ],
            index=["MNIST test accuracy", "accuracy on your digits"],
        ),
    )
    st.success(
        f"Saved **{result.name}**{stopped}, now in the model picker. MNIST accuracy changed by "
        f"{-result.mnist_drop_points:+.2f} points (at most 0.2 points may be lost)."
    )


def show_live(snapshot: jobs.JobSnapshot | None) -> None:
    """The live panel's content: a fine-tune job only (a training job is the Train page's)."""
    if snapshot is not None and snapshot.kind == JobKind.FINETUNE:
        show_finetune(snapshot)


def finetune_section(entry: registry.ModelEntry, x: np.ndarray, y: np.ndarray) -> None:
    st.subheader("Fine-tune on my digits")
    members = ensemble.members_of(entry.card)
    if members:  # fine-tuning would train the members as one model; the request refuses it too
        st.info(
            f"**{entry.name}** averages {', '.join(members)}: pick one of them in the sidebar to fine-tune "
            "it on your digits."
        )
        return
    st.caption(
        f"Starts from **{entry.name}** (the model picker's choice), trains a few epochs on your digits, "
        "heavily augmented and mixed with replayed MNIST digits, and saves a new model."
    )
    snapshot = common.my_job()
    running = snapshot is not None and snapshot.active
    left, right = st.columns(2)
    epochs = left.number_input(
        "Epochs",
        min_value=limits.FINETUNE_MIN_EPOCHS,
        max_value=limits.FINETUNE_MAX_EPOCHS,
        value=limits.FINETUNE_DEFAULT_EPOCHS,
        key="own_epochs",
    )
    name_key = f"own_name_{entry.name}"
    if name_key not in st.session_state or st.session_state[name_key].strip() in _taken_names():
        # first visit, or the name was just used by a save (ours or another visitor's): a fresh free one
        st.session_state[name_key] = _free_name(entry.name)
    name = right.text_input("Save as", key=name_key)
    if running and snapshot.kind == JobKind.TRAIN:
        st.info(f"Your training job '{snapshot.name}' runs first; each visitor runs one job at a time.")
    if st.button("Fine-tune", type="primary", icon=":material/tune:", disabled=running, key="own_finetune"):
        try:
            common.job_manager().start_finetune(
                entry.path, x, y, name=name.strip(), epochs=int(epochs), workspace=common.workspace()
            )
            st.session_state["own_finetune_message"] = None
            st.rerun()
        except (ValueError, jobs.JobBusy) as error:  # a request's refusal, a ValueError, is a sentence too
            st.session_state["own_finetune_message"] = errors.sentence_for(error) or str(error)
    if st.session_state.get("own_finetune_message"):
        st.warning(st.session_state["own_finetune_message"])
    job_panel.live_panel(show_live, running=running, doing="showing the fine-tuning progress")


def render() -> None:
    st.title("My digits")
    entry = common.model_picker()
    store = common.sample_store()
    message = st.session_state.pop("own_message", None)
    if message:
        st.success(message, icon=":material/check:")
    saved = store.list()
    if saved:
        counts = np.bincount([sample.label for sample in saved], minlength=10)
        st.caption(
            f"{len(saved)} example(s): " + ", ".join(f"{digit}: {count}" for digit, count in enumerate(counts) if count)
        )
        gallery(saved)
    else:
        st.info(
            "No examples yet. On Try it, draw a digit, correct the label if the model is wrong, and "
            "press Save as example; or import a zip below."
        )
    exchange(store)
    if not saved or entry is None:
        return
    x, y = store.arrays()
    evaluate_section(entry, x, y)
    finetune_section(entry, x, y)


common.run_page(render, "showing your digits")
