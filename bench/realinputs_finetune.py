"""Experiment: does training through digitcore.augment_real help on real handwriting?

Fine-tunes a copy of a shipped model (default: the default model) on the 60,000 MNIST TRAINING
digits seen through the real-input augmentation layers, for a few epochs with a small cosine-decayed
learning rate, prints its MNIST test accuracy, and saves it OUTSIDE the models folder (--out) so that
`python -m digitcore bench realdigits --model <out>` can score it. Nothing here reads the real
handwriting set: it is never trained on. Prints one JSON object.

    python -m digitcore bench realinputs-finetune [--epochs 3] [--probability 0.5] [--flagged-ones 0.3]
        [--out /tmp/real_inputs.keras]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or .keras path to start from (default: the default model)")
    parser.add_argument("--models-dir", type=Path, help="models folder")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--probability", type=float, default=0.5, help="share of digits given each change")
    parser.add_argument("--flagged-ones", type=float, default=0.0, help="share of the training ones given a flag")
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/real_inputs.keras"), help="where to save (.keras)")
    args = parser.parse_args(argv)
    if args.out.suffix != ".keras":
        parser.error("--out must end in .keras")

    import digitcore

    digitcore.import_tensorflow_quietly()
    import keras

    from digitcore import augment_real, data, evaluation, registry

    mnist = data.load_mnist()
    source = registry.resolve(args.model, args.models_dir)
    model = registry.load(source)
    before = float((evaluation.predict_probabilities(model, mnist.x_test).argmax(1) == mnist.y_test).mean())
    keras.utils.set_random_seed(args.seed)
    inputs = keras.Input((28, 28, 1))
    # the augmentation wraps the model only for fitting; the saved model is `model` itself
    fit_model = keras.Model(inputs, model(augment_real.real_input_layers(args.probability, seed=args.seed)(inputs)))
    steps = args.epochs * int(np.ceil(len(mnist.x_train) / args.batch_size))
    fit_model.compile(
        keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    x_train = augment_real.flag_ones(mnist.x_train, mnist.y_train, args.flagged_ones, args.seed)
    fit_model.fit(
        (x_train / 255.0).astype(np.float32)[..., None],
        mnist.y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    after = float((evaluation.predict_probabilities(model, mnist.x_test).argmax(1) == mnist.y_test).mean())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(
        json.dumps(
            {
                "start": str(source),
                "saved": str(args.out),
                "epochs": args.epochs,
                "probability": args.probability,
                "flagged_ones": args.flagged_ones,
                "fit_seconds": round(seconds, 1),
                "mnist_test_before": before,
                "mnist_test_after": after,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
