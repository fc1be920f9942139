"""`rnnkit serve` as a real process on loopback: it starts, answers, refuses an open bind without a token,
and keeps every acknowledged step through SIGKILLs (SQLite), also with two servers on one Redis."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import numpy as np
import pytest
from serve_helpers import Server, Workload, offline_replay

from rnnkit import load_model


def test_serves_and_restarts_with_its_state(saved_model, tmp_path):
    server = Server(saved_model, "sqlite:states.sqlite", tmp_path).start()
    try:
        r = httpx.post(f"{server.url}/v1/series/a/step", json={"x": [0.1, 0.2, 0.3], "step": 0})
        assert r.status_code == 200 and r.json()["step"] == 1
        server.kill()
        server.start()
        assert httpx.get(f"{server.url}/v1/series/a").json()["step"] == 1
        assert httpx.get(f"{server.url}/docs").status_code == 200  # OpenAPI docs come with the framework
        assert "/v1/series/{series_id}/step" in httpx.get(f"{server.url}/openapi.json").json()["paths"]
    finally:
        server.stop()
    assert (tmp_path / "states.sqlite").exists()


def test_default_store_is_in_the_data_folder(saved_model, tmp_path):
    server = Server(saved_model, "sqlite", tmp_path).start()
    try:
        httpx.post(f"{server.url}/v1/series/a/step", json={"x": [0.1, 0.2, 0.3]})
    finally:
        server.stop()
    assert (tmp_path / "model.states.sqlite").exists()


def test_open_bind_without_token_is_refused(saved_model, tmp_path):
    done = subprocess.run([sys.executable, "-m", "rnnkit.cli", "serve", str(saved_model), "--host", "0.0.0.0",
                           "--data", str(tmp_path)], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 2 and "token is required" in done.stderr, done.stderr
    assert not list(tmp_path.glob("*.sqlite"))  # refused before touching anything


def test_missing_model_file_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rnnkit.cli", "serve", str(tmp_path / "nope.rnnkit")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no model file" in done.stderr


def crash_run(model_path, tmp_path, kills: int, clients: int, series: int, redis_url: str | None = None,
              seed: int = 0, extra: list[str] | None = None) -> Workload:
    """Clients step series while servers are SIGKILLed `kills` times at random moments and restarted."""
    state = redis_url or "sqlite:states.sqlite"
    servers = [Server(model_path, state, tmp_path, extra).start() for _ in range(2 if redis_url else 1)]
    work = Workload([s.url for s in servers], clients=clients, series=series, seed=seed)
    rng = np.random.default_rng(seed)

    async def chaos():
        for _ in range(kills):
            await asyncio.sleep(float(rng.uniform(0.1, 0.7)))
            victim = servers[int(rng.integers(len(servers)))]
            victim.kill()
            await asyncio.to_thread(victim.start)
        await asyncio.sleep(0.3)

    try:
        asyncio.run(work.run(chaos))
    finally:
        for s in servers:
            s.stop()
    return work


def check_against_replay(model_path, tmp_path, work: Workload, redis_url: str | None) -> None:
    assert not work.conflicts, work.conflicts[:3]
    server = Server(model_path, redis_url or "sqlite:states.sqlite", tmp_path).start()
    try:
        ys, final = offline_replay(load_model(model_path), work)
        with httpx.Client(timeout=30) as http:
            for sid in work.series:
                acked = work.acks[sid]
                assert sorted(acked) == list(range(len(acked))), sid  # nothing acknowledged is lost
                body = http.get(f"{server.url}/v1/series/{sid}").json()
                assert body["step"] == len(acked), sid  # nothing applied twice or left unacknowledged
                state = np.concatenate([np.asarray(v, np.float32) for v in body["states"].values()])
                np.testing.assert_allclose(state, final[sid], atol=1e-5, err_msg=sid)
                if acked:
                    np.testing.assert_allclose(np.array([acked[k] for k in range(len(acked))]), ys[sid], atol=1e-5)
    finally:
        server.stop()


@pytest.mark.parametrize("log", ["inputs", "states"])
def test_sigkill_loses_nothing_acknowledged_sqlite(saved_model, tmp_path, log):
    # inputs: the restarted server replays the logged inputs through the model (serve/redo.py)
    work = crash_run(saved_model, tmp_path, kills=2, clients=10, series=40, extra=["--state-log", log])
    assert work.steps() > 40 and work.retries > 0  # the kills hit clients mid-flight
    check_against_replay(saved_model, tmp_path, work, None)


def test_two_servers_on_one_redis_lose_nothing(saved_model, tmp_path, redis_url):
    work = crash_run(saved_model, tmp_path, kills=2, clients=10, series=40, redis_url=redis_url)
    assert work.steps() > 40 and work.retries > 0
    check_against_replay(saved_model, tmp_path, work, redis_url)


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_crash_50_clients_400_series_20_kills(saved_model, tmp_path, store, request):
    """The issue's acceptance run: 50 clients, 400 series, 20 SIGKILLs at random moments."""
    url = request.getfixturevalue("redis_url") if store == "redis" else None
    work = crash_run(saved_model, tmp_path, kills=20, clients=50, series=400, redis_url=url, seed=1)
    print(f"{store}: {work.steps()} acknowledged steps, {work.retries} retries through 20 kills")
    assert work.steps() > 1000 and work.retries > 0
    check_against_replay(saved_model, tmp_path, work, url)
