"""Helpers for the server tests: a small model, the inputs test clients send, `rnnkit serve` as a process."""

from __future__ import annotations

import os
import shutil
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


def start_redis(*options: str) -> tuple[subprocess.Popen, str] | None:
    """A real redis-server on a free loopback port with `options` (e.g. "--appendonly", "no"), ready to
    answer: (process, url); None where redis-server is not installed."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                return proc, f"redis://127.0.0.1:{port}/0"
            except redis.ConnectionError:
                time.sleep(0.02)
    finally:
        client.close()
    proc.kill()
    raise RuntimeError("redis-server did not start")


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


class Workload:
    """`clients` concurrent clients, each owning series of its own and stepping them round-robin with step
    numbers; a failed request (server down, connection cut) is retried with the same step and input until
    it is acknowledged. `acks[series][k]` is the answer acknowledged for step k."""

    def __init__(self, urls: list[str], clients: int, series: int, seed: int = 0):
        self.urls, self.clients = urls, clients
        self.series = [f"series-{i:04d}" for i in range(series)]
        self.acks: dict[str, dict[int, list[float]]] = {s: {} for s in self.series}
        self.conflicts: list[str] = []
        self.retries = 0
        self.rng = np.random.default_rng(seed)
        self.stopping = False

    async def _client(self, index: int) -> None:
        import asyncio

        mine = self.series[index::self.clients]
        rng = np.random.default_rng([index, 7])
        async with httpx.AsyncClient(timeout=10) as http:
            turn = 0
            while not self.stopping:
                sid = mine[turn % len(mine)]
                turn += 1
                k = len(self.acks[sid])
                body = {"x": x_for(sid, k), "step": k}
                while True:  # until acknowledged
                    url = self.urls[int(rng.integers(len(self.urls)))]
                    try:
                        r = await http.post(f"{url}/v1/series/{sid}/step", json=body)
                    except httpx.HTTPError:
                        self.retries += 1
                        await asyncio.sleep(0.02)
                        continue
                    if r.status_code == 200:
                        assert r.json()["step"] == k + 1, r.text
                        self.acks[sid][k] = r.json()["y"]
                        break
                    if r.status_code == 409:
                        self.conflicts.append(f"{sid} step {k}: {r.text}")
                        return
                    self.retries += 1
                    await asyncio.sleep(0.02)

    async def run(self, chaos) -> None:
        """Run the clients while `chaos()` (a coroutine: kills and restarts) runs; then stop them."""
        import asyncio

        tasks = [asyncio.create_task(self._client(i)) for i in range(self.clients)]
        try:
            await chaos()
        finally:
            self.stopping = True
            await asyncio.gather(*tasks)

    def steps(self) -> int:
        return sum(len(a) for a in self.acks.values())


def offline_replay(model, workload: Workload) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every series' acknowledged inputs through one Stream (series stepped with rows=): the outputs per step
    and the final state row (the states concatenated in the server's order)."""
    from rnnkit.inference import Stream

    names = workload.series
    lengths = np.array([len(workload.acks[s]) for s in names])
    stream = Stream(model, series=len(names))
    ys = {s: [] for s in names}
    for t in range(int(lengths.max(initial=0))):
        rows = np.flatnonzero(lengths > t)
        out = stream.step(np.array([x_for(names[r], t) for r in rows], np.float32), rows=rows)
        for r, y in zip(rows, out):
            ys[names[r]].append(y)
    flat = np.concatenate([s.numpy() for key in stream.states for s in stream.states[key]], axis=1)
    return {s: np.array(v) for s, v in ys.items()}, {s: flat[i] for i, s in enumerate(names)}
