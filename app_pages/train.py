"""Train: pick a preset and a recipe, see how long it will take and what it will score, train in the
background, watch it learn.

The boxes are the one source of truth for a run: choosing a recipe writes every box it implies
(epochs, batch, learning rate, schedule, augmentation and its sliders) into the session state; a
box changed after that makes the settings "Custom" (with a Reset back to the recipe); Train runs
exactly what the boxes show. The
widgets are drawn from the session state only (never with a `value=` as well): a value passed to a
widget that the browser already holds is ignored there, which is how a recipe once failed to apply.
"""

import dataclasses

import streamlit as st

from app_pages import common, job_panel, layer_table, model_download
from digitcore import errors, estimates, jobs, limits, plots, registry
from digitcore.architectures import MAX_EPOCHS, PRESETS, SCHEDULES, TRAINING_DIGITS, Augmentation, Recipe
from digitcore.events import FinetuneDone, Outcome, TrainDone
from digitcore.jobs import JobKind, JobState
from digitcore.run_plan import RunPlan

BATCH_SIZES = [16, 32, 64, 128, 200, 256, 512]
RECIPE_TEXT = {"fast": "Fast", "fast995": "Fast, augmented", "default": "Full"}
RECIPE_ABOUT = {
    "fast": "one pass's worth of digits (60,000 seen: more epochs on fewer), large batches, no augmentation",
    "fast995": "three epochs of small batches with augmentation",
    "default": "the full recipe the shipped model was trained with",
}
# Augmentation sliders, with their (label, highest value, recipe field); shown while augmentation is on.
SLIDERS = {
    "rot": ("Rotation (°)", 30.0, "rotation_degrees"),
    "shift": ("Shift", 0.3, "shift"),
    "zoom": ("Zoom", 0.3, "zoom"),
    "thick": ("Stroke width change", 1.0, "thickness"),
    "real": ("Real-handwriting changes (share of digits)", 1.0, "real_inputs"),
}
# Augmentation a visitor switches on for a recipe that has none.
SWITCHED_ON = Augmentation(rotation_degrees=10.0, shift=0.1, zoom=0.1, thickness=0.3)
BOXES = ("limit", "epochs", "batch", "rate", "schedule", "augment", *SLIDERS, "flagged", "barred")


def _key(box: str, preset_name: str) -> str:
    return f"{box}_{preset_name}"


def _limit(preset_name: str) -> int:
    return int(st.session_state.get(_key("limit", preset_name), TRAINING_DIGITS))


def _base(preset_name: str) -> str:
    """The recipe the boxes were last set from (a custom run keeps its other fields: warm-up, optimizer...)."""
    base = st.session_state.get(_key("base", preset_name))
    return base if base in PRESETS[preset_name].recipes else next(iter(PRESETS[preset_name].recipes))


def _sized(preset_name: str, which: str) -> Recipe:
    """Recipe `which` as the page runs it on the chosen digits: 5 % held out, sized for the subset."""
    return PRESETS[preset_name].recipes[which].watched().sized_for(_limit(preset_name))


def _box_values(recipe: Recipe) -> dict[str, object]:
    augmentation = recipe.augmentation
    shown = augmentation if augmentation.enabled else SWITCHED_ON
    return {
        "epochs": recipe.epochs,
        "batch": recipe.batch_size,
        "rate": recipe.learning_rate,
        "schedule": recipe.schedule,
        "augment": augmentation.enabled,
        **{box: float(getattr(shown, field)) for box, (_, _, field) in SLIDERS.items()},
        "flagged": augmentation.flagged_ones,
        "barred": augmentation.barred_sevens,
    }


def _apply(preset_name: str, which: str) -> None:
    """Write every box recipe `which` implies (sized for the chosen digits) into the session state."""
    st.session_state[_key("base", preset_name)] = which
    st.session_state[_key("custom", preset_name)] = False
    for box, value in _box_values(_sized(preset_name, which)).items():
        st.session_state[_key(box, preset_name)] = value


