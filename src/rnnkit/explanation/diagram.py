"""The unrolled network, drawn with matplotlib: one column per time step, one row per layer.

Pink: input steps (labelled with their feature count). Green: the recurrent cell at each step, with
the state passed to the right (dashed from the left when stateful: the state of the previous batch).
Blue: per-step or final layers. Red: the outputs, only where they are kept. Long sequences are drawn
with an ellipsis column instead of hundreds of boxes. Each box shows the shape of what it outputs at one
step (batch axis left out); layers are named as the user named them, else by type, never by an automatic
name such as "lstm_14"; findings worth a warning are printed on the picture.
"""

from __future__ import annotations

import io
import re
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from ..layers.base import _snake_case  # noqa: E402
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


def display_name(layer) -> str:
    """The name a user gave the layer, or its type with its size ("LSTM(8)") when the name is automatic."""
    rnn = recurrent_of(layer)
    size = rnn.units if rnn is not None else next(
        (getattr(layer, a) for a in ("units", "filters", "output_dim") if getattr(layer, a, None) is not None), None)
    by_type = type(layer).__name__ + ("" if size is None else f"({size})")
    name = getattr(layer, "name", "") or ""
    automatic = re.fullmatch(rf"{_snake_case(type(layer).__name__)}(_\d+)?", name)
    return by_type if automatic or not name else name


def shape_text(shape) -> str:
    """A per-step shape as it is printed in a box: (4,) or (14, 14, 4)."""
    if shape is None:
        return ""
    dims = ["?" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _box(ax, x, y, text, color, dashed=False):
    ax.add_patch(FancyBboxPatch((x - 0.36, y - 0.26), 0.72, 0.52, boxstyle="round,pad=0.02", fc=color,
                                ec="#444", lw=1.0, ls="--" if dashed else "-"))
    ax.text(x, y, text, ha="center", va="center", fontsize=7.5)


def _arrow(ax, x0, y0, x1, y1, dashed=False, color="#333"):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=8, lw=0.9, color=color,
                                 ls="--" if dashed else "-", shrinkA=0, shrinkB=0))


