"""What every experiment ends in: metrics.json, PNG plots and a report.md whose verdict is computed.

An experiment hands over one `Scoreboard`: rows of (method, role, value per metric per seed). The
verdict, the strongest baseline it is taken against, and the markdown table are all derived from those
rows here, so a report cannot say "beat" beside a table that says otherwise.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .figures import audit  # noqa: E402

SEED_SETUP, PRACTITIONER, BASELINE = "seed setup", "practitioner", "baseline"
ROLES = (SEED_SETUP, PRACTITIONER, BASELINE)


@dataclass(frozen=True)
class Metric:
    """One column of the scoreboard: its name with units, and which way is better."""

    name: str
    lower_is_better: bool = True


@dataclass
class Row:
    """One method's scores: `values[j]` lists metric j's value for each seed run (one float is one seed)."""

    method: str
    role: str
    values: list

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}; received {self.role!r}.")
        self.values = [[float(v) for v in (x if isinstance(x, (list, tuple)) else [x])] for x in self.values]

    def mean(self, j: int) -> float:
        return sum(self.values[j]) / len(self.values[j])


@dataclass
class Scoreboard:
    """The table a verdict is taken from: metrics (columns) and rows (methods)."""

    metrics: list[Metric]
    rows: list[Row]

    def __post_init__(self):
        for r in self.rows:
            if len(r.values) != len(self.metrics):
                raise ValueError(f"row {r.method!r} has {len(r.values)} values for {len(self.metrics)} metrics.")
        if not any(r.role == BASELINE for r in self.rows) or all(r.role == BASELINE for r in self.rows):
            raise ValueError("a scoreboard needs at least one baseline row and one model row.")

    def to_dict(self) -> dict:
        return {"metrics": [asdict(m) for m in self.metrics], "rows": [asdict(r) for r in self.rows]}

    @classmethod
    def from_dict(cls, d: dict) -> "Scoreboard":
        return cls([Metric(**m) for m in d["metrics"]], [Row(**r) for r in d["rows"]])


def _better(a: float, b: float, lower_is_better: bool) -> bool:
    """Strictly better; a tie or a NaN is not."""
    if math.isnan(a) or math.isnan(b):
        return False
    return a < b if lower_is_better else a > b


def strongest_baselines(board: Scoreboard) -> list[Row]:
    """For each metric, the baseline row with the best mean over seeds (the first one on a tie)."""
    baselines = [r for r in board.rows if r.role == BASELINE]
    out = []
    for j, m in enumerate(board.metrics):
        best = baselines[0]
        for r in baselines[1:]:
            if _better(r.mean(j), best.mean(j), m.lower_is_better):
                best = r
        out.append(best)
    return out


def seeds_won(board: Scoreboard, row: Row) -> tuple[int, int]:
    """(seeds in which `row` is strictly better than the strongest baseline on every metric, seeds).

    Seed k of the model is compared with seed k of the baseline (same data, same split); a baseline
    with one value (it does not depend on the seed) is compared with every seed."""
    strongest = strongest_baselines(board)
    n = max(len(v) for v in row.values)
    won = 0
    for k in range(n):
        ok = True
        for j, m in enumerate(board.metrics):
            mine, theirs = row.values[j], strongest[j].values[j]
            ok &= _better(mine[min(k, len(mine) - 1)], theirs[min(k, len(theirs) - 1)], m.lower_is_better)
        won += ok
    return won, n


def beats(board: Scoreboard, row: Row) -> bool:
    """A model beats the baselines when it is better than the strongest one on every metric in every seed."""
    won, n = seeds_won(board, row)
    return won == n


def headline(board: Scoreboard) -> Row:
    """The row the verdict is about: the practitioner's setup when there is one, else the seeds' own;
    among several, the first that beats, else the best on the first metric."""
    rows = [r for r in board.rows if r.role == PRACTITIONER] or [r for r in board.rows if r.role == SEED_SETUP]
    winners = [r for r in rows if beats(board, r)]
    if winners:
        return winners[0]
    lower = board.metrics[0].lower_is_better
    return min(rows, key=lambda r: r.mean(0) if lower else -r.mean(0))


def fmt(v: float) -> str:
    return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def spread(values: list[float]) -> str:
    """'mean' for one seed (or equal values); 'mean ± sd [min, max]' for several."""
    mean = sum(values) / len(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt(mean)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f"{fmt(mean)} ± {fmt(sd)} [{fmt(min(values))}, {fmt(max(values))}]"


def strongest_name(board: Scoreboard) -> str:
    names = list(dict.fromkeys(r.method for r in strongest_baselines(board)))
    if len(names) == 1:
        return names[0]
    return "; ".join(f"{r.method} ({m.name})" for r, m in zip(strongest_baselines(board), board.metrics))


def verdict_sentence(board: Scoreboard) -> str:
    """'<model>: <metric> <value> vs <value> for <baseline>, the strongest baseline shown; better in k of n seeds.'"""
    row = headline(board)
    strongest = strongest_baselines(board)
    if len({id(s) for s in strongest}) == 1:
        parts = [", ".join(f"{m.name} {fmt(row.mean(j))} vs {fmt(strongest[0].mean(j))}"
                           for j, m in enumerate(board.metrics)) + f" for {strongest[0].method}"]
    else:
        parts = [f"{m.name} {fmt(row.mean(j))} vs {fmt(s.mean(j))} for {s.method}"
                 for j, (m, s) in enumerate(zip(board.metrics, strongest))]
    won, n = seeds_won(board, row)
    seeds = f"in {won} of {n} seeds" if n > 1 else "(one seed)"
    return (f"{row.method}: {'; '.join(parts)} (the strongest baseline shown{', means over seeds' if n > 1 else ''}); "
            f"{'better' if won == n else 'NOT better'} {seeds}.")


def role_summary(board: Scoreboard, role: str) -> str:
    """'yes', 'no', 'k of n models' for the rows of `role`, or '-' when there are none."""
    rows = [r for r in board.rows if r.role == role]
    if not rows:
        return "-"
    won = sum(beats(board, r) for r in rows)
    if len(rows) == 1:
        return "yes" if won else "no"
    return "yes (all)" if won == len(rows) else f"{won} of {len(rows)}"


def scoreboard_table(board: Scoreboard) -> str:
    """The markdown table, rendered from the same rows the verdict is computed from."""
    strongest = {id(r) for r in strongest_baselines(board)}
    header = ["method", "role"] + [m.name + (" (lower is better)" if m.lower_is_better else " (higher is better)")
                                   for m in board.metrics] + ["beats the strongest baseline"]
    rows = []
    for r in board.rows:
        if r.role == BASELINE:
            mark = "strongest baseline" if id(r) in strongest else ""
        else:
            won, n = seeds_won(board, r)
            mark = ("yes" if won == n else "**no**") + (f" ({won} of {n} seeds)" if n > 1 else "")
        rows.append([r.method, r.role] + [spread(v) for v in r.values] + [mark])
    return markdown_table(header, rows)


@dataclass
class Result:
    """An experiment's outcome: the scoreboard the verdict comes from, other numbers, files written."""

    name: str
    title: str
    metrics: dict
    board: Scoreboard
    quick: bool
    seconds: float = 0.0
    seeds: list[int] = field(default_factory=lambda: [0])
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    figure_problems: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def beat_baseline(self) -> bool:
        return beats(self.board, headline(self.board))

    @property
    def verdict(self) -> str:
        return verdict_sentence(self.board)

    @property
    def strongest_baseline(self) -> str:
        return strongest_name(self.board)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 7.0, height: float = 4.0):
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


