"""The serving core, without HTTP: requests queue up, one worker applies them in micro-batches.

While the worker computes one batch, new requests gather; the next batch takes all of them, so an idle
server answers at once and a busy one amortises each model call and each store transaction over every
series that reported meanwhile. A batch is one `Engine.step` over its rows and one `commit`; an answer
is given only after the store's `sync` made that commit durable (one fsync for the whole batch, in the
worker thread, after its last commit). Running the sync in a thread of its own while the worker computes
the next batch was tried (session 10, 2-core VM) and gained nothing measurable: one-series p50 at 1,000
req/s 14.6 ms in both runs with it, 7.4 and 9.9 ms without; many-series 39-48k series-steps/s either
way; the noise is large (the unchanged Redis path gave 5.5 and 15.8 ms in two runs). Simpler kept. A request may carry one series or thousands: its rows travel
as arrays (ids, inputs, step numbers) from the HTTP layer to the store and back, with one future per
request, never a Python object per series. A series appears once per round (a second step for it in
the same batch waits for the next round), and a reset or prime is applied in arrival order.

Step numbers: a series' `step` counts the steps applied to it. A request may say which step it
believes comes next (`expected`, -1 for any); a mismatch is a conflict carrying the server's number,
except an exact retry of the last applied step (same input, same starting step), which gets the stored
answer again: a client that lost an answer in a crash retries without advancing the state twice.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .engine import Engine
from .records import marks

_ATTEMPTS = 50  # recomputations of one round when other processes keep stepping the same series
OK, REPLAYED, CONFLICT, FAILED = 0, 1, 2, 3


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
class Answers:
    """Per series of one request: output, step number after it, status (OK, REPLAYED, CONFLICT, FAILED)."""
    y: np.ndarray
    step: np.ndarray
    status: np.ndarray
    failure: str = ""

    def conflict(self, r: int, series_id: str, expected: int) -> Conflict:
        return Conflict(series_id, int(self.step[r]), expected)


@dataclass
class _Job:
    kind: str  # "step" | "prime" | "reset"
    ids: list[str]
    x: np.ndarray | None  # step: (n, F); prime: (T, F)
    expected: np.ndarray  # (n,) int64, -1 = any
    future: asyncio.Future = field(repr=False, default=None)


class Service:
    def __init__(self, engine: Engine, store, metrics=None, batch_rows: int = 8192):
        self.engine, self.store, self.metrics, self.batch_rows = engine, store, metrics, batch_rows
        store.check(engine.signature(), engine.width, engine.outputs, replay=engine)
        self._pending: list[_Job] = []
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

    def _submit(self, kind: str, ids: list[str], x, expected) -> asyncio.Future:
        job = _Job(kind, ids, x, np.asarray(expected, np.int64).reshape(len(ids)),
                   asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._wake.set()
        return job.future

    async def step_many(self, ids: list[str], x: np.ndarray, expected: np.ndarray) -> Answers:
        """Step each series ids[r] with x[r] (F,), expecting step expected[r] (-1: any)."""
        return await self._submit("step", ids, np.asarray(x, np.float32), expected)

    async def step(self, series_id: str, x: np.ndarray, expected: int | None = None) -> Outcome:
        k = -1 if expected is None else expected
        return self._one(series_id, k, await self._submit("step", [series_id], np.asarray(x, np.float32)[None], [k]))

    async def prime(self, series_id: str, x: np.ndarray, expected: int | None = None) -> Outcome:
        k = -1 if expected is None else expected
        return self._one(series_id, k, await self._submit("prime", [series_id], np.asarray(x, np.float32), [k]))

    async def reset(self, series_id: str) -> Outcome:
        await self._submit("reset", [series_id], None, [-1])
        return Outcome([], 0)

    @staticmethod
    def _one(series_id: str, expected: int, answers: Answers) -> Outcome:
        status = answers.status[0]
        if status == CONFLICT:
            raise answers.conflict(0, series_id, expected)
        if status == FAILED:
            raise RuntimeError(answers.failure)
        return Outcome(answers.y[0].tolist(), int(answers.step[0]), replayed=status == REPLAYED)

    async def read(self, series_id: str) -> tuple[int, dict[str, list[float]]]:
        loop = asyncio.get_running_loop()
        record = (await loop.run_in_executor(self._pool, self._durable_rows, [series_id]))[0]
        return int(record["step"]), self.engine.split(record["state"])

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            jobs, self._pending = self._take(self._pending)
            if self._pending:
                self._wake.set()  # more waiting: the next batch starts as soon as this one is answered
            if not jobs:
                continue
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._pool, self._apply_durably, jobs)
            except Exception as e:  # noqa: BLE001 - the store failed: every waiting request gets the error
                results = [e] * len(jobs)
            for job, result in zip(jobs, results):
                if job.future.done():
                    continue  # the client went away
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)
            if self.metrics is not None:
                self.metrics.batch(sum(len(job.ids) for job in jobs), time.perf_counter() - started)

    def _take(self, pending: list[_Job]) -> tuple[list[_Job], list[_Job]]:
        """The next batch: jobs in arrival order up to `batch_rows` series (at least one job). A cap keeps
        the worker's batch from swallowing every request, so requests arriving meanwhile are read (JSON,
        checks) while the worker computes and commits, instead of strictly after it."""
        rows = 0
        for n, job in enumerate(pending):
            rows += len(job.ids)
            if rows > self.batch_rows and n:
                return pending[:n], pending[n:]
        return pending, []

    # -- the worker thread ------------------------------------------------------------------
    def _apply_durably(self, jobs: list[_Job]) -> list[Answers]:
        """`_apply`, then the store's sync: nothing of the batch is answered before it is durable."""
        results = self._apply(jobs)
        self.store.sync()
        return results

    def _durable_rows(self, ids: list[str]) -> np.ndarray:
        self.store.sync()  # show durable state only
        return self.store.rows(ids)

    def _apply(self, jobs: list[_Job]) -> list[Answers]:
        """Answers in the order of `jobs`: consecutive step jobs as one batch, resets and primes between."""
        results: list = [None] * len(jobs)
        group: list[int] = []
        for j, job in enumerate(jobs):
            if job.kind == "step":
                group.append(j)
                continue
            self._steps(jobs, group, results)
            group = []
            if job.kind == "reset":
                self.store.delete(job.ids[0])
            else:
                results[j] = self._round(job.ids, job.x[None], job.expected, prime=True)
        self._steps(jobs, group, results)
        return results

    def _steps(self, jobs: list[_Job], group: list[int], results: list) -> None:
        """The step jobs of `group` as one batch: rounds of distinct series, each answer split back per job."""
        if not group:
            return
        ids = [sid for j in group for sid in jobs[j].ids]
        x = np.concatenate([jobs[j].x for j in group]) if len(group) > 1 else jobs[group[0]].x
        expected = np.concatenate([jobs[j].expected for j in group]) if len(group) > 1 else jobs[group[0]].expected
        if len(set(ids)) == len(ids):
            answers = self._round(ids, x, expected)
        else:  # the k-th step of a series in this batch goes into round k, in arrival order
            seen: dict[str, int] = {}
            turn = np.empty(len(ids), np.int64)
            for r, sid in enumerate(ids):
                turn[r] = seen[sid] = seen.get(sid, -1) + 1
            answers = Answers(np.zeros((len(ids), self.engine.outputs), np.float32), np.zeros(len(ids), np.int64),
                              np.zeros(len(ids), np.int8))
            for k in range(int(turn.max()) + 1):
                rows = np.flatnonzero(turn == k)
                part = self._round([ids[r] for r in rows], x[rows], expected[rows])
                answers.y[rows], answers.step[rows], answers.status[rows] = part.y, part.step, part.status
                answers.failure = answers.failure or part.failure
        at = 0
        for j in group:
            n = len(jobs[j].ids)
            results[j] = Answers(answers.y[at:at + n], answers.step[at:at + n], answers.status[at:at + n],
                                 answers.failure)
            at += n

    def _round(self, ids: list[str], x: np.ndarray, expected: np.ndarray, prime: bool = False) -> Answers:
        """One step (or, with `prime`, one history x (1, T, F)) for distinct series: compute, commit
        conditionally, recompute the series another process stepped meanwhile."""
        n = len(ids)
        out = Answers(np.zeros((n, self.engine.outputs), np.float32), np.zeros(n, np.int64), np.zeros(n, np.int8))
        todo = np.arange(n)
        for _ in range(_ATTEMPTS):
            if not todo.size:
                return out
            sub = ids if todo.size == n else [ids[r] for r in todo]
            stored = self.store.rows(sub)
            at, wanted = stored["step"], expected[todo]
            start = np.where(wanted < 0, at, wanted)
            names = marks(x[todo], start)
            fresh = (wanted < 0) | (wanted == at)
            if not fresh.all():
                replay = ~fresh & (at > 0) & (stored["mark"] == names)
                stale = todo[~fresh]
                out.step[stale] = at[~fresh]
                out.status[stale] = np.where(replay[~fresh], REPLAYED, CONFLICT)
                out.y[todo[replay]] = stored["y"][replay]
            rows, stored, at, names = todo[fresh], stored[fresh], at[fresh], names[fresh]
            if not rows.size:
                return out
            if prime:
                y, new_states = self.engine.prime(x[rows], stored["state"])
                advance = x.shape[1]
            else:
                y, new_states = self.engine.step(x[rows], stored["state"])
                advance = 1
            records = np.empty(rows.size, stored.dtype)
            records["step"], records["state"], records["mark"], records["y"] = at + advance, new_states, names, y
            lost = self.store.commit(ids if rows.size == n else [ids[r] for r in rows], at, records,
                                     None if prime else x[rows])  # a store may log the inputs (redo.py)
            done = rows[~lost]
            out.y[done], out.step[done], out.status[done] = y[~lost], at[~lost] + advance, OK
            todo = rows[lost]
            if self.metrics is not None and lost.any():
                self.metrics.conflicts(int(lost.sum()))
        out.status[todo] = FAILED
        out.failure = (f"{todo.size} series: the state kept changing under {_ATTEMPTS} attempts (other servers "
                       "stepping the same series); retry.")
        return out
