"""Run a ported keras-io script (scripts/keras_io/<name>.py) in-process, in a scratch directory (the
scripts write their stand-in data and checkpoints into the current directory, as the originals do), and
hand back its module globals (model, data, history, ...)."""

import runpy
from pathlib import Path

import matplotlib.pyplot as plt

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "keras_io"


def run_script(name: str, workdir, monkeypatch) -> dict:
    monkeypatch.chdir(workdir)
    try:
        return runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name="__main__")
    finally:
        plt.close("all")
