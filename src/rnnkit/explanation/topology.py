"""The model's topology in the seeds' words, and what the boxes of their pictures are for this model."""

from __future__ import annotations

from dataclasses import dataclass

from ..layers.wrappers import recurrent_of
from ..models.shapes import Row


@dataclass
class Topology:
    kind: str  # one-to-one, one-to-many, many-to-one, many-to-many (aligned), many-to-many (encoder-decoder)
    time_steps: int | None  # input steps (None: any length)
    input_boxes: int | None  # pink: one per input step
    recurrent_rows: int  # green rows: one per recurrent layer, one box per step in each
    output_boxes: int | None  # red: one per output step
    words: list[str]


def _steps(shape: tuple) -> int | None:
    return shape[1] if len(shape) >= 3 else 1


def classify(rows: list[Row], recurrent_units: list[int], encoder_decoder: bool = False) -> Topology:
    """Classify from the rows of the table (input of the first, output of the last)."""
    if not rows:
        return Topology("unknown", None, None, 0, None, ["The model has no layers yet."])
    first, last = rows[0], rows[-1]
    ids = first.kind == "Embedding"
    t_in = first.input_shape[1] if ids else (_steps(first.input_shape) if "time_steps" in first.input_axes else 1)
    has_time_in = ("time_steps" in first.input_axes) and t_in != 1
    has_time_out = "time_steps" in last.output_axes
    t_out = last.output_shape[1] if has_time_out else 1
    repeat = [r for r in rows if r.kind == "RepeatVector"]
    if encoder_decoder or (repeat and has_time_in):
        kind = "many-to-many (encoder-decoder)"
    elif repeat or (not has_time_in and has_time_out and t_out != 1):
        kind = "one-to-many"
    elif not has_time_in:
        kind = "one-to-one"
    elif has_time_out:
        kind = "many-to-many (aligned)"
    else:
        kind = "many-to-one"
    n_rec = len(recurrent_units)
    t_txt = "any number of" if t_in is None else str(t_in)
    out_txt = "one per step" if t_out is None else str(t_out)
    step_shape = tuple(first.input_shape[2:]) if has_time_in else tuple(first.input_shape[1:])
    if ids:
        each = "each 1 id (an integer the Embedding turns into a vector)"
    elif len(step_shape) > 1:  # e.g. TimeDistributed(Conv2D) over video frames
        each = f"each a {'x'.join(str(d) for d in step_shape)} frame (a whole array per step, not a vector)"
    else:
        each = f"each a vector of {first.input_shape[-1]} feature(s)"
    words = [f"Topology: {kind}."]
    if has_time_in or kind == "one-to-one":
        words.append(f"Pink (input) boxes: {t_txt} - one per time step, {each}. time_steps is how many boxes; "
                     "features is how long each box's vector is.")
    else:
        words.append(f"Input: one vector of {first.input_shape[-1]} features (no time axis).")
    if n_rec:
        units = ", ".join(str(u) for u in recurrent_units)
        words.append(f"Green (recurrent) boxes: {n_rec} row(s), one box per step in each - the SAME cell with the "
                     f"same weights, unrolled over time, passing its state to the right. Units ({units}) are the "
                     f"size of that state, not the number of boxes.")
    if kind == "many-to-one":
        words.append("Red (output) boxes: 1 - only the last step's output is kept (return_sequences=False).")
    elif kind.startswith("many-to-many (aligned)"):
        words.append(f"Red (output) boxes: {out_txt} - one output per input step (return_sequences=True).")
    elif kind == "one-to-many":
        words.append(f"Red (output) boxes: {out_txt} - RepeatVector (or a feedback loop) makes the steps.")
    elif kind.startswith("many-to-many (encoder"):
        words.append(f"Red (output) boxes: {out_txt} - the encoder reads all input steps into its state, the "
                     "decoder writes the output steps from it; input and output lengths may differ.")
    return Topology(kind, t_in, t_in if has_time_in else 1, n_rec, t_out if has_time_out else 1, words)


def recurrent_units(layers) -> list[int]:
    return [rnn.units for rnn in map(recurrent_of, layers) if rnn is not None]
