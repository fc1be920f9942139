"""The workloads: sizes, data and FLOP counts, shared by rnnkit and every peer so that all do the same work.

FLOP formulas (issue 8): an LSTM layer costs 8*B*H*(F+H) FLOP per step forward (four gates, each a
(F+H) x H product per row, multiply and add) and ~24*B*H*(F+H) per step to train (forward plus a
backward twice as dear). Dense layers are left out: they are under 2% of every workload here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Training:
    """One training epoch of a stacked-LSTM regressor (or seed 004's running sum)."""

    name: str
    title: str
    samples: int
    steps: int
    features: int
    units: tuple[int, ...]
    batch: int
    sequences_out: bool = False  # bit-sum: Dense(32) first, one output per step
    epochs: int = 1

    def data(self):
        rng = np.random.default_rng(0)
        if self.sequences_out:
            from rnnkit.data import bit_sums
            return bit_sums(self.samples, self.steps, cumulative=True, seed=0)
        x = rng.normal(size=(self.samples, self.steps, self.features)).astype(np.float32)
        y = x[:, -8:, 0].sum(1, keepdims=True).astype(np.float32)
        return x, y

    def flop(self) -> float:
        total, f = 0.0, (32 if self.sequences_out else self.features)
        for h in self.units:
            total += 24 * self.samples * h * (f + h) * self.steps
            f = h
        return total * self.epochs


BITSUM = Training("bitsum", "bit-sum training epoch (1000 x 20 x 1; Dense(32) -> LSTM(32, return_sequences) "
                  "-> Dense(1); batch 32)", 1000, 20, 1, (32,), 32, sequences_out=True)
W3 = Training("w3", "W3 training epoch (2048 x 128 x 16; LSTM(64) x 2 -> Dense(1); batch 256)",
              2048, 128, 16, (64, 64), 256)
W4 = Training("w4", "W4 latency-bound training epoch (512 x 512 x 4; LSTM(16) -> Dense(1); batch 32)",
              512, 512, 4, (16,), 32)
TRAINING = [BITSUM, W3, W4]


@dataclass(frozen=True)
class Airline:
    """The seeds' stateful airline model: look_back 3, LSTM(4), batch 1, 100 epochs, reset after each."""

    name: str = "airline"
    title: str = ("airline-style stateful training (seed's model: batch 1, look_back 3, LSTM(4) stateful, "
                  "100 epochs of fit(epochs=1, shuffle=False) + reset_states())")
    look_back: int = 3
    units: int = 4
    epochs: int = 100

    def data(self):
        from rnnkit.data import airline_passengers, create_dataset, Scaler
        series = Scaler().fit_transform(airline_passengers().reshape(-1, 1).astype(np.float32))
        train = series[: int(len(series) * 0.67)]
        x, y = create_dataset(train, self.look_back)
        return x.reshape(len(x), self.look_back, 1).astype(np.float32), y.reshape(-1, 1).astype(np.float32)

    def flop(self, samples: int) -> float:
        return 24.0 * samples * self.units * (1 + self.units) * self.look_back * self.epochs


AIRLINE = Airline()


@dataclass(frozen=True)
class Generation:
    """Prime on `prime` steps, then generate `steps` new ones, each output fed back as the next input."""

    name: str
    title: str
    series: int
    features: int
    units: tuple[int, ...]
    prime: int
    steps: int

    def data(self):
        return np.random.default_rng(0).normal(size=(self.series, self.prime, self.features)).astype(np.float32)

    def flop(self) -> float:
        per_step, f = 0.0, self.features
        for h in self.units:
            per_step += 8 * self.series * h * (f + h)
            f = h
        return per_step * (self.prime + self.steps - 1)

    def step_flop(self) -> float:
        return self.flop() / (self.prime + self.steps - 1)


W5B = Generation("w5b", "W5b generation (400 series, LSTM(128) x 2, F 8, prime 256 steps, generate 150)",
                 400, 8, (128, 128), 256, 150)
W5A = Generation("w5a", "generation at the seeds' size (1 series, LSTM(4), F 1, prime 100 steps, generate 150)",
                 1, 1, (4,), 100, 150)
W6 = Generation("w6", "W6 streaming (400 series, W5b's model, one new step for every series)",
                400, 8, (128, 128), 256, 1)
