"""Training on top of model.fit: events for any listener, augmentation, schedules, stop, seeds."""

from __future__ import annotations

import dataclasses
import logging
import math
import platform
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from digitcore import architectures, augment_real, augment_shapes, data, limits, probes
from digitcore.architectures import Augmentation, Preset, Recipe
from digitcore.cards import ModelCard, TrainingRecord
from digitcore.errors import FinetuneRejected, TrainingDiverged  # noqa: F401 (raised here; callers name them training.X)
from digitcore.events import (
    BatchProgress,
    CurvePoint,
    EpochEnd,
    EpochStopped,
    FinetuneDone,
    FinetuneOutcome,
    FinetuneScores,
    Listener,
    NothingSaved,
    TrainBegin,
    TrainDone,
    TrainingEvent,
    TrainOutcome,
)
from digitcore.run_plan import (
    CALIBRATION_DIGITS,
    CURVE_POINTS,
    QUICK_CALIBRATION_DIGITS,
    QUICK_VALIDATION_DIGITS,
    execution_steps,
    validation_checks,
)

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.25  # batch progress events are sent at most this often


@dataclass
class TrainingResult:
    model: Any  # keras.Model holding the best weights (by validation accuracy when there is a split)
    history: list[EpochEnd]  # one per finished epoch (a stop's partial epoch is not one)
    stopped: bool  # True when a stop was requested before the last epoch finished
    seconds: float  # wall time of fit
    best_epoch: int | None
    steps_done: int = 0  # optimizer steps taken in all
    config: dict = field(default_factory=dict)
    kept_epoch: EpochEnd | None = None  # the epoch whose weights `model` holds (None: no epoch finished)
    fit_started_at: float | None = None  # time.time() at the first batch's start

    @property
    def completed_epochs(self) -> list[EpochEnd]:
        """Epoch events of epochs that ran to their end (a stop's partial epoch sends none)."""
        return self.history


class Stoppable(Protocol):
    """What training polls between batches: a StopSignal, or the job process's flag over its event."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


class StopSignal:
    """Thread-safe flag a UI or a signal handler sets to stop training between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def set_seed(seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)


def distribution_strategy():
    """MirroredStrategy over several visible GPUs, else TensorFlow's default strategy."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


def learning_rate_schedule(recipe: Recipe, steps_per_epoch: int):
    """The recipe's schedule as a keras LearningRateSchedule over optimizer steps."""
    import keras

    total_steps = max(1, recipe.epochs * steps_per_epoch)
    if recipe.schedule == "constant":
        return recipe.learning_rate
    if recipe.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            recipe.learning_rate, decay_steps=steps_per_epoch, decay_rate=recipe.decay, staircase=True
        )
    # one_cycle: warm up over the first warmup_fraction of steps from lr/25, then cosine down to lr/1000.
    # At least one step decays (a run of one step on a tiny subset has no warm-up at all).
    warmup_steps = min(int(recipe.warmup_fraction * total_steps), total_steps - 1)
    if warmup_steps < 1:
        return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=total_steps, alpha=1e-3)
    return keras.optimizers.schedules.CosineDecay(
        recipe.learning_rate / 25,
        decay_steps=total_steps - warmup_steps,
        alpha=1e-3,
        warmup_target=recipe.learning_rate,
        warmup_steps=warmup_steps,
    )


def make_optimizer(recipe: Recipe, steps_per_epoch: int):
    import keras

    rate = learning_rate_schedule(recipe, steps_per_epoch)
    optimizers = {
        "adam": lambda: keras.optimizers.Adam(rate),
        "sgd": lambda: keras.optimizers.SGD(rate, momentum=0.9, nesterov=True),
        "rmsprop": lambda: keras.optimizers.RMSprop(rate),
        "adadelta": lambda: keras.optimizers.Adadelta(rate),
    }
    return optimizers[recipe.optimizer]()


def augmentation_layers(augmentation: Augmentation, seed: int):
    """A keras Sequential of random layers, active only while training (None when disabled)."""
    import keras
    from keras import layers

    if not augmentation.enabled:
        return None
    steps = []
    if augmentation.thickness:
        steps.append(RandomStrokeWidth(augmentation.thickness, seed=seed))
    if augmentation.rotation_degrees:
        steps.append(layers.RandomRotation(augmentation.rotation_degrees / 360.0, fill_mode="constant", seed=seed))
    if augmentation.zoom:
        steps.append(layers.RandomZoom(augmentation.zoom, fill_mode="constant", seed=seed + 1))
    if augmentation.shift:
        steps.append(
            layers.RandomTranslation(augmentation.shift, augmentation.shift, fill_mode="constant", seed=seed + 2)
        )
    if augmentation.real_inputs:
        steps.append(augment_real.real_input_layers(augmentation.real_inputs, seed=seed + 3))
    return keras.Sequential(steps, name="augmentation")


