"""The SQLite store logging steps by their inputs (serve/redo.py): what a restart replays equals what was
served, the log is a fraction of the size, and only the model that wrote the inputs may replay them."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import numpy as np
import pytest

from rnnkit.serve import Engine, Service, SQLiteStore, StateStoreError
from rnnkit.serve.records import record_dtype

from serve_helpers import small_model

SERIES = [f"s{i}" for i in range(40)]


def _serve(engine: Engine, store: SQLiteStore, batches: int, seed: int = 0, stop: bool = False) -> dict:
    """Step random subsets of SERIES `batches` times (one request each); the records as served."""
    rng = np.random.default_rng(seed)

    async def run():
        service = Service(engine, store)
        await service.start()
        for _ in range(batches):
            ids = [SERIES[i] for i in rng.choice(len(SERIES), size=int(rng.integers(1, 30)), replace=False)]
            x = rng.normal(size=(len(ids), engine.features)).astype(np.float32)
            answers = await service.step_many(ids, x, np.full(len(ids), -1))
            assert (answers.status == 0).all()
        served = store.rows(SERIES)
        if stop:
            await service.stop()  # a clean stop: sync, compact, close
        else:  # a crash after the last answer: no compaction, the store not closed
            service._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await service._worker
        return served

    return asyncio.run(run())


def _reopen(path, engine: Engine) -> np.ndarray:
    store = SQLiteStore(path)
    store.check(engine.signature(), engine.width, engine.outputs, replay=engine)
    return store.rows(SERIES)


def _log_rows(path) -> list[tuple]:
    main = sqlite3.connect(path)
    gen = main.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
    log = sqlite3.connect(f"{path}.g{gen}")
    try:
        return log.execute("SELECT length(records), model, length(ids) - length(replace(ids, x'0a', '')) + 1 "
                           "FROM log").fetchall()
    finally:
        log.close()
        main.close()


def test_a_restart_replays_the_logged_inputs_into_the_served_states(tmp_path):
    engine = Engine(small_model())
    served = _serve(engine, SQLiteStore(tmp_path / "s.sqlite"), batches=60)
    rows = _log_rows(tmp_path / "s.sqlite")
    assert rows and all(model == engine.fingerprint for _, model, _ in rows)  # every batch logged by its inputs
    again = _reopen(tmp_path / "s.sqlite", Engine(small_model()))  # a new process: the model loaded again
    assert again["step"].tolist() == served["step"].tolist() and served["step"].sum() > 0
    np.testing.assert_allclose(again["state"], served["state"], rtol=0, atol=1e-6)
    assert again["mark"].tolist() == served["mark"].tolist()
    np.testing.assert_array_equal(again["y"], served["y"])  # the output is logged, not recomputed


def test_inputs_and_states_logs_give_the_same_states_and_the_inputs_log_is_17_times_smaller(tmp_path):
    engine = Engine(small_model())
    by_inputs = _serve(engine, SQLiteStore(tmp_path / "i.sqlite"), batches=30, seed=3)
    by_states = _serve(engine, SQLiteStore(tmp_path / "v.sqlite", log_inputs=False), batches=30, seed=3)
    np.testing.assert_allclose(by_inputs["state"], by_states["state"], rtol=0, atol=1e-6)
    inputs, states = _log_rows(tmp_path / "i.sqlite"), _log_rows(tmp_path / "v.sqlite")
    assert all(model is None for _, model, _ in states)
    per_step = lambda rows: sum(size for size, _, _ in rows) / sum(n for _, _, n in rows)  # noqa: E731
    record = record_dtype(engine.width, engine.outputs).itemsize
    assert per_step(states) == record
    assert per_step(inputs) == 8 + 4 * engine.features + 16 + 4 * engine.outputs  # step, x, mark, y
    reopened = _reopen(tmp_path / "v.sqlite", engine)
    np.testing.assert_array_equal(reopened["state"], by_states["state"])


def test_another_models_input_log_is_refused_until_a_clean_stop_compacts_it(tmp_path):
    path = tmp_path / "s.sqlite"
    first, other = Engine(small_model(seed=0)), Engine(small_model(seed=1))
    assert first.signature() == other.signature() and first.fingerprint != other.fingerprint
    _serve(first, SQLiteStore(path), batches=5)
    with pytest.raises(StateStoreError, match="another model's weights.*stop it cleanly"):
        _reopen(path, other)
    served = _serve(first, SQLiteStore(path), batches=5, seed=1, stop=True)  # the old model, stopped cleanly
    assert all(model is None for _, model, _ in _log_rows(path))  # compacted into states
    taken_over = _reopen(path, other)
    np.testing.assert_array_equal(taken_over["state"], served["state"])  # states carried over, bit for bit
    _serve(other, SQLiteStore(path), batches=3, seed=2)
    assert {model for _, model, _ in _log_rows(path)} == {None, other.fingerprint}


def test_a_second_process_on_the_store_replays_the_firsts_input_batches(tmp_path):
    engine = Engine(small_model())
    reader = SQLiteStore(tmp_path / "s.sqlite")
    reader.check(engine.signature(), engine.width, engine.outputs, replay=engine)
    before = reader.rows(SERIES)
    served = _serve(engine, SQLiteStore(tmp_path / "s.sqlite"), batches=20)
    caught_up = reader.rows(SERIES)  # catches up with the other handle's log rows
    assert before["step"].sum() == 0 and caught_up["step"].tolist() == served["step"].tolist()
    np.testing.assert_allclose(caught_up["state"], served["state"], rtol=0, atol=1e-6)


def test_many_input_batches_are_compacted_so_a_restart_replays_little(tmp_path, monkeypatch):
    from rnnkit.serve import sqlite_store

    monkeypatch.setattr(sqlite_store, "_REPLAY_BUDGET", 600)  # about 12 logged batches (50 each + rows)
    engine = Engine(small_model())
    store = SQLiteStore(tmp_path / "s.sqlite")
    served = _serve(engine, store, batches=60)
    generation = int(store._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    assert generation >= 3  # compacted several times
    assert sum(model is not None for _, model, _ in _log_rows(tmp_path / "s.sqlite")) <= 14
    again = _reopen(tmp_path / "s.sqlite", engine)
    np.testing.assert_allclose(again["state"], served["state"], rtol=0, atol=1e-6)


def test_a_log_written_before_the_model_column_still_opens(tmp_path):
    # rnnkit before input logging: log (seq, ids, records) with no `model` column
    engine = Engine(small_model())
    dtype = record_dtype(engine.width, engine.outputs)
    main = sqlite3.connect(tmp_path / "s.sqlite")
    main.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    main.executemany("INSERT INTO meta VALUES (?, ?)", [("signature", engine.signature()), ("width", str(engine.width)),
                                                        ("outputs", str(engine.outputs)), ("generation", "0")])
    main.commit()
    old = sqlite3.connect(tmp_path / "s.sqlite.g0")
    old.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, ids BLOB NOT NULL, records BLOB NOT NULL)")
    record = np.zeros(1, dtype)
    record["step"], record["state"] = 4, np.linspace(-1, 1, engine.width)
    old.execute("INSERT INTO log (ids, records) VALUES (?, ?)", (b"s0", record.tobytes()))
    old.commit()
    old.close()
    main.close()
    got = _reopen(tmp_path / "s.sqlite", engine)
    assert got["step"][0] == 4 and np.array_equal(got["state"][0], record["state"][0])
    served = _serve(engine, SQLiteStore(tmp_path / "s.sqlite"), batches=4)
    np.testing.assert_allclose(_reopen(tmp_path / "s.sqlite", engine)["state"], served["state"], rtol=0, atol=1e-6)


def _wal_bytes(path) -> int:
    main = sqlite3.connect(path)
    gen = main.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
    main.close()
    wal = path.with_name(f"{path.name}.g{gen}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_small_commit_grows_the_wal_by_a_small_page_when_inputs_are_logged(tmp_path):
    # the WAL is not checkpointed while serving: with the 64 KiB pages of a states log, each one-series
    # commit added ~66 KB to it (a benchmark's 5,000 commits: 330 MB, whose deletion at compaction stalled
    # the next answers ~200 ms); an inputs log uses 4 KiB pages
    engine = Engine(small_model())
    _serve(engine, SQLiteStore(tmp_path / "warm.sqlite"), batches=1)
    sizes = {}
    for name, log_inputs in (("i.sqlite", True), ("v.sqlite", False)):
        store = SQLiteStore(tmp_path / name, log_inputs=log_inputs)
        store.check(engine.signature(), engine.width, engine.outputs, replay=engine)
        before = _wal_bytes(tmp_path / name)
        for k in range(50):
            record = store.rows(["s"]).copy()
            record["step"] += 1
            store.commit(["s"], np.array([k]), record, np.zeros((1, engine.features), np.float32))
        sizes[name] = (_wal_bytes(tmp_path / name) - before) / 50
    assert sizes["i.sqlite"] < 10_000 < 60_000 < sizes["v.sqlite"]


def test_the_wal_of_many_small_commits_is_compacted_before_it_grows_past_its_bound(tmp_path, monkeypatch):
    from rnnkit.serve import sqlite_store

    monkeypatch.setattr(sqlite_store, "_COMPACT_MIN_BYTES", 2 << 20)  # 2 MiB; the live records are tiny
    store = SQLiteStore(tmp_path / "s.sqlite", log_inputs=False)  # 64 KiB pages: ~66 KB of WAL per commit
    store.check("layout", 2, 1)
    record = np.zeros(1, record_dtype(2, 1))
    for k in range(100):
        record["step"] = k + 1
        assert not store.commit(["s"], np.array([k]), record).any()
        assert _wal_bytes(tmp_path / "s.sqlite") < (2 << 20) + (200 << 10)
    generation = int(store._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    assert generation >= 2 and store.rows(["s"])["step"].tolist() == [100]
