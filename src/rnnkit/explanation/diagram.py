"""The unrolled network, drawn with matplotlib: one column per time step, one row per layer.

Pink: input steps (labelled with their feature count). Green: the recurrent cell at each step, with
the state passed to the right (dashed from the left when stateful: the state of the previous batch).
Blue: per-step or final layers. Red: the outputs, only where they are kept. Long sequences are drawn
with an ellipsis column instead of hundreds of boxes.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from ..layers.core import Activation, Dropout, Embedding  # noqa: E402
from ..layers.wrappers import RepeatVector, recurrent_of  # noqa: E402

COLORS = {"input": "#f6c6d0", "cell": "#bfe3b4", "layer": "#c9daf8", "output": "#f4a6a6"}
MAX_COLUMNS = 7


def step_labels(steps: int | None) -> list[str]:
    """Labels of the drawn columns: all steps when few, else the first 3, an ellipsis and the last 2."""
    if steps is None:
        return ["t=1", "t=2", "t=3", "...", "t=T"]
    if steps <= MAX_COLUMNS:
        return [f"t={k + 1}" for k in range(steps)]
    return ["t=1", "t=2", "t=3", "...", f"t={steps - 1}", f"t={steps}"]


def _box(ax, x, y, text, color, dashed=False):
    ax.add_patch(FancyBboxPatch((x - 0.36, y - 0.26), 0.72, 0.52, boxstyle="round,pad=0.02", fc=color,
                                ec="#444", lw=1.0, ls="--" if dashed else "-"))
    ax.text(x, y, text, ha="center", va="center", fontsize=7.5)


def _arrow(ax, x0, y0, x1, y1, dashed=False, color="#333"):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=8, lw=0.9, color=color,
                                 ls="--" if dashed else "-", shrinkA=0, shrinkB=0))


def draw(layers, time_steps: int | None, features, batch, title: str, path=None, ids: bool = False):
    """Draw the unrolled stack of `layers` for inputs of `time_steps` steps; save to `path` if given.

    `features` labels each input box: a count ("2 feat") or any text ("16x16x1 frame").
    """
    features = f"{features} feat" if isinstance(features, int) else features
    labels = step_labels(time_steps) if (time_steps or time_steps is None) else ["t=1"]
    has_time = time_steps is None or time_steps > 1 or ids
    visible = [layer for layer in layers if not isinstance(layer, (Dropout, Activation))]
    n_rows = len(visible) + 2
    width = max(len(labels), *[len(step_labels(l.n)) for l in visible if isinstance(l, RepeatVector)], 1)
    fig, ax = plt.subplots(figsize=(1.3 * width + 3.2, 0.95 * n_rows + 1.2))
    cols = list(range(len(labels))) if has_time else [0]
    y = 0.0
    for c in cols:
        text = "..." if labels[c] == "..." else f"x {labels[c]}\n{'id' if ids else features}"
        _box(ax, c, y, text, COLORS["input"])
        ax.text(c, y - 0.5, labels[c], ha="center", va="top", fontsize=7, color="#666")
    units_note = []
    for layer in visible:
        y += 1.0
        rnn = recurrent_of(layer)
        if isinstance(layer, RepeatVector):
            new_labels = step_labels(layer.n)
            new_cols = list(range(len(new_labels)))
            for c in new_cols:
                _box(ax, c, y, "..." if new_labels[c] == "..." else "copy", COLORS["layer"])
                _arrow(ax, cols[-1], y - 0.74, c, y - 0.26)
            ax.text(-0.6, y, f"RepeatVector({layer.n})", ha="right", va="center", fontsize=8)
            cols, labels = new_cols, new_labels
            continue
        if rnn is not None:
            name = f"{type(layer).__name__}({rnn.units})"
            units_note.append(f"{rnn.name}: {rnn.units} units")
            for c in cols:
                _box(ax, c, y, "..." if labels[c] == "..." else "cell", COLORS["cell"])
                _arrow(ax, c, y - 0.74, c, y - 0.26)
            for a, b in zip(cols, cols[1:]):
                _arrow(ax, a + 0.36, y, b - 0.36, y, dashed=labels[b] == "..." or labels[a] == "...")
            if rnn.stateful:
                _arrow(ax, cols[0] - 1.0, y, cols[0] - 0.36, y, dashed=True, color="#b04")
                ax.text(cols[0] - 1.05, y + 0.3, "state from\nprevious batch", fontsize=6.5, color="#b04",
                        ha="left")
            ax.text(-0.6 - (1.1 if rnn.stateful else 0), y, name, ha="right", va="center", fontsize=8)
            if not rnn.return_sequences:  # only the last step's output goes on
                cols = [cols[-1]]
            continue
        label = type(layer).__name__ if not hasattr(layer, "layer") else f"TD({type(layer.layer).__name__})"
        if isinstance(layer, Embedding):
            label = f"Embedding({layer.output_dim})"
        for c in cols:
            short = type(getattr(layer, "layer", layer)).__name__
            _box(ax, c, y, "..." if labels[c] == "..." else short[:10], COLORS["layer"])
            _arrow(ax, c, y - 0.74, c, y - 0.26)
        ax.text(-0.6, y, label + ("" if len(cols) == 1 else " per step"), ha="right", va="center", fontsize=8)
    y += 1.0
    for c in cols:
        _box(ax, c, y, "..." if labels[c] == "..." else f"y {labels[c]}" if len(cols) > 1 else "y", COLORS["output"])
        _arrow(ax, c, y - 0.74, c, y - 0.26)
    ax.text(-0.6, y, "outputs kept", ha="right", va="center", fontsize=8)
    legend = f"batch: {batch if batch else 'any'} rows side by side (not drawn)"
    if units_note:
        legend += "; " + ", ".join(units_note) + " (state size, not box count)"
    ax.set_title(title, fontsize=10)
    ax.text(0.0, 0.0, textwrap.fill(legend, int(14 * fig.get_figwidth())), fontsize=7.5, color="#333",
            ha="left", va="bottom", transform=ax.transAxes)
    ax.set_xlim(-3.4, width - 0.4)
    ax.set_ylim(-1.3, y + 0.7)
    ax.axis("off")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig


def svg_text(fig) -> str:
    """The figure as SVG text (for an HTML page); the figure is closed."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return buffer.getvalue()
