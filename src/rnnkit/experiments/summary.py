"""The index of a results folder, written from the metrics.json files the runs left there.

    python -m rnnkit.experiments.summary results/full

Every number and verdict in the index is read from a run's scoreboard and judged again here, so the
index cannot drift from the reports it links.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .report import PRACTITIONER, SEED_SETUP, Scoreboard, markdown_table, role_summary, scoreboard_table
from .report import beats, headline, strongest_name, verdict_sentence

ORDER = ["bitsum", "state-carry", "sine-seq2seq", "airline", "tanks", "autoencoder", "charlm", "frames"]
COMMAND = "OMP_NUM_THREADS=1 taskset -c 1 rnnkit run {name} --out results/full/{name}"


def _load(folder: Path) -> dict | None:
    path = folder / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def index(root: Path) -> str:
    """The markdown index of `root`: a summary table, then each experiment's scoreboard."""
    names = [n for n in ORDER if (root / n).is_dir()] + sorted(
        p.name for p in root.iterdir() if p.is_dir() and p.name not in ORDER)
    rows, sections, stale = [], [], []
    for name in names:
        saved = _load(root / name)
        if saved is None or "scoreboard" not in saved:
            stale.append(name)
            rows.append([f"[{name}]({name}/report.md)", "-", "-", "-",
                         "not regenerated: an older run whose verdict was set by hand; run "
                         f"`{COMMAND.format(name=name)}`", "-", "-"])
            continue
        board = Scoreboard.from_dict(saved["scoreboard"])
        seeds = saved.get("seeds", [0])
        yes = beats(board, headline(board))
        rows.append([f"[{name}]({name}/report.md)", strongest_name(board), role_summary(board, SEED_SETUP),
                     role_summary(board, PRACTITIONER), ("yes: " if yes else "**no**: ") + verdict_sentence(board),
                     ", ".join(map(str, seeds)), f"{saved['seconds']:.0f}"])
        sections += [f"### {name}", "", scoreboard_table(board), ""]
    header = ["experiment", "strongest baseline", "seeds' setup beats it", "practitioner's beats it",
              "verdict (headline row)", "seeds", "seconds"]
    parts = ["# Full-mode results: the seeds' setups and a practitioner's, against the strongest baseline", "",
             f"Written by `python -m rnnkit.experiments.summary {root}` on {time.strftime('%Y-%m-%d')} from the "
             "metrics.json each run left in its folder. Each folder was written by `rnnkit run NAME` (full sizes, "
             "seeds 0, 1, 2), one process with one thread pinned to one core of the 2-core CPU machine "
             "(PyTorch CPU build). The seconds column is the wall time of all three seeds.", "",
             "A verdict is computed from the experiment's own table: the strongest baseline is the best baseline "
             "row on each metric (mean over seeds), and a model beats it only when it is strictly better on every "
             "metric in every seed (seed k of the model against seed k of the baseline, same data). Table cells "
             "are mean ± sd [min, max] over the seeds (one value when all seeds agree).", "",
             markdown_table(header, rows), ""]
    if stale:
        parts += ["Not regenerated in this pass (their folders hold an older run, whose verdict was written by "
                  "hand and is not comparable): " + ", ".join(stale) + ". Regenerate each with "
                  f"`{COMMAND.format(name='NAME')}`, then rerun this summary.", ""]
    parts += ["## Every scoreboard", ""] + sections
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m rnnkit.experiments.summary RESULTS_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0])
    (root / "README.md").write_text(index(root))
    print(root / "README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
