"""Train: pick a preset and a recipe, see how long it will take, train in the background, watch it learn."""

import pandas as pd
import streamlit as st

from app_pages import common, job_panel
from digitcore import errors, estimates, jobs, limits, plots, registry
from digitcore.architectures import MAX_EPOCHS, PRESETS, TRAINING_DIGITS, Augmentation
from digitcore.events import FinetuneDone, Outcome, TrainDone
from digitcore.jobs import JobKind, JobState

BATCH_SIZES = [16, 32, 64, 128, 200, 256, 512]
STATE_TEXT = {
    "queued": "waiting in the queue",
    "starting": "starting",
    "running": "training",
    "stopping": "stopping after this batch",
    "done": "finished",
    "stopped": "stopped",
    "failed": "failed",
    "interrupted": "interrupted (the server stopped)",
}
RECIPE_TEXT = {"fast": "Fast", "fast995": "Fast to 99.5 %", "default": "Full"}
# The widgets each recipe sets; their keys carry the preset so each preset keeps its own values.
RECIPE_WIDGETS = ("epochs", "batch", "rate", "augment", "rot", "shift", "zoom", "thick", "barred")


def _recipe_summary(recipe) -> str:
    augmented = ", augmented" if recipe.augmentation.enabled else ""
    sized = " (one pass over 60,000 digits; more epochs on fewer)" if recipe.tuned_for_digits else ""
    return f"{recipe.epochs} epoch(s) × batch {recipe.batch_size}{augmented}{sized}"


def _forget_recipe_widgets(preset_name: str) -> None:
    """A new recipe (or subset) choice: its widgets are drawn again with that recipe's values."""
    for widget in RECIPE_WIDGETS:
        st.session_state.pop(f"{widget}_{preset_name}", None)


def _forget_epochs(preset_name: str) -> None:
    st.session_state.pop(f"epochs_{preset_name}", None)


def preset_panel() -> str:
    preset_name = st.selectbox(
        "Architecture", list(PRESETS), format_func=lambda name: PRESETS[name].title, key="train_preset"
    )
    preset = PRESETS[preset_name]
    layers = common.preset_layers(preset_name)
    published = (
        f"{100 * preset.published_accuracy:.2f} % published"
        if preset.published_accuracy is not None
        else "no published accuracy"
    )
    st.markdown(f"**{sum(row['parameters'] for row in layers):,} parameters** · {published}")
    st.caption(preset.description)  # prose: a docstring's indented lines would render as clipped code
    with st.expander("Layers", expanded=False):
        table = pd.DataFrame(layers).set_index("layer")
        table["parameters"] = [f"{count:,}" for count in table["parameters"]]
        st.table(table)  # a static table: every column shown, however long the layer names
    return preset_name


def recipe_choice(preset_name: str) -> str:
    """ "fast" or "default": the quickest recipe first, the full one a click away."""
    preset = PRESETS[preset_name]
    if len(preset.recipes) == 1:
        return "default"
    return st.radio(
        "Recipe",
        list(preset.recipes),
        key=f"recipe_{preset_name}",
        horizontal=True,
        format_func=lambda which: f"{RECIPE_TEXT.get(which, which)}: {_recipe_summary(preset.recipes[which])}",
        on_change=_forget_recipe_widgets,
        args=(preset_name,),
    )