def save_figure(fig, out: Path, name: str, result: Result, bottom: float = 0.0) -> None:
    """Lay out (leaving `bottom` of the height for a figure legend), save, audit and close `fig`."""
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(out / name, dpi=110)
    result.figure_problems[name] = audit(fig)
    plt.close(fig)
    result.figures.append(name)


def markdown_table(header: list[str], rows: list[list]) -> str:
    cell = lambda v: (fmt(v) if isinstance(v, float) else str(v)).replace("|", "\\|")  # a | would split the cell
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def metrics_document(result: Result) -> dict:
    return {"name": result.name, "quick": result.quick, "seeds": result.seeds,
            "beat_baseline": result.beat_baseline, "strongest_baseline": result.strongest_baseline,
            "verdict": result.verdict, "seconds": round(result.seconds, 2), "scoreboard": result.board.to_dict(),
            "metrics": result.metrics}


def write(result: Result, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics_document(result), indent=2, default=float))
    mode = "quick mode (small sizes: numbers are indicative)" if result.quick else "full mode"
    seeds = (f"seed {result.seeds[0]}" if len(result.seeds) == 1 else
             f"seeds {', '.join(map(str, result.seeds))}: mean ± sd [min, max] over seeds")
    status = "**Beat the strongest baseline.**" if result.beat_baseline else "**Did NOT beat the strongest baseline.**"
    parts = [f"# {result.title}", "",
             f"_{mode}, {seeds}, {result.seconds:.1f} s, written {time.strftime('%Y-%m-%d %H:%M')}_", "",
             f"{status} {result.verdict}", "",
             f"Strongest baseline shown: {result.strongest_baseline}. Seeds' setup beats it: "
             f"{role_summary(result.board, SEED_SETUP)}; practitioner's setup: "
             f"{role_summary(result.board, PRACTITIONER)}. A model beats it when it is strictly better on "
             "every metric in every seed.", "", scoreboard_table(result.board), ""]
    for table in result.tables:
        parts += [table, ""]
    for fig in result.figures:
        parts += [f"![{fig}]({fig})", ""]
    if result.notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    path = out / "report.md"
    path.write_text("\n".join(parts))
    return path
