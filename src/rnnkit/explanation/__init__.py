"""explain(): shapes with named axes, the topology in the seeds' words, mistakes with fixes, a picture.

>>> from rnnkit import Sequential, Input, LSTM, Dense
>>> e = explain(Sequential([Input((3, 1)), LSTM(4), Dense(1)]))
>>> e.topology.kind, e.rows[0].describe(e.rows[0].input_shape, e.rows[0].input_axes)
('many-to-one', '(batch, 3 time_steps, 1 features)')
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from .. import checks
from ..convert import to_array
from ..layers.core import Embedding
from ..models.functional import Model
from ..models.sequential import Sequential
from ..models.shapes import Row, functional_rows, input_shape_of, sequential_rows
from . import findings as _findings
from .diagram import display_name, draw, svg_text
from .findings import Finding
from .spec import SpecError, parse
from .topology import Topology, classify, recurrent_units


@dataclass
class Explanation:
    rows: list[Row]
    topology: Topology
    findings: list[Finding]
    layers: list = field(repr=False, default_factory=list)
    input_shape: tuple | None = None
    title: str = "model"

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def to_text(self, width: int = 110) -> str:
        """The table, the topology in words and the findings, as terminal text (rich)."""
        console = Console(file=io.StringIO(), width=width, record=True, highlight=False)
        table = Table(title=f"{self.title}: per layer")
        for col in ("layer", "input", "output", "params", "time axis", "stateful"):
            table.add_column(col)
        for r in self.rows:
            table.add_row(f"{r.name} ({r.kind})", Row.describe(r.input_shape, r.input_axes),
                          Row.describe(r.output_shape, r.output_axes), f"{r.params:,}", r.time,
                          "-" if r.stateful is None else ("yes" if r.stateful else "no"))
        console.print(table)
        for line in self.topology.words:
            console.print(line, markup=False)
        if self.findings:
            console.print("\nFindings:")
        for f in self.findings:
            console.print(f"[{f.level}] {f.code}: {f.message}\n    fix: {f.fix}", markup=False)
        return console.export_text()

    def step_shapes(self) -> dict:
        """Each layer's output shape at one step, without the batch and time axes, by layer name."""
        out = {}
        for r in self.rows:
            keep = [d for d, a in zip(r.output_shape, r.output_axes) if a not in ("batch", "time_steps")]
            out[r.name] = tuple(keep)
        return out

    def picture_title(self) -> str:
        """What the picture shows, in words: 'Many-to-one: LSTM(4) > Dense(1), unrolled over 5 time steps'."""
        names = " > ".join(display_name(l) if not hasattr(l, "layer") else
                           f"{type(l).__name__}({display_name(l.layer)})" for l in self.layers)
        steps = self.topology.time_steps
        over = "" if steps == 1 else f", unrolled over {'any number of' if steps is None else steps} time steps"
        model = "" if self.title == "spec" or re.fullmatch(r"(sequential|functional|model)(_\d+)?", self.title) \
            else f"{self.title}: "
        return f"{model}{self.topology.kind[0].upper()}{self.topology.kind[1:]}: {names}{over}"

    def figure(self, path=None):
        """The unrolled diagram as a matplotlib figure (saved to `path` and closed when given)."""
        shape = self.input_shape or (None, "?")
        features = shape[-1] if len(shape) <= 3 else "x".join(str(d) for d in shape[2:]) + " frame"
        ids = bool(self.layers) and isinstance(self.layers[0], Embedding)
        batch = self.input_shape[0] if self.input_shape else None
        notes = [f"{f.level.upper()} {f.code}: {f.message} Fix: {f.fix}"
                 for f in self.findings if f.level in ("warning", "error")]
        return draw(self.layers, self.topology.time_steps, features, batch, self.picture_title(), path, ids=ids,
                    shapes=self.step_shapes(), notes=notes)

    def save(self, path) -> Path:
        """Write the unrolled diagram: .png or .svg (matplotlib), or .html (the table plus the SVG)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg", ".html"):
            raise ValueError(f"save writes .png, .svg or .html, received {path.name!r}.")
        if suffix in (".png", ".svg"):
            self.figure(path)
            return path
        svg = svg_text(self.figure())
        path.write_text(f"<!doctype html><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                        f"<pre>{html.escape(self.to_text())}</pre>\n{svg}\n")
        return path


def explain(model, input_shape=None, x=None, y=None, batch_size: int | None = None,
            stateful_fit: dict | None = None) -> Explanation:
    """Explain `model` (a Sequential, a functional Model, a layer spec string or a list of layers).

    input_shape is without the batch axis, as in Keras: (time_steps, features). x and y, when given,
    are checked against the model (shapes, axes, periodicity); stateful_fit={"shuffle": ...} checks
    stateful training settings.
    """
    input_shape = checks.shape("input_shape", input_shape, "explain")
    batch_size = checks.optional_positive_int("batch_size", batch_size, "explain")
    layers = parse(model) if isinstance(model, str) else list(model) if isinstance(model, (list, tuple)) else None
    x_arr = None if x is None else to_array(x)
    y_arr = None if y is None else to_array(y)
    if layers is not None:
        title = "spec"
        model = Sequential(layers)
    else:
        title = getattr(model, "name", type(model).__name__)
    found: list[Finding] = []
    if isinstance(model, Model):
        rows = functional_rows(model)
        rec_layers = [n.layer for n in model._nodes]
        encoder_decoder = len(model.inputs) > 1 and any("initial_state" in n.kwargs for n in model._nodes)
        shape = tuple(model.inputs[0].shape)
        topology = classify(rows, recurrent_units(dict.fromkeys(rec_layers)), encoder_decoder)
        layers = list(model._graph_layers)  # model.layers also lists the Inputs, as Keras's does
    elif isinstance(model, Sequential):
        layers = list(model.layers)
        shape = input_shape_of(model, input_shape, x_arr, batch_size)
        if shape is None:
            raise ValueError("explain needs the input shape: pass input_shape=(time_steps, features) or x, or "
                             "start the model with Input((time_steps, features)).")
        found += _findings.stacking(layers)
        if x_arr is not None and x_arr.ndim == 2 and len(shape) == 2 and not isinstance(layers[0], Embedding):
            rows, error = [], None  # 2-D data for a recurrent model: the finding below says what to do
        else:
            rows, error = sequential_rows(model, shape)
        if error and not found:
            found.append(Finding("shape-error", "error", f"The layers do not fit together: {error}",
                                 "Check the input shape and each layer's expected input (see the table)."))
        topology = classify(rows, recurrent_units(layers), False)
    else:
        raise TypeError(f"explain takes a Sequential, a functional Model, a spec string or a list of layers, "
                        f"received {type(model).__name__}.")
    found += _findings.dense_after_sequences(rows, layers) if isinstance(model, Sequential) else []
    found += _findings.data(rows, layers, x_arr, y_arr, batch_size, stateful_fit)
    if shape and len(shape) == 3 and shape[1] == 1 and (shape[2] or 0) >= 8 and x_arr is None:
        found.append(Finding("one-step-many-features", "warning",
                             f"The input is 1 time step of {shape[2]} features: the recurrent layer runs once.",
                             f"If those are {shape[2]} consecutive values of one series, use input_shape=({shape[2]}, 1)."))
    return Explanation(rows, topology, found, layers, shape, title)


__all__ = ["Explanation", "Finding", "SpecError", "explain", "parse"]