def _random_stroke_width_class():
    import keras
    import tensorflow as tf

    class _RandomStrokeWidth(keras.layers.Layer):
        """Thickens (grey dilation) or thins (grey erosion) a random share of the digits by a pixel."""

        def __init__(self, probability: float, seed: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.probability = probability
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, images, training=False):
            if not training:
                return images
            # images: (batch, 28, 28, 1)
            thick = tf.nn.max_pool2d(images, ksize=2, strides=1, padding="SAME")
            thin = -tf.nn.max_pool2d(-images, ksize=2, strides=1, padding="SAME")
            choice = keras.random.uniform((tf.shape(images)[0], 1, 1, 1), seed=self.seed_generator)
            half = self.probability / 2
            return tf.where(choice < half, thick, tf.where(choice < self.probability, thin, images))

        def compute_output_shape(self, input_shape):
            return input_shape

    return _RandomStrokeWidth


def RandomStrokeWidth(probability: float, seed: int = 0):  # noqa: N802 (a layer factory)
    return _random_stroke_width_class()(probability, seed=seed)


# Precise BatchNorm statistics are estimated from this many (unaugmented) training digits: 2,000
# already gave the same test accuracy as 6,000 on a short DigitNet run; each estimate costs DigitNet
# about 1.5 s on 2 cores (run_plan.py says where the run's validation points take them).
BATCHNORM_CALIBRATION_DIGITS = CALIBRATION_DIGITS


def batchnorm_layers(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


# Each model's BatchNorm layers with a model reading that layer's input, built once per model: a run
# re-estimates BatchNorm at every validation point (a hundred times on a tiny subset), and building
# them each time cost more than the estimate itself on a few hundred digits.
_BATCHNORM_INPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batchnorm_inputs(model) -> list:
    """[(layer, compiled function giving the sum and the sum of squares of the layer's input per
    channel over a batch of digits)]: one traced call per batch instead of eager layer-by-layer ops."""
    import keras
    import tensorflow as tf

    if model not in _BATCHNORM_INPUTS:
        pairs = []
        for layer in batchnorm_layers(model):
            reader = keras.Model(model.input, layer.input)
            axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]

            @tf.function(input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)], reduce_retracing=True)
            def sums(digits, reader=reader, axis=axis):
                activations = tf.cast(reader(digits, training=False), tf.float64)
                others = [index for index in range(len(activations.shape)) if index != axis % len(activations.shape)]
                count = tf.cast(tf.reduce_prod(tf.gather(tf.shape(activations), others)), tf.float64)
                return (
                    tf.reduce_sum(activations, axis=others),
                    tf.reduce_sum(tf.square(activations), axis=others),
                    count,
                )

            pairs.append((layer, sums))
        _BATCHNORM_INPUTS[model] = pairs
    return _BATCHNORM_INPUTS[model]


def recalibrate_batchnorm(model, digits: np.ndarray, batch_size: int = 500) -> int:
    """Set each BatchNormalization layer's moving mean and variance to the exact statistics of its
    inputs over `digits` (float (n, 28, 28, 1), unaugmented), layer after layer in inference mode,
    so each layer sees what it will see at test time. Returns how many layers were set.

    Why: keras keeps moving averages (momentum 0.99) that start at mean 0 and variance 1 and need
    several hundred steps to forget that start, while a short run takes fewer: DigitNet after 2
    epochs of 6,000 digits (94 steps) kept a moving variance of 0.35 where its inputs had 0.0036 and
    scored 36.8 % on the test digits (97.1 % with batch statistics, 98.0 % after this). Estimating
    the statistics of the final weights ("precise BatchNorm") is right for a run of any length; on
    the shipped 40-epoch DigitNet it moved the test accuracy from 99.60 % to 99.67 %.
    """
    layers_set = 0
    for layer, sums in _batchnorm_inputs(model):  # earlier layers already recalibrated
        total: Any = 0.0  # float, then (channels,) sums
        total_of_squares: Any = 0.0
        count = 0.0
        for start in range(0, len(digits), batch_size):
            batch_total, batch_squares, batch_count = sums(np.asarray(digits[start : start + batch_size], np.float32))
            total = total + batch_total.numpy()
            total_of_squares = total_of_squares + batch_squares.numpy()
            count += float(batch_count)
        if not count:
            continue
        mean = total / count
        variance = np.maximum(total_of_squares / count - np.square(mean), 0.0)
        layer.moving_mean.assign(mean.astype("float32"))
        layer.moving_variance.assign(variance.astype("float32"))
        layers_set += 1
    return layers_set


