"""Load test of `rnnkit serve` on loopback: LSTM(64) x 2 (8 features in, 1 out), with the SQLite store (as
served by default, logging each step's input; and logging each new state, `--state-log states`, for the
comparison) and, where redis-server is installed, with a Redis store (append-only file, fsync every second).

    python -m benchmarks.serve            # writes benchmarks/RESULTS-serve.md and results-serve.json
    python -m benchmarks.serve --dry --stores sqlite   # prints, writes nothing

1. One-series endpoint, open loop: 50 clients send at a fixed total rate (each request at its scheduled
   moment, whether or not earlier ones were answered, so a slow server cannot hide its queue); latency is
   counted from the scheduled moment. Rates 250, 500, 1000 requests/s, then closed loop (each client
   sends its next request as soon as the last is answered) for the most the server gives.
2. Many-series endpoint: 4 clients each sending 2,000 series per request (one step each), closed loop:
   series-steps per second.
The server and the load generator share the machine's cores (the generator, aiohttp, runs in this
process); the server runs with 1 PyTorch thread. Every step is acknowledged only after its state is
durable in the store (its input or its state logged and fdatasynced; Redis: held by Redis). Needs the
`bench` extra (aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import numpy as np

from rnnkit.serve import settle_heap

HERE = Path(__file__).resolve().parent
FEATURES, SERIES, CLIENTS = 8, 400, 50
SECONDS = float(os.environ.get("RNNKIT_BENCH_SECONDS", "10"))
sys.path.insert(0, str(HERE.parent / "tests" / "serve"))


def build_model(folder: Path) -> Path:
    import torch

    from rnnkit import LSTM, Dense, Input, Sequential

    torch.manual_seed(0)
    model = Sequential([Input((None, FEATURES)), LSTM(64, return_sequences=True), LSTM(64, return_sequences=True),
                        Dense(1)])
    path = folder / "lstm64x2.rnnkit"
    model.save(path)
    return path


async def open_loop(url: str, rate: float, seconds: float, warm: float = 2.0) -> dict:
    """CLIENTS clients, each sending every CLIENTS/rate seconds to its own series, in step order. The first
    `warm` seconds run at the same rate on the same connections but are not counted (connections opened,
    caches warm); then `seconds` are measured."""
    latencies, errors = [], 0
    gap = CLIENTS / rate
    start = time.perf_counter() + 0.2
    counted = start + warm

    async def client(i: int, http: aiohttp.ClientSession) -> None:
        body = orjson.dumps({"x": np.random.default_rng(i).normal(size=FEATURES).round(4).tolist()})
        sids = [f"c{i}-s{j}" for j in range(SERIES // CLIENTS)]
        n = 0
        pending = set()

        async def one(sid: str, scheduled: float) -> None:
            nonlocal errors
            try:
                async with http.post(f"{url}/v1/series/{sid}/step", data=body, headers=_JSON) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            if scheduled >= counted:
                errors += not ok
                latencies.append(time.perf_counter() - scheduled)

        while True:
            scheduled = start + i * gap / CLIENTS + n * gap
            if scheduled > counted + seconds:
                break
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            pending.add(asyncio.create_task(one(sids[n % len(sids)], scheduled)))
            n += 1
        await asyncio.gather(*pending)

    async with _session(CLIENTS * 2) as http:
        await asyncio.gather(*(client(i, http) for i in range(CLIENTS)))
        took = time.perf_counter() - counted
    lat = np.array(latencies) * 1000
    return {"target_rps": rate, "achieved_rps": round(len(lat) / took, 1), "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2), "max_ms": round(float(lat.max()), 2),
            "requests": int(len(lat)), "errors": errors}


async def closed_loop(url: str, seconds: float) -> dict:
    latencies, errors = [], 0
    stop = time.perf_counter() + seconds

    async def client(i: int, http: aiohttp.ClientSession) -> None:
        nonlocal errors
        body = orjson.dumps({"x": np.random.default_rng(i).normal(size=FEATURES).round(4).tolist()})
        n = 0
        while time.perf_counter() < stop:
            t = time.perf_counter()
            async with http.post(f"{url}/v1/series/k{i}-s{n % 8}/step", data=body, headers=_JSON) as r:
                await r.read()
                errors += r.status != 200
            latencies.append(time.perf_counter() - t)
            n += 1

    async with _session(CLIENTS) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(i, http) for i in range(CLIENTS)))
        took = time.perf_counter() - began
    lat = np.array(latencies) * 1000
    return {"achieved_rps": round(len(lat) / took, 1), "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2), "requests": int(len(lat)), "errors": errors}


async def many_series(url: str, seconds: float, per_request: int = 2000, clients: int = 4,
                      layout: str = "ids") -> dict:
    """`clients` clients, each stepping its own `per_request` series per request, closed loop. layout "ids":
    {id: features} in, results by id out; "columns": {ids, x} in, rows out."""
    stop, steps, latencies = time.perf_counter() + seconds, 0, []
    rng = np.random.default_rng(0)

    async def client(i: int, http: aiohttp.ClientSession) -> None:
        nonlocal steps
        ids = [f"m{i}-{j}" for j in range(per_request)]
        x = rng.normal(size=(per_request, FEATURES)).round(4).tolist()
        body = orjson.dumps(dict(zip(ids, x)) if layout == "ids" else {"ids": ids, "x": x})
        while time.perf_counter() < stop:
            t = time.perf_counter()
            async with http.post(f"{url}/v1/step?layout={layout}", data=body, headers=_JSON) as r:
                raw = await r.read()
            answer = orjson.loads(raw)
            assert r.status == 200 and not answer["errors"], raw[:300]
            assert len(answer["results"] if layout == "ids" else answer["status"]) == per_request
            steps += per_request
            latencies.append(time.perf_counter() - t)

    async with _session(clients) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(i, http) for i in range(clients)))
        took = time.perf_counter() - began
    lat = np.array(latencies) * 1000
    return {"layout": layout, "series_per_request": per_request, "clients": clients,
            "series_steps_per_s": round(steps / took), "request_p50_ms": round(float(np.percentile(lat, 50)), 1),
            "requests": int(len(lat))}


_JSON = {"content-type": "application/json"}


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                 timeout=aiohttp.ClientTimeout(total=60))


def start_redis(folder: Path):
    """A redis-server with its append-only file fsynced every second (its usual production setting):
    (process, url), or None where redis-server is not installed."""
    from serve_helpers import start_redis as start

    return start("--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(folder))


def run_store(model: Path, state: str, folder: Path, extra: list[str] | None = None) -> dict:
    from serve_helpers import Server

    server = Server(model, state, folder, extra).start()
    out = {"one_series_open_loop": []}
    try:
        asyncio.run(closed_loop(server.url, 2.0))  # warm-up
        for rate in (250, 500, 1000):
            row = asyncio.run(open_loop(server.url, rate, SECONDS))
            print(state.split(":")[0], "open loop", row, flush=True)
            out["one_series_open_loop"].append(row)
        out["one_series_closed_loop"] = asyncio.run(closed_loop(server.url, SECONDS))
        print(state.split(":")[0], "closed loop", out["one_series_closed_loop"], flush=True)
        out["many_series"] = [asyncio.run(many_series(server.url, SECONDS, layout=layout))
                              for layout in ("ids", "columns")]
        print(state.split(":")[0], "many series", out["many_series"], flush=True)
    finally:
        server.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,sqlite-states,redis",
                        help="which stores to load (default: sqlite,sqlite-states,redis); sqlite-states is the "
                             "SQLite store logging each step's new state instead of its input")
    parser.add_argument("--dry", action="store_true", help="print the results; leave RESULTS-serve.md and "
                                                           "results-serve.json as they are")
    args = parser.parse_args(argv)
    stores = set(args.stores.split(","))
    folder = Path(tempfile.mkdtemp(prefix="rnnkit-serve-bench-"))
    model = build_model(folder)
    # torch and the model, imported here to build the model file, would make every full garbage collection
    # of this process (the load generator) walk ~200,000 objects: a pause counted as the server's latency
    settle_heap()
    results = {"machine": f"{platform.node()}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
               "python": platform.python_version(), "when": time.strftime("%Y-%m-%d"), "stores": {}}
    if "sqlite" in stores:
        results["stores"]["SQLite (WAL, steps logged by their inputs, fdatasync per batch)"] = run_store(
            model, "sqlite:states.sqlite", folder)
    if "sqlite-states" in stores:
        results["stores"]["SQLite (WAL, steps logged by their new states, fdatasync per batch)"] = run_store(
            model, "sqlite:states-log.sqlite", folder, ["--state-log", "states"])
    started = start_redis(folder) if "redis" in stores else None
    if started is not None:
        proc, url = started
        try:
            results["stores"]["Redis (appendfsync everysec)"] = run_store(model, url, folder)
        finally:
            proc.terminate()
            proc.wait(10)
    if args.dry:
        print(json.dumps(results, indent=2))
        return
    (HERE / "results-serve.json").write_text(json.dumps(results, indent=2))
    write_report(results)


def write_report(r: dict) -> None:
    sections = []
    for store, s in r["stores"].items():
        rows = "\n".join(f"| {x['target_rps']} | {x['achieved_rps']} | {x['p50_ms']} | {x['p99_ms']} | {x['max_ms']} | "
                         f"{x['errors']} |" for x in s["one_series_open_loop"])
        at_1000 = next(x for x in s["one_series_open_loop"] if x["target_rps"] == 1000)
        c, many = s["one_series_closed_loop"], s["many_series"]
        best = max(many, key=lambda m: m["series_steps_per_s"])
        one_ok = at_1000["p99_ms"] <= 20 and at_1000["achieved_rps"] >= 950
        many_ok = best["series_steps_per_s"] >= 100_000
        many_rows = "\n".join(f"| {m['layout']} | {m['clients']} x {m['series_per_request']} | {m['series_steps_per_s']:,} | "
                              f"{m['request_p50_ms']} |" for m in many)
        sections.append(f"""## State store: {store}

