"""Keras 3 doing each workload the way its docs and the seeds say; run as
`KERAS_BACKEND=jax python -m benchmarks.peers_keras WORKLOAD` (prints one JSON line).

Keras chooses its backend once, at import, so each backend runs in its own process (harness.run_keras).
"""

from __future__ import annotations

import json
import sys


from . import specs
from .harness import latencies, timed


def _keras():
    import keras
    return keras


def _reset(model) -> None:
    # Keras 3 has no model-level reset_states(): each stateful layer is reset on its own
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()


def training(spec: specs.Training) -> dict:
    keras = _keras()
    L = keras.layers
    x, y = spec.data()
    if spec.sequences_out:
        layers = [keras.Input((None, spec.features)), L.TimeDistributed(L.Dense(32)),
                  L.LSTM(spec.units[0], return_sequences=True), L.TimeDistributed(L.Dense(1))]
    else:
        layers = [keras.Input((spec.steps, spec.features))]
        layers += [L.LSTM(h, return_sequences=k < len(spec.units) - 1) for k, h in enumerate(spec.units)]
        layers += [L.Dense(1)]
    model = keras.Sequential(layers)
    model.compile("adam", "mse")
    budget = 60.0 if keras.backend.backend() == "jax" else 30.0
    return timed(lambda: model.fit(x, y, batch_size=spec.batch, epochs=spec.epochs, verbose=0),
                 repeats=5, budget_s=budget)


def airline(spec: specs.Airline) -> dict:
    keras = _keras()
    x, y = spec.data()
    model = keras.Sequential([keras.Input(batch_shape=(1, spec.look_back, 1)),
                              keras.layers.LSTM(spec.units, stateful=True), keras.layers.Dense(1)])
    model.compile("adam", "mse")

    def seed_loop():  # the seed, as written: one fit per epoch, then reset
        for _ in range(spec.epochs):
            model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
            _reset(model)

    return {**timed(seed_loop, repeats=1, warmup=0), "samples": len(x)}


def _stateful_generator(spec: specs.Generation):
    keras = _keras()
    layers = [keras.Input(batch_shape=(spec.series, None, spec.features))]
    layers += [keras.layers.LSTM(h, return_sequences=True, stateful=True) for h in spec.units]
    layers += [keras.layers.Dense(spec.features)]
    return keras.Sequential(layers)


def generation(spec: specs.Generation) -> dict:
    model = _stateful_generator(spec)
    x = spec.data()

    def seeds_loop():  # prime with one predict, then model.predict once per new step, fed back
        _reset(model)
        last = model.predict(x, batch_size=spec.series, verbose=0)[:, -1:]
        for _ in range(spec.steps - 1):
            last = model.predict(last, batch_size=spec.series, verbose=0)

    return timed(seeds_loop, repeats=3, budget_s=60.0)


def streaming(spec: specs.Generation) -> dict:
    model = _stateful_generator(spec)
    x = spec.data()
    model.predict(x, batch_size=spec.series, verbose=0)
    step = x[:, :1]
    out = {"predict": latencies(lambda k: model.predict(step, batch_size=spec.series, verbose=0), n=200)}
    # the docs' advice for one small batch: call the model directly instead of predict
    keras = _keras()
    out["call"] = latencies(lambda k: keras.ops.convert_to_numpy(model(step, training=False)), n=200)
    return out


def main(argv: list[str]) -> int:
    keras = _keras()
    name = argv[0]
    table = {s.name: (training, s) for s in specs.TRAINING}
    table.update({"airline": (airline, specs.AIRLINE), "w5b": (generation, specs.W5B),
                  "w5a": (generation, specs.W5A), "w6": (streaming, specs.W6)})
    fn, spec = table[name]
    result = fn(spec)
    result["keras"] = keras.__version__
    result["backend"] = keras.backend.backend()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
