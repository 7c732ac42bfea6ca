"""Train the not-a-digit guard (digitcore/not_a_digit.py) and set its threshold.

Digits: MNIST TRAINING digits, as they are, redrawn thicker/thinner/tilted, and traced with a round
brush like a drawing-pad stroke (bench/handwriting.render_drawing), plus digits typed in the DejaVu
fonts (so a printed 7 is not flagged). Non-digits, all generated (digitcore/non_digits.py): letters
A-Z and a-z (minus O, o, I, l, which are drawn exactly like 0 and 1) in the DejaVu fonts with random
stroke width, tilt and lean, also redrawn and brush-traced like the digits; symbols; scribbles; rows
of two or three MNIST training digits. Every example goes through the product's preprocessing.
The threshold is the 99.5th percentile of the guard's score on held-out digits (MNIST training
digits 50,000-59,999, never trained on), so about 0.5 % of digits like MNIST's are flagged.
The bench (bench/not_a_digit.py) measures on other fonts, seeds and parameters, and on real
handwriting; ../shared/realdigits is never used here.

    python scripts/train_not_a_digit.py [--scale 1.0] [--epochs 8]   # about 4 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import handwriting  # noqa: E402  (bench/handwriting.py: MNIST digits redrawn with a round brush, as on the pad)

from digitcore import augment_real, data, non_digits, not_a_digit  # noqa: E402
from digitcore.reading import preprocess  # noqa: E402

TRAIN_DIGITS = slice(0, 50_000)  # MNIST training digits the guard learns from
HELD_OUT_DIGITS = slice(50_000, 60_000)  # ... and the ones that set its threshold
FALSE_ALARM_QUANTILE = 0.995  # the threshold flags about 0.5 % of held-out digits
TRAINING_FONTS = ("DejaVu",)  # the bench uses Liberation and Pillow's built-in font instead


def _model_inputs(make, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` model inputs from a generator of drawings; drawings the product refuses are skipped."""
    images = []
    while len(images) < count:
        try:
            drawing = make(rng)
            images.append(
                preprocess.to_mnist(drawing).image
                if drawing.ndim == 3  # an RGBA drawing-pad image
                else non_digits.to_model_input(drawing)
            )
        except preprocess.NoDigitFound:
            continue
    return np.stack(images).astype(np.float32)


KINDS = (
    "mnist digit",
    "redrawn digit",
    "typed digit",
    "pen-drawn digit",
    "letter",
    "redrawn letter",
    "pen-drawn letter",
    "symbol",
    "scribble",
    "several digits",
)