def draw(layers, time_steps: int | None, features, batch, title: str, path=None, ids: bool = False,
         shapes: dict | None = None, notes: list[str] | None = None):
    """Draw the unrolled stack of `layers` for inputs of `time_steps` steps; save to `path` if given.

    `features` labels each input box: a count ("2 feat") or any text ("16x16x1 frame"). `shapes` maps a
    layer's name to its output shape at one step, printed in its boxes; `notes` (findings) are printed on
    the picture, where the diagram leaves room.
    """
    features = f"{features} feat" if isinstance(features, int) else features
    shapes = shapes or {}
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
    ax.text(-0.6, y, "inputs", ha="right", va="center", fontsize=8)
    units_note = []
    last_recurrent_row = None
    left = [0.6 + 0.055 * len("outputs kept")]  # how far left of x=0 the row labels reach, in box widths
    for layer in visible:
        y += 1.0
        rnn = recurrent_of(layer)
        shape = shape_text(shapes.get(getattr(layer, "name", None)))
        if isinstance(layer, RepeatVector):
            new_labels = step_labels(layer.n)
            new_cols = list(range(len(new_labels)))
            for c in new_cols:
                _box(ax, c, y, "..." if new_labels[c] == "..." else f"copy\n{shape}".strip(), COLORS["layer"])
                _arrow(ax, cols[-1], y - 0.74, c, y - 0.26)
            ax.text(-0.6, y, f"RepeatVector({layer.n})", ha="right", va="center", fontsize=8)
            left.append(0.6 + 0.055 * len(f"RepeatVector({layer.n})"))
            cols, labels = new_cols, new_labels
            continue
        if rnn is not None:
            name = display_name(layer)
            units_note.append(f"{name}: {rnn.units} units")
            for c in cols:
                _box(ax, c, y, "..." if labels[c] == "..." else f"cell\n{shape}".strip(), COLORS["cell"])
                _arrow(ax, c, y - 0.74, c, y - 0.26)
            for a, b in zip(cols, cols[1:]):
                _arrow(ax, a + 0.36, y, b - 0.36, y, dashed=labels[b] == "..." or labels[a] == "...")
            if rnn.stateful:
                _arrow(ax, cols[0] - 1.0, y, cols[0] - 0.36, y, dashed=True, color="#b04")
                ax.text(cols[0] - 1.05, y + 0.3, "state from\nprevious batch", fontsize=6.5, color="#b04",
                        ha="left")
            ax.text(-0.6 - (1.1 if rnn.stateful else 0), y, name, ha="right", va="center", fontsize=8)
            left.append(0.6 + (1.1 if rnn.stateful else 0) + 0.055 * len(name))
            if not rnn.return_sequences:  # only the last step's output goes on
                cols = [cols[-1]]
            last_recurrent_row = y
            continue
        inner = getattr(layer, "layer", layer)
        label = display_name(layer) if not hasattr(layer, "layer") else f"TimeDistributed({display_name(inner)})"
        if isinstance(layer, Embedding):
            label = f"Embedding({layer.output_dim})"
        for c in cols:
            short = type(inner).__name__[:10]
            _box(ax, c, y, "..." if labels[c] == "..." else f"{short}\n{shape}".strip(), COLORS["layer"])
            _arrow(ax, c, y - 0.74, c, y - 0.26)
        label += "" if len(cols) == 1 else " per step"
        ax.text(-0.6, y, label, ha="right", va="center", fontsize=8)
        left.append(0.6 + 0.055 * len(label))
    y += 1.0
    last_shape = shape_text(shapes.get(getattr(visible[-1], "name", None))) if visible else ""
    for c in cols:
        text = "..." if labels[c] == "..." else (f"y {labels[c]}" if len(cols) > 1 else "y") + f"\n{last_shape}"
        _box(ax, c, y, text.strip(), COLORS["output"])
        _arrow(ax, c, y - 0.74, c, y - 0.26)
    ax.text(-0.6, y, "outputs kept", ha="right", va="center", fontsize=8)
    legend = (f"Shapes in the boxes are per step, without the batch axis; batch: {batch if batch else 'any'} "
              "rows side by side (not drawn).")
    if units_note:
        legend += " " + "; ".join(units_note) + " (the state size, not the number of boxes)."
    notes = list(notes or [])
    ax.set_title(title, fontsize=10)
    # many-to-one: the steps before the last have nothing above the recurrent row; the words go there
    room = len(cols) == 1 and len(labels) >= 3 and last_recurrent_row is not None and y - last_recurrent_row >= 1.5
    if room:
        chars = int(22 * (len(labels) - 1.6))
        block = "\n\n".join(textwrap.fill(t, chars) for t in [*notes, legend])
        ax.text(-0.3, y + 0.3, block, fontsize=7.5, color="#333", ha="left", va="top",
                bbox=dict(fc="#fff7e0" if notes else "white", ec="#c90" if notes else "#ccc", lw=0.8))
    else:
        block = "\n".join(textwrap.fill(t, int(12 * 1.3 * (width + 2.0))) for t in [*notes, legend])
        extra = 0.32 * block.count("\n")
        fig.set_figheight(fig.get_figheight() + extra * 0.5)
        ax.text(0.0, 0.0, block, fontsize=7.5, color="#333", ha="left", va="bottom", transform=ax.transAxes,
                bbox=dict(fc="#fff7e0", ec="#c90", lw=0.8) if notes else None)
    x0 = -max(left) - 0.15
    ax.set_xlim(x0, width - 0.4)
    fig.set_figwidth(max(1.3 * (width - 0.4 - x0), 4.5))
    ax.set_ylim(-0.95 - (0 if room else 0.35 * (block.count("\n") + 1)), y + 0.7)
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
