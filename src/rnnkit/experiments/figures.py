"""What a reader checks in a plot before reading it: labelled axes, a title that says what is shown,
and a legend that hides no data. `audit(fig)` lists what is missing, so tests can fail on it."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.images or ax.collections or ax.patches)


def _points(ax) -> np.ndarray:
    """Every plotted point of `ax` in display (pixel) coordinates, (N, 2)."""
    pts = []
    for line in ax.lines:
        if not isinstance(line, Line2D) or line.get_label().startswith("_") and len(line.get_xdata()) <= 2:
            continue  # reference lines (axhline/axvline) may pass under a legend
        xy = np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])
        pts.append(line.get_transform().transform(xy[np.isfinite(xy).all(1)]))
    return np.concatenate(pts) if pts else np.empty((0, 2))


def audit(fig) -> list[str]:
    """Problems a reviewer would flag in `fig`: an axes with data but no x or y label (a figure-wide
    label counts), no title, a title that is a raw spec, a legend over plotted points."""
    fig.canvas.draw()
    fig_x = fig._supxlabel is not None and fig._supxlabel.get_text()
    fig_y = fig._supylabel is not None and fig._supylabel.get_text()
    problems = []
    for k, ax in enumerate(fig.axes):
        if not _has_data(ax) or not ax.axison:
            continue
        if not (ax.get_xlabel() or fig_x):
            problems.append(f"axes {k}: no x label")
        if not (ax.get_ylabel() or fig_y):
            problems.append(f"axes {k}: no y label")
        title = ax.get_title() or (fig._suptitle.get_text() if fig._suptitle is not None else "")
        if not title:
            problems.append(f"axes {k}: no title")
        elif title.lower().startswith("spec:"):
            problems.append(f"axes {k}: the title is a raw spec ({title!r})")
        legend = ax.get_legend()
        if legend is not None:
            box = legend.get_window_extent()
            pts = _points(ax)
            inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1))
            if inside.any():
                problems.append(f"axes {k}: the legend covers {int(inside.sum())} plotted points")
    return problems
