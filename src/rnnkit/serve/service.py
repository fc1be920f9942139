"""The serving core, without HTTP: requests queue up, one worker applies them in micro-batches.

While the worker computes one batch, new requests gather; the next batch takes all of them, so an idle
server answers at once and a busy one amortises each model call and each store transaction over every
series that reported meanwhile. A batch is one `Engine.step` over its rows and one `commit`; an answer
is given only after its commit returned. A series appears once per batch (a second request for it
waits for the next), and a reset or prime is applied in arrival order between batches.

Step numbers: a series' `step` counts the steps applied to it. A request may say which step it
believes comes next (`expected`); a mismatch is a `Conflict` carrying the server's number, except an
exact retry of the last applied step (same input, same starting step), which gets the stored answer
again: a client that lost an answer in a crash retries without advancing the state twice.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .engine import Engine
from .records import Record, digest

_ATTEMPTS = 50  # recomputations of one batch when other processes keep stepping the same series


class Conflict(Exception):
    """The client's step number is not the server's; `step` is the server's (the next to apply)."""

    def __init__(self, series_id: str, step: int, expected: int):
        super().__init__(f"series {series_id!r} is at step {step}, the request was for step {expected}; "
                         f"resend with \"step\": {step} (or omit \"step\" to accept any).")
        self.step = step


@dataclass
class Outcome:
    y: list[float]
    step: int
    replayed: bool = False


@dataclass
class _Item:
    kind: str  # "step" | "prime" | "reset"
    series_id: str
    x: np.ndarray | None
    expected: int | None
    future: asyncio.Future = field(repr=False, default=None)


class Service:
    def __init__(self, engine: Engine, store, metrics=None):
        self.engine, self.store, self.metrics = engine, store, metrics
        store.check(engine.signature(), engine.width)
        self._pending: list[_Item] = []
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="rnnkit-serve")

    # -- the asyncio side -------------------------------------------------------------------
    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        self._pool.shutdown(wait=True)
        self.store.close()

    def _submit(self, kind: str, series_id: str, x, expected) -> asyncio.Future:
        item = _Item(kind, series_id, x, expected, asyncio.get_running_loop().create_future())
        self._pending.append(item)
        self._wake.set()
        return item.future

    async def step(self, series_id: str, x: np.ndarray, expected: int | None = None) -> Outcome:
        return await self._submit("step", series_id, x, expected)

    async def step_many(self, requests: list[tuple[str, np.ndarray, int | None]]) -> list[Outcome | Exception]:
        futures = [self._submit("step", sid, x, k) for sid, x, k in requests]
        return await asyncio.gather(*futures, return_exceptions=True)

    async def prime(self, series_id: str, x: np.ndarray, expected: int | None = None) -> Outcome:
        return await self._submit("prime", series_id, x, expected)

    async def reset(self, series_id: str) -> Outcome:
        return await self._submit("reset", series_id, None, None)

    async def read(self, series_id: str) -> tuple[int, dict[str, list[float]]]:
        loop = asyncio.get_running_loop()
        rec = (await loop.run_in_executor(self._pool, self.store.load, [series_id])).get(series_id)
        flat = self._state(rec)
        return (rec.step if rec else 0), self.engine.split(flat)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            items, self._pending = self._pending, []
            if not items:
                continue
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._pool, self._apply, items)
            except Exception as e:  # noqa: BLE001 - the store failed: every waiting request gets the error
                results = [e] * len(items)
            for item, result in zip(items, results):
                if item.future.done():
                    continue  # the client went away
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)
            if self.metrics is not None:
                self.metrics.batch(len(items), time.perf_counter() - started)

    # -- the worker thread ------------------------------------------------------------------
    def _apply(self, items: list[_Item]) -> list:
        """Results in the order of `items`: rounds of distinct series' steps, resets and primes between."""
        results: list = [None] * len(items)
        group: list[int] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.kind != "step" or item.series_id in seen:
                self._round(items, group, results)
                group, seen = [], set()
            if item.kind == "step":
                group.append(i)
                seen.add(item.series_id)
            elif item.kind == "reset":
                self.store.delete(item.series_id)
                results[i] = Outcome([], 0)
            else:
                self._round(items, [i], results)
        self._round(items, group, results)
        return results

    def _state(self, rec: Record | None) -> np.ndarray:
        if rec is None or not rec.state:
            return np.zeros(self.engine.width, np.float32)
        return np.frombuffer(rec.state, np.float32)

    def _round(self, items: list[_Item], todo: list[int], results: list) -> None:
        for _ in range(_ATTEMPTS):
            if not todo:
                return
            records = self.store.load([items[i].series_id for i in todo])
            compute = []
            for i in todo:
                item, rec = items[i], records.get(items[i].series_id)
                at = rec.step if rec else 0
                start = at if item.expected is None else item.expected
                mark = digest(np.append(item.x.ravel(), start)) if item.x is not None else None
                if item.expected is None or item.expected == at:
                    compute.append((i, at, mark, rec))
                elif rec is not None and rec.x_digest == mark and rec.y is not None:
                    results[i] = Outcome(np.frombuffer(rec.y, np.float32).tolist(), at, replayed=True)
                else:
                    results[i] = Conflict(item.series_id, at, item.expected)
            if not compute:
                return
            states = np.stack([self._state(rec) for _, _, _, rec in compute])
            kind = items[compute[0][0]].kind
            if kind == "prime":
                x = items[compute[0][0]].x[None]
                y, new = self.engine.prime(x, states)
                advance = x.shape[1]
            else:
                y, new = self.engine.step(np.stack([items[i].x for i, _, _, _ in compute]), states)
                advance = 1
            writes = [(items[i].series_id, at, Record(at + advance, new[r].tobytes(), mark, y[r].tobytes()))
                      for r, (i, at, mark, _) in enumerate(compute)]
            lost = self.store.commit(writes)
            todo = []
            for r, (i, at, _, _) in enumerate(compute):
                if items[i].series_id in lost:
                    todo.append(i)  # another process stepped it first: reload and recompute
                else:
                    results[i] = Outcome(y[r].tolist(), at + advance)
            if self.metrics is not None and lost:
                self.metrics.conflicts(len(lost))
        for i in todo:
            results[i] = RuntimeError(f"series {items[i].series_id!r}: the state kept changing under "
                                      f"{_ATTEMPTS} attempts (other servers stepping it); retry.")
