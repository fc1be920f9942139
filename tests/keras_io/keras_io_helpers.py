"""Run a ported keras-io script (scripts/keras_io/<name>.py) in-process, in a scratch directory (the
scripts write their stand-in data and checkpoints into the current directory, as the originals do), and
hand back its module globals (model, data, history, ...)."""

import contextlib
import io
import os
import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import torch

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "keras_io"


def run_script(name: str, workdir, monkeypatch) -> dict:
    monkeypatch.chdir(workdir)
    try:
        return runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name="__main__")
    finally:
        plt.close("all")


def run_script_once(name: str, workdir) -> dict:
    """The same for a module-scoped fixture (no monkeypatch there): on one torch thread (small models: one
    thread is faster, and steady on a shared machine), its printed output kept as namespace["stdout"];
    the working directory and thread count are restored after."""
    cwd, threads = os.getcwd(), torch.get_num_threads()
    torch.set_num_threads(1)
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            namespace = runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name=f"keras_io_{name}")
    finally:
        os.chdir(cwd)
        torch.set_num_threads(threads)
        plt.close("all")
    namespace["stdout"] = out.getvalue()
    return namespace
