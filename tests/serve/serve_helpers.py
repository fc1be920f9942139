"""Helpers for the server tests: a small model, the inputs test clients send, `rnnkit serve` as a process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from rnnkit import LSTM, Dense, Input, Sequential


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_model(features: int = 3, seed: int = 0):
    import torch

    torch.manual_seed(seed)
    return Sequential([Input((None, features)), LSTM(16, return_sequences=True, name="lstm_1"),
                       LSTM(8, return_sequences=True, name="lstm_2"), Dense(2, name="head")])


def x_for(series: str, step: int, features: int = 3) -> list[float]:
    """The input a test client sends for `series` at `step`: fixed, so a retry sends the same values and an
    offline replay can recompute them."""
    seed = [step, *series.encode()]
    return np.random.default_rng(seed).normal(size=features).astype(np.float32).round(4).tolist()


class Server:
    """`rnnkit serve` as a real process on loopback."""

    def __init__(self, model: Path, state: str, data: Path, extra: list[str] | None = None):
        self.model, self.state, self.data, self.extra = model, state, data, extra or []
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "Server":
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "rnnkit.cli", "serve", str(self.model), "--port",
                                      str(self.port), "--state", self.state, "--data", str(self.data),
                                      "--threads", "1", *self.extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rnnkit serve exited {self.proc.returncode}: {self.proc.stderr.read().decode()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("rnnkit serve did not answer /healthz in time")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
