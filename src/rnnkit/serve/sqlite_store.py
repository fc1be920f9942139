"""The embedded state store: SQLite in WAL mode, no set-up, written as a log of batches.

Each committed batch is one row of a `log` table: the series ids and their new records as one blob, so
a batch of thousands of series costs one insert and one fsync, not one row per series. The live records
are held in memory (one NumPy array, an index by id) and rebuilt at start by replaying the log.

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

_LOG = """CREATE TABLE IF NOT EXISTS {schema}.log (seq INTEGER PRIMARY KEY, ids BLOB NOT NULL,
                                                     records BLOB NOT NULL)"""
_SNAPSHOT_ROWS = 65536  # records per snapshot row
_COMPACT_MIN_BYTES = 256 << 20


class SQLiteStore:
    def __init__(self, path, durable: bool = True):
        self.path = Path(path)
        self.description = f"sqlite:{self.path}"
        self._durable = durable
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

    def _generation_file(self, gen: int) -> Path:
        return self.path.with_name(f"{self.path.name}.g{gen}")

    # -- set-up ---------------------------------------------------------------------------------
    def check(self, signature: str, width: int, outputs: int) -> None:
        with self._lock:
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
        self._db.execute("PRAGMA gen.page_size=65536")  # batches are blobs of megabytes: fewer, larger pages
        self._db.execute("PRAGMA gen.journal_mode=WAL")
        self._db.execute("PRAGMA gen.synchronous=NORMAL")  # durable by `sync`'s fdatasync of the WAL
        self._gen = gen
        self._reset_image()

    def _catch_up(self) -> None:
        """Apply what other processes committed since this one last looked (inside a transaction)."""
        gen = int(self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        if gen != self._gen:  # first look, or another process compacted: read the new generation whole
            self._db.execute("COMMIT")  # ATTACH and DETACH are refused inside a transaction
            self._attach(gen)
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(_LOG.format(schema="gen"))
            if int(self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]) != gen:
                return self._catch_up()  # compacted again in between
        for seq, ids, blob in self._db.execute("SELECT seq, ids, records FROM gen.log WHERE seq > ? ORDER BY seq",
                                               (self._seen,)):
            if blob:
                self._apply(ids.decode().split("\n"), np.frombuffer(blob, self._dtype))
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

    def commit(self, ids: list[str], expected: np.ndarray, records: np.ndarray) -> np.ndarray:
        check_ids(ids)

        def write():
            slots = self._slots(ids)  # a new series gets a zero row: step 0, as when absent
            lost = self._image["step"][slots] != np.asarray(expected)
            keep = np.flatnonzero(~lost)
            if keep.size:
                self._append(ids if keep.size == len(ids) else [ids[r] for r in keep],
                             np.ascontiguousarray(records[keep]))
            return lost, keep, slots

        with self._lock:
            lost, keep, slots = self._transaction(write)
            self._committed += 1
            if keep.size:
                self._image[slots[keep]] = records[keep]  # after the commit: the image holds committed records
                if self._log_bytes > max(_COMPACT_MIN_BYTES, 4 * len(self._ids) * self._dtype.itemsize):
                    self._compact()
            return lost

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
        gen, seen, log_bytes = self._gen, self._seen, self._log_bytes
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
                self._seen, self._log_bytes = seen, log_bytes
            raise

    def _append(self, ids: list[str], records: np.ndarray) -> None:
        blob = records.tobytes()
        cur = self._db.execute("INSERT INTO gen.log (ids, records) VALUES (?, ?)", ("\n".join(ids).encode(), blob))
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
                fresh.execute("PRAGMA page_size=65536")  # batches are blobs of megabytes: fewer, larger pages
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
        self.sync()
        with self._lock:
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
