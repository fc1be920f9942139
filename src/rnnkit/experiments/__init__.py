"""The seeds' experiments, reproduced: `rnnkit run NAME`, `rnnkit demo`."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from . import airline, autoencoder, bitsum, charlm, frames, sine_seq2seq, state_carry, tanks
from ..training import distributed
from .report import Result, markdown_table, write

REGISTRY = {m.NAME: m for m in (bitsum, state_carry, sine_seq2seq, airline, tanks, autoencoder, charlm, frames)}
_console = Console(highlight=False, soft_wrap=True)


def run(name: str, out: str | Path, quick: bool = False, seed: int = 0) -> Result:
    """Run one experiment, write its report, PNGs and metrics.json under `out`, print a summary.

    Under torchrun every rank runs it (fit trains on all of them) and only rank 0 writes and prints.
    """
    exp = REGISTRY[name]
    distributed.initialize()  # under torchrun: join the process group before deciding who writes
    if not distributed.is_main():
        scratch = Path(tempfile.mkdtemp(prefix=f"rnnkit-rank{distributed.rank()}-"))
        try:
            with _console.capture():
                return _run(exp, name, scratch, quick, seed)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return _run(exp, name, Path(out), quick, seed)


def _run(exp, name: str, out: Path, quick: bool, seed: int) -> Result:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    _console.print(f"[bold]{name}[/bold]: {exp.TITLE} ({'quick' if quick else 'full'})")
    t0 = time.perf_counter()
    result = exp.run(out, quick=quick, seed=seed)
    result.seconds = time.perf_counter() - t0
    path = write(result, out)
    mark = "[green]beat baseline[/green]" if result.beat_baseline else "[red]did NOT beat baseline[/red]"
    _console.print(f"  {mark}: {result.verdict}  ({result.seconds:.1f} s) -> {path}")
    return result


def demo(out: str | Path = "runs/demo", seed: int = 0) -> int:
    """Every experiment in quick mode, then an index report.md linking each."""
    out = Path(out)
    results = []
    t0 = time.perf_counter()
    for name in REGISTRY:
        results.append(run(name, out / name, quick=True, seed=seed))
    total = time.perf_counter() - t0
    table = Table(title=f"rnnkit demo ({total:.0f} s)")
    for col in ("experiment", "beat baseline", "verdict", "seconds"):
        table.add_column(col)
    for r in results:
        table.add_row(r.name, "yes" if r.beat_baseline else "NO", r.verdict, f"{r.seconds:.1f}")
    _console.print(table)
    rows = [[f"[{r.name}]({r.name}/report.md)", "yes" if r.beat_baseline else "**NO**", r.verdict,
             f"{r.seconds:.1f}"] for r in results]
    index = ["# rnnkit demo: the seeds' experiments in quick mode", "",
             f"{len(results)} experiments, {total:.0f} s in all. Quick mode uses small sizes; run "
             "`rnnkit run NAME` for the full versions.", "",
             markdown_table(["experiment", "beat baseline", "verdict", "seconds"], rows), ""]
    (out / "report.md").write_text("\n".join(index))
    _console.print(f"index: {out / 'report.md'}")
    return 0
