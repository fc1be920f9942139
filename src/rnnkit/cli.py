"""The `rnnkit` command line."""

from __future__ import annotations

import argparse
import sys

from pathlib import Path

import numpy as np

from . import __version__, experiments
from .explanation import SpecError, explain
from .models import load_model


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnkit", description="Keras-exact recurrent models on PyTorch.")
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="run every experiment in quick mode and write an index report")
    demo.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    demo.add_argument("--seed", type=int, default=0)
    run = sub.add_parser("run", help="run one experiment: rnnkit run NAME [--quick]")
    run.add_argument("name", nargs="?", help="experiment name (see --list)")
    run.add_argument("--list", action="store_true", help="list the experiments")
    run.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", default=None, help="output folder (default runs/NAME)")
    ex = sub.add_parser("explain", help="explain a model: shapes, topology, mistakes, an unrolled picture")
    ex.add_argument("spec", help="a saved rnnkit model, a Keras .keras/.h5 file, or a layer spec such as "
                                 "\"LSTM(4, return_sequences=True) > TimeDistributed(Dense(1))\"")
    ex.add_argument("--input-shape", default=None, help="time_steps,features without the batch axis, e.g. 5,2 "
                                                       "(None or ? for any length)")
    ex.add_argument("--batch-size", type=int, default=None)
    ex.add_argument("--x", default=None, help="a .npy file of inputs to check against the model")
    ex.add_argument("--y", default=None, help="a .npy file of targets to check against the model")
    ex.add_argument("--out", default=None, help="write the unrolled diagram: .png, .svg or .html")
    return parser


def _shape(text: str | None):
    if text is None:
        return None
    try:
        return tuple(None if p.strip() in ("None", "?", "") else int(p) for p in text.split(","))
    except ValueError:
        raise SystemExit(f"rnnkit explain: --input-shape must be numbers separated by commas, e.g. 5,2; "
                         f"received {text!r}.") from None


def _explain(args) -> int:
    source = args.spec
    if Path(source).is_file():
        source = load_model(source)
    x = np.load(args.x) if args.x else None
    y = np.load(args.y) if args.y else None
    try:
        result = explain(source, input_shape=_shape(args.input_shape), x=x, y=y, batch_size=args.batch_size)
    except SpecError as err:
        print(f"rnnkit explain: cannot read the spec: {err}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"rnnkit explain: {err}", file=sys.stderr)
        return 2
    print(result.to_text())
    if args.out:
        print(f"diagram: {result.save(args.out)}")
    return 1 if any(f.level == "error" for f in result.findings) else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "explain":
        return _explain(args)
    if args.command == "demo":
        return experiments.demo(args.out, seed=args.seed)
    if args.list or not args.name:
        for name, exp in experiments.REGISTRY.items():
            print(f"{name:14s} {exp.TITLE}")
        return 0
    if args.name not in experiments.REGISTRY:
        print(f"rnnkit: unknown experiment {args.name!r}; known: {', '.join(experiments.REGISTRY)}",
              file=sys.stderr)
        return 2
    result = experiments.run(args.name, out=args.out or f"runs/{args.name}", quick=args.quick, seed=args.seed)
    return 0 if result is not None else 1


if __name__ == "__main__":
    sys.exit(main())