def _shown_values(preset_name: str) -> dict[str, object]:
    values = {box: st.session_state.get(_key(box, preset_name)) for box in BOXES if box != "limit"}
    if not values["augment"]:
        values.update({box: None for box in SLIDERS})  # hidden sliders do not count
    return values


def _custom(preset_name: str) -> bool:
    """Whether a box was changed by hand since the recipe was chosen. Kept apart from the radio, which
    only the visitor sets: a radio value written by the server reaches the browser a moment later,
    and a click in that moment sent the old value back, choosing the recipe again over the boxes."""
    return bool(st.session_state.get(_key("custom", preset_name)))


def _recipe_chosen(preset_name: str) -> None:
    _apply(preset_name, st.session_state[_key("recipe", preset_name)])


def _reset(preset_name: str) -> None:
    _apply(preset_name, _base(preset_name))


def _subset_changed(preset_name: str) -> None:
    """A recipe left as chosen is sized again for the new subset: its epochs and batch follow."""
    if not _custom(preset_name):
        _apply(preset_name, _base(preset_name))


def _box_changed(preset_name: str) -> None:
    """A box changed by hand: custom settings, unless every box is back at the recipe's value."""
    recipe_values = _box_values(_sized(preset_name, _base(preset_name)))
    if not recipe_values["augment"]:
        recipe_values.update({box: None for box in SLIDERS})
    st.session_state[_key("custom", preset_name)] = _shown_values(preset_name) != recipe_values


def _augmentation_switched(preset_name: str) -> None:
    if st.session_state.get(_key("augment", preset_name)):  # the sliders come back with sensible values
        for box, (_, _, field) in SLIDERS.items():
            st.session_state.setdefault(_key(box, preset_name), float(getattr(SWITCHED_ON, field)))
    _box_changed(preset_name)


def _fill_missing_boxes(preset_name: str) -> None:
    """First visit, or boxes Streamlit forgot while they were not drawn: the last recipe's values."""
    if _key("limit", preset_name) not in st.session_state:
        st.session_state[_key("limit", preset_name)] = TRAINING_DIGITS
    values = _box_values(_sized(preset_name, _base(preset_name)))
    for box, value in values.items():
        st.session_state.setdefault(_key(box, preset_name), value)
    st.session_state.setdefault(_key("recipe", preset_name), _base(preset_name))


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
        layer_table.show(layers, with_names=False)
    return preset_name


def recipe_choice(preset_name: str) -> None:
    """The recipe radio (the preset's recipes, quickest first) and what the boxes hold: the recipe,
    or custom settings that started from it, with a way back."""
    preset = PRESETS[preset_name]
    st.radio(
        "Recipe",
        list(preset.recipes),
        key=_key("recipe", preset_name),
        horizontal=True,
        format_func=lambda which: RECIPE_TEXT.get(which, which),
        on_change=_recipe_chosen,
        args=(preset_name,),
    )
    base = _base(preset_name)
    about = RECIPE_ABOUT.get(base, "as published")
    if not _custom(preset_name):
        st.caption(f"**{RECIPE_TEXT.get(base, base)}**: {about}.")
        return
    text, button = st.columns([3, 1], vertical_alignment="center")
    text.caption(f"**Custom**: your own settings, started from **{RECIPE_TEXT.get(base, base)}** ({about}).")
    button.button(
        "Reset", key=f"reset_{preset_name}", on_click=_reset, args=(preset_name,), help="Every box back to the recipe."
    )


