"""The `rnnkit` command line."""

from __future__ import annotations

import argparse
import sys

from . import __version__


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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from . import experiments
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