def recipe_panel(preset_name: str, which: str):
    """The override widgets, drawn with the chosen recipe's values (sized for the chosen digits)."""
    key = preset_name
    limit_now = int(st.session_state.get(f"limit_{key}", TRAINING_DIGITS))
    recipe = PRESETS[preset_name].recipes[which].sized_for(limit_now)
    first, second = st.columns(2)
    epochs = first.number_input("Epochs", min_value=1, max_value=MAX_EPOCHS, value=recipe.epochs, key=f"epochs_{key}")
    sizes = sorted(set(BATCH_SIZES) | {recipe.batch_size})
    batch_size = second.select_slider("Batch size", sizes, value=recipe.batch_size, key=f"batch_{key}")
    learning_rate = first.number_input(
        "Learning rate",
        min_value=1e-5,
        max_value=1.0,
        value=recipe.learning_rate,
        step=1e-4,
        format="%.5f",
        key=f"rate_{key}",
    )
    watched = recipe.watched()
    limit = second.number_input(
        f"Training digits (subset of {TRAINING_DIGITS:,})",
        min_value=limits.MIN_TRAINING_DIGITS,
        max_value=TRAINING_DIGITS,
        value=TRAINING_DIGITS,
        step=100,
        key=f"limit_{key}",
        on_change=_forget_epochs if recipe.tuned_for_digits else None,
        args=(key,),
        help=f"{100 * watched.validation_split:.0f} % of them are held out for the validation curve.",
    )
    name_key = f"name_{key}"
    if name_key not in st.session_state or st.session_state[name_key].strip() in _taken_names():
        # first drawn, or the name was saved meanwhile (by this visitor's job or another's): a fresh one
        st.session_state[name_key] = registry.free_name(
            f"my_{preset_name}", common.my_models_dir(), taken=_taken_names()
        )
    name = first.text_input("Save as", key=name_key, help="A new name: training never overwrites a saved model.")
    augment = second.toggle(
        "Augmentation",
        value=recipe.augmentation.enabled,
        key=f"augment_{key}",
        help="Random rotations, shifts, zooms and stroke-width changes of the training digits.",
    )
    barred_sevens = st.slider(
        "Barred sevens (fraction of the training sevens)",
        0.0,
        1.0,
        recipe.augmentation.barred_sevens,
        step=0.05,
        key=f"barred_{key}",
        help="Draws a bar across the stem of this fraction of the training sevens, as "
        "many people write them; MNIST has few such sevens.",
    )
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
    chosen = (
        PRESETS[preset_name]
        .recipes[which]
        .with_overrides(
            epochs=int(epochs),
            batch_size=int(batch_size),
            learning_rate=float(learning_rate),
            augmentation=augmentation,
        )
        .watched()
    )
    return chosen, int(limit), name.strip()


def _taken_names() -> set[str]:
    return {entry.name for entry in common.model_entries()}


def show_estimate(preset_name: str, which: str, recipe, limit: int) -> None:
    """Before the click: how long this will take here and what test accuracy to expect."""
    cards = [entry.card for entry in common.model_entries() if entry.problem is None and entry.card is not None]
    preset = PRESETS[preset_name]
    augmented = recipe.augmentation.enabled
    pace = estimates.pace_for(cards, preset, which, batch_size=recipe.batch_size, augmented=augmented)
    lines = []
    if pace is None:
        lines.append(
            "**Time:** no run of this architecture has finished on this machine yet, so there is no "
            "estimate; the time left is shown once training starts."
        )
    else:
        guess = estimates.estimate(
            pace,
            epochs=recipe.epochs,
            training_digits=limit,
            validation_split=recipe.validation_split,
            batch_size=recipe.batch_size,
            augmented=augmented,
        )
        loosely = "" if guess.same_setup else " (measured with other settings, so take it loosely)"
        lines.append(
            f"**Estimated time: {estimates.duration_text(guess.seconds)}**, at the "
            f"{pace.digits_per_second:,.0f} training digits per second measured here by "
            f"{pace.measured_by}{loosely}."
        )
    expected = estimates.expected_accuracy(cards, preset, which, recipe, limit)
    if expected is not None:
        lines.append(f"**Expected test accuracy: about {100 * expected.accuracy:.1f} %** ({expected.source}).")
    st.info("  \n".join(lines))


