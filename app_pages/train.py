"""Train: pick a preset, override its recipe, train in the background and watch it learn live."""

import pandas as pd
import streamlit as st

from digitcore import jobs, plots, registry
from digitcore.architectures import PRESETS, Augmentation
from app_pages import common

POLL_SECONDS = 1.0  # while a job runs
IDLE_POLL_SECONDS = 5.0  # otherwise, to notice a job another visitor starts
BATCH_SIZES = [16, 32, 64, 128, 200, 256, 512]
STATE_TEXT = {"starting": "starting", "running": "training", "stopping": "stopping after this batch",
              "done": "finished", "stopped": "stopped", "failed": "failed",
              "interrupted": "interrupted (the server stopped)"}


def _free_name(preset: str) -> str:
    taken = {path.stem for path in registry.models_dir().glob("*.keras")}
    candidates = [f"my_{preset}"] + [f"my_{preset}_{number}" for number in range(2, 1000)]
    return next(name for name in candidates if name not in taken)


def preset_panel() -> str:
    preset_name = st.selectbox("Architecture", list(PRESETS), format_func=lambda name: PRESETS[name].title,
                               key="train_preset")
    preset = PRESETS[preset_name]
    layers = common.preset_layers(preset_name)
    published = (f"{100 * preset.published_accuracy:.2f} % published" if preset.published_accuracy
                 else "no published accuracy")
    st.caption(f"**{sum(row['parameters'] for row in layers):,} parameters** · {published} · {preset.notes}")
    with st.expander("Layers", expanded=False):
        st.dataframe(pd.DataFrame(layers), hide_index=True, key="preset_layers")
    return preset_name


def recipe_panel(preset_name: str):
    """The override widgets; keys carry the preset so each preset shows its own defaults."""
    recipe = PRESETS[preset_name].recipe
    key = preset_name
    first, second = st.columns(2)
    epochs = first.number_input("Epochs", min_value=1, max_value=100, value=recipe.epochs, key=f"epochs_{key}")
    sizes = sorted(set(BATCH_SIZES) | {recipe.batch_size})
    batch_size = second.select_slider("Batch size", sizes, value=recipe.batch_size, key=f"batch_{key}")
    learning_rate = first.number_input("Learning rate", min_value=1e-5, max_value=1.0, value=recipe.learning_rate,
                                       step=1e-4, format="%.5f", key=f"rate_{key}")
    limit = second.number_input("Training digits (subset of 60,000)", min_value=100, max_value=60000,
                               value=60000, step=100, key=f"limit_{key}",
                               help=f"{100 * recipe.validation_split:.0f} % of them are held out for validation.")
    name = first.text_input("Save as", value=_free_name(preset_name), key=f"name_{key}",
                             help="A new name: training never overwrites a saved model.")
    augment = second.toggle("Augmentation", value=recipe.augmentation.enabled, key=f"augment_{key}",
                           help="Random rotations, shifts, zooms and stroke-width changes of the training digits.")
    barred_sevens = st.slider("Barred sevens (fraction of the training sevens)", 0.0, 1.0,
                              recipe.augmentation.barred_sevens, step=0.05, key=f"barred_{key}",
                              help="Draws a bar across the stem of this fraction of the training sevens, as "
                                   "many people write them; MNIST has few such sevens.")
    augmentation = Augmentation(barred_sevens=barred_sevens)
    if augment:
        default = recipe.augmentation if recipe.augmentation.enabled else Augmentation(10.0, 0.1, 0.1, 0.3)
        columns = st.columns(2) * 2
        augmentation = Augmentation(
            rotation_degrees=columns[0].slider("Rotation (°)", 0.0, 30.0, default.rotation_degrees, key=f"rot_{key}"),
            shift=columns[1].slider("Shift", 0.0, 0.3, default.shift, key=f"shift_{key}"),
            zoom=columns[2].slider("Zoom", 0.0, 0.3, default.zoom, key=f"zoom_{key}"),
            thickness=columns[3].slider("Stroke width change", 0.0, 1.0, default.thickness, key=f"thick_{key}"),
            barred_sevens=barred_sevens,
        )
    overrides = dict(epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                     augmentation=augmentation)
    return overrides, int(limit), name.strip()


def _start(preset_name: str, overrides: dict, limit: int, name: str) -> bool:
    """Start the job, or keep a sentence saying why not; True when it started."""
    try:
        recipe = PRESETS[preset_name].recipe.with_overrides(**overrides)
        common.job_manager().start(preset_name, name=name, recipe=recipe, limit=None if limit >= 60000 else limit)
        st.session_state["train_message"] = None
        return True
    except (ValueError, jobs.JobBusy) as error:
        st.session_state["train_message"] = str(error)
        return False


