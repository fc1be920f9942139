"""The server's API in-process (FastAPI's TestClient over the real app, store and model): answers equal
an offline `Stream` replay, step numbers guard against double application, bad input touches nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rnnkit.inference import Stream
from rnnkit.serve import Engine, RedisStore, Service, SQLiteStore, StateStoreError, create_app

from serve_helpers import small_model, x_for


@pytest.fixture
def model():
    return small_model()


@pytest.fixture
def client(model, tmp_path):
    app = create_app(Service(Engine(model), SQLiteStore(tmp_path / "states.sqlite")))
    with TestClient(app) as c:
        yield c


def replay(model, xs: np.ndarray):
    """Offline: a fresh Stream stepped through xs (T, F); the outputs and final states."""
    stream = Stream(model, series=1)
    ys = np.stack([stream.step(x[None])[0] for x in xs])
    return ys, {k: [s.numpy()[0] for s in v] for k, v in stream.states.items()}


def flat_states(body: dict) -> np.ndarray:
    return np.concatenate([np.asarray(v, np.float32) for v in body["states"].values()])


def stream_flat(states: dict) -> np.ndarray:
    return np.concatenate([s for v in states.values() for s in v])


def test_interleaved_series_equal_offline_replay(model, client):
    rng = np.random.default_rng(1)
    counts = {f"s{i}": 0 for i in range(6)}
    answers = {sid: [] for sid in counts}
    for _ in range(90):  # a random interleaving of single steps and many-series calls
        if rng.random() < 0.5:
            sid = str(rng.choice(list(counts)))
            r = client.post(f"/v1/series/{sid}/step", json={"x": x_for(sid, counts[sid]), "step": counts[sid]})
            assert r.status_code == 200, r.text
            answers[sid].append(r.json()["y"])
            counts[sid] += 1
            assert r.json()["step"] == counts[sid]
        else:
            chosen = [str(s) for s in rng.choice(list(counts), size=3, replace=False)]
            r = client.post("/v1/step", json={s: {"x": x_for(s, counts[s]), "step": counts[s]} for s in chosen})
            assert r.status_code == 200 and not r.json()["errors"], r.text
            for s in chosen:
                answers[s].append(r.json()["results"][s]["y"])
                counts[s] += 1
    for sid, n in counts.items():
        ys, states = replay(model, np.array([x_for(sid, k) for k in range(n)], np.float32))
        np.testing.assert_allclose(np.array(answers[sid]), ys, atol=1e-5)
        body = client.get(f"/v1/series/{sid}").json()
        assert body["step"] == n
        np.testing.assert_allclose(flat_states(body), stream_flat(states), atol=1e-5)


def test_state_names_and_widths(client):
    body = client.get("/v1/series/fresh").json()
    assert body["step"] == 0
    assert {k: len(v) for k, v in body["states"].items()} == {"lstm_1.h": 16, "lstm_1.c": 16, "lstm_2.h": 8,
                                                              "lstm_2.c": 8}
    assert not any(any(v) for v in body["states"].values())
    assert client.get("/v1/model").json() == {"name": "model", "features": 3, "outputs": 2,
                                              "states": {"lstm_1.h": 16, "lstm_1.c": 16, "lstm_2.h": 8, "lstm_2.c": 8}}


def test_wrong_step_number_is_409_with_the_servers_step(client):
    for k in range(3):
        assert client.post("/v1/series/a/step", json={"x": x_for("a", k), "step": k}).status_code == 200
    before = client.get("/v1/series/a").json()
    for wrong in (0, 1, 4, 7):
        r = client.post("/v1/series/a/step", json={"x": x_for("a", 3), "step": wrong})
        assert r.status_code == 409 and r.json()["step"] == 3, (wrong, r.text)
    assert client.get("/v1/series/a").json() == before  # nothing moved


def test_retry_of_the_last_step_returns_the_stored_answer_without_advancing(model, client):
    first = [client.post("/v1/series/a/step", json={"x": x_for("a", k), "step": k}).json() for k in range(4)]
    state = client.get("/v1/series/a").json()
    again = client.post("/v1/series/a/step", json={"x": x_for("a", 3), "step": 3})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["y"] == first[3]["y"] and again.json()["step"] == 4
    assert client.get("/v1/series/a").json() == state
    other_x = client.post("/v1/series/a/step", json={"x": x_for("a", 99), "step": 3})  # same step, other input
    assert other_x.status_code == 409 and other_x.json()["step"] == 4
    older = client.post("/v1/series/a/step", json={"x": x_for("a", 2), "step": 2})  # only the last is kept
    assert older.status_code == 409
    assert client.get("/v1/series/a").json() == state


def test_omitted_step_accepts_any(client):
    for k in range(3):
        r = client.post("/v1/series/b/step", json={"x": x_for("b", k)})
        assert r.status_code == 200 and r.json()["step"] == k + 1


def test_many_series_bad_entries_touch_nothing_else(model, client):
    client.post("/v1/series/ok2/step", json={"x": x_for("ok2", 0), "step": 0})
    before = client.get("/v1/series/ok2").json()
    r = client.post("/v1/step", json={"ok1": x_for("ok1", 0), "ok2": {"x": x_for("ok2", 1), "step": 5},
                                      "short": [1.0], "bad id!": [1.0, 2.0, 3.0]})
    body = r.json()
    assert r.status_code == 200 and set(body["results"]) == {"ok1"}
    assert body["errors"]["ok2"]["status"] == 409 and body["errors"]["ok2"]["step"] == 1
    assert body["errors"]["short"]["status"] == 422 and "3 features" in body["errors"]["short"]["detail"]
    assert body["errors"]["bad id!"]["status"] == 422
    assert client.get("/v1/series/ok2").json() == before
    assert client.get("/v1/series/short").json()["step"] == 0
    ys, _ = replay(model, np.array([x_for("ok1", 0)], np.float32))
    np.testing.assert_allclose(body["results"]["ok1"]["y"], ys[0], atol=1e-5)


def test_thousands_of_series_in_one_call_equal_stepping_them_one_by_one(model, client):
    """The many-series path (one array through the service and store) against one-series calls, over the
    store's first growth (more series than its initial room) and a second step of every series."""
    ids = [f"bulk-{i}" for i in range(2500)]
    for k in range(2):
        r = client.post("/v1/step", json={sid: {"x": x_for(sid, k), "step": k} for sid in ids})
        body = r.json()
        assert r.status_code == 200 and not body["errors"] and len(body["results"]) == len(ids)
        assert {v["step"] for v in body["results"].values()} == {k + 1}
    for sid in ids[::500] + ids[-1:]:
        ys, states = replay(model, np.array([x_for(sid, k) for k in range(2)], np.float32))
        np.testing.assert_allclose(body["results"][sid]["y"], ys[1], atol=1e-5)
        np.testing.assert_allclose(flat_states(client.get(f"/v1/series/{sid}").json()), stream_flat(states),
                                   atol=1e-5)


