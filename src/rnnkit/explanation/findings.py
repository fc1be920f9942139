"""Mistake diagnostics: each finding says what is wrong (or worth knowing) and the concrete fix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layers.core import Dense, Dropout
from ..layers.wrappers import TimeDistributed, recurrent_of
from ..models.shapes import Row


@dataclass
class Finding:
    code: str
    level: str  # "error" (will not train as meant), "warning" (likely a mistake), "info"
    message: str
    fix: str


def stacking(layers) -> list[Finding]:
    """A recurrent layer fed by one that returns only its last step (no time axis left to read)."""
    out, previous = [], None
    for layer in layers:
        rnn = recurrent_of(layer)
        if rnn is not None and previous is not None and not previous.return_sequences:
            out.append(Finding(
                "stacked-without-sequences", "error",
                f"{layer.name!r} is a recurrent layer stacked on {previous.name!r}, which has "
                "return_sequences=False and so passes on only its last output (batch, units): no time steps "
                "are left for the next recurrent layer.",
                f"Set return_sequences=True on {previous.name!r} (every recurrent layer but the last of a stack)."))
        if rnn is not None:
            previous = rnn
        elif not isinstance(layer, Dropout):
            previous = None
    return out


def dense_after_sequences(rows: list[Row], layers) -> list[Finding]:
    out = []
    for row, layer in zip(rows, layers):
        three_d = len(row.input_shape) == 3
        if isinstance(layer, Dense) and three_d:
            out.append(Finding(
                "dense-on-sequences", "info",
                f"{layer.name!r} (Dense) receives {Row.describe(row.input_shape, row.input_axes)}: Dense acts on the "
                "last axis, so it is applied to every time step with the same weights.",
                "Nothing to fix: since Keras 2, Dense on 3-D input is the same as TimeDistributed(Dense) "
                "(rnnkit tests that they agree)."))
        if isinstance(layer, TimeDistributed) and isinstance(layer.layer, Dense) and three_d:
            out.append(Finding(
                "timedistributed-dense", "info",
                f"{layer.name!r} is TimeDistributed(Dense): the same Dense at every step.",
                "Equivalent to a plain Dense on 3-D input; either is fine. TimeDistributed does not decide "
                "one-to-many vs many-to-many: return_sequences (or RepeatVector) does."))
    return out


def data(rows: list[Row], layers, x, y, batch_size, stateful_fit) -> list[Finding]:
    out = []
    first_rec = next((l for l in layers if recurrent_of(l) is not None), None)
    if x is not None:
        x = np.asarray(x)
        if x.ndim == 2 and first_rec is not None and layers and recurrent_of(layers[0]) is not None:
            n, t = x.shape
            out.append(Finding(
                "x-is-2d", "error",
                f"x has shape {x.shape} but a recurrent layer needs (samples, time_steps, features).",
                f"If each row is {t} steps of one series: x.reshape({n}, {t}, 1). If each row is one step of "
                f"{t} features: x.reshape({n}, 1, {t})."))
        if x.ndim == 3 and x.shape[1] == 1 and x.shape[2] >= 8:
            out.append(Finding(
                "one-step-many-features", "warning",
                f"x has shape {x.shape}: 1 time step of {x.shape[2]} features. The recurrent layer runs once and "
                "has no sequence to remember; if those are consecutive values of one series, the axes are swapped.",
                f"Use x.reshape({x.shape[0]}, {x.shape[2]}, 1) (time_steps={x.shape[2]}, features=1), "
                "e.g. rnnkit.data.windows(series, look_back)."))
        if x.ndim == 3:
            period = detect_period(x[:, 0, 0] if x.shape[0] > 8 else x[0, :, 0])
            if period is not None and x.shape[1] < period:
                out.append(Finding(
                    "window-shorter-than-period", "warning",
                    f"x repeats with a period of about {period} steps, but each sample shows only {x.shape[1]} "
                    "time steps: a stateless model cannot see a whole cycle.",
                    f"Use time_steps (look_back) >= {period}, or stateful=True with the series fed in order "
                    "(shuffle=False) so the state carries what the window cannot show."))
        n = x.shape[0]
        stateful = any(r.stateful for r in rows)
        if stateful and batch_size and n % batch_size:
            out.append(Finding(
                "stateful-batch", "error",
                f"Stateful model: {n} samples do not split into batches of {batch_size} (row i of each batch "
                "continues row i of the previous one).",
                f"Use a batch_size that divides {n}, or trim x to {n - n % batch_size} samples."))
    if y is not None and rows:
        out += target_shape(rows, np.asarray(y))
    if stateful_fit and any(r.stateful for r in rows) and stateful_fit.get("shuffle", True):
        out.append(Finding(
            "stateful-shuffle", "error",
            "Stateful training with shuffling: batches would continue unrelated sequences.",
            "Pass shuffle=False to fit, and reset_states() (or callbacks=[ResetStates()]) between passes."))
    return out


def target_shape(rows: list[Row], y: np.ndarray) -> list[Finding]:
    out_shape = rows[-1].output_shape
    want, got = out_shape[1:], y.shape[1:]
    fits = len(want) == len(got) and all(w is None or w == g for w, g in zip(want, got))
    if fits or (want == (1,) and y.ndim == 1):
        return []
    if len(want) == 2 and len(got) <= 1:
        fix = ("The model outputs one value per time step (return_sequences=True on the last recurrent layer). "
               "For one value per sequence set return_sequences=False there; otherwise give y one value per step, "
               f"shape (samples, {want[0] or 'time_steps'}, {want[1]}).")
    elif len(want) == 1 and len(got) == 2:
        fix = ("The model outputs one value per sequence (return_sequences=False). To predict every step, set "
               "return_sequences=True on the last recurrent layer (and TimeDistributed(Dense) or Dense after it).")
    else:
        fix = f"Give y the shape (samples, {', '.join(str(d) for d in want)}) or change the last layer."
    return [Finding("y-shape", "error",
                    f"y has shape {y.shape} but the model outputs {Row.describe(out_shape, rows[-1].output_axes)}.",
                    fix)]


def detect_period(series: np.ndarray, min_period: int = 3) -> int | None:
    """The dominant period of a series by autocorrelation (None if it does not clearly repeat)."""
    s = np.asarray(series, dtype=float)
    s = s[np.isfinite(s)]
    if len(s) < 4 * min_period or s.std() == 0:
        return None
    s = s - s.mean()
    ac = np.correlate(s, s, mode="full")[len(s) - 1:]
    ac = ac / ac[0]
    below = np.nonzero(ac < 0)[0]
    if not len(below):
        return None
    start = below[0]
    lag = start + int(np.argmax(ac[start:len(s) // 2])) if start < len(s) // 2 else None
    if lag is None or lag < min_period or ac[lag] < 0.5:
        return None
    return int(lag)