def _start(preset_name: str, recipe, limit: int, name: str) -> bool:
    """Start the job, or keep a sentence saying why not; True when it started."""
    try:
        common.job_manager().start(
            preset_name,
            name=name,
            recipe=recipe,
            limit=None if limit >= TRAINING_DIGITS else limit,
            workspace=common.workspace(),
        )
        st.session_state["train_message"] = None
        return True
    except (ValueError, jobs.JobBusy) as error:  # a request's refusal, a ValueError, is a sentence too
        st.session_state["train_message"] = errors.sentence_for(error) or str(error)
        return False


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def show_job(snapshot: jobs.JobSnapshot) -> None:
    """Progress, curves and the outcome of this visitor's job."""
    state = STATE_TEXT.get(snapshot.state, snapshot.state)
    if snapshot.kind == JobKind.FINETUNE:
        st.markdown(
            f"**{snapshot.name}** (fine-tune of {snapshot.preset} on your digits) · {state} · {snapshot.elapsed:.0f} s"
        )
    else:
        st.markdown(
            f"**{snapshot.name}** ({PRESETS[snapshot.preset].title}) · {state} · "
            f"{snapshot.elapsed:.0f} s · {snapshot.limit or TRAINING_DIGITS:,} digits"
        )
    # Only finished epochs (the snapshot leaves out a partial epoch an older server's record held).
    history = snapshot.history
    job_panel.show_queue(common.my_job_view(), stop_key="train_stop_queued")
    job_panel.show_progress(snapshot, stop_key="train_stop", detailed=True)
    result = snapshot.result
    if isinstance(result, TrainDone) and result.kept_epoch:
        # The saved model's epoch (the best by validation, or the last finished one).
        kept_epoch = result.kept_epoch
        history = (
            [event for event in history if event.epoch <= kept_epoch] if snapshot.state == JobState.STOPPED else history
        )
        shown = next((event for event in history if event.epoch == kept_epoch), None)
    else:
        shown = history[-1] if history else None
    if shown:
        columns = st.columns(2) * 2
        columns[0].metric("Training loss", f"{shown.loss:.4f}")
        columns[1].metric("Training accuracy", _percent(shown.accuracy))
        if shown.val_accuracy is not None:
            columns[2].metric("Validation loss", f"{shown.val_loss:.4f}")
            columns[3].metric("Validation accuracy", _percent(shown.val_accuracy))
        st.plotly_chart(plots.training_curves(history), key=f"curves_{snapshot.id}")
    elif snapshot.running:
        st.caption("The curves appear when the first epoch ends.")
    job_panel.show_ending(snapshot, failed="Training failed.", saved=lambda outcome: _show_saved(snapshot, outcome))


def _show_saved(snapshot: jobs.JobSnapshot, result: Outcome) -> None:
    if isinstance(result, FinetuneDone):
        st.success(
            f"Saved **{result.name}**: {100 * result.after.mnist_test_accuracy:.2f} % on the MNIST "
            f"test digits, {100 * result.after.own_accuracy:.1f} % on your digits. Details on My digits."
        )
    elif isinstance(result, TrainDone):
        stopped = " (stopped early; the finished epochs were kept)" if snapshot.state == JobState.STOPPED else ""
        kept = result.kept_epoch
        best = (
            f" (its weights are those of epoch {kept}, the best by validation)"
            if kept and kept != result.epochs_completed
            else ""
        )
        scores = f"**{_percent(result.test_accuracy)}** on the 10,000 test digits"
        if result.train_accuracy is not None:  # results of older servers carry the test accuracy only
            scores = (
                f"training {_percent(result.train_accuracy)}, validation "
                f"{_percent(result.validation_accuracy)}, test {scores}"
            )
        st.success(
            f"Saved **{result.name}**{stopped}: {scores} after {result.epochs_completed} epoch(s)"
            f"{best}, {result.seconds:.0f} s of training. It is in the model picker now."
        )
        if result.warning:
            st.warning(result.warning, icon=":material/warning:")


def show_live(snapshot: jobs.JobSnapshot | None) -> None:
    """The live panel's content: this visitor's current or last job."""
    if snapshot is None:
        st.caption("You have not trained a model here yet.")
        job_panel.show_queue(common.my_job_view(), stop_key="train_stop_queued")
    else:
        show_job(snapshot)


def render() -> None:
    st.title("Train")
    common.model_picker()
    snapshot = common.my_job()
    running = snapshot is not None and snapshot.active  # this visitor's job waits or runs
    settings, live = st.columns([1, 1], gap="large")
    with settings:
        st.subheader("Recipe")
        preset_name = preset_panel()
        which = recipe_choice(preset_name)
        recipe, limit, name = None, TRAINING_DIGITS, ""
        try:
            recipe, limit, name = recipe_panel(preset_name, which)
        except ValueError as error:  # a combination the recipe refuses, in a sentence
            st.warning(str(error))
        if recipe is not None:
            show_estimate(preset_name, which, recipe, limit)
        if running:
            st.info(f"Your job '{snapshot.name}' is on the right; each visitor runs one job at a time.")
        # Handled inline, not in on_click: a callback's args would hold the values of the previous run.
        if st.button(
            "Train", type="primary", icon=":material/play_arrow:", disabled=running or recipe is None, key="train_start"
        ):
            if _start(preset_name, recipe, limit, name):
                st.rerun()  # redraw everything with the job running and the live panel polling
        if st.session_state.get("train_message"):
            st.warning(st.session_state["train_message"])
    with live:
        st.subheader("Live progress")
        job_panel.live_panel(show_live, running=running, doing="showing the training progress")
    st.caption("Training runs in the background: switching pages or closing the tab does not stop it.")


common.run_page(render, "showing the training page")
