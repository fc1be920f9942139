"""The seeds' experiments, reproduced: `rnnkit run NAME`, `rnnkit demo`."""

from __future__ import annotations

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


def run(name: str, out: str | Path, quick: bool = False, seed: int = 0, seeds: int | None = None) -> Result:
    """Run one experiment, write its report, PNGs and metrics.json under `out`, print a summary.

    Full mode repeats the experiment with seeds `seed`, `seed`+1, `seed`+2 (`seeds` runs; quick mode one)
    and reports every score as its spread over them; the pictures are the first seed's.
    Under torchrun every rank runs it (fit trains on all of them) and only rank 0 writes and prints.
    """
    exp = REGISTRY[name]
    seeds = seeds if seeds is not None else (1 if quick else 3)
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, received {seeds!r}.")
    distributed.initialize()  # under torchrun: join the process group before deciding who writes
    if not distributed.is_main():
        scratch = Path(tempfile.mkdtemp(prefix=f"rnnkit-rank{distributed.rank()}-"))
        try:
            with _console.capture():
                return _run(exp, name, scratch, quick, seed, seeds)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return _run(exp, name, Path(out), quick, seed, seeds)


def _one_seed(exp, out: Path, quick: bool, seed: int) -> Result:
    torch.manual_seed(seed)
    np.random.seed(seed)
    return exp.run(out, quick=quick, seed=seed)


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


def _run(exp, name: str, out: Path, quick: bool, seed: int, seeds: int) -> Result:
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    _console.print(f"[bold]{name}[/bold]: {exp.TITLE} ({'quick' if quick else 'full'}, "
                   f"{seeds} seed{'s' if seeds > 1 else ''})")
    t0 = time.perf_counter()
    results = []
    for k in range(seeds):
        if k == 0:
            result = _one_seed(exp, out, quick, seed)
        else:
            scratch = Path(tempfile.mkdtemp(prefix=f"rnnkit-{name}-seed{seed + k}-"))
            try:
                with _console.capture():
                    result = _one_seed(exp, scratch, quick, seed + k)
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


def demo(out: str | Path = "runs/demo", seed: int = 0) -> int:
    """Every experiment in quick mode (one seed), then an index report.md linking each."""
    out = Path(out)
    results = []
    t0 = time.perf_counter()
    for name in REGISTRY:
        results.append(run(name, out / name, quick=True, seed=seed))
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