One series per request (`POST /v1/series/{{id}}/step`), 50 clients, 400 series. Open loop (requests sent
at their scheduled moments; latency from the scheduled moment):

| target req/s | achieved req/s | p50 ms | p99 ms | max ms | errors |
|---|---|---|---|---|---|
{rows}

Closed loop (as fast as answers come): {c['achieved_rps']} requests/s, p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms.

Many series per request (`POST /v1/step`), closed loop, each client stepping its own series; layout `ids`
is `{{id: features}}` in and results by id out, `columns` (`?layout=columns`) is `{{ids, x}}` in and rows out:

| layout | clients x series per request | series-steps/s | request p50 ms |
|---|---|---|---|
{many_rows}

| target | measured | verdict |
|---|---|---|
| one-series p99 <= 20 ms at 1,000 requests/s | p99 {at_1000['p99_ms']} ms at {at_1000['achieved_rps']} requests/s | {'met' if one_ok else 'NOT met'} |
| many-series >= 100,000 series-steps/s | {best['series_steps_per_s']:,} (layout {best['layout']}) | {'met' if many_ok else 'NOT met'} |
""")
    text = f"""# `rnnkit serve` under load

Measured {r['when']} by `python -m benchmarks.serve` on {r['machine']} (Python {r['python']}), server and load
generator (aiohttp, in one process) on the same cores, loopback only. Model: LSTM(64) x 2 + Dense(1), 8
features; server with 1 PyTorch thread. A step is answered only after it is committed to the store.
Other jobs were held (SIGSTOP) during the run. One run: on this VM runs of the same build differ widely
(one-series p99 at 1,000 req/s from 12 to 280 ms); the day's range, the profile and what is left are in
[NOTES.md](NOTES.md#rnnkit-serve-where-the-load-targets-stand-issue-21).

""" + "\n".join(sections)
    (HERE / "RESULTS-serve.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