def recipe_panel(preset_name: str) -> tuple[Recipe, int]:
    """The boxes, drawn from the session state, and the recipe they make (ValueError: a sentence)."""
    changed = {"on_change": _box_changed, "args": (preset_name,)}
    first, second = st.columns(2)
    limit = first.number_input(
        f"Training digits (of {TRAINING_DIGITS:,})",
        min_value=limits.MIN_TRAINING_DIGITS,
        max_value=TRAINING_DIGITS,
        step=100,
        key=_key("limit", preset_name),
        on_change=_subset_changed,
        args=(preset_name,),
        help="A recipe you picked is sized for them: the fast one runs more epochs on fewer digits.",
    )
    epochs = second.number_input(
        "Epochs", min_value=1, max_value=MAX_EPOCHS, key=_key("epochs", preset_name), **changed
    )
    batch_now = int(st.session_state[_key("batch", preset_name)])
    batch_size = first.select_slider(
        "Batch size", sorted(set(BATCH_SIZES) | {batch_now}), key=_key("batch", preset_name), **changed
    )
    learning_rate = second.number_input(
        "Learning rate",
        min_value=1e-5,
        max_value=1.0,
        step=1e-4,
        format="%.5f",
        key=_key("rate", preset_name),
        **changed,
    )
    schedule = first.selectbox(
        "Learning-rate schedule",
        SCHEDULES,
        key=_key("schedule", preset_name),
        help="one_cycle warms up, then decays along a cosine; exponential decays each epoch.",
        **changed,
    )
    augment = second.toggle(
        "Augmentation",
        key=_key("augment", preset_name),
        on_change=_augmentation_switched,
        args=(preset_name,),
        help="Random rotations, shifts, zooms and stroke-width changes of the training digits.",
    )
    values = {}
    if augment:
        columns = st.columns(2)
        for index, (box, (label, highest, field)) in enumerate(SLIDERS.items()):
            values[field] = columns[index % 2].slider(label, 0.0, highest, key=_key(box, preset_name), **changed)
    columns = st.columns(2)
    flagged = columns[0].slider(
        "Flagged ones (share of training ones)",
        0.0,
        1.0,
        step=0.05,
        key=_key("flagged", preset_name),
        help="Draws the flag many people write on a 1; MNIST's ones are plain strokes.",
        **changed,
    )
    barred = columns[1].slider(
        "Barred sevens (share of training sevens)",
        0.0,
        1.0,
        step=0.05,
        key=_key("barred", preset_name),
        help="Draws a bar across the stem, as many people write a 7; MNIST has few such sevens.",
        **changed,
    )
    base = PRESETS[preset_name].recipes[_base(preset_name)].watched()
    augmentation = dataclasses.replace(base.augmentation, **values, flagged_ones=flagged, barred_sevens=barred)
    if not augment:
        augmentation = dataclasses.replace(augmentation, **{field: 0.0 for _, _, field in SLIDERS.values()})
    recipe = base.with_overrides(
        epochs=int(epochs),
        batch_size=int(batch_size),
        learning_rate=float(learning_rate),
        schedule=schedule,
        augmentation=augmentation,
    )
    fitted = recipe.fitted_digits(int(limit))
    if recipe.batch_size > fitted:
        raise ValueError(
            f"A batch of {recipe.batch_size} is more than the {fitted:,} digits fitted; choose a batch of "
            f"{fitted:,} or fewer, or more digits."
        )
    return recipe, int(limit)


def _taken_names() -> set[str]:
    return {entry.name for entry in common.model_entries()}


def name_box(preset_name: str, running: jobs.JobSnapshot | None) -> str | None:
    """The name to save as, or None (with a sentence) when it is taken: never a silent new name."""
    key = _key("name", preset_name)
    taken = _taken_names() | ({running.name} if running is not None and running.active else set())
    mine = st.session_state.get("train_started_name")
    if key not in st.session_state or (st.session_state[key].strip() == mine and mine in taken):
        # first drawn, or this visitor's own last run took the name: the next free one
        st.session_state[key] = registry.free_name(f"my_{preset_name}", common.my_models_dir(), taken=taken)
    if mine in taken and st.session_state[key].strip() != mine:
        st.caption(f"Your last run took the name **{mine}**; this one gets a new name.")
    name = st.text_input("Save as", key=key, help="A new name: training never overwrites a saved model.").strip()
    if name in taken:
        st.warning(f"A model named '{name}' already exists, and training never overwrites one: choose another name.")
        return None
    return name