def calibration_digits(x_fit: np.ndarray) -> np.ndarray:
    """Up to BATCHNORM_CALIBRATION_DIGITS training digits spread evenly over the set."""
    stride = max(1, len(x_fit) // BATCHNORM_CALIBRATION_DIGITS)
    return x_fit[::stride][:BATCHNORM_CALIBRATION_DIGITS]


def score(model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of `model` in inference mode on float digits."""
    from digitcore import evaluation

    probabilities = evaluation.predict_probabilities(model, x)
    picked = np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1.0)  # keras clips the same way
    return float(-np.log(picked).mean()), evaluation.accuracy(y, probabilities.argmax(1))


@dataclass
class RunTiming:
    """Where a fit's seconds went, so estimates can tell the pace of fitting from fixed costs."""

    fit_started_at: float | None = None  # time.time() at the first batch's start
    first_call_seconds: float | None = None  # the first compiled call: tracing and compiling included
    validation_seconds: float = 0.0  # re-estimating BatchNorm and scoring held-out digits
    validation_points: int = 0
    validation_digits: int = 0  # calibration and held-out digits those points read


def _events_callback(
    listener: Listener,
    stop: Stoppable,
    epochs: int,
    steps_per_epoch: int,
    kept: dict,
    *,
    fit_digits: int,
    timing: RunTiming,
    model=None,
    validation: tuple | None = None,
    calibration: np.ndarray | None = None,
):
    """`model` is the network being saved (without augmentation). With `validation` (x, y), each
    finished epoch re-estimates BatchNorm on `calibration` and scores the validation digits, so the
    curve shows what the model saved at that epoch would score; the points between epoch ends do the
    same on fewer digits. `kept` receives the weights to save: those of the best epoch by validation
    accuracy, else of the last finished epoch. `timing` receives where the seconds went."""
    import keras

    total_steps = epochs * steps_per_epoch
    point_every = max(1.0, total_steps / CURVE_POINTS)  # steps between points (fractions allowed)
    validating = validation is not None and len(validation[1]) > 0
    checks = validation_checks(epochs, steps_per_epoch) if validating else []
    quick_validation = None
    if validation is not None:
        quick_validation = (validation[0][:QUICK_VALIDATION_DIGITS], validation[1][:QUICK_VALIDATION_DIGITS])
    quick_calibration = None
    if calibration is not None:
        stride = max(1, len(calibration) // QUICK_CALIBRATION_DIGITS)
        quick_calibration = calibration[::stride][:QUICK_CALIBRATION_DIGITS]

    class EventCallback(keras.callbacks.Callback):
        """Turns keras callbacks into events, honours stop requests, watches for NaN, keeps weights."""

        def on_train_begin(self, logs=None):
            self.diverged = False
            self.last_progress = 0.0
            self.began = time.perf_counter()
            timing.fit_started_at = time.time()
            listener(TrainBegin(epochs=epochs, steps_per_epoch=steps_per_epoch))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.epoch_start = time.perf_counter()
            # The curve's last point in this epoch: its step and the epoch's loss and accuracy sums there
            # (keras reports each epoch's running means; a point shows the steps since the previous one).
            self.point_step, self.point_loss, self.point_accuracy = 0, 0.0, 0.0
            self.next_check = 0

        def _scores(self, target, *, full: bool) -> tuple[float, float]:
            """Re-estimate BatchNorm and score the held-out digits (all of them at an epoch's end)."""
            started = time.perf_counter()
            calibrating = calibration if full else quick_calibration
            if calibrating is not None and batchnorm_layers(target):
                recalibrate_batchnorm(target, calibrating)
            assert validation is not None and quick_validation is not None
            scored = validation if full else quick_validation
            scores = score(target, *scored)
            timing.validation_seconds += time.perf_counter() - started
            timing.validation_points += 1
            timing.validation_digits += len(scored[1]) + (0 if calibrating is None else len(calibrating))
            return scores

        def _point(self, step: int, loss_mean: float, accuracy_mean: float, scores=None) -> None:
            """A curve point at `step` of this epoch, averaging the steps since the previous point."""
            steps = step - self.point_step
            loss = (loss_mean * step - self.point_loss) / steps if steps > 0 else loss_mean
            accuracy = (accuracy_mean * step - self.point_accuracy) / steps if steps > 0 else accuracy_mean
            self.point_step, self.point_loss, self.point_accuracy = step, loss_mean * step, accuracy_mean * step
            epochs_done = self.epoch + step / steps_per_epoch
            listener(
                CurvePoint(
                    epochs_done=round(epochs_done, 4),
                    digits_seen=round(epochs_done * fit_digits),
                    loss=float(loss),
                    accuracy=float(accuracy),
                    val_loss=None if scores is None else scores[0],
                    val_accuracy=None if scores is None else scores[1],
                )
            )

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            loss = float(logs.get("loss", 0.0))
            if timing.first_call_seconds is None:
                timing.first_call_seconds = time.perf_counter() - self.began
            if not math.isfinite(loss):
                self.diverged = True
                self.model.stop_training = True
                return
            if stop.is_set():
                self.model.stop_training = True
                return  # no more points or scores: the visitor is waiting for the stop
            accuracy = float(logs.get("accuracy", 0.0))
            # keras runs steps_per_execution batches per call and names the call by its last planned
            # batch, even when the epoch's data ends before it (27 steps in calls of 16 end at "step
            # 32"): the bar must never pass the epoch's end.
            step = min(batch + 1, steps_per_epoch)
            now = time.perf_counter()
            if now - self.last_progress >= PROGRESS_INTERVAL_SECONDS:
                self.last_progress = now
                listener(
                    BatchProgress(epoch=self.epoch + 1, step=step, steps=steps_per_epoch, loss=loss, accuracy=accuracy)
                )
            if step >= steps_per_epoch:
                return  # the epoch's end draws this point, with the full validation
            first = self.epoch * steps_per_epoch  # the run's steps before this epoch
            check = self.next_check < len(checks) and step >= checks[self.next_check]
            while self.next_check < len(checks) and step >= checks[self.next_check]:
                self.next_check += 1
            if check:
                self._point(step, loss, accuracy, self._scores(model if model is not None else self.model, full=False))
            elif int((first + step) / point_every) > int((first + self.point_step) / point_every):
                self._point(step, loss, accuracy)  # the run crossed its next 2 % since the last point

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if self.diverged or any(not math.isfinite(float(v)) for v in logs.values()):
                self.diverged = True
                self.model.stop_training = True
                return
            if stop.is_set():
                # A stop mid-epoch leaves this epoch partial: it is not an epoch of the saved model.
                listener(EpochStopped(epoch=epoch + 1, epochs=epochs))
                return
            target = model if model is not None else self.model
            calibrated = False
            val_loss = val_accuracy = None
            if validating:
                val_loss, val_accuracy = self._scores(target, full=True)
                calibrated = calibration is not None and bool(batchnorm_layers(target))
            self._point(
                steps_per_epoch,
                float(logs["loss"]),
                float(logs["accuracy"]),
                None if val_loss is None else (val_loss, val_accuracy),
            )
            event = EpochEnd(
                epoch=epoch + 1,
                epochs=epochs,
                loss=float(logs["loss"]),
                accuracy=float(logs["accuracy"]),
                val_loss=val_loss,
                val_accuracy=val_accuracy,
                learning_rate=float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                seconds=round(time.perf_counter() - self.epoch_start, 3),
            )
            better = val_accuracy is not None and (kept.get("score") is None or val_accuracy > kept["score"])
            if val_accuracy is None or better:
                kept.update(
                    score=val_accuracy,
                    epoch=epoch + 1,
                    weights=target.get_weights(),
                    calibrated=calibrated,
                    event=event,
                )
            listener(event)

    return EventCallback()


@dataclass
class _FitRun:
    """What one fit with the events callback did."""

    history: list[EpochEnd]  # the finished epochs (a stop's partial epoch is not one)
    diverged: bool  # the loss became NaN or infinite: fitting stopped there
    started: float  # time.perf_counter() just before fitting
    timing: RunTiming


def _fit_with_events(
    fit_model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    epochs: int,
    listener: Listener,
    stop: Stoppable,
    kept: dict,
    model=None,
    validation: tuple | None = None,
    calibration: np.ndarray | None = None,
    callbacks: list | None = None,
) -> _FitRun:
    """The fit loop of train and finetune: `fit_model.fit` over (x, y), shuffled each epoch, every event
    to `listener` and the finished epochs collected; `kept`, `model`, `validation` and `calibration`
    as in _events_callback. Extra keras `callbacks` run after the events callback."""
    steps_per_epoch = math.ceil(len(x) / batch_size)
    history: list[EpochEnd] = []

    def collect(event: TrainingEvent) -> None:
        if isinstance(event, EpochEnd):
            history.append(event)
        listener(event)

    timing = RunTiming()
    callback = _events_callback(
        collect,
        stop,
        epochs,
        steps_per_epoch,
        kept,
        fit_digits=len(x),
        timing=timing,
        model=model,
        validation=validation,
        calibration=calibration,
    )
    started = time.perf_counter()
    fit_model.fit(
        x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0, callbacks=[callback, *(callbacks or [])]
    )
    return _FitRun(history, callback.diverged, started, timing)


def train(
    preset: Preset,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    recipe: Recipe | None = None,
    seed: int = 0,
    listener: Listener | None = None,
    stop: Stoppable | None = None,
    callbacks: list | None = None,
    start_from: Any = None,
) -> TrainingResult:
    """Train `preset` on uint8 digits (n, 28, 28) with labels (n,).

    With `start_from` (a keras model of the same preset), training continues from its weights
    instead of a fresh start: a saved model taught one more change without losing what it knew.

    The training split is converted to float once; the validation split (recipe.validation_split,
    deterministic for the seed) scores each epoch and picks the weights kept. Raises
    TrainingDiverged on a NaN or infinite loss. Extra keras `callbacks` run after the engine's.
    """
    import keras
    import tensorflow as tf

    recipe = recipe or preset.recipe
    recipe.validate()
    listener = listener or (lambda event: None)
    stop = stop or StopSignal()
    if len(x_train) != len(y_train):
        raise ValueError(f"{len(x_train)} images but {len(y_train)} labels.")
    if len(x_train) < 2:
        raise ValueError("Training needs at least two digits.")

    set_seed(seed)
    train_idx, val_idx = data.validation_split(len(x_train), recipe.validation_split, seed=seed)
    x_fit_uint8 = x_train[train_idx]
    if recipe.augmentation.barred_sevens:
        x_fit_uint8 = probes.bar_sevens(x_fit_uint8, y_train[train_idx], recipe.augmentation.barred_sevens, seed)
    if recipe.augmentation.flagged_ones:
        x_fit_uint8 = augment_real.flag_ones(
            x_fit_uint8,
            y_train[train_idx],
            recipe.augmentation.flagged_ones,
            seed,
            longest=recipe.augmentation.flag_longest,
            flattest=recipe.augmentation.flag_flattest,
        )
    if recipe.augmentation.flat_top_sixes:
        x_fit_uint8 = augment_shapes.flat_top_sixes(
            x_fit_uint8, y_train[train_idx], recipe.augmentation.flat_top_sixes, seed
        )
    if recipe.augmentation.looped_threes:
        x_fit_uint8 = augment_shapes.loop_threes(
            x_fit_uint8, y_train[train_idx], recipe.augmentation.looped_threes, seed
        )
    x_fit, y_fit = data.to_float(x_fit_uint8), y_train[train_idx].astype("int32")
    del x_fit_uint8
    validation = (data.to_float(x_train[val_idx]), y_train[val_idx].astype("int32")) if len(val_idx) else None
    steps_per_epoch = math.ceil(len(x_fit) / recipe.batch_size)

    with distribution_strategy().scope():
        model = preset.build()
        if start_from is not None:
            model.set_weights(start_from.get_weights())
        augment = augmentation_layers(recipe.augmentation, seed)
        # The augmentation layers wrap the model only for fitting; the saved model is `model`.
        fit_model = keras.Sequential([augment, model]) if augment is not None else model
        fit_model.compile(
            optimizer=make_optimizer(recipe, steps_per_epoch),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=["accuracy"],
            steps_per_execution=execution_steps(recipe.batch_size, recipe.epochs * steps_per_epoch),
        )
    kept: dict = {}
    calibration = calibration_digits(x_fit)
    # Validation runs in the callback, not in fit: keras would score the digits before BatchNorm's
    # statistics are re-estimated, showing a curve the saved model does not match.
    run = _fit_with_events(
        fit_model,
        x_fit,
        y_fit,
        batch_size=recipe.batch_size,
        epochs=recipe.epochs,
        listener=listener,
        stop=stop,
        kept=kept,
        model=model,
        validation=validation,
        calibration=calibration,
        callbacks=callbacks,
    )
    history = run.history
    if run.diverged:
        raise TrainingDiverged(
            "The loss became NaN or infinite, so training stopped and nothing was saved. Try a smaller learning rate."
        )
    if kept.get("weights") is not None:
        # the best epoch by validation, else the last finished one (never a stop's partial epoch)
        model.set_weights(kept["weights"])
        if not kept["calibrated"]:
            recalibrate_batchnorm(model, calibration)
    seconds = time.perf_counter() - run.started
    config = {
        "architecture": preset.name,
        "seed": seed,
        "recipe": recipe.to_dict(),
        "train_examples": int(len(x_fit)),
        "validation_examples": int(len(val_idx)),
        "first_call_seconds": None
        if run.timing.first_call_seconds is None
        else round(run.timing.first_call_seconds, 2),
        "validation_seconds": round(run.timing.validation_seconds, 2),
        "validation_points": run.timing.validation_points,
        "validation_digits": run.timing.validation_digits,
        "tensorflow_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }
    steps_done = int(keras.ops.convert_to_numpy(fit_model.optimizer.iterations))
    best_epoch = kept.get("epoch") if validation is not None else None
    return TrainingResult(
        model,
        history,
        stop.is_set(),
        seconds,
        best_epoch,
        steps_done,
        config,
        kept_epoch=kept.get("event"),
        fit_started_at=run.timing.fit_started_at,
    )


def data_fingerprint() -> dict[str, str]:
    return data.checksums()


def train_and_save(
    preset: Preset,
    *,
    recipe: Recipe | None = None,
    seed: int = 0,
    limit: int | None = None,
    name: str | None = None,
    make_default: bool = False,
    command: str | None = None,
    listener: Listener | None = None,
    stop: Stoppable | None = None,
    models_directory=None,
    mnist: data.Mnist | None = None,
    overwrite: bool = False,
    started_at: float | None = None,
    accuracy_floor: float | None = None,
    start_from: str | None = None,
) -> TrainOutcome:
    """Load MNIST, train, evaluate on the 10,000 test digits, save the model with its card.
    A model of the same name is replaced only with `overwrite` (else registry.ModelExists).

    Returns TrainDone (its warning: a sentence when the test accuracy is far below the curves or below
    `accuracy_floor`, far below what runs with these settings reached; else None). A run stopped
    before its first epoch ended saves nothing and returns NothingSaved. Without a `recipe`, the
    preset's is sized for the chosen digits. `started_at` (time.time() of the click) lets the card
    record how long the job took to start, for the next estimate. `start_from` (a saved model's
    name or path, of the same architecture) is where training starts; the card names it.
    """
    from digitcore import evaluation, registry

    recipe = recipe or preset.recipe.sized_for(limit or architectures.TRAINING_DIGITS)
    name = registry.check_name(name or preset.name)
    mnist = mnist or data.load_mnist()
    x_train, y_train = mnist.x_train, mnist.y_train
    limits.check_training_digits(limit)
    if limit is not None:
        subset = np.sort(np.random.default_rng(seed).permutation(len(x_train))[:limit])
        x_train, y_train = x_train[subset], y_train[subset]

    parent, parent_record = _starting_model(start_from, preset, models_directory)
    result = train(preset, x_train, y_train, recipe=recipe, seed=seed, listener=listener, stop=stop, start_from=parent)
    kept = result.kept_epoch
    if kept is None:
        return NothingSaved(name=name)
    finishing = time.perf_counter()
    probabilities = evaluation.predict_probabilities(result.model, mnist.x_test)
    scores = evaluation.summary(mnist.y_test, probabilities)
    warning = generalisation_warning(scores["accuracy"], kept, result.config["validation_examples"])
    if warning is None and not result.stopped:
        warning = expectation_warning(scores["accuracy"], accuracy_floor)
    setup_seconds = (
        None if started_at is None or result.fit_started_at is None else round(result.fit_started_at - started_at, 2)
    )
    card = ModelCard(
        architecture=preset.name,
        title=preset.title,
        default=make_default,
        training=TrainingRecord.from_dict(
            {
                **result.config,
                "limit": limit,
                "epochs_completed": len(result.completed_epochs),
                "best_epoch": result.best_epoch,
                "kept_epoch": kept.epoch,
                "stopped": result.stopped,
                "seconds": round(result.seconds, 1),
                "batchnorm": "re-estimated on training digits" if batchnorm_layers(result.model) else None,
                "command": command,
                "setup_seconds": setup_seconds,
                # scoring the test digits and writing the card (the save itself takes a few ms more)
                "finish_seconds": round(time.perf_counter() - finishing, 2),
                **({"started_from": parent_record} if parent_record else {}),
            }
        ),
        history=result.history,
        data_checksums=data_fingerprint(),
        test_accuracy=scores["accuracy"],
        test_examples=scores["n"],
        per_class_accuracy=scores["per_class_accuracy"],
        published_accuracy=preset.published_accuracy,
        published_params=preset.published_params,
        warning=warning,
    )
    path = registry.save(result.model, card, name, models_directory, overwrite=overwrite)
    if make_default:
        registry.set_default(name, models_directory)
    return TrainDone(
        name=name,
        model=str(path),
        test_accuracy=scores["accuracy"],
        train_accuracy=kept.accuracy,
        validation_accuracy=kept.val_accuracy,
        kept_epoch=kept.epoch,
        epochs_completed=len(result.completed_epochs),
        stopped=result.stopped,
        seconds=round(result.seconds, 1),
        parameters=int(result.model.count_params()),
        warning=warning,
    )


def _starting_model(start_from: str | None, preset: Preset, models_directory) -> tuple[Any, dict | None]:
    """The saved model training starts from and what the new card says of it (name, checksum, test
    accuracy), or (None, None). Refuses (ValueError) a model of another architecture."""
    from digitcore import registry

    if start_from is None:
        return None, None
    path = registry.resolve(start_from, models_directory)
    card = registry.read_card(path)
    if card is None or card.architecture != preset.name:
        found = "no card" if card is None else f"a {card.architecture} card"
        raise ValueError(f"Training {preset.name} can only start from a saved {preset.name}; {path.name} has {found}.")
    record = {"name": path.stem, "sha256": card.sha256, "test_accuracy": card.test_accuracy}
    return registry.load(path), record


FAR_BELOW = 0.05  # a test accuracy this far under the curves' last value is not a normal result


def generalisation_warning(test_accuracy: float, kept_epoch: EpochEnd, validation_examples: int) -> str | None:
    """A sentence when the test accuracy is far below what the kept epoch's curves showed (its
    validation accuracy, or its training accuracy when nothing was held out); else None.

    "Far" is FAR_BELOW, widened to three standard errors of a small validation set, so a handful
    of held-out digits cannot raise a false alarm.
    """
    if kept_epoch.val_accuracy is not None and validation_examples:
        reference, what = kept_epoch.val_accuracy, "final validation accuracy"
        margin = max(FAR_BELOW, 3 * math.sqrt(reference * (1 - reference) / validation_examples))
    else:
        reference, what, margin = kept_epoch.accuracy, "final training accuracy", FAR_BELOW
    if test_accuracy >= reference - margin:
        return None
    return (
        f"Its test accuracy ({100 * test_accuracy:.2f} %) is far below its {what} "
        f"({100 * reference:.2f} %): this model does much worse on new digits than its curves "
        "promised, so do not rely on it."
    )


def expectation_warning(test_accuracy: float, accuracy_floor: float | None) -> str | None:
    """A sentence when the test accuracy is below `accuracy_floor` (estimates.Expectation.floor: far
    below what runs like this one reached here), e.g. a learning rate too high to learn; else None."""
    if accuracy_floor is None or test_accuracy >= accuracy_floor:
        return None
    return (
        f"Its test accuracy ({100 * test_accuracy:.2f} %) is far below what runs like it reach here (at least "
        f"{100 * accuracy_floor:.1f} %): something in its settings kept it from learning (a learning rate too "
        "high, too few digits or epochs), so do not rely on it."
    )


# People's own digits are few: each is shown many times, changed more than MNIST training digits.
FINETUNE_AUGMENTATION = Augmentation(rotation_degrees=15.0, shift=0.12, zoom=0.15, thickness=0.5)
MAX_MNIST_DROP = 0.002  # fine-tuning may cost at most 0.2 points of MNIST test accuracy


def finetune(
    parent=None,
    x_samples: np.ndarray | None = None,
    y_samples: np.ndarray | None = None,
    *,
    epochs: int = limits.FINETUNE_DEFAULT_EPOCHS,
    learning_rate: float = 3e-4,
    batch_size: int = 64,
    user_examples: int = 3000,
    replay_ratio: float = 3.0,
    seed: int = 0,
    name: str | None = None,
    listener: Listener | None = None,
    stop: Stoppable | None = None,
    models_directory=None,
    mnist: data.Mnist | None = None,
) -> FinetuneOutcome:
    """Fine-tune a saved model on the user's digits (uint8 (n, 28, 28), labels), heavily augmented
    to `user_examples` training examples and mixed with `replay_ratio` times as many replayed MNIST
    training digits so MNIST accuracy is kept. Reports accuracy before and after on the MNIST test
    set and on the user's digits, and saves a new model whose card names its parent, unless MNIST
    test accuracy fell by more than MAX_MNIST_DROP: then raises FinetuneRejected, saving nothing."""
    import keras

    from digitcore import evaluation, registry

    if x_samples is None or y_samples is None or len(x_samples) == 0:
        raise ValueError("Fine-tuning needs at least one of your own labelled digits.")
    if len(x_samples) != len(y_samples):
        raise ValueError(f"{len(x_samples)} digits but {len(y_samples)} labels.")
    limits.check_finetune_epochs(epochs)
    listener = listener or (lambda event: None)
    stop = stop or StopSignal()
    parent_path = registry.resolve(parent, models_directory)
    parent_card = registry.read_card(parent_path)
    model = registry.load(parent_path)
    mnist = mnist or data.load_mnist()
    name = registry.check_name(name or registry.finetuned_name(parent_path.stem, models_directory))
    set_seed(seed)
    rng = np.random.default_rng(seed)

    def scores() -> FinetuneScores:
        mnist_accuracy = evaluation.accuracy(
            mnist.y_test, evaluation.predict_probabilities(model, mnist.x_test).argmax(1)
        )
        own = evaluation.accuracy(np.asarray(y_samples), evaluation.predict_probabilities(model, x_samples).argmax(1))
        return FinetuneScores(mnist_test_accuracy=mnist_accuracy, own_accuracy=own, own_examples=int(len(y_samples)))

    before = scores()
    # (user_examples, 28, 28, 1): every own digit repeated, each copy changed at random
    picks = np.resize(np.arange(len(x_samples)), max(user_examples, len(x_samples)))
    augment = augmentation_layers(FINETUNE_AUGMENTATION, seed)
    x_own = np.concatenate(
        [
            np.asarray(augment(data.to_float(x_samples[picks[i : i + 512]]), training=True))
            for i in range(0, len(picks), 512)
        ]
    )
    y_own = np.asarray(y_samples)[picks].astype("int32")
    replay = rng.choice(len(mnist.x_train), size=int(replay_ratio * len(picks)), replace=False)
    x_fit = np.concatenate([x_own, data.to_float(mnist.x_train[replay])])
    y_fit = np.concatenate([y_own, mnist.y_train[replay].astype("int32")])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    run = _fit_with_events(
        model, x_fit, y_fit, batch_size=batch_size, epochs=epochs, listener=listener, stop=stop, kept={}
    )
    seconds = time.perf_counter() - run.started
    history = run.history
    if run.diverged:
        raise TrainingDiverged("The loss became NaN or infinite while fine-tuning; nothing was saved.")
    if not history:
        return NothingSaved(name=name)
    after = scores()
    drop = before.mnist_test_accuracy - after.mnist_test_accuracy
    if drop > MAX_MNIST_DROP:
        raise FinetuneRejected(
            f"Fine-tuning cost {100 * drop:.2f} points of MNIST test accuracy ({100 * before.mnist_test_accuracy:.2f} % "
            f"→ {100 * after.mnist_test_accuracy:.2f} %), more than the {100 * MAX_MNIST_DROP:.1f} allowed, so "
            "nothing was saved. Try fewer epochs, or save more varied examples of your digits."
        )
    card = ModelCard(
        architecture=(parent_card.architecture if parent_card else None) or "unknown",
        title=f"{(parent_card and parent_card.title) or parent_path.stem}, fine-tuned on your digits",
        default=False,
        parent=parent_path.stem,
        parent_sha256=parent_card.sha256 if parent_card else None,
        finetune={
            "epochs": epochs,
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "own_digits": int(len(y_samples)),
            "own_examples": int(len(picks)),
            "replayed_mnist": int(len(replay)),
            "augmentation": dataclasses.asdict(FINETUNE_AUGMENTATION),
            "seed": seed,
            "seconds": round(seconds, 1),
        },
        before=before,
        after=after,
        history=history,
        data_checksums=data_fingerprint(),
        test_accuracy=after.mnist_test_accuracy,
        test_examples=int(len(mnist.y_test)),
        per_class_accuracy=evaluation.summary(mnist.y_test, evaluation.predict_probabilities(model, mnist.x_test))[
            "per_class_accuracy"
        ],
        training=TrainingRecord(
            seconds=round(seconds, 1),
            seed=seed,
            epochs_completed=len(history),
            recipe={"epochs": epochs, "batch_size": batch_size, "optimizer": "adam", "learning_rate": learning_rate},
        ),
    )
    path = registry.save(model, card, name, models_directory, overwrite=False)
    return FinetuneDone(
        name=name,
        model=str(path),
        parent=parent_path.stem,
        before=before,
        after=after,
        mnist_drop_points=round(100 * drop, 3),
        within_bound=drop <= MAX_MNIST_DROP,
        seconds=round(seconds, 1),
    )
