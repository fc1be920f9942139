"""The embedded state store: one SQLite file in WAL mode, no set-up.

A step is acknowledged after its transaction commits. With `synchronous=FULL` (the default here) a
commit survives a power cut as well as a killed process; `durable=False` uses NORMAL, which in WAL mode
survives a killed server process but may lose the last commits if the machine itself goes down.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from .records import Record, StateStoreError, meta_mismatch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    id TEXT PRIMARY KEY, step INTEGER NOT NULL, state BLOB, x_digest BLOB, y BLOB
) WITHOUT ROWID;
"""
_CHUNK = 500  # ids per SELECT (SQLite's parameter limit is 32766; small chunks keep statements cached)


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
        except sqlite3.DatabaseError as e:
            raise StateStoreError(f"cannot open the state store {str(self.path)!r} as SQLite: {e}. Give another "
                                  "path with --state sqlite:PATH.") from None
        self._lock = threading.Lock()

    def check(self, signature: str, width: int) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                                 [("signature", signature), ("width", str(width))])
            self._db.execute("COMMIT")
            rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if rows.get("signature") != signature or rows.get("width") != str(width):
            raise meta_mismatch(f"state store {str(self.path)!r}", rows.get("signature"), signature,
                                rows.get("width"), width)

    def load(self, ids: list[str]) -> dict[str, Record]:
        out = {}
        with self._lock:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for sid, step, state, xd, y in self._db.execute(
                        f"SELECT id, step, state, x_digest, y FROM series WHERE id IN ({marks})", chunk):
                    out[sid] = Record(step, state, xd, y)
        return out

    def commit(self, writes: list[tuple[str, int, Record]]) -> set[str]:
        """Apply each record where the stored step is still the expected one (0: no record yet), in one
        transaction; returns the series where it was not."""
        conflicts = set()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sid, expected, rec in writes:
                    if expected == 0:  # a new series: insert, unless another process created it meanwhile
                        cur = self._db.execute("INSERT OR IGNORE INTO series (id, step, state, x_digest, y) "
                                               "VALUES (?, ?, ?, ?, ?)", (sid, rec.step, rec.state, rec.x_digest,
                                                                          rec.y))
                    else:
                        cur = self._db.execute("UPDATE series SET step=?, state=?, x_digest=?, y=? "
                                               "WHERE id=? AND step=?", (rec.step, rec.state, rec.x_digest, rec.y,
                                                                         sid, expected))
                    if cur.rowcount != 1:
                        conflicts.add(sid)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return conflicts

    def delete(self, series_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM series WHERE id = ?", (series_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