def _stop() -> None:
    common.job_manager().stop()


def show_job(snapshot: jobs.JobSnapshot) -> None:
    """Progress, curves and the outcome of one job (any visitor's)."""
    state = STATE_TEXT.get(snapshot.state, snapshot.state)
    if snapshot.kind == "finetune":
        st.markdown(f"**{snapshot.name}** (fine-tune of {snapshot.preset} on your digits) · {state} · "
                    f"{snapshot.elapsed:.0f} s")
    else:
        st.markdown(f"**{snapshot.name}** ({PRESETS[snapshot.preset].title}) · {state} · "
                    f"{snapshot.elapsed:.0f} s · {snapshot.limit or 60000:,} digits")
    if snapshot.running:
        batch = snapshot.batch or {}
        epoch = min(len(snapshot.history) + 1, snapshot.epochs)
        step_text = f", step {batch['step']} of {batch['steps']}" if batch.get("epoch") == epoch else ""
        st.progress(snapshot.epoch_progress, text=f"Epoch {epoch} of {snapshot.epochs}{step_text}")
        st.progress(snapshot.overall_progress, text=f"Whole run: {100 * snapshot.overall_progress:.0f} %")
        st.button("Stop", on_click=_stop, key="train_stop", icon=":material/stop:", disabled=snapshot.state == "stopping")
    if snapshot.history:
        last = snapshot.history[-1]
        columns = st.columns(2) * 2
        columns[0].metric("Training loss", f"{last['loss']:.4f}")
        columns[1].metric("Training accuracy", f"{100 * last['accuracy']:.2f} %")
        if last.get("val_accuracy") is not None:
            columns[2].metric("Validation loss", f"{last['val_loss']:.4f}")
            columns[3].metric("Validation accuracy", f"{100 * last['val_accuracy']:.2f} %")
        st.plotly_chart(plots.training_curves(snapshot.history), key=f"curves_{snapshot.id}")
    elif snapshot.running:
        st.caption("The curves appear when the first epoch ends.")
    result = snapshot.result or {}
    if snapshot.state == "failed":
        st.error(snapshot.error or "Training failed.")
    elif snapshot.state == "interrupted":
        st.warning(snapshot.error)
    elif result.get("model") and snapshot.kind == "finetune":
        st.success(f"Saved **{result['name']}**: {100 * result['after']['mnist_test_accuracy']:.2f} % on the MNIST "
                   f"test digits, {100 * result['after']['own_accuracy']:.1f} % on your digits. Details on My digits.")
    elif result.get("model"):
        stopped = " (stopped early; the finished epochs were kept)" if snapshot.state == "stopped" else ""
        st.success(f"Saved **{result['name']}**{stopped}: {100 * result['test_accuracy']:.2f} % on the 10,000 "
                   f"test digits after {result['epochs_completed']} epoch(s), {result['seconds']:.0f} s. "
                   "It is in the model picker now.")
    elif snapshot.state == "stopped":
        st.warning(result.get("message", "Stopped; nothing was saved."))


def live_job(was_running: bool) -> None:
    """Polled every second while a job runs (else every few seconds); a full rerun when a job starts
    or ends refreshes the Train button and the model picker."""
    snapshot = common.job_manager().snapshot()
    if (snapshot is not None and snapshot.running) != was_running:
        st.rerun()  # a job started (perhaps by another visitor) or ended: redraw the whole page
    if snapshot is None:
        st.caption("No training job has run here yet.")
        return
    with common.friendly_errors("showing the training progress"):  # fragment reruns skip the page's guard
        show_job(snapshot)


def render() -> None:
    st.title("Train")
    common.model_picker()
    snapshot = common.job_manager().snapshot()
    running = snapshot is not None and snapshot.running
    settings, live = st.columns([1, 1], gap="large")
    with settings:
        st.subheader("Recipe")
        preset_name = preset_panel()
        overrides, limit, name = recipe_panel(preset_name)
        if running:
            st.info(f"'{snapshot.name}' is training on this server; one job runs at a time. "
                    "Its progress is on the right, live for every visitor.")
        # Handled inline, not in on_click: a callback's args would hold the values of the previous run.
        if st.button("Train", type="primary", icon=":material/play_arrow:", disabled=running, key="train_start"):
            if _start(preset_name, overrides, limit, name):
                st.rerun()  # redraw everything with the job running and the live panel polling
        if st.session_state.get("train_message"):
            st.warning(st.session_state["train_message"])
    with live:
        st.subheader("Live progress")
        st.fragment(run_every=POLL_SECONDS if running else IDLE_POLL_SECONDS)(live_job)(running)
    st.caption("Training runs in the background: switching pages or closing the tab does not stop it.")


common.run_page(render, "showing the training page")
