"""rnnkit doing each workload: the seeds' code ported line by line, and rnnkit's one-call way."""

from __future__ import annotations

import torch

from rnnkit import LSTM, Dense, Input, ResetStates, Sequential, Stream, TimeDistributed
from rnnkit import generate

from . import specs
from .harness import latencies


def training(spec: specs.Training, jit_compile: bool = False):
    """One epoch as a callable (the harness times it interleaved with the other peers)."""
    x, y = spec.data()
    torch.manual_seed(0)
    if spec.sequences_out:
        layers = [Input((None, spec.features)), TimeDistributed(Dense(32)),
                  LSTM(spec.units[0], return_sequences=True), TimeDistributed(Dense(1))]
    else:
        layers = [Input((spec.steps, spec.features))]
        layers += [LSTM(h, return_sequences=k < len(spec.units) - 1) for k, h in enumerate(spec.units)]
        layers += [Dense(1)]
    model = Sequential(layers)
    model.compile("adam", "mse", jit_compile=jit_compile)
    return lambda: model.fit(x, y, batch_size=spec.batch, epochs=spec.epochs, verbose=0)


def airline(spec: specs.Airline) -> dict:
    x, y = spec.data()
    torch.manual_seed(0)

    def build(jit_compile=False):
        model = Sequential([Input((spec.look_back, 1), batch_size=1), LSTM(spec.units, stateful=True), Dense(1)])
        model.compile("adam", "mse", jit_compile=jit_compile)
        return model

    def seed_loop_of(model):  # the seed, as written
        def seed_loop():
            for _ in range(spec.epochs):
                model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
                model.reset_states()
        return seed_loop

    one_call_model = build()

    def one_call():  # rnnkit's way: one fit, the reset done by a callback after every epoch
        one_call_model.fit(x, y, epochs=spec.epochs, batch_size=1, verbose=0, shuffle=False,
                           callbacks=[ResetStates()])

    return {"seed_loop": seed_loop_of(build()), "one_call": one_call, "samples": len(x),
            "jit": seed_loop_of(build(jit_compile=True))}


def _generator(spec: specs.Generation, stateful: bool = False) -> Sequential:
    torch.manual_seed(0)
    layers = [Input((None, spec.features), batch_size=spec.series if stateful else None)]
    layers += [LSTM(h, return_sequences=True, stateful=stateful) for h in spec.units]
    return Sequential(layers + [Dense(spec.features)])


def generation(spec: specs.Generation) -> dict:
    """Callables by name: `generate` and the seeds' loop."""
    model = _generator(spec)
    x = spec.data()
    out = {"generate": lambda: generate(model, x, spec.steps)}
    stateful = _generator(spec, stateful=True)

    def seeds_loop():  # the seeds' loop ported line by line: a stateful model, predict once per new step
        stateful.reset_states()
        last = stateful.predict(x, batch_size=spec.series)[:, -1:]
        for _ in range(spec.steps - 1):
            last = stateful.predict(last, batch_size=spec.series)

    out["seeds_loop"] = seeds_loop
    return out


def streaming(spec: specs.Generation) -> dict:
    model = _generator(spec)
    x = spec.data()
    stream = Stream(model, series=spec.series)
    stream.prime(x)
    step = x[:, 0]
    return latencies(lambda k: stream.step(step), n=400)