def test_columns_layout_equals_the_ids_layout_and_keeps_request_order(model, client):
    """The bulk layout (rows in, rows out) against the by-id layout on twin series, with a series named
    twice in one request (its two steps applied in order) and a stale step number (409, others applied)."""
    ids = [f"col-{i}" for i in range(5)]
    twins = [f"twin-{i}" for i in range(5)]
    for k in range(2):
        xs = [x_for(sid, k) for sid in ids]
        by_id = client.post("/v1/step", json={t: x for t, x in zip(twins, xs)}).json()
        cols = client.post("/v1/step?layout=columns", json={"ids": ids, "x": xs, "step": [k] * 5}).json()
        assert cols["status"] == [200] * 5 and cols["step"] == [k + 1] * 5 and cols["errors"] == {}
        np.testing.assert_allclose(cols["y"], [by_id["results"][t]["y"] for t in twins], atol=1e-6)
    twice = client.post("/v1/step?layout=columns", json={"ids": ["col-0", "col-1", "col-0"],
                                                          "x": [x_for("col-0", 2), x_for("col-1", 2), x_for("col-0", 3)],
                                                          "step": [2, 0, 3]}).json()
    assert twice["status"] == [200, 409, 200] and twice["step"] == [3, 2, 4] and set(twice["errors"]) == {"1"}
    ys, _ = replay(model, np.array([x_for("col-0", k) for k in range(4)], np.float32))
    np.testing.assert_allclose(twice["y"][0], ys[2], atol=1e-5)
    np.testing.assert_allclose(twice["y"][2], ys[3], atol=1e-5)
    retry = client.post("/v1/step?layout=columns", json={"ids": ["col-0"], "x": [x_for("col-0", 3)], "step": [3]})
    assert retry.json()["status"] == [200] and retry.json()["replayed"] == [0] and retry.json()["step"] == [4]


