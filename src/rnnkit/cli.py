"""The `rnnkit` command line.

It never answers a mistake with a traceback: a usage error (a bad argument, a file it cannot read) exits 2
and a model with an error finding exits 1, each with one line on stderr saying what to fix. Set
RNNKIT_DEBUG=1 to get the traceback instead. rnnkit reports what it refuses as ValueError, TypeError or
OSError; any other exception is a bug and surfaces with its traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from . import __version__, experiments
from .checks import short
from .explanation import SpecError, explain
from .io.onnx_export import export_onnx
from .models import load_model
from .serve import serve
from .training.distributed import torchrun_command

_MODEL_SUFFIXES = (".rnnkit", ".keras", ".h5", ".hdf5")
_DIAGRAM_SUFFIXES = (".png", ".svg", ".html")
_MAX_LINE = 1000  # characters of one error line
_DEVICE_HELP = "where models and data go: cpu, cuda, cuda:N or mps (default: cuda when PyTorch sees a GPU, else cpu)"


class UsageError(Exception):
    """A command line that cannot run as given; the message says what to fix."""

    def __init__(self, message: str, prog: str | None = None):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake raises UsageError (one line, said by main) instead of printing the usage."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)", self.prog)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (rows per batch), received {short(text)}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, received {short(text)}")
    return value


def _input_shape(text: str) -> tuple:
    """"5,2" -> (5, 2); None, ? or nothing for an axis of any length."""
    shape = []
    for part in text.split(","):
        part = part.strip()
        if part in ("None", "?", ""):
            shape.append(None)
        elif part.isdigit() and int(part) > 0:
            shape.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                f"must be positive whole numbers or None separated by commas, without the batch axis, e.g. 5,2 "
                f"for 5 time steps of 2 features (None,2 for any length); received {short(text)}")
    return tuple(shape)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rnnkit", description="Keras-exact recurrent models on PyTorch.")
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="run every experiment in quick mode and write an index report")
    demo.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    demo.add_argument("--seed", type=_non_negative_int, default=0)
    demo.add_argument("--device", default=None, help=_DEVICE_HELP)
    run = sub.add_parser("run", help="run one experiment: rnnkit run NAME [--quick]")
    run.add_argument("name", nargs="?", help="experiment name (see --list)")
    run.add_argument("--list", action="store_true", help="list the experiments")
    run.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    run.add_argument("--seed", type=_non_negative_int, default=0, help="the first seed (default 0)")
    run.add_argument("--seeds", type=_positive_int, default=None,
                     help="how many seeds: seed, seed+1, ... (default 3 in full mode, 1 with --quick); the "
                          "report gives each score's spread over them")
    run.add_argument("--out", default=None, help="output folder (default runs/NAME)")
    run.add_argument("--device", default=None, help=_DEVICE_HELP)
    run.add_argument("--nproc", type=_positive_int, default=1,
                     help="train on N processes through torchrun (torch.distributed; rank 0 writes the report)")
    ex = sub.add_parser("explain", help="explain a model: shapes, topology, mistakes, an unrolled picture")
    ex.add_argument("spec", help="a saved rnnkit model, a Keras .keras/.h5 file, or a layer spec such as "
                                 "\"LSTM(4, return_sequences=True) > TimeDistributed(Dense(1))\"")
    ex.add_argument("--input-shape", type=_input_shape, default=None,
                    help="time_steps,features without the batch axis, e.g. 5,2 (None or ? for any length)")
    ex.add_argument("--batch-size", type=_positive_int, default=None)
    ex.add_argument("--x", default=None, help="a .npy file of inputs to check against the model")
    ex.add_argument("--y", default=None, help="a .npy file of targets to check against the model")
    ex.add_argument("--out", default=None, help="write the unrolled diagram: .png, .svg or .html")
    export = sub.add_parser("export", help="export a saved model: rnnkit export model.rnnkit --onnx m.onnx")
    export.add_argument("model", help="a saved rnnkit model (.rnnkit) or a Keras .keras/.h5 file")
    export.add_argument("--onnx", required=True, help="the ONNX file to write")
    export.add_argument("--mode", choices=["step", "sequence"], default="step",
                        help="step: one time step, states in and out (OnnxStream); sequence: (batch, time, "
                             "features) as predict takes it, initial states optional")
    srv = sub.add_parser("serve", help="serve a stateful model over HTTP, each series' state kept in a store")
    srv.add_argument("model", help="a saved rnnkit model (.rnnkit)")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; "
                                                         "any other needs a token)")
    srv.add_argument("--port", type=_port, default=8000)
    srv.add_argument("--state", default=None, help="state store: sqlite:PATH (default: MODEL.states.sqlite in "
                                                   "--data) or redis://host:port/db[?prefix=name]")
    srv.add_argument("--data", default=".", help="the server's data folder (default: the working directory)")
    srv.add_argument("--state-log", choices=["inputs", "states"], default="inputs",
                     help="what the SQLite store logs per step: its input, replayed through the model at start "
                          "(default; 17x less to write for LSTM(64) x 2), or its new state (Redis keeps states)")
    srv.add_argument("--token-file", default=None, help="a file holding the bearer token clients must send "
                                                        "(or set RNNKIT_TOKEN)")
    srv.add_argument("--threads", type=_positive_int, default=None, help="PyTorch threads for the model")
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535, received {short(text)}")
    return int(text)


# -- files ------------------------------------------------------------------------------------------------------
def _path(text: str) -> Path | None:
    """`text` as a path that exists, else None (a spec longer than a file name may be is not an error)."""
    try:
        path = Path(text)
        return path if path.exists() else None
    except (OSError, ValueError):  # File name too long, an embedded NUL byte
        return None


def _looks_like_a_path(text: str) -> bool:
    return "(" not in text and (text.lower().endswith(_MODEL_SUFFIXES) or "/" in text or os.sep in text)


def _model_or_spec(text: str):
    """A model loaded from the file `text` names, or `text` itself as a layer spec."""
    path = _path(text)
    if path is None:
        if _looks_like_a_path(text):
            raise UsageError(f"no model file at {short(text)} (and it is not a layer spec such as "
                             "\"LSTM(4) > Dense(1)\"). Check the path.")
        return text
    if path.is_dir():
        raise UsageError(f"{short(text)} is a folder, not a model file. Pass the .rnnkit, .keras or .h5 file "
                         "inside it.")
    try:
        return load_model(path)
    except (ValueError, TypeError, OSError, KeyError, EOFError, zipfile.BadZipFile) as err:
        # a foreign file can fail in the readers' libraries (zip, h5py, json) in any of these ways
        raise UsageError(f"cannot load the model {short(text)}: {_one_line(err)} Pass a file written by "
                         "model.save(...) or a Keras .keras/.h5 model file.") from err


def _array(path: str | None, flag: str) -> np.ndarray | None:
    """The array in the .npy file `path` (never unpickled: a pickle can run code)."""
    if path is None:
        return None
    where = short(path)
    found = _path(path)
    if found is None:
        raise UsageError(f"{flag}: no file at {where}. Save the array with np.save({where}, x).")
    if found.is_dir():
        raise UsageError(f"{flag}: {where} is a folder; pass a .npy file (np.save('x.npy', x)).")
    try:
        data = np.load(found, allow_pickle=False)
    except ValueError as err:
        if "Object arrays" in str(err):
            raise UsageError(f"{flag}: {where} holds Python objects (dtype object), which rnnkit does not unpickle; "
                             f"save numbers instead: np.save({where}, x.astype('float32')).") from err
        raise UsageError(f"{flag}: cannot read {where} as a NumPy .npy file ({_one_line(err)}). Save the array "
                         f"with np.save({where}, x).") from err
    except (OSError, EOFError) as err:
        raise UsageError(f"{flag}: cannot read {where} as a NumPy .npy file ({_one_line(err)}).") from err
    if not isinstance(data, np.ndarray):
        data.close()
        raise UsageError(f"{flag}: {where} holds several arrays (an .npz archive); pass one array saved with "
                         "np.save as a .npy file.")
    return data


# -- commands ---------------------------------------------------------------------------------------------------
def _out_folder(out: str | None) -> None:
    """Refuse an --out that cannot be a folder before an experiment runs for minutes."""
    path = _path(out) if out else None
    if path is not None and not path.is_dir():
        raise UsageError(f"--out {short(out)} is a file; pass a folder to write the report into.")


def _explain(args) -> int:
    if args.out is not None:
        if Path(args.out).suffix.lower() not in _DIAGRAM_SUFFIXES:
            raise UsageError(f"--out writes .png, .svg or .html, received {short(args.out)}.")
        folder = Path(args.out).parent
        if not folder.is_dir():
            raise UsageError(f"--out: the folder {short(str(folder))} does not exist; create it first or pick "
                             "another path.")
    source = _model_or_spec(args.spec)
    x, y = _array(args.x, "--x"), _array(args.y, "--y")
    try:
        result = explain(source, input_shape=args.input_shape, x=x, y=y, batch_size=args.batch_size)
    except SpecError as err:
        raise UsageError(f"cannot read the spec at column {err.column}: {err.reason} (near {err.near!r})") from err
    print(result.to_text())
    if args.out:
        print(f"diagram: {result.save(args.out)}")
    return 1 if any(f.level == "error" for f in result.findings) else 0


def _main(args, parser) -> int:
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "explain":
        return _explain(args)
    if args.command == "export":
        model = _model_or_spec(args.model)
        if isinstance(model, str):
            raise UsageError(f"no model file at {short(args.model)}. Pass a file written by model.save(...).")
        names = export_onnx(model, args.onnx, mode=args.mode)
        print(f"{args.onnx}: inputs {', '.join(names['inputs'])}; outputs {', '.join(names['outputs'])}")
        return 0
    if args.command == "serve":
        return _serve(args)
    if args.command == "demo":
        _out_folder(args.out)
        return experiments.demo(args.out, seed=args.seed, device=experiments.check_device(args.device))
    if args.list or not args.name:
        for name, exp in experiments.REGISTRY.items():
            print(f"{name:14s} {exp.TITLE}")
        return 0
    if args.name not in experiments.REGISTRY:
        raise UsageError(f"unknown experiment {short(args.name)}; known: {', '.join(experiments.REGISTRY)}.")
    _out_folder(args.out)
    device = experiments.check_device(args.device)  # refused before torchrun starts N processes
    if args.nproc > 1 and "RANK" not in os.environ:  # not yet under torchrun: launch it
        return _torchrun(args)
    result = experiments.run(args.name, out=args.out or f"runs/{args.name}", quick=args.quick, seed=args.seed,
                             seeds=args.seeds, device=device)
    return 0 if result is not None else 1


def _serve(args) -> int:
    if not Path(args.model).is_file():
        raise UsageError(f"no model file at {short(args.model)}. Pass a file written by model.save(...).")
    token = None
    if args.token_file is not None:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as err:
            raise UsageError(f"--token-file: cannot read {short(args.token_file)}: {err.strerror}.") from None
        if len(token) < 16:
            raise UsageError("--token-file: the token must be at least 16 characters (e.g. the output of "
                             "`python -c 'import secrets; print(secrets.token_urlsafe())'`).")
    print(f"rnnkit serve: {args.model} on http://{args.host}:{args.port} (API docs at /docs)", flush=True)
    serve(args.model, host=args.host, port=args.port, state=args.state, data_dir=args.data, token=token,
          threads=args.threads, log_level="warning", log_inputs=args.state_log == "inputs")
    return 0


def _torchrun(args) -> int:
    """`rnnkit run NAME --nproc N`: the same command on N processes under torchrun, on this machine."""
    command = [*torchrun_command(args.nproc), "-m", "rnnkit.cli", "run", args.name,
               "--seed", str(args.seed), "--out", args.out or f"runs/{args.name}"]  # each rank: RANK is set
    if args.quick:
        command.append("--quick")
    if args.seeds is not None:
        command += ["--seeds", str(args.seeds)]
    if args.device is not None:
        command += ["--device", args.device]
    done = subprocess.run(command, stderr=subprocess.PIPE, text=True)
    if done.returncode:  # the ranks' one-line errors, once each, without torchrun's own traceback
        ours = list(dict.fromkeys(l for l in done.stderr.splitlines() if l.startswith("rnnkit ")))
        print("\n".join(ours) or done.stderr[-2000:], file=sys.stderr)
        return 2 if ours else 1
    return 0


def _one_line(err) -> str:
    if isinstance(err, OSError) and err.filename is not None and err.strerror:  # "[Errno 17] File exists: 'x'"
        err = f"{short(str(err.filename))}: {err.strerror.lower()}. Check the path and its permissions."
    text = " ".join(str(err).split())
    return text if len(text) <= _MAX_LINE else text[:_MAX_LINE - 3] + "..."


def _hint(message: str, argv: list[str]) -> str:
    """argparse reads `--input-shape -3,2` as two options; say how to pass a value that starts with '-'."""
    m = re.search(r"argument (--[\w-]+): expected one argument", message)
    if m and m.group(1) in argv:
        k = argv.index(m.group(1))
        if k + 1 < len(argv) and argv[k + 1].startswith("-"):
            return f"; to pass a value that starts with '-', write {m.group(1)}={argv[k + 1]}"
    return ""


def _error_line(text: str) -> None:
    """Write one line to stderr in one write: the ranks of `rnnkit run --nproc` share one stderr, unbuffered
    (torchrun runs them with python -u), and print's separate write of the newline let two ranks' lines run
    together into one ("...processes.rnnkit run: ..."), which `_torchrun` then relayed as it was."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]); returns the exit code."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    parser = build_parser()
    prog = "rnnkit"
    try:
        args = parser.parse_args(argv)
        prog = f"rnnkit {args.command}" if args.command else prog
        return _main(args, parser)
    except (UsageError, ValueError, TypeError, OSError) as err:
        if os.environ.get("RNNKIT_DEBUG"):
            raise
        hint = _hint(str(err), argv) if isinstance(err, UsageError) else ""
        _error_line(f"{getattr(err, 'prog', None) or prog}: {_one_line(err)}{hint}")
        return 2
    except KeyboardInterrupt:
        _error_line(f"{prog}: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
