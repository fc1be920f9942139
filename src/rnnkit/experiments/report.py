"""What every experiment ends in: metrics.json, PNG plots and a short report.md with a verdict."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@dataclass
class Result:
    """An experiment's outcome: numbers, whether the model beat its baseline, and the files written."""

    name: str
    title: str
    metrics: dict
    beat_baseline: bool
    verdict: str
    quick: bool
    seconds: float = 0.0
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 7.0, height: float = 4.0):
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


def save_figure(fig, out: Path, name: str, result: Result) -> None:
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    result.figures.append(name)


def markdown_table(header: list[str], rows: list[list]) -> str:
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write(result: Result, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(
        {"name": result.name, "quick": result.quick, "beat_baseline": result.beat_baseline,
         "seconds": round(result.seconds, 2), "metrics": result.metrics}, indent=2, default=float))
    mode = "quick mode (small sizes: numbers are indicative)" if result.quick else "full mode"
    status = "**Beat the baseline.**" if result.beat_baseline else "**Did NOT beat the baseline.**"
    parts = [f"# {result.title}", "", f"_{mode}, {result.seconds:.1f} s, written {time.strftime('%Y-%m-%d %H:%M')}_",
             "", f"{status} {result.verdict}", ""]
    for table in result.tables:
        parts += [table, ""]
    for fig in result.figures:
        parts += [f"![{fig}]({fig})", ""]
    if result.notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    path = out / "report.md"
    path.write_text("\n".join(parts))
    return path