@pytest.mark.parametrize("body, query, words", [
    ({"ids": ["a", "b"], "x": [[1.0, 2.0, 3.0]]}, "layout=columns", "one entry per id"),
    ({"ids": ["a", "bad id"], "x": [[1.0, 2.0, 3.0]] * 2}, "layout=columns", "must match"),
    ({"ids": ["a"], "x": [[1.0, 2.0]]}, "layout=columns", "3 features"),
    ({"ids": ["a"], "x": [[1.0, 2.0, 3.0]], "step": [-2]}, "layout=columns", "whole number >= 0"),
    ({"a": [1.0, 2.0, 3.0]}, "layout=rows", "layout=ids (the default) or layout=columns"),
], ids=["lengths", "id", "features", "step", "layout"])
def test_a_bad_columns_request_applies_nothing(client, body, query, words):
    r = client.post(f"/v1/step?{query}", json=body)
    assert r.status_code == 422 and words in r.json()["detail"], r.text
    assert client.get("/v1/series/a").json()["step"] == 0


@pytest.mark.parametrize("payload, status, words", [
    ({"x": [1.0, 2.0]}, 422, "3 features"),
    ({"x": [1.0, 2.0, 3.0, 4.0]}, 422, "3 features"),
    ({"x": ["a", 2.0, 3.0]}, 422, "numbers only, received 'a'"),
    ({"x": [1.0, 2.0, 3.0], "step": -1}, 422, "whole number >= 0"),
    ({"x": [1.0, 2.0, 3.0], "step": 1.5}, 422, "whole number >= 0"),
    ({"x": [1.0, 2.0, 3.0], "step": True}, 422, "whole number >= 0"),
    ({"y": [1.0, 2.0, 3.0]}, 422, '\\"x\\" is missing'),
    ([1.0, 2.0, 3.0], 422, '\\"x\\" is missing'),
    ({"x": [1.0, 2.0, 1e39]}, 422, "finite numbers within float32"),
])
def test_bad_step_bodies_are_refused_and_change_nothing(client, payload, status, words):
    r = client.post("/v1/series/c/step", json=payload)
    assert r.status_code == status and words in r.text, r.text
    assert client.get("/v1/series/c").json()["step"] == 0


