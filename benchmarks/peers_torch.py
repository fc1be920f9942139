"""Plain PyTorch as users write it: nn.LSTM, a hand-written loop, default optimizer settings."""

from __future__ import annotations

import torch
from torch import nn

from . import specs
from .harness import latencies


class Regressor(nn.Module):
    def __init__(self, spec: specs.Training):
        super().__init__()
        f = spec.features
        self.inp = nn.Linear(f, 32) if spec.sequences_out else None
        self.lstms = nn.ModuleList()
        for h in spec.units:
            self.lstms.append(nn.LSTM(32 if self.inp is not None else f, h, batch_first=True))
            f = h
        self.out = nn.Linear(spec.units[-1], 1)
        self.sequences_out = spec.sequences_out

    def forward(self, x):
        h = self.inp(x) if self.inp is not None else x
        for lstm in self.lstms:
            h = lstm(h)[0]
        return self.out(h if self.sequences_out else h[:, -1])


def training(spec: specs.Training):
    """One epoch as a callable."""
    x, y = (torch.from_numpy(a) for a in spec.data())
    torch.manual_seed(0)
    model = Regressor(spec)
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def epoch():
        perm = torch.randperm(len(x))
        for i in range(0, len(x), spec.batch):
            idx = perm[i:i + spec.batch]
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch


def airline(spec: specs.Airline) -> dict:
    x, y = (torch.from_numpy(a) for a in spec.data())
    torch.manual_seed(0)
    lstm, head = nn.LSTM(1, spec.units, batch_first=True), nn.Linear(spec.units, 1)
    opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], 1e-3)

    def run():  # batch 1, the state carried from sample to sample by hand, reset each epoch
        for _ in range(spec.epochs):
            state = None
            for i in range(len(x)):
                out, state = lstm(x[i:i + 1], state)
                loss = nn.functional.mse_loss(head(out[:, -1]), y[i:i + 1])
                opt.zero_grad()
                loss.backward()
                opt.step()
                state = tuple(s.detach() for s in state)

    return run


class Generator(nn.Module):
    def __init__(self, spec: specs.Generation):
        super().__init__()
        f, self.lstms = spec.features, nn.ModuleList()
        for h in spec.units:
            self.lstms.append(nn.LSTM(f, h, batch_first=True))
            f = h
        self.head = nn.Linear(f, spec.features)

    def forward(self, x, states=None):
        states = states or [None] * len(self.lstms)
        new = []
        for lstm, s in zip(self.lstms, states):
            x, s = lstm(x, s)
            new.append(s)
        return self.head(x), new


def generation(spec: specs.Generation) -> dict:
    """Callables by name: states carried by hand, and model(window) per step."""
    torch.manual_seed(0)
    model = Generator(spec).eval()
    x = torch.from_numpy(spec.data())

    @torch.no_grad()
    def carried():  # the careful way: prime once, then one step per new value, states carried by hand
        out, states = model(x)
        last = out[:, -1:]
        for _ in range(spec.steps - 1):
            last, states = model(last, states)

    @torch.no_grad()
    def window():  # the usual way with a stateless model: model(window) per new step, window slides
        w = x
        for _ in range(spec.steps):
            nxt = model(w)[0][:, -1:]
            w = torch.cat([w[:, 1:], nxt], 1)

    return {"carried": carried, "window": window}


def streaming(spec: specs.Generation) -> dict:
    torch.manual_seed(0)
    model = Generator(spec).eval()
    x = torch.from_numpy(spec.data())
    with torch.no_grad():
        _, states = model(x)
        step = x[:, :1]

        def one(k):
            nonlocal states
            y, states = model(step, states)
            return y.numpy()

        return latencies(one, n=400)