def make_set(
    mnist: data.Mnist, digits_slice: slice, scale: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images (n, 28, 28) float32, labels (1 = not a digit) and kinds (index into KINDS), shuffled."""
    rng = np.random.default_rng(seed)
    fonts = non_digits.font_files(*TRAINING_FONTS)
    if not fonts:
        raise SystemExit("No DejaVu font is installed (apt-get install fonts-dejavu-core).")
    pool = np.arange(len(mnist.x_train))[digits_slice]
    n = lambda count: max(10, int(count * scale))  # noqa: E731
    as_they_are = mnist.x_train[rng.choice(pool, n(8000), replace=False)].astype(np.float32) / 255.0
    pick = lambda: mnist.x_train[rng.choice(pool)]  # noqa: E731
    font = lambda: fonts[rng.integers(len(fonts))]  # noqa: E731
    digits = [
        as_they_are,
        _model_inputs(lambda r: non_digits.redraw(pick(), r), n(4000), rng),
        _model_inputs(lambda r: non_digits.glyph(str(r.integers(10)), font(), r), n(1500), rng),
        # traced along its skeleton with a round brush, as a mouse or finger draws on the pad
        _model_inputs(lambda r: handwriting.render_drawing(pick(), r), n(2500), rng),
    ]
    letters = non_digits.LETTERS
    letter = lambda r: non_digits.glyph(letters[r.integers(len(letters))], font(), r)  # noqa: E731
    # the letter as a uint8 28x28 digit-like image, for the redrawing and tracing below
    letter_image = lambda r: np.round(255 * non_digits.to_model_input(letter(r))).astype(np.uint8)  # noqa: E731
    others = [
        _model_inputs(letter, n(4500), rng),
        # a letter redrawn like handwriting: the same thickening and tilting as the redrawn digits
        _model_inputs(lambda r: non_digits.redraw(letter_image(r), r), n(2000), rng),
        _model_inputs(lambda r: handwriting.render_drawing(letter_image(r), r), n(2500), rng),
        _model_inputs(
            lambda r: non_digits.glyph(non_digits.SYMBOLS[r.integers(len(non_digits.SYMBOLS))], font(), r), n(2500), rng
        ),
        _model_inputs(lambda r: non_digits.scribble(r), n(2500), rng),
        _model_inputs(lambda r: non_digits.digit_row([pick() for _ in range(r.integers(2, 4))], r), n(2500), rng),
    ]
    parts = digits + others
    images = np.concatenate(parts)
    labels = np.concatenate([np.zeros(sum(len(part) for part in digits)), np.ones(sum(len(part) for part in others))])
    kinds = np.concatenate([np.full(len(part), index) for index, part in enumerate(parts)])
    order = rng.permutation(len(images))
    return images[order], labels[order].astype(np.float32), kinds[order]


def build_guard():
    """A small CNN: three conv blocks with batch norm and a dense layer, about 170k parameters; one sigmoid."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.RandomTranslation(0.06, 0.06, fill_mode="constant")(inputs)  # only while training
    x = layers.RandomRotation(0.03, fill_mode="constant")(x)
    for filters in (32, 64, 96):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(96, activation="relu")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="not_a_digit")(x)
    return keras.Model(inputs, outputs, name="not_a_digit_guard")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the default example counts")
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--data-cache", type=Path, help="keep the generated examples in this .npz and reuse them")
    parser.add_argument(
        "--real-inputs",
        type=float,
        default=0.5,
        help="share of the examples given augment_real's changes while fitting (0 = none)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=not_a_digit.ASSETS,
        help="where the guard and its card are written (default: digitcore/assets)",
    )
    args = parser.parse_args(argv)

    import keras

    keras.utils.set_random_seed(args.seed)
    mnist = data.load_mnist()
    started = time.perf_counter()
    if args.data_cache and args.data_cache.is_file():
        cached = np.load(args.data_cache)
        x_train, y_train, x_held, y_held, kinds_held = (
            cached[name] for name in ("x_train", "y_train", "x_held", "y_held", "kinds_held")
        )
    else:
        x_train, y_train, _ = make_set(mnist, TRAIN_DIGITS, args.scale, seed=args.seed)
        x_held, y_held, kinds_held = make_set(mnist, HELD_OUT_DIGITS, args.scale * 0.25, seed=args.seed + 1)
        if args.data_cache:
            np.savez_compressed(
                args.data_cache, x_train=x_train, y_train=y_train, x_held=x_held, y_held=y_held, kinds_held=kinds_held
            )
    generated = time.perf_counter() - started
    print(
        json.dumps({"generated": {"train": len(y_train), "held_out": len(y_held), "seconds": round(generated, 1)}}),
        flush=True,
    )

    model = build_guard()
    # Real people's digits after preprocessing wobble, slant, break and are thinner or thicker than
    # MNIST's (augment_real); a guard that never saw such digits calls them "not a digit". The changes
    # wrap the guard for fitting only (letters and scribbles changed so are still not digits).
    fit_model = (
        keras.Sequential([augment_real.real_input_layers(args.real_inputs, seed=args.seed), model])
        if args.real_inputs
        else model
    )
    steps = args.epochs * int(np.ceil(len(y_train) / 128))
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps, alpha=0.02)
    fit_model.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy", metrics=["accuracy"])
    fit_started = time.perf_counter()
    fit_model.fit(
        x_train[..., None],
        y_train,
        batch_size=128,
        epochs=args.epochs,
        verbose=2,
        validation_data=(x_held[..., None], y_held),
    )
    fit_seconds = time.perf_counter() - fit_started

    scores = model.predict(x_held[..., None], batch_size=512, verbose=0).reshape(-1)
    digit_scores, other_scores = scores[y_held == 0], scores[y_held == 1]
    threshold = float(max(0.5, np.quantile(digit_scores, FALSE_ALARM_QUANTILE)))
    held_out = {
        "digits_flagged": round(float((digit_scores >= threshold).mean()), 4),
        "non_digits_flagged": round(float((other_scores >= threshold).mean()), 4),
        "digits": int(len(digit_scores)),
        "non_digits": int(len(other_scores)),
        "flagged_by_kind": {
            kind: round(float((scores[kinds_held == index] >= threshold).mean()), 4) for index, kind in enumerate(KINDS)
        },
    }

    args.output_dir.mkdir(parents=True, exist_ok=True)
    shipped = build_guard()  # uncompiled: the file holds the weights without the optimizer's state
    shipped.set_weights(model.get_weights())
    shipped.save(args.output_dir / not_a_digit.GUARD_PATH.name)
    card = {
        "threshold": round(threshold, 6),
        "held_out": held_out,
        "parameters": int(model.count_params()),
        "recipe": {
            "epochs": args.epochs,
            "batch_size": 128,
            "optimizer": "adam, cosine decay from 2e-3",
            "seed": args.seed,
            "scale": args.scale,
            "training_fonts": list(TRAINING_FONTS),
            "real_inputs": args.real_inputs,
            "false_alarm_quantile": FALSE_ALARM_QUANTILE,
            "digits": "MNIST train 0-49,999 as they are, redrawn and brush-traced; digits typed in the training fonts",
            "non_digits": "letters minus O o I l, symbols, scribbles, rows of 2-3 MNIST train digits",
        },
        "examples": {"train": int(len(y_train)), "held_out": int(len(y_held))},
        "seconds": {"generate": round(generated, 1), "fit": round(fit_seconds, 1)},
        "machine": platform.machine(),
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "keras": keras.__version__,
    }
    (args.output_dir / not_a_digit.CARD_PATH.name).write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card))
    return 0


if __name__ == "__main__":
    sys.exit(main())
