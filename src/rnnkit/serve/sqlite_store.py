"""The embedded state store: one SQLite file in WAL mode, no set-up, written as a log of batches.

Each committed batch is one row of the `log` table: the series ids and their new records as one blob, so
a batch of thousands of series costs one insert and one fsync, not one row per series. The live records
are held in memory (one NumPy array, an index by id) and rebuilt at start by replaying the log. When the
log has grown past twice the live records (and 64 MiB), it is compacted: the live records are written as
a snapshot (rows of the same kind) and everything older is deleted, in one transaction.

Several processes may share one file: before a conditional commit each one applies, under SQLite's write
lock, the rows others appended since it last looked (and reloads everything when a compaction removed
rows it had not seen), so the step numbers it compares against are the committed ones.

A step is acknowledged after its transaction commits. With `synchronous=FULL` (the default here) a
commit survives a power cut as well as a killed process; `durable=False` uses NORMAL, which in WAL mode
survives a killed server process but may lose the last commits if the machine itself goes down.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np

from .records import StateStoreError, check_ids, meta_mismatch, record_dtype

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, snapshot INTEGER NOT NULL, ids BLOB NOT NULL,
                                records BLOB NOT NULL);
"""
_SNAPSHOT_ROWS = 65536  # records per snapshot row
_COMPACT_MIN_BYTES = 64 << 20


class SQLiteStore:
    def __init__(self, path, durable: bool = True):
        self.path = Path(path)
        self.description = f"sqlite:{self.path}"
        if self.path.is_dir():
            raise StateStoreError(f"state store {str(self.path)!r} is a folder; give a file path (sqlite:PATH).")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
            old = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'series'").fetchone()
        except sqlite3.DatabaseError as e:
            raise StateStoreError(f"cannot open the state store {str(self.path)!r} as SQLite: {e}. Give another "
                                  "path with --state sqlite:PATH.") from None
        if old:
            raise StateStoreError(f"state store {str(self.path)!r} was written by an older rnnkit serve (one row "
                                  "per series); start a new one with --state sqlite:NEW_PATH.")
        self._lock = threading.Lock()
        self._dtype: np.dtype | None = None
        self._index: dict[str, int] = {}
        self._ids: list[str] = []
        self._image = None
        self._seen = 0  # the last log row applied to the image
        self._log_bytes = 0  # bytes in the log since its last snapshot

    # -- set-up ---------------------------------------------------------------------------------
    def check(self, signature: str, width: int, outputs: int) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                                 [("signature", signature), ("width", str(width)), ("outputs", str(outputs))])
            self._db.execute("COMMIT")
            rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if (rows.get("signature"), rows.get("width"), rows.get("outputs")) != (signature, str(width), str(outputs)):
                raise meta_mismatch(f"state store {str(self.path)!r}", rows.get("signature"), signature,
                                    rows.get("width"), width)
            self._dtype = record_dtype(width, outputs)
            self._index, self._ids, self._image = {}, [], np.zeros(1024, self._dtype)
            self._seen = self._log_bytes = 0
            self._db.execute("BEGIN")
            try:
                self._catch_up()
            finally:
                self._db.execute("COMMIT")

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

    def _apply_row(self, ids: bytes, blob: bytes) -> None:
        if not blob:
            return  # the snapshot of a store with no live series
        self._apply(ids.decode().split("\n"), np.frombuffer(blob, self._dtype))
        self._log_bytes += len(blob)

    def _catch_up(self) -> None:
        """Apply the log rows other processes appended (inside a transaction, so the view is one moment)."""
        base, last = self._db.execute("SELECT (SELECT value FROM meta WHERE key = 'base'), "
                                      "(SELECT max(seq) FROM log)").fetchone()
        base, last = int(base or 0), last or 0
        if last <= self._seen:
            return
        if self._seen < base - 1:  # rows this process had not applied were compacted away: start over
            self._index, self._ids, self._image[:] = {}, [], 0
            self._log_bytes = 0
            query = self._db.execute("SELECT ids, records FROM log ORDER BY seq")
        else:
            query = self._db.execute("SELECT ids, records FROM log WHERE seq > ? AND snapshot = 0 ORDER BY seq",
                                     (self._seen,))
        for ids, blob in query:
            self._apply_row(ids, blob)
        self._seen = last

    # -- the store contract -----------------------------------------------------------------------
    def rows(self, ids: list[str]) -> np.ndarray:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._catch_up()
            finally:
                self._db.execute("COMMIT")
            index = self._index
            slots = np.fromiter((index.get(sid, -1) for sid in ids), np.int64, len(ids))
            out = self._image[np.maximum(slots, 0)]
            out[slots < 0] = 0
            return out

    def commit(self, ids: list[str], expected: np.ndarray, records: np.ndarray) -> np.ndarray:
        check_ids(ids)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._catch_up()
                slots = np.fromiter((self._index.get(sid, -1) for sid in ids), np.int64, len(ids))
                current = np.where(slots >= 0, self._image["step"][np.maximum(slots, 0)], 0)
                lost = current != np.asarray(expected)
                keep = np.flatnonzero(~lost)
                if keep.size:
                    kept_ids = [ids[r] for r in keep] if lost.any() else ids
                    blob = np.ascontiguousarray(records[keep]).tobytes()
                    cur = self._db.execute("INSERT INTO log (snapshot, ids, records) VALUES (0, ?, ?)",
                                           ("\n".join(kept_ids).encode(), blob))
                    seq = cur.lastrowid
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if keep.size:
                self._apply(kept_ids, records[keep])
                self._seen, self._log_bytes = seq, self._log_bytes + len(blob)
                if self._log_bytes > max(_COMPACT_MIN_BYTES, 2 * len(self._ids) * self._dtype.itemsize):
                    self._compact()
            return lost

    def delete(self, series_id: str) -> None:
        """Forget a series (its step returns to 0): logged as a zero record."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._catch_up()
                cur = self._db.execute("INSERT INTO log (snapshot, ids, records) VALUES (0, ?, ?)",
                                       (series_id.encode(), np.zeros(1, self._dtype).tobytes()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._apply([series_id], np.zeros(1, self._dtype))
            self._seen = cur.lastrowid

    def _compact(self) -> None:
        """Write the live records as a snapshot and delete the log rows before it (one transaction)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._catch_up()
            live = np.flatnonzero(self._image["step"][:len(self._ids)] > 0)
            first = None
            for start in range(0, max(len(live), 1), _SNAPSHOT_ROWS):
                part = live[start:start + _SNAPSHOT_ROWS]
                cur = self._db.execute("INSERT INTO log (snapshot, ids, records) VALUES (1, ?, ?)",
                                       ("\n".join(self._ids[r] for r in part).encode(), self._image[part].tobytes()))
                first = first or cur.lastrowid
                self._seen = cur.lastrowid
            self._db.execute("DELETE FROM log WHERE seq < ?", (first,))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('base', ?)", (str(first),))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._index = {self._ids[r]: k for k, r in enumerate(live)}
        self._ids = [self._ids[r] for r in live]
        self._image = np.concatenate([self._image[live], np.zeros(max(1024, len(live)), self._dtype)])
        self._log_bytes = len(live) * self._dtype.itemsize

    def close(self) -> None:
        with self._lock:
            self._db.close()
