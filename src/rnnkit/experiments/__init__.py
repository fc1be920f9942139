"""The seeds' experiments, reproduced: `rnnkit run NAME`, `rnnkit demo`."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import airline, autoencoder, bitsum, charlm, frames, sine_seq2seq, state_carry, tanks
from ..training import distributed
from .report import PRACTITIONER, SEED_SETUP, Result, Row, Scoreboard, markdown_table, role_summary, write

REGISTRY = {m.NAME: m for m in (bitsum, state_carry, sine_seq2seq, airline, tanks, autoencoder, charlm, frames)}
_console = Console(highlight=False, soft_wrap=True)


def default_device() -> str:
    """"cuda" when PyTorch sees a CUDA GPU, else "cpu": where experiments run unless told."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(device: str | None) -> str:
    """`device` ("cpu", "cuda", "cuda:N" or "mps"; None for `default_device()`) checked against this
    machine, or a ValueError saying what was asked, what is missing and how to fix it."""
    if device is None:
        return default_device()
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda', received {device!r} "
                        f"(of type {type(device).__name__}).")
    try:
        kind, index = torch.device(device).type, torch.device(device).index
    except RuntimeError:
        kind, index = None, None
    if kind not in ("cpu", "cuda", "mps"):
        raise ValueError(f"Unknown device {device!r}: experiments run on 'cpu', 'cuda' (or 'cuda:N' for GPU N) "
                         f"or 'mps'. This machine has: {', '.join(_available())}.")
    if kind == "cuda" and not torch.cuda.is_available():
        why = (f"this PyTorch {torch.__version__} is a CPU-only build" if torch.version.cuda is None else
               f"this PyTorch {torch.__version__} is built for CUDA {torch.version.cuda} but finds no GPU or driver")
        raise ValueError(f"device {device!r} was asked for, but PyTorch sees no CUDA device ({why}). Run on the "
                         "CPU with --device cpu (device='cpu'), or leave the device out to use a GPU only when "
                         "one is there; for the GPU, install a CUDA build of PyTorch (pytorch.org) on a machine "
                         "with an NVIDIA GPU and its driver.")
    if kind == "cuda" and index is not None and index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r} was asked for, but this machine has {torch.cuda.device_count()} CUDA "
                         f"device(s): {', '.join(_available()[1:])}. Pick one of them.")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} was asked for, but PyTorch sees no Apple GPU (MPS) here. Use "
                         f"--device cpu (device='cpu'); this machine has: {', '.join(_available())}.")
    return device


