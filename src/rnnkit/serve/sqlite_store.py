"""The embedded state store: SQLite in WAL mode, no set-up, written as a log of batches.

Each committed batch is one row of a `log` table: the series ids and their new records as one blob, so
a batch of thousands of series costs one insert and one fsync, not one row per series. The live records
are held in memory (one NumPy array, an index by id) and rebuilt at start by replaying the log.

Given the serving model (`check(..., replay=engine)`), a batch of single steps is logged by its inputs
instead (redo.py: step number, input, mark and output, 60 bytes per series-step for LSTM(64) x 2 with 8
features instead of 1,052), and reading the log back runs those steps through the model again. Such a
log is compacted once replaying it would take about a second, and when the server stops cleanly, so a
restart replays little and a store handed to another model holds states only.

The log lives in a generation file beside the main one (`states.sqlite.g7`); the main file holds the
layout and which generation is current. When the log has grown past four times the live records (and
256 MiB), it is compacted: the live records are written as the first rows of a new generation file, the
main file is switched to it in one commit, and the old file is deleted (deleting rows inside SQLite
would cost as much as writing them). A crash before the switch leaves the old generation current and a
stray file, removed at the next start; a crash after it, an old file removed likewise.

Several processes may share one store: every write takes the main file's write lock first (BEGIN
IMMEDIATE locks every attached file), applies the rows others appended since it last looked (or reloads
from a new generation), and only then compares step numbers, so conditional commits see committed state.

A commit is visible when `commit` returns and durable when `sync` returns: the generation files run in
WAL mode with synchronous=NORMAL (a commit writes the WAL, no fsync), and `sync` fdatasyncs the WAL, so
one fsync covers every commit before it (a batch's several rounds, a reset between them). The server answers a batch only after its sync, so an acknowledged step survives a power cut
as well as a killed process. `durable=False` skips the fsync (a killed process loses nothing; a machine
that goes down may lose the last commits). Checkpoints are never run while serving (the WAL only grows
until compaction replaces the generation file), so no commit waits for one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from .records import StateStoreError, check_ids, meta_mismatch, record_dtype
from .redo import Replay, foreign_model, from_redo, to_redo

# `model`: NULL for a batch of full records; a model's fingerprint for a batch logged by its inputs (redo.py)
_LOG = """CREATE TABLE IF NOT EXISTS {schema}.log (seq INTEGER PRIMARY KEY, ids BLOB NOT NULL,
                                                     records BLOB NOT NULL, model TEXT)"""
_SNAPSHOT_ROWS = 65536  # records per snapshot row
_COMPACT_MIN_BYTES = 256 << 20
# Inputs logged since the last snapshot are replayed through the model at start: compact once replaying them
# would cost more than this many series-steps (a logged batch counts _ROW_COST more for its model call), or
# four times the live series, so a restart replays for about a second on a 2-core machine.
_REPLAY_BUDGET = 250_000
_ROW_COST = 50


class SQLiteStore:
    def __init__(self, path, durable: bool = True, log_inputs: bool = True):
        self.path = Path(path)
        self.description = f"sqlite:{self.path}"
        self._durable, self._log_inputs = durable, log_inputs
        # A log of states holds blobs of megabytes: fewer, larger pages write them faster (133-162 MB/s against
        # 79 with 4 KiB, session 9). A log of inputs holds small blobs, and every commit writes at least a page
        # or two to the WAL, which grows until compaction: 4 KiB pages keep it 16 times smaller.
        self._page_size = 4096 if log_inputs else 65536
        self._replay: Replay | None = None  # the model replaying batches logged by their inputs
        self._model_ok = False  # whether the store's model is ours: only then are inputs logged
        if self.path.is_dir():
            raise StateStoreError(f"state store {str(self.path)!r} is a folder; give a file path (sqlite:PATH).")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")  # the meta: rare writes
            self._db.execute("PRAGMA wal_autocheckpoint=0")  # no checkpoint inside a commit (see above)
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            old = self._db.execute("SELECT 1 FROM sqlite_master WHERE name IN ('series', 'log')").fetchone()
        except sqlite3.DatabaseError as e:
            raise StateStoreError(f"cannot open the state store {str(self.path)!r} as SQLite: {e}. Give another "
                                  "path with --state sqlite:PATH.") from None
        if old:
            raise StateStoreError(f"state store {str(self.path)!r} was written by an older rnnkit serve; start a "
                                  "new one with --state sqlite:NEW_PATH.")
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._committed = self._synced = 0  # commits made / made durable by this process
        self._dir_synced: int | None = None  # the generation whose WAL's directory entry was fsynced
        self._dtype: np.dtype | None = None
        self._gen: int | None = None  # the generation attached as schema `gen`
        self._cleanup: threading.Thread | None = None  # deleting the last generation's file
        self._reset_image()

    def _reset_image(self) -> None:
        self._index: dict[str, int] = {}
        self._ids: list[str] = []
        self._image = None if self._dtype is None else np.zeros(1024, self._dtype)
        self._seen = 0  # the last log row applied to the image
        self._log_bytes = 0  # bytes in the current generation's log
        self._redo_cost = 0  # replaying the current generation's input batches, in series-steps

    def _generation_file(self, gen: int) -> Path:
        return self.path.with_name(f"{self.path.name}.g{gen}")

    # -- set-up ---------------------------------------------------------------------------------
    def check(self, signature: str, width: int, outputs: int, replay: Replay | None = None) -> None:
        """Refuse a store of another state layout, read it whole, and with `replay` (the serving `Engine`) log
        steps by their inputs from now on (refused when the log holds input batches of another model)."""
        with self._lock:
            self._replay = replay
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                                     [("signature", signature), ("width", str(width)), ("outputs", str(outputs)),
                                      ("generation", "0")])
                rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
                if (rows["signature"], rows["width"], rows["outputs"]) != (signature, str(width), str(outputs)):
                    raise meta_mismatch(f"state store {str(self.path)!r}", rows["signature"], signature,
                                        rows["width"], width)
                current = self._generation_file(int(rows["generation"]))
                for stray in self.path.parent.glob(f"{self.path.name}.g*"):  # left by a crash mid-compaction
                    if stray.name.removesuffix("-wal").removesuffix("-shm") != current.name:
                        stray.unlink(missing_ok=True)
                self._dtype = record_dtype(width, outputs)
                self._reset_image()  # replayed whole by the catch-up
                self._catch_up()
                if replay is not None:  # every input batch in the log is this model's (or catch-up refused)
                    self._db.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (replay.fingerprint,))
                    self._model_ok = True
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    # -- the image: live records in memory --------------------------------------------------------
    def _slots(self, ids: list[str]) -> np.ndarray:
        """Image rows of `ids`, adding rows for ids not seen before."""
        index, slots = self._index, np.empty(len(ids), np.int64)
        for r, sid in enumerate(ids):
            slot = index.get(sid)
            if slot is None:
                slot = index[sid] = len(self._ids)
                self._ids.append(sid)
            slots[r] = slot
        if len(self._ids) > len(self._image):
            grown = np.zeros(max(len(self._ids), 2 * len(self._image)), self._dtype)
            grown[:len(self._image)] = self._image
            self._image = grown
        return slots

    def _apply(self, ids: list[str], records: np.ndarray) -> None:
        slots = self._slots(ids)  # first: it may grow (replace) the image
        self._image[slots] = records

    def _attach(self, gen: int) -> None:
        if self._gen is not None:
            self._db.execute("DETACH DATABASE gen")
        self._db.execute("ATTACH DATABASE ? AS gen", (str(self._generation_file(gen)),))
        self._db.execute(f"PRAGMA gen.page_size={self._page_size}")
        self._db.execute("PRAGMA gen.journal_mode=WAL")
        self._db.execute("PRAGMA gen.synchronous=NORMAL")  # durable by `sync`'s fdatasync of the WAL
        self._gen = gen
        self._reset_image()

    def _catch_up(self) -> None:
        """Apply what other processes committed since this one last looked (inside a transaction)."""
        meta = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'model')"))
        gen = int(meta["generation"])
        self._model_ok = self._replay is not None and meta.get("model") == self._replay.fingerprint
        if gen != self._gen:  # first look, or another process compacted: read the new generation whole
            self._db.execute("COMMIT")  # ATTACH and DETACH are refused inside a transaction
            self._attach(gen)
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(_LOG.format(schema="gen"))
            if "model" not in {row[1] for row in self._db.execute("PRAGMA gen.table_info(log)")}:
                self._db.execute("ALTER TABLE gen.log ADD COLUMN model TEXT")  # a log of an earlier rnnkit
            if int(self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]) != gen:
                return self._catch_up()  # compacted again in between
        for seq, ids, blob, model in self._db.execute(
                "SELECT seq, ids, records, model FROM gen.log WHERE seq > ? ORDER BY seq", (self._seen,)):
            if blob:
                names = ids.decode().split("\n")
                if model is None:
                    self._apply(names, np.frombuffer(blob, self._dtype))
                else:
                    if self._replay is None or model != self._replay.fingerprint:
                        raise foreign_model(f"state store {str(self.path)!r}", model,
                                            "unknown" if self._replay is None else self._replay.fingerprint)
                    slots = self._slots(names)
                    self._image[slots] = from_redo(blob, self._image[slots], self._replay)
                    self._redo_cost += len(names) + _ROW_COST
            self._seen, self._log_bytes = seq, self._log_bytes + len(blob)

    # -- the store contract -----------------------------------------------------------------------
    def rows(self, ids: list[str]) -> np.ndarray:
        with self._lock:
            self._transaction(lambda: None, lock="DEFERRED")  # a read: others may write meanwhile
            index = self._index
            slots = np.fromiter((index.get(sid, -1) for sid in ids), np.int64, len(ids))
            out = self._image[np.maximum(slots, 0)]
            out[slots < 0] = 0
            return out

    def commit(self, ids: list[str], expected: np.ndarray, records: np.ndarray, x: np.ndarray | None = None
               ) -> np.ndarray:
        """`x`: the inputs of a one-step batch (rows, features), which the store may log instead of the states."""
        check_ids(ids)

        def write():
            slots = self._slots(ids)  # a new series gets a zero row: step 0, as when absent
            lost = self._image["step"][slots] != np.asarray(expected)
            keep = np.flatnonzero(~lost)
            if keep.size:
                whole = keep.size == len(ids)
                self._append(ids if whole else [ids[r] for r in keep], np.ascontiguousarray(records[keep]),
                             None if x is None else x if whole else x[keep])
            return lost, keep, slots

        with self._lock:
            lost, keep, slots = self._transaction(write)
            self._committed += 1
            if keep.size:
                self._image[slots[keep]] = records[keep]  # after the commit: the image holds committed records
                if self._log_is_long():
                    self._compact()
            return lost

    def _log_is_long(self) -> bool:
        """Whether to compact: the log (or its WAL, which grows by a page or more per commit however small, and
        is never checkpointed while serving) is past four times the live records and 256 MiB, or replaying
        its logged inputs would take more than about a second."""
        limit = max(_COMPACT_MIN_BYTES, 4 * len(self._ids) * self._dtype.itemsize)
        if self._log_bytes > limit or self._redo_cost > max(_REPLAY_BUDGET, 4 * len(self._ids)):
            return True
        try:
            return os.stat(f"{self._generation_file(self._gen)}-wal").st_size > limit
        except FileNotFoundError:
            return False

    def delete(self, series_id: str) -> None:
        """Forget a series (its step returns to 0): logged as a zero record."""
        zero = np.zeros(1, self._dtype)
        with self._lock:
            self._transaction(lambda: self._append([series_id], zero))
            self._committed += 1
            self._apply([series_id], zero)

    def sync(self) -> None:
        """Make the commits made so far durable: one fdatasync of the current generation's WAL (a commit
        of an earlier generation is in the snapshot compaction fsynced). Concurrent calls share one."""
        if not self._durable:
            return
        with self._sync_lock:
            with self._lock:
                target, gen = self._committed, self._gen
            if self._synced >= target or gen is None:
                return
            log = self._generation_file(gen)
            wal = log.with_name(log.name + "-wal")
            try:
                fd = os.open(wal, os.O_RDONLY)
            except FileNotFoundError:  # nothing written to this generation yet: its snapshot is synced
                self._synced = target
                return
            try:
                os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)
            finally:
                os.close(fd)
            if self._dir_synced != gen:  # the WAL file's own directory entry, once per generation
                _fsync(self.path.parent)
                self._dir_synced = gen
            self._synced = target

    def _transaction(self, work, lock: str = "IMMEDIATE"):
        """BEGIN (IMMEDIATE: the write lock; DEFERRED for a read), catch up with others, `work()`, COMMIT.
        On failure the log position goes back, so rows this process inserted and rolled back (whose
        numbers another process may reuse) are read again next time, not skipped."""
        gen, seen, log_bytes, redo_cost = self._gen, self._seen, self._log_bytes, self._redo_cost
        self._db.execute(f"BEGIN {lock}")
        try:
            self._catch_up()
            out = work()
            self._db.execute("COMMIT")
            return out
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if self._gen == gen:  # (a new generation attached meanwhile counts from its own start)
                self._seen, self._log_bytes, self._redo_cost = seen, log_bytes, redo_cost
            raise

    def _append(self, ids: list[str], records: np.ndarray, x: np.ndarray | None = None) -> None:
        """Log a batch: by its inputs where given and the store's model is ours (redo.py), else whole."""
        model = None
        if x is not None and self._log_inputs and self._model_ok:
            blob, model = to_redo(records, x, self._replay.features).tobytes(), self._replay.fingerprint
            self._redo_cost += len(ids) + _ROW_COST
        else:
            blob = records.tobytes()
        cur = self._db.execute("INSERT INTO gen.log (ids, records, model) VALUES (?, ?, ?)",
                               ("\n".join(ids).encode(), blob, model))
        self._seen, self._log_bytes = cur.lastrowid, self._log_bytes + len(blob)

    def _compact(self) -> None:
        """Write the live records into a new generation file, switch to it, delete the old one."""
        old, new = self._gen, self._gen + 1
        target = self._generation_file(new)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._catch_up()
            if self._gen != old:  # another process compacted first
                self._db.execute("COMMIT")
                return
            for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
                leftover.unlink(missing_ok=True)  # a crashed compaction's; nobody else writes it: we hold the lock
            live = np.flatnonzero(self._image["step"][:len(self._ids)] > 0)
            fresh, chunks = sqlite3.connect(target, isolation_level=None), 0
            try:
                # Written once, without a journal: the file counts only after the switch below, and a crash
                # before it leaves a stray file. fsynced before the switch; WAL mode is set when attached.
                fresh.execute(f"PRAGMA page_size={self._page_size}")
                fresh.execute("PRAGMA journal_mode=OFF")
                fresh.execute("PRAGMA synchronous=OFF")
                fresh.execute(_LOG.format(schema="main"))
                fresh.execute("BEGIN")
                for start in range(0, len(live), _SNAPSHOT_ROWS):
                    part = live[start:start + _SNAPSHOT_ROWS]
                    fresh.execute("INSERT INTO log (ids, records) VALUES (?, ?)",
                                  ("\n".join(self._ids[r] for r in part).encode(), self._image[part].tobytes()))
                    chunks += 1
                fresh.execute("COMMIT")
            finally:
                fresh.close()
            _fsync(target)
            _fsync(target.parent)
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(new),))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        ids, image = [self._ids[r] for r in live], self._image[live]
        self._attach(new)  # the image restarts from the snapshot just written: live series only
        self._apply(ids, image)
        self._seen, self._log_bytes = chunks, image.nbytes
        stale = [self.path.with_name(self.path.name + name.format(old)) for name in (".g{}", ".g{}-wal", ".g{}-shm")]
        self._cleanup = threading.Thread(target=_remove, args=(stale,), daemon=True)  # freeing a large file
        self._cleanup.start()  # takes a while: not on the worker's time

    def close(self) -> None:
        """Sync, and compact a log holding input batches: the next start reads states, replays nothing, and
        may serve another model."""
        self.sync()
        with self._lock:
            if self._redo_cost:
                self._compact()
            self._db.close()
        if self._cleanup is not None:
            self._cleanup.join()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
