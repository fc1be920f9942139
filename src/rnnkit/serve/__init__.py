"""`rnnkit serve`: a stateful streaming server whose series' states survive a crash.

`serve("model.rnnkit")` loads the model with rnnkit's checked loader, opens the state store (an SQLite
file in the data folder by default, or Redis shared by several servers) and runs the HTTP API on uvicorn.
`create_app` gives the ASGI app itself, for another server or for tests.
"""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
from pathlib import Path

import uvicorn

from ..models import load_model
from .app import SERIES_ID, create_app
from .engine import Engine
from .records import StateStoreError
from .redis_store import RedisStore
from .service import Conflict, Service
from .sqlite_store import SQLiteStore

__all__ = ["Conflict", "Engine", "RedisStore", "SERIES_ID", "SQLiteStore", "Service", "StateStoreError",
           "create_app", "open_store", "serve", "loopback"]


def open_store(spec: str | None, data_dir, model_path, log_inputs: bool = True) -> SQLiteStore | RedisStore:
    """`spec`: None (SQLite file `<model>.states.sqlite` in `data_dir`), `sqlite:PATH` (relative to
    `data_dir`), or `redis://host:port/db[?prefix=name]`. `log_inputs`: an SQLite store logs each step's
    input rather than its new state (serve/redo.py)."""
    data_dir = Path(data_dir)
    if spec is None or spec == "sqlite":
        return SQLiteStore(data_dir / f"{Path(model_path).stem}.states.sqlite", log_inputs=log_inputs)
    if spec.startswith("sqlite:"):
        path = Path(spec[len("sqlite:"):])
        return SQLiteStore(path if path.is_absolute() else data_dir / path, log_inputs=log_inputs)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(spec)
    raise StateStoreError(f"--state must be sqlite:PATH or redis://host:port/db, received {spec[:200]!r}.")


def loopback(host: str) -> bool:
    """True when `host` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(model_path, host: str = "127.0.0.1", port: int = 8000, state: str | None = None,
          data_dir=".", token: str | None = None, threads: int | None = None, log_level: str = "warning",
          log_inputs: bool = True) -> None:
    """Load `model_path` and serve it until interrupted. A token is required unless `host` is loopback.
    `log_inputs`: an SQLite store logs each step's input, not its new state (see `open_store`)."""
    token = token or os.environ.get("RNNKIT_TOKEN") or None
    if not loopback(host) and not token:
        raise ValueError(f"rnnkit serve: binding to {host} makes the server reachable from other machines, so "
                         "a bearer token is required: set RNNKIT_TOKEN or pass --token-file FILE.")
    model = load_model(model_path)
    service = Service(Engine(model, threads=threads), open_store(state, data_dir, model_path, log_inputs))
    app = create_app(service, token=token, model_name=Path(model_path).name)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False)
    settle_heap()
    uvicorn.Server(config).run()


def settle_heap() -> None:
    """Move every object alive after start-up (torch, the model, FastAPI: about 260,000) out of the garbage
    collector's reach (`gc.freeze`). Without it, each full collection walks them all, ~50-120 ms with the
    interpreter lock held on a 2-core machine: a stall every request in flight waits out, the tail of
    the latency. Objects made while serving are collected as before."""
    gc.collect()
    gc.freeze()