@dataclasses.dataclass(frozen=True)
class Promise:
    """What the page said before the click: the job keeps both (the time left, the accuracy floor)."""

    seconds: float | None
    expected: estimates.Expectation | None


def show_estimate(preset_name: str, recipe: Recipe, limit: int) -> Promise:
    """Before the click: how long this will take here, what test accuracy to expect, and from where."""
    cards = [entry.card for entry in common.model_entries() if entry.problem is None and entry.card is not None]
    runs = [*estimates.past_runs(cards), *estimates.measured_runs()]
    settings = recipe.to_dict()
    fitted = recipe.fitted_digits(limit)
    plan = RunPlan(epochs=recipe.epochs, fitted=fitted, held_out=limit - fitted, batch_size=recipe.batch_size)
    lines = []
    pace = estimates.pace_for(runs, preset_name, settings)
    guess = None if pace is None else estimates.estimate(pace, plan, settings)
    if guess is None:
        lines.append(
            "**Time:** no run of this architecture has finished on this machine yet, so there is no "
            "estimate; the time left is shown once training starts."
        )
    else:
        loosely = "" if guess.same_setup else " (measured with another batch size or augmentation: take it loosely)"
        lines.append(
            f"**Estimated time: {estimates.duration_text(guess.seconds)}**: {plan.epochs * fitted:,} digits "
            f"at the {guess.pace.digits_per_second:,.0f} per second of {guess.pace.measured_by}{loosely}."
        )
    expected = estimates.expected_accuracy(runs, PRESETS[preset_name], _base(preset_name), settings, limit)
    if expected is None:
        lines.append(
            "**Expected test accuracy:** no run with these settings or this many digits has finished here, "
            "so there is none to promise."
        )
    else:
        lines.append(f"**Expected test accuracy: {expected.text}** ({expected.source}).")
    if plan.held_out:
        lines.append(f"{plan.held_out:,} of the {limit:,} digits are held out for the validation curve.")
    else:
        lines.append("Too few digits to hold any out: there is no validation curve.")
    if _custom(preset_name):
        lines.append("Custom settings: Train runs exactly what the boxes show.")
    st.info("  \n".join(lines))
    return Promise(None if guess is None else guess.seconds, expected)


