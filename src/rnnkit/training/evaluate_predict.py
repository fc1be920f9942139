"""Keras's test and predict loops: evaluate and predict run `test_step` / `predict_step` batch by batch,
with the callbacks' test and predict hooks (fit's validation runs the test loop too)."""

from __future__ import annotations

import numpy as np

from .. import convert


def _hooks(callbacks: list, name: str, *args) -> None:
    """Call hook `name` of every callback that has it (evaluate's and predict's hooks are Keras 3's
    additions, so a duck-typed callback of fit's may lack them)."""
    for cb in callbacks:
        hook = getattr(cb, name, None)
        if hook is not None:
            hook(*args)


def executions(batches, n: int):
    """(first step, [up to n batches]) for each execution of Keras's `steps_per_execution=n` loop."""
    chunk, first = [], 0
    for step, batch in enumerate(batches):
        if not chunk:
            first = step
        chunk.append(batch)
        if len(chunk) == n:
            yield first, chunk
            chunk = []
    if chunk:
        yield first, chunk


def evaluate(model, batches, callbacks: list | None = None) -> dict[str, float]:
    """Keras's test loop: test_step on each batch, the logs the row-weighted mean of its values so far
    (what on_test_batch_end sees), with the test hooks; `model.stop_evaluating = True` in a callback
    ends it after that batch."""
    callbacks = callbacks or []
    model.eval()
    model.stop_evaluating = False
    _hooks(callbacks, "on_test_begin", {})
    totals, seen, logs = {}, 0, {}
    per = getattr(model, "steps_per_execution", 1)
    for step, chunk in executions(batches, per):
        _hooks(callbacks, "on_test_batch_begin", step, {})
        for batch in chunk:
            values = model.test_step(batch)
            n = convert.num_samples(batch[0])
            seen += n
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * n
        logs = model.metrics_result({k: v / seen for k, v in totals.items()}, rows=seen)
        _hooks(callbacks, "on_test_batch_end", step + per - 1, dict(logs))
        if model.stop_evaluating:
            break
    _hooks(callbacks, "on_test_end", dict(logs))
    return logs


def predict(model, batches, callbacks: list | None = None) -> list:
    """Keras's predict loop: predict_step on each converted x, as NumPy, with the predict hooks
    (on_predict_batch_end gets {"outputs": ...}); `model.stop_predicting = True` ends it."""
    callbacks = callbacks or []
    model.eval()
    model.stop_predicting = False
    _hooks(callbacks, "on_predict_begin", {})
    chunks = []
    per = getattr(model, "steps_per_execution", 1)
    for step, inputs in executions(batches, per):
        _hooks(callbacks, "on_predict_batch_begin", step, {})
        outs = [convert.to_numpy(model.predict_step((xb, None))) for xb in inputs]
        chunks += outs
        _hooks(callbacks, "on_predict_batch_end", step + per - 1, {"outputs": _joined(outs)})
        if model.stop_predicting:
            break
    _hooks(callbacks, "on_predict_end", {})
    return chunks


def _joined(outs: list):
    # One execution's outputs as Keras hands them to on_predict_batch_end: the batches concatenated
    # (a model with several outputs: each output concatenated).
    if len(outs) == 1:
        return outs[0]
    if isinstance(outs[0], (list, tuple)):
        return type(outs[0])(np.concatenate(parts) for parts in zip(*outs))
    if isinstance(outs[0], dict):
        return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
    return np.concatenate(outs)