def test_non_finite_values_are_refused(client):
    r = client.post("/v1/series/c/step", content=b'{"x": [NaN, 1, 2]}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert client.get("/v1/series/c").json()["step"] == 0


@pytest.mark.parametrize("sid", ["bad$id", "-lead", "a" * 129, "sp ace"])
def test_series_id_format(client, sid):
    assert client.post(f"/v1/series/{sid}/step", json={"x": [1.0, 2.0, 3.0]}).status_code in (404, 422)


def test_oversized_body_is_413_and_changes_nothing(client):
    huge = {"x": [0.5] * 300_000}  # 1.5 MB: over the 1 MiB limit
    r = client.post("/v1/series/d/step", json=huge)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    assert client.get("/v1/series/d").json()["step"] == 0


def test_prime_equals_stepping_and_continues(model, client):
    xs = np.array([x_for("p", k) for k in range(12)], np.float32)
    r = client.post("/v1/series/p/prime", json={"x": xs[:10].tolist(), "step": 0})
    assert r.status_code == 200 and r.json()["step"] == 10
    r2 = client.post("/v1/series/p/step", json={"x": xs[10].tolist(), "step": 10})
    ys, states = replay(model, xs[:11])
    np.testing.assert_allclose(r.json()["y"], ys[9], atol=1e-5)
    np.testing.assert_allclose(r2.json()["y"], ys[10], atol=1e-5)
    np.testing.assert_allclose(flat_states(client.get("/v1/series/p").json()), stream_flat(states), atol=1e-5)
    retry = client.post("/v1/series/p/prime", json={"x": xs[:10].tolist(), "step": 0})
    assert retry.status_code == 409 and retry.json()["step"] == 11


def test_reset_starts_the_series_again(model, client):
    for k in range(3):
        client.post("/v1/series/r/step", json={"x": x_for("r", k), "step": k})
    assert client.post("/v1/series/r/reset").json() == {"step": 0}
    r = client.post("/v1/series/r/step", json={"x": x_for("r", 0), "step": 0})
    ys, _ = replay(model, np.array([x_for("r", 0)], np.float32))
    np.testing.assert_allclose(r.json()["y"], ys[0], atol=1e-5)


def test_bearer_token(model, tmp_path):
    token = "s3cret-token-0123456789"
    app = create_app(Service(Engine(model), SQLiteStore(tmp_path / "t.sqlite")), token=token)
    with TestClient(app) as c:
        assert c.post("/v1/series/a/step", json={"x": [1.0, 2.0, 3.0]}).status_code == 401
        assert c.post("/v1/series/a/step", json={"x": [1.0, 2.0, 3.0]},
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/metrics").status_code == 401
        assert c.get("/v1/series/a", headers={"Authorization": f"Bearer {token}"}).json()["step"] == 0
        ok = c.post("/v1/series/a/step", json={"x": [1.0, 2.0, 3.0]}, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["step"] == 1
        assert c.get("/healthz").status_code == 200


def test_metrics_count_requests_per_route(client):
    for k in range(3):
        client.post("/v1/series/m/step", json={"x": x_for("m", k), "step": k})
    client.post("/v1/series/m/step", json={"x": x_for("m", 0), "step": 0})
    text = client.get("/metrics").text
    assert 'rnnkit_requests_total{route="/v1/series/{series_id}/step",status="200"} 3.0' in text
    assert 'rnnkit_requests_total{route="/v1/series/{series_id}/step",status="409"} 1.0' in text
    assert "rnnkit_series_steps_total 3.0" in text


def test_a_store_written_for_another_model_is_refused(tmp_path):
    engine = Engine(small_model())
    SQLiteStore(tmp_path / "s.sqlite").check(engine.signature(), engine.width, engine.outputs)
    other = small_model(features=4)
    with pytest.raises(StateStoreError, match="another model"):
        Service(Engine(other), SQLiteStore(tmp_path / "s.sqlite"))


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_commit_is_conditional_on_the_step(kind, tmp_path, request):
    """Two store handles on one store (two server processes): a write computed from an old step is refused."""
    from rnnkit.serve.records import record_dtype

    if kind == "sqlite":
        a, b = SQLiteStore(tmp_path / "c.sqlite"), SQLiteStore(tmp_path / "c.sqlite")
    else:
        url = request.getfixturevalue("redis_url")
        a, b = RedisStore(url), RedisStore(url)
    for store in (a, b):
        store.check("layout", 2, 1)

    def records(*steps):
        out = np.zeros(len(steps), record_dtype(2, 1))
        out["step"], out["state"][:, 0] = steps, [10 * k + 0.5 for k in steps]
        return out

    assert a.commit(["s"], np.array([0]), records(1)).tolist() == [False]
    assert b.commit(["s"], np.array([0]), records(1)).tolist() == [True]  # both started from 0
    assert b.commit(["s", "t"], np.array([1, 0]), records(2, 1)).tolist() == [False, False]
    assert a.commit(["s", "u"], np.array([1, 0]), records(2, 1)).tolist() == [True, False]
    got = a.rows(["s", "t", "u", "missing"])
    assert got["step"].tolist() == [2, 1, 1, 0] and got["state"][:, 0].tolist() == [20.5, 10.5, 10.5, 0.0]
    a.delete("s")
    assert b.commit(["s"], np.array([2]), records(3)).tolist() == [True]  # reset meanwhile: must not land
    assert b.rows(["s"])["step"].tolist() == [0]


def test_sqlite_store_rebuilds_from_its_log_and_compacts(tmp_path, monkeypatch):
    """Replaying the log at start gives the live records; after compactions (a snapshot in a new
    generation file, the old file deleted) a fresh handle, and a handle still on a deleted generation,
    read the same."""
    from rnnkit.serve import sqlite_store
    from rnnkit.serve.records import record_dtype

    dtype = record_dtype(3, 2)
    stale = SQLiteStore(tmp_path / "s.sqlite")
    stale.check("layout", 3, 2)
    writer = SQLiteStore(tmp_path / "s.sqlite")
    writer.check("layout", 3, 2)
    rng = np.random.default_rng(0)
    truth = {}
    monkeypatch.setattr(sqlite_store, "_COMPACT_MIN_BYTES", 0)  # compacted at 4x the live records' bytes
    for k in range(40):
        ids = [f"s{i}" for i in rng.choice(12, size=5, replace=False)]
        new = np.zeros(5, dtype)
        expected = np.array([truth.get(i, (0,))[0] for i in ids])
        new["step"], new["state"] = expected + 1, rng.normal(size=(5, 3))
        assert not writer.commit(ids, expected, new).any()
        truth.update({i: (int(r["step"]), r["state"].copy()) for i, r in zip(ids, new)})
        if k == 20:
            writer.delete("s3")
            truth.pop("s3", None)
    names = [f"s{i}" for i in range(12)]
    for handle in (writer, stale, SQLiteStore(tmp_path / "s.sqlite")):
        handle.check("layout", 3, 2)
        got = handle.rows(names)
        for sid, row in zip(names, got):
            step, state = truth.get(sid, (0, np.zeros(3, np.float32)))
            assert row["step"] == step and np.array_equal(row["state"], state.astype(np.float32)), sid
    generation = int(writer._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    for handle in (writer, stale):
        handle.close()
    files = {p.name for p in tmp_path.glob("s.sqlite.g*") if not p.name.endswith(("-wal", "-shm"))}
    assert generation >= 2 and files == {f"s.sqlite.g{generation}"}  # compacted; older generations deleted


def test_a_body_sent_without_a_json_content_type_is_read_as_json(model, client):
    # curl -d sends application/x-www-form-urlencoded; every body of this API is JSON.
    body = json.dumps({"x": x_for("c", 0), "step": 0})
    for headers in ({"content-type": "application/x-www-form-urlencoded"}, {"content-type": "text/plain"}, {}):
        client.post("/v1/series/c/reset")
        r = client.post("/v1/series/c/step", content=body, headers=headers)
        assert r.status_code == 200 and r.json()["step"] == 1, r.text
    r = client.post("/v1/series/c/step", content="x=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422  # not JSON: refused, the state untouched
    assert client.get("/v1/series/c").json()["step"] == 1


def test_a_failing_store_answers_503_commits_nothing_and_the_retry_lands(model, tmp_path):
    """A store error (disk full, database locked) is 503 with Retry-After, for one series and for many;
    nothing was committed, so the client's retry with the same step numbers is applied once."""
    import sqlite3

    class Flaky(SQLiteStore):
        failures = 2

        def commit(self, ids, expected, records, x=None):
            if Flaky.failures:
                Flaky.failures -= 1
                raise sqlite3.OperationalError("database or disk is full")
            return super().commit(ids, expected, records, x)

    app = create_app(Service(Engine(model), Flaky(tmp_path / "flaky.sqlite")))
    with TestClient(app) as c:
        one = c.post("/v1/series/f/step", json={"x": x_for("f", 0), "step": 0})
        many = c.post("/v1/step?layout=columns", json={"ids": ["g"], "x": [x_for("g", 0)], "step": [0]})
        for r in (one, many):
            assert r.status_code == 503 and r.headers["retry-after"] == "1" and "disk is full" in r.text, r.text
        assert c.get("/v1/series/f").json()["step"] == 0
        again = c.post("/v1/series/f/step", json={"x": x_for("f", 0), "step": 0})
        assert again.status_code == 200 and again.json()["step"] == 1
        ys, _ = replay(model, np.array([x_for("f", 0)], np.float32))
        np.testing.assert_allclose(again.json()["y"], ys[0], atol=1e-5)


def test_a_rolled_back_write_does_not_hide_the_row_another_process_commits_next(tmp_path):
    """A row this handle inserted and rolled back has a number the next writer reuses: this handle must
    read that writer's row, not skip it as its own."""
    from rnnkit.serve.records import record_dtype

    class FailsAfterInsert(SQLiteStore):
        def _append(self, ids, records, x=None):
            super()._append(ids, records, x)
            raise OSError("disk gone after the insert")

    a, b = FailsAfterInsert(tmp_path / "r.sqlite"), SQLiteStore(tmp_path / "r.sqlite")
    for store in (a, b):
        store.check("layout", 2, 1)
    record = np.zeros(1, record_dtype(2, 1))
    record["step"], record["state"] = 1, [[3.0, 4.0]]
    with pytest.raises(OSError, match="disk gone"):
        a.commit(["s"], np.array([0]), record)
    assert not b.commit(["s"], np.array([0]), record).any()
    got = a.rows(["s"])
    assert got["step"].tolist() == [1] and got["state"].tolist() == [[3.0, 4.0]]


def test_an_answer_waits_for_the_sync_and_a_failed_sync_acknowledges_nothing(model, tmp_path):
    """A batch is answered only after the store's sync returns; a failing sync answers its batch with the
    error (503 over HTTP), and the client's retry of a step the store kept anyway is answered from the
    store, not applied twice."""
    import asyncio
    import threading

    class Gated(SQLiteStore):
        def __init__(self, path):
            super().__init__(path)
            self.gate, self.commits, self.fail_next_sync = threading.Event(), [], False

        def commit(self, ids, expected, records, x=None):
            self.commits.append(list(ids))
            return super().commit(ids, expected, records, x)

        def sync(self):
            assert self.gate.wait(10)
            if self.fail_next_sync:
                self.fail_next_sync = False
                raise OSError("fsync failed: I/O error")
            super().sync()

    async def scenario():
        store = Gated(tmp_path / "gated.sqlite")
        service = Service(Engine(model), store)
        await service.start()
        first = asyncio.ensure_future(service.step("a", np.array(x_for("a", 0), np.float32), 0))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if store.commits:
                break
        await asyncio.sleep(0.05)
        assert store.commits == [["a"]] and not first.done()  # committed, not yet durable: no answer
        store.fail_next_sync = True
        store.gate.set()
        with pytest.raises(OSError, match="fsync failed"):
            await first
        retry = await service.step("a", np.array(x_for("a", 0), np.float32), 0)  # the client's retry
        assert retry.step == 1 and retry.replayed  # kept anyway: answered from the store, not applied twice
        ys, _ = replay(model, np.array([x_for("a", 0)], np.float32))
        np.testing.assert_allclose(retry.y, ys[0], atol=1e-5)
        await service.stop()

    asyncio.run(scenario())


def test_sqlite_sync_fdatasyncs_the_wal_once_for_all_commits_before_it(tmp_path, monkeypatch):
    import os

    from rnnkit.serve.records import record_dtype
    from rnnkit.serve import sqlite_store

    calls = []
    real = os.fdatasync
    monkeypatch.setattr(sqlite_store.os, "fdatasync", lambda fd: (calls.append(os.readlink(f"/proc/self/fd/{fd}")),
                                                                  real(fd)))
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.check("layout", 2, 1)
    record = np.zeros(1, record_dtype(2, 1))
    for k in range(3):
        record["step"] = k + 1
        assert not store.commit(["s"], np.array([k]), record).any()
    store.sync()
    assert len(calls) == 1 and calls[0].endswith("s.sqlite.g0-wal")
    store.sync()  # nothing new: no second fsync
    assert len(calls) == 1
    store.delete("s")
    store.sync()
    assert len(calls) == 2
    lazy = SQLiteStore(tmp_path / "n.sqlite", durable=False)
    lazy.check("layout", 2, 1)
    lazy.commit(["s"], np.array([0]), record)
    lazy.sync()
    assert len(calls) == 2  # durable=False: no fsync
    store.close()
    lazy.close()