def _start(preset_name: str, recipe: Recipe, limit: int, name: str, promise: Promise | None) -> bool:
    """Start the job, or keep a sentence saying why not; True when it started."""
    expected = None if promise is None else promise.expected
    try:
        common.job_manager().start(
            preset_name,
            name=name,
            recipe=recipe,
            limit=None if limit >= TRAINING_DIGITS else limit,
            estimated_seconds=None if promise is None else promise.seconds,
            accuracy_floor=None if expected is None else expected.floor,
            workspace=common.workspace(),
        )
        st.session_state["train_message"] = None
        st.session_state["train_started_name"] = name
        return True
    except (ValueError, jobs.JobBusy) as error:  # a request's refusal, a ValueError, is a sentence too
        st.session_state["train_message"] = errors.sentence_for(error) or str(error)
        return False


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def show_job(snapshot: jobs.JobSnapshot) -> None:
    """Progress, curves and the outcome of this visitor's job."""
    state = snapshot.state.text
    if snapshot.kind == JobKind.FINETUNE:
        st.markdown(
            f"**{snapshot.name}** (fine-tune of {snapshot.preset} on your digits) · {state} · {snapshot.elapsed:.0f} s"
        )
    else:
        recipe = snapshot.recipe
        shape = f" · {recipe['epochs']} epoch(s) × batch {recipe['batch_size']}" if recipe.get("epochs") else ""
        st.markdown(
            f"**{snapshot.name}** ({PRESETS[snapshot.preset].title}) · {state} · "
            f"{snapshot.elapsed:.0f} s · {snapshot.limit or TRAINING_DIGITS:,} digits{shape}"
        )
    job_panel.show_queue(common.my_job_view(), stop_key="train_stop_queued")
    job_panel.show_progress(snapshot, stop_key="train_stop", detailed=True)
    history, points = snapshot.history, snapshot.curve
    result = snapshot.result
    kept_epoch = result.kept_epoch if isinstance(result, TrainDone) else None
    if kept_epoch and snapshot.state == JobState.STOPPED:
        # a stopped run's curves end at the saved model's epoch
        history = [event for event in history if event.epoch <= kept_epoch]
        points = [point for point in points if point.epochs_done <= kept_epoch]
    shown = next((event for event in history if event.epoch == kept_epoch), None) if kept_epoch else None
    if shown is None and history and not snapshot.running:
        shown = history[-1]
    if shown is not None:  # the saved model's epoch
        loss, accuracy, val_loss, val_accuracy = shown.loss, shown.accuracy, shown.val_loss, shown.val_accuracy
    elif points:  # while it runs: the latest point, and the latest validation
        scored = [point for point in points if point.val_accuracy is not None]
        loss, accuracy = points[-1].loss, points[-1].accuracy
        val_loss = scored[-1].val_loss if scored else None
        val_accuracy = scored[-1].val_accuracy if scored else None
    else:
        loss = None
    if loss is not None:
        columns = st.columns(2) * 2
        columns[0].metric("Training loss", f"{loss:.4f}")
        columns[1].metric("Training accuracy", _percent(accuracy))
        if val_accuracy is not None:
            columns[2].metric("Validation loss", f"{val_loss:.4f}")
            columns[3].metric("Validation accuracy", _percent(val_accuracy))
    if points or history:
        loss_chart, accuracy_chart = plots.training_curves(points or plots.points_of_epochs(history))
        st.plotly_chart(loss_chart, key=f"loss_{snapshot.id}")
        st.plotly_chart(accuracy_chart, key=f"accuracy_{snapshot.id}")
    elif snapshot.running:
        st.caption("The curves start after the first few steps.")
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
        text = (
            f"Saved **{result.name}**{stopped}: {scores} after {result.epochs_completed} epoch(s)"
            f"{best}, {result.seconds:.0f} s of training. It is in the model picker now."
        )
        if result.warning:  # a model that did not learn as expected is not announced as a success
            st.warning(f"{text}  \n{result.warning}", icon=":material/warning:")
        else:
            st.success(text)
        with st.expander("Take this model with you"):
            model_download.download_buttons(
                common.my_models_dir() / f"{result.name}.keras", key=f"train_download_{snapshot.id}"
            )


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
        _fill_missing_boxes(preset_name)
        recipe_choice(preset_name)
        recipe, limit, promise = None, TRAINING_DIGITS, None
        try:
            recipe, limit = recipe_panel(preset_name)
        except ValueError as error:  # a combination that cannot run, in a sentence, before the click
            st.warning(str(error))
        name = name_box(preset_name, snapshot)
        if recipe is not None:
            promise = show_estimate(preset_name, recipe, limit)
        if running:
            st.info(f"Your job '{snapshot.name}' is on the right; each visitor runs one job at a time.")
        # Handled inline, not in on_click: a callback's args would hold the values of the previous run.
        if st.button(
            "Train",
            type="primary",
            icon=":material/play_arrow:",
            disabled=running or recipe is None or name is None,
            key="train_start",
        ):
            assert recipe is not None and name is not None
            if _start(preset_name, recipe, limit, name, promise):
                st.rerun()  # redraw everything with the job running and the live panel polling
        if st.session_state.get("train_message"):
            st.warning(st.session_state["train_message"])
    with live:
        st.subheader("Live progress")
        job_panel.live_panel(show_live, running=running, doing="showing the training progress")
    st.caption("Training runs in the background: switching pages or closing the tab does not stop it.")


common.run_page(render, "showing the training page")