def _available() -> list[str]:
    gpus = [f"cuda:{k}" for k in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return ["cpu", *gpus, *(["mps"] if torch.backends.mps.is_available() else [])]


def describe_device(device: str) -> str:
    """"cuda:0 (NVIDIA H100 80GB HBM3)", "cpu (2 threads)": what the demo announces."""
    if torch.device(device).type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    if device == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device


def run(name: str, out: str | Path, quick: bool = False, seed: int = 0, seeds: int | None = None,
        device: str | None = None) -> Result:
    """Run one experiment, write its report, PNGs and metrics.json under `out`, print a summary.

    Its models and data live on `device` (default: "cuda" when PyTorch sees a GPU, else "cpu");
    under torchrun "cuda" means each rank's own GPU, cuda:LOCAL_RANK.

    Full mode repeats the experiment with seeds `seed`, `seed`+1, `seed`+2 (`seeds` runs; quick mode one)
    and reports every score as its spread over them; the pictures are the first seed's.
    Under torchrun every rank runs it (fit trains on all of them) and only rank 0 writes and prints.
    """
    exp = REGISTRY[name]
    seeds = seeds if seeds is not None else (1 if quick else 3)
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, received {seeds!r}.")
    device = check_device(device)
    if device == "cuda" and "LOCAL_RANK" in os.environ:
        device = check_device(f"cuda:{int(os.environ['LOCAL_RANK'])}")
    distributed.initialize()  # under torchrun: join the process group before deciding who writes
    if not distributed.is_main():
        scratch = Path(tempfile.mkdtemp(prefix=f"rnnkit-rank{distributed.rank()}-"))
        try:
            with _console.capture():
                return _run(exp, name, scratch, quick, seed, seeds, device)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return _run(exp, name, Path(out), quick, seed, seeds, device)


def _one_seed(exp, out: Path, quick: bool, seed: int, device: str) -> Result:
    torch.manual_seed(seed)
    np.random.seed(seed)
    return exp.run(out, quick=quick, seed=seed, device=device)


def _merge(results: list[Result]) -> Result:
    """The first seed's result with every scoreboard row holding the values of all seeds."""
    first = results[0]
    rows = []
    for k, row in enumerate(first.board.rows):
        others = [r.board.rows[k] for r in results[1:]]
        if any(o.method != row.method or o.role != row.role for o in others):
            raise ValueError(f"{first.name}: the seeds' scoreboards differ in row {k} ({row.method!r}).")
        rows.append(Row(row.method, row.role, [sum((r.values[j] for r in [row, *others]), [])
                                               for j in range(len(row.values))]))
    first.board = Scoreboard(first.board.metrics, rows)
    first.seeds = [s for r in results for s in r.seeds]
    if len(results) > 1:
        first.metrics = {"per_seed": [r.metrics for r in results]}
        first.notes.append(f"The pictures and the tables below the scoreboard are from seed {first.seeds[0]}; "
                           "metrics.json holds every seed's numbers.")
    return first


def _run(exp, name: str, out: Path, quick: bool, seed: int, seeds: int, device: str) -> Result:
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    _console.print(f"[bold]{name}[/bold]: {exp.TITLE} ({'quick' if quick else 'full'}, "
                   f"{seeds} seed{'s' if seeds > 1 else ''}, {device})")
    t0 = time.perf_counter()
    results = []
    for k in range(seeds):
        if k == 0:
            result = _one_seed(exp, out, quick, seed, device)
        else:
            scratch = Path(tempfile.mkdtemp(prefix=f"rnnkit-{name}-seed{seed + k}-"))
            try:
                with _console.capture():
                    result = _one_seed(exp, scratch, quick, seed + k, device)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        result.seeds = [seed + k]
        results.append(result)
    result = _merge(results)
    result.seconds = time.perf_counter() - t0
    path = write(result, out)
    mark = "[green]beat the strongest baseline[/green]" if result.beat_baseline else \
        "[red]did NOT beat the strongest baseline[/red]"
    _console.print(f"  {mark}: {escape(result.verdict)}  ({result.seconds:.1f} s) -> {escape(str(path))}")
    return result


SUMMARY_HEADER = ["experiment", "strongest baseline", "seeds' setup beats it", "practitioner's beats it",
                  "verdict", "seconds"]


def summary_rows(results: list[Result], link: bool = False) -> list[list]:
    """One row per experiment, every cell derived from its scoreboard."""
    return [[f"[{r.name}]({r.name}/report.md)" if link else r.name, r.strongest_baseline,
             role_summary(r.board, SEED_SETUP), role_summary(r.board, PRACTITIONER), r.verdict, f"{r.seconds:.1f}"]
            for r in results]


def demo(out: str | Path = "runs/demo", seed: int = 0, device: str | None = None) -> int:
    """Every experiment in quick mode (one seed), then an index report.md linking each. They run on
    `device` (default: "cuda" when PyTorch sees a GPU, else "cpu"), which the first line announces."""
    out = Path(out)
    device = check_device(device)
    _console.print(f"rnnkit demo on {escape(describe_device(device))}")
    results = []
    t0 = time.perf_counter()
    for name in REGISTRY:
        results.append(run(name, out / name, quick=True, seed=seed, device=device))
    total = time.perf_counter() - t0
    table = Table(title=f"rnnkit demo ({total:.0f} s)")
    for col in SUMMARY_HEADER:
        table.add_column(col)
    for row in summary_rows(results):
        table.add_row(*map(escape, row))
    _console.print(table)
    index = ["# rnnkit demo: the seeds' experiments in quick mode", "",
             f"{len(results)} experiments, {total:.0f} s in all, one seed each. Quick mode uses small sizes; run "
             "`rnnkit run NAME` for the full versions (three seeds).", "",
             "Each verdict is computed from the experiment's own table against the strongest baseline it "
             "shows: a model beats it when it is strictly better on every metric.", "",
             markdown_table(SUMMARY_HEADER, summary_rows(results, link=True)), ""]
    (out / "report.md").write_text("\n".join(index))
    _console.print(f"index: {out / 'report.md'}")
    return 0
